package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rostermirror/rostermirror/internal/login"
)

// TestReviewLoginCSRF (the security review's proof, adapted): the attacker starts a sign-in in their own
// browser, signs in at Clever as themselves and stops at the callback URL; the victim's browser (its own
// cookie jar, never saw /auth/clever/login) follows that URL. It must not be signed in as the attacker:
// the LOGIN state is bound to the attacker's browser, and the victim gets a page saying so.
func TestReviewLoginCSRF(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	attacker := h.user(only("teacher"))
	callback := h.authorize(h.start(""), attacker["id"].(string), nil) // attacker's browser, not followed
	victim := h.browser()
	resp, body := h.getIn(victim, callback.String())
	if loc, err := resp.Location(); err == nil {
		code := loc.Query().Get("code")
		status, got := h.exchange(h.adminKey, codeBody(code), "application/json")
		t.Logf("victim's browser sent to %s; exchange: %d %v", loc, status, got)
		if status == 200 && got["cleverId"] == attacker["id"] {
			t.Fatalf("a browser that never started the sign-in completed it: login CSRF (the state is not bound to the browser)")
		}
	}
	page(t, resp, body, http.StatusBadRequest, "This sign-in was started in another browser", "Nothing was changed", "Start again")
	h.noChange(0, "")
	// Clever's code was not exchanged, and the state was not spent: the attacker's own browser could still
	// finish the sign-in.
	h.location(h.get(callback.String()))
}

// TestForwardedStatelessCallback: the attacker signs in at Clever by Instant Login (no state) and sends
// the victim the callback URL. Its code is never exchanged: the victim's browser goes to Clever, where
// it is signed in as the victim — and comes back signed in as the victim — or not at all (Clever's login
// page) — never as the attacker.
func TestForwardedStatelessCallback(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	attacker := h.user(only("teacher"))["id"].(string)
	victimID := h.user(only("student"))["id"].(string)
	instant := func(c *http.Client, user string) *url.URL {
		q := url.Values{"client_id": {"cleversim-client"}, "district_id": {h.districtID}, "user_id": {user}}
		resp, body := h.getIn(c, h.simURL+"/oauth/instant-login?"+q.Encode())
		return h.location(resp, body)
	}
	forwarded := instant(h.http, attacker) // the attacker's browser, stopped at the callback
	if forwarded.Query().Has("state") {
		t.Fatalf("instant login with a state: %s", forwarded)
	}

	// A victim not signed in at Clever: sent to Clever, which asks who they are. Nobody is signed in.
	fresh := h.browser()
	resp, body := h.getIn(fresh, forwarded.String())
	authorize := h.location(resp, body)
	if !strings.HasPrefix(authorize.String(), h.simURL+"/oauth/authorize?") {
		t.Fatalf("the forwarded callback went to %s", authorize)
	}
	resp, body = h.getIn(fresh, authorize.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log in with Clever") {
		t.Errorf("Clever's login page: %d %s", resp.StatusCode, body)
	}
	h.noChange(0, "") // and the code not exchanged: checked at the end

	// A victim signed in at Clever as themselves: signed in to the app as themselves.
	victim := h.browser()
	instant(victim, victimID) // earlier, their own Clever session (not followed further)
	app := h.follow(victim, forwarded.String())
	status, got := h.exchange(h.adminKey, codeBody(app.Query().Get("code")), "application/json")
	if status != 200 || got["cleverId"] != victimID {
		t.Errorf("the victim was signed in as %v (%d), want themselves", got["cleverId"], status)
	}
	if in := h.linker.signIns(); len(in) != 1 || in[0].UserID != victimID || in[0].InviteOrganizationID != "" {
		t.Errorf("onboarding told %+v", in)
	}
	if !h.codeStillValid(forwarded.Query().Get("code")) {
		t.Error("the attacker's code was exchanged")
	}
}

// TestLoginStateFromAnotherBrowser: a LOGIN state comes back only to the browser that started it. Without
// the sign-in cookie, with a made-up one, or with the cookie of a sign-in started since in the same
// browser, the callback is refused with a page and nothing changes — Clever's code is not exchanged and
// the state is not spent.
func TestLoginStateFromAnotherBrowser(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	id := h.user(only("teacher"))["id"].(string)
	first := h.authorize(h.start(""), id, nil)
	public, _ := url.Parse(h.publicURL + "/auth/clever/")

	madeUp := h.browser()
	madeUp.Jar.SetCookies(public, []*http.Cookie{{Name: "rostermirror_signin", Value: strings.Repeat("A", 43), Path: "/auth/clever/"}})
	long := h.browser()
	long.Jar.SetCookies(public, []*http.Cookie{{Name: "rostermirror_signin", Value: strings.Repeat("A", 5000), Path: "/auth/clever/"}})
	for name, c := range map[string]*http.Client{"no cookie": h.browser(), "made-up cookie": madeUp, "long cookie": long} {
		resp, body := h.getIn(c, first.String())
		page(t, resp, body, http.StatusBadRequest, "started in another browser", "Nothing was changed")
		if cookie(resp, "rostermirror_signin") != nil {
			t.Errorf("%s: the refusal touched the cookie", name)
		}
		h.noChange(0, "")
	}

	// Another sign-in started since in the same browser replaces the cookie: the first is refused, the
	// second completes.
	second := h.authorize(h.start(""), id, nil)
	resp, body := h.get(first.String())
	page(t, resp, body, http.StatusBadRequest, "started in another browser")
	h.noChange(0, first.Query().Get("code")) // Clever's code never exchanged by the four refusals
	h.location(h.get(second.String()))
	if n := len(h.linker.signIns()); n != 1 {
		t.Errorf("onboarding told %d times", n)
	}
	h.checkLogs(first.Query().Get("state"), second.Query().Get("state"))
}

// TestConcurrentCallbacks: two callbacks of one state (the same browser, two Clever codes) racing: one
// signs in, the other is refused as a replay.
func TestConcurrentCallbacks(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	id := h.user(only("teacher"))["id"].(string)
	state := h.start("").Query().Get("state")
	var callbacks []string
	for range 4 {
		_, cb := h.simCode(id, state)
		callbacks = append(callbacks, cb.String())
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(callbacks))
	for i, cb := range callbacks {
		wg.Go(func() {
			resp, err := h.http.Get(cb)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusFound:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 || len(h.linker.signIns()) != 1 || h.count("SELECT count(*) FROM login_codes") != 1 {
		t.Errorf("%d of %d racing callbacks signed in (%v), want 1", ok, len(statuses), statuses)
	}
	if n := h.count("SELECT count(*) FROM login_states WHERE used_at IS NOT NULL"); n != 1 {
		t.Errorf("%d used states", n)
	}
}

// TestInviteCleverLegBound: whoever holds an invite link cannot use it to sign somebody else's browser in
// as themselves: the state that goes to Clever for an invite is bound to the browser that followed the
// link, like a login's. Opened in another browser, the callback is refused, and the invite is not spent.
func TestInviteCleverLegBound(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	org := h.db.Client.Organization.Create().SetExternalID("x").SetName("X").SaveX(context.Background())
	inv, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	attacker := h.user(only("teacher"))["id"].(string)
	callback := h.authorize(h.location(h.get(inv.URL)), attacker, nil) // the attacker's browser, stopped
	resp, body := h.getIn(h.browser(), callback.String())
	page(t, resp, body, http.StatusBadRequest, "started in another browser", "Nothing was changed")
	h.noChange(0, "")
	if n := h.count("SELECT count(*) FROM login_states WHERE used_at IS NOT NULL"); n != 0 {
		t.Errorf("the refused callback spent the invite")
	}
}

// TestBogusCodeDoesNotSpendInvite: an invite is spent only when Clever accepts the code of its sign-in;
// a callback with a made-up code leaves it usable.
func TestBogusCodeDoesNotSpendInvite(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	org := h.db.Client.Organization.Create().SetExternalID("x").SetName("X").SaveX(context.Background())
	inv, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	leg := h.location(h.get(inv.URL)).Query().Get("state")
	resp, body := h.get(h.publicURL + login.CallbackPath + "?code=made-up&state=" + url.QueryEscape(leg))
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusFound {
		t.Fatalf("a made-up code: %d %s", resp.StatusCode, body)
	}
	if n := h.count("SELECT count(*) FROM login_states WHERE used_at IS NOT NULL"); n != 0 {
		t.Errorf("a made-up code spent the invite")
	}
	admin := h.user(func(r map[string]any) bool { _, ok := r["district_admin"]; return ok })
	callback := h.authorize(h.location(h.get(inv.URL)), admin["id"].(string), nil)
	if app := h.location(h.get(callback.String())); app.Query().Get("code") == "" {
		t.Errorf("the invite does not work after a made-up code: %s", app)
	}
}

// TestAppStateHandedBack: the app's own state, given to /auth/clever/login, comes back with the code, so
// that the app can check the code reaches the browser that started the sign-in (a code minted in an
// attacker's browser carries the attacker's app state, not the victim's).
func TestAppStateHandedBack(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	teacher := h.user(only("teacher"))["id"].(string)
	callback := h.authorize(h.start("app_state=n0nce-Of.the~app_42"), teacher, nil)
	app := h.location(h.get(callback.String()))
	if app.Query().Get("state") != "n0nce-Of.the~app_42" || app.Query().Get("code") == "" {
		t.Errorf("app URL %s, want the code and the app's state", app)
	}
	for _, bad := range []string{strings.Repeat("x", 129), "a%20b", "<script>"} {
		resp, body := h.get(h.publicURL + login.LoginPath + "?app_state=" + bad)
		page(t, resp, body, http.StatusBadRequest, "app_state")
	}
}

// TestAppStartURL: with an app start URL, a sign-in that arrives without a state goes to the app, which
// starts one bound to its own cookie; its code is not exchanged.
func TestAppStartURL(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL, appStart: "https://app.example.test/start-clever-sign-in"})
	teacher := h.user(only("teacher"))["id"].(string)
	code, cb := h.simCode(teacher, "")
	if to := h.location(h.get(cb.String())); to.String() != "https://app.example.test/start-clever-sign-in" {
		t.Errorf("a sign-in without state went to %s", to)
	}
	if !h.codeStillValid(code) {
		t.Error("the state-less code was exchanged")
	}
}
