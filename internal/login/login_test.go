package login_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/login"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// userTokenRE matches the simulator's user bearer tokens ("il" and 38 hex digits).
var userTokenRE = regexp.MustCompile(`il[0-9a-f]{38}`)

// checkLogs fails the test when anything logged so far holds a secret — a bearer token, a login code, a
// state, Clever's code, an API key — or a person's name or e-mail.
func (h *harness) checkLogs(secrets ...string) {
	h.t.Helper()
	logged := h.logs.String()
	if logged == "" {
		h.t.Fatal("nothing logged: the check proves nothing")
	}
	secrets = append(secrets, h.sim.DistrictToken(h.districtID), cleversim.DefaultClientSecret, h.adminKey, h.readKey)
	for _, s := range secrets {
		if s != "" && strings.Contains(logged, s) {
			h.t.Errorf("the log holds a secret or a person's data (%.6s…)", s)
		}
	}
	if m := userTokenRE.FindString(logged); m != "" {
		h.t.Error("the log holds a user's bearer token")
	}
}

// personal is what must never be logged of a dataset user: e-mail and names.
func personal(u map[string]any) []string {
	out := []string{}
	if e, _ := u["email"].(string); e != "" {
		out = append(out, e)
	}
	if n, _ := u["name"].(map[string]any); n != nil {
		for _, k := range []string{"first", "last"} {
			if s, _ := n[k].(string); len(s) > 3 {
				out = append(out, s)
			}
		}
	}
	return out
}

func adminCtx(h *harness, key string) context.Context {
	k, err := auth.NewStore(h.db, nil).Authenticate(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	return auth.WithKey(context.Background(), k)
}

// TestRoundTrip: a district-authorized teacher of a district not synced yet signs in through
// /auth/clever/login: a signed state goes to Clever and comes back, the code is exchanged, the user is
// provisioned (user row and role), onboarding is told, and the app gets a one-time code (its own query
// kept) that its backend exchanges once, with an admin key, for who signed in. Only hashes are stored.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	teacher := h.user(only("teacher"))
	id := teacher["id"].(string)

	resp, body := h.get(h.publicURL + login.LoginPath + "?district_id=" + h.districtID)
	authorize := h.location(resp, body)
	q := authorize.Query()
	if authorize.String()[:len(h.simURL)] != h.simURL || authorize.Path != "/oauth/authorize" || q.Get("response_type") != "code" ||
		q.Get("client_id") != cleversim.DefaultClientID || q.Get("redirect_uri") != h.publicURL+login.CallbackPath ||
		q.Get("district_id") != h.districtID || q.Get("state") == "" {
		t.Fatalf("authorize URL %s", authorize)
	}
	state := q.Get("state")
	// The state is bound to this browser by the sign-in cookie; starting writes nothing.
	c := cookie(resp, "rostermirror_signin")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/clever/" || c.Secure ||
		c.MaxAge != int(login.DefaultStateTTL/time.Second) || len(c.Value) != 43 || strings.Contains(state, c.Value) {
		t.Errorf("sign-in cookie %+v", c)
	}
	if n := h.count("SELECT count(*) FROM login_states"); n != 0 {
		t.Fatalf("%d login states written by starting a sign-in, want none", n)
	}
	callback := h.authorize(authorize, id, nil)
	if callback.Query().Get("state") != state || callback.Path != login.CallbackPath {
		t.Fatalf("callback %s", callback)
	}
	resp, body = h.get(callback.String())
	app := h.location(resp, body)
	if c := cookie(resp, "rostermirror_signin"); c == nil || c.MaxAge >= 0 || c.Path != "/auth/clever/" {
		t.Errorf("the callback does not delete the sign-in cookie: %+v", c)
	}
	if app.Host != "app.example.test" || app.Path != "/signed-in" || app.Query().Get("from") != "clever" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("redirect to %s (%v)", app, resp.Header)
	}
	code := app.Query().Get("code")
	if n := h.count("SELECT count(*) FROM login_states WHERE used_at IS NOT NULL AND purpose = 'LOGIN'"); n != 1 ||
		h.count("SELECT count(*) FROM login_states") != 1 {
		t.Errorf("%d used states, want the one", n)
	}

	// Provisioned before any sync, with its role.
	if n := h.count("SELECT count(*) FROM users WHERE clever_id = ? AND archived_at IS NULL", id); n != 1 {
		t.Errorf("the user is not in the mirror")
	}
	if n := h.count("SELECT count(*) FROM user_roles WHERE user_id = ? AND role = 'TEACHER' AND archived_at IS NULL", id); n != 1 {
		t.Errorf("the user's teacher role is not in the mirror")
	}
	if n := h.count("SELECT count(*) FROM sync_runs"); n != 0 {
		t.Errorf("%d sync runs", n)
	}
	// Onboarding was told.
	want := link.SignIn{DistrictID: h.districtID, UserID: id, Email: teacher["email"].(string), AuthorizedBy: "district", Roles: []string{"teacher"}, Actor: "clever:" + id}
	if got := h.linker.signIns(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("onboarding told %+v, want %+v", got, want)
	}
	// Only the code's hash is stored.
	sum := sha256.Sum256([]byte(code))
	if n := h.count("SELECT count(*) FROM login_codes WHERE id = ? AND user_id = ?", hex.EncodeToString(sum[:]), id); n != 1 {
		t.Error("the login code is not stored as its hash")
	}

	status, got := h.exchange(h.adminKey, codeBody(code), "application/json")
	wantJSON := map[string]any{"cleverId": id, "districtId": h.districtID, "roles": []any{"teacher"}, "authorizedBy": "district",
		"organizationId": nil, "sessionToken": nil, "sessionExpiresAt": nil}
	if status != 200 || !jsonEqual(got, wantJSON) {
		t.Errorf("exchange = %d %v, want %v", status, got, wantJSON)
	}
	// Single use.
	if status, got := h.exchange(h.adminKey, codeBody(code), "application/json"); status != 400 || got["error"] != "invalid_code" || got["error_description"] == "" {
		t.Errorf("second exchange = %d %v, want invalid_code", status, got)
	}
	h.checkLogs(append(personal(teacher), code, state, c.Value, callback.Query().Get("code"))...)
}

func jsonEqual(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if ws, isSlice := w.([]any); isSlice {
			gs, _ := g.([]any)
			if !slices.Equal(gs, ws) {
				return false
			}
			continue
		}
		if g != w {
			return false
		}
	}
	return true
}

// TestTeacherAuthorized: a teacher-authorized (Library) sign-in of a student says so to onboarding and
// in the exchange, with the organization onboarding answered.
func TestTeacherAuthorized(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	h.linker.outcome = func(link.SignIn) link.SignInOutcome { return link.SignInOutcome{OrganizationID: "org-1"} }
	student := h.user(only("student"))
	id := student["id"].(string)
	code, callback := h.signIn(id, url.Values{"authorized_by": {"teacher"}})
	status, got := h.exchange(h.adminKey, codeBody(code), "application/json; charset=utf-8")
	if status != 200 || got["authorizedBy"] != "teacher" || got["organizationId"] != "org-1" || !slices.Equal(got["roles"].([]any), []any{"student"}) {
		t.Errorf("exchange = %d %v", status, got)
	}
	if in := h.linker.signIns(); len(in) != 1 || in[0].AuthorizedBy != "teacher" || in[0].UserID != id {
		t.Errorf("onboarding told %+v", in)
	}
	h.checkLogs(append(personal(student), code, callback.Query().Get("state"), callback.Query().Get("code"))...)
}

// TestInstantLoginWithoutState: Instant Login (and Clever's Portal) arrive without state. Their code is
// not exchanged: the browser is sent back to Clever's authorize with a fresh LOGIN state bound to it, and
// Clever — the simulator remembering who signed in, as clever.com does — answers at once with a code and
// that state. The sign-in completes as the same user and reaches onboarding as one without an invite.
func TestInstantLoginWithoutState(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	admin := h.user(func(r map[string]any) bool { _, ok := r["district_admin"]; return ok })
	id := admin["id"].(string)
	q := url.Values{"client_id": {cleversim.DefaultClientID}, "district_id": {h.districtID}, "user_id": {id}}
	callback := h.location(h.get(h.simURL + "/oauth/instant-login?" + q.Encode()))
	if callback.Query().Has("state") || callback.Path != login.CallbackPath {
		t.Fatalf("instant login redirected to %s", callback)
	}
	instantCode := callback.Query().Get("code")

	resp, body := h.get(callback.String())
	authorize := h.location(resp, body)
	aq := authorize.Query()
	if !strings.HasPrefix(authorize.String(), h.simURL+"/oauth/authorize?") || aq.Get("redirect_uri") != h.publicURL+login.CallbackPath ||
		aq.Get("state") == "" || aq.Get("client_id") != cleversim.DefaultClientID || aq.Has("district_id") || aq.Has("code") {
		t.Fatalf("a callback without state sent to %s", authorize)
	}
	if c := cookie(resp, "rostermirror_signin"); c == nil || !c.HttpOnly || c.MaxAge <= 0 {
		t.Errorf("no sign-in cookie with the new state: %+v", c)
	}
	h.noChange(0, instantCode) // the code without state was not exchanged
	if n := h.count("SELECT count(*) FROM login_states"); n != 0 {
		t.Errorf("%d states written", n)
	}

	// Clever (the simulator's session) answers at once, with the new state.
	resp, body = h.get(authorize.String())
	back := h.location(resp, body)
	if back.Path != login.CallbackPath || back.Query().Get("state") != aq.Get("state") || back.Query().Get("code") == "" {
		t.Fatalf("Clever sent back %s", back)
	}
	app := h.location(h.get(back.String()))
	code := app.Query().Get("code")
	status, got := h.exchange(h.adminKey, codeBody(code), "application/json")
	if status != 200 || got["cleverId"] != id || !slices.Contains(got["roles"].([]any), any("district_admin")) {
		t.Errorf("exchange = %d %v", status, got)
	}
	if n := h.count("SELECT count(*) FROM login_states WHERE purpose = 'LOGIN' AND used_at IS NOT NULL"); n != 1 {
		t.Errorf("%d used login states, want 1", n)
	}
	if in := h.linker.signIns(); len(in) != 1 || in[0].InviteOrganizationID != "" || in[0].UserID != id {
		t.Errorf("onboarding told %+v", in)
	}
	// The same in one go, as a browser follows redirects.
	if app := h.follow(h.http, h.simURL+"/oauth/instant-login?"+q.Encode()); app.Host != "app.example.test" || app.Query().Get("code") == "" {
		t.Errorf("instant login followed to %s", app)
	}
	h.checkLogs(append(personal(admin), code, instantCode, aq.Get("state"))...)
}

// follow GETs u in browser c and follows its redirects through the simulator and the login endpoints
// until one leads elsewhere (the app), which it returns; it fails the test on a page.
func (h *harness) follow(c *http.Client, u string) *url.URL {
	h.t.Helper()
	for range 10 {
		resp, body := h.getIn(c, u)
		next := h.location(resp, body)
		if !strings.HasPrefix(next.String(), h.simURL) && !strings.HasPrefix(next.String(), h.publicURL) {
			return next
		}
		u = next.String()
	}
	h.t.Fatalf("more than 10 redirects from %s", u)
	return nil
}

// TestStatelessCallbackReauthorizes: a callback without state, at either redirect URI's path, sends the
// browser back to Clever with a bound LOGIN state and the login redirect URI (district_id passed on when
// the callback has one), and exchanges nothing; every one gets a state of its own. A callback with a
// state is never sent back, so there is no loop.
func TestStatelessCallbackReauthorizes(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL, linkPath: linkPath})
	id := h.user(only("teacher"))["id"].(string)
	cleverCode, _ := h.simCode(id, "")
	seen := map[string]bool{}
	for _, path := range []string{login.CallbackPath, linkPath} {
		for _, extra := range []string{"", "&district_id=" + h.districtID, "&district_id=not%20an%20id"} {
			resp, body := h.get(h.publicURL + path + "?code=" + cleverCode + extra)
			authorize := h.location(resp, body)
			q := authorize.Query()
			wantDistrict := ""
			if extra == "&district_id="+h.districtID {
				wantDistrict = h.districtID
			}
			if q.Get("redirect_uri") != h.publicURL+login.CallbackPath || q.Get("district_id") != wantDistrict || seen[q.Get("state")] ||
				cookie(resp, "rostermirror_signin") == nil {
				t.Errorf("%s%s → %s", path, extra, authorize)
			}
			seen[q.Get("state")] = true
		}
	}
	h.noChange(0, cleverCode)

	// The state it gets completes with a code from Clever; the callback never re-authorizes.
	resp, body := h.get(h.publicURL + login.CallbackPath + "?code=" + cleverCode)
	authorize := h.location(resp, body)
	back := h.authorize(authorize, id, nil)
	app := h.location(h.get(back.String()))
	if app.Host != "app.example.test" {
		t.Errorf("the second leg went to %s", app)
	}
	resp, body = h.get(back.String()) // again: refused with a page, not sent round
	page(t, resp, body, http.StatusBadRequest, "already completed")
}

// TestInvite: createDistrictInvite needs an admin key and an existing organization and is audited; the
// invite goes to Clever with the link redirect URI, comes back to the link path, and tells onboarding
// the organization; without an app URL a page says what happened. The invite works once.
func TestInvite(t *testing.T) {
	t.Parallel()
	h := setup(t, options{linkPath: linkPath})
	ctx := context.Background()
	org := h.db.Client.Organization.Create().SetExternalID("acme-1").SetName("Acme Learning").SaveX(ctx)
	auto := h.db.Client.Organization.Create().SetExternalID("auto-1").SetName("Auto Org").SetAutoLinkInvites(true).SaveX(ctx)
	h.linker.outcome = func(in link.SignIn) link.SignInOutcome {
		if in.InviteOrganizationID == auto.ID {
			return link.SignInOutcome{OrganizationID: auto.ID, Linked: true}
		}
		return link.SignInOutcome{Proposed: in.InviteOrganizationID != ""}
	}

	if _, err := h.svc.CreateInvite(ctx, org.ID); !errors.Is(err, auth.ErrInvalidKey) {
		t.Errorf("invite without a key: %v", err)
	}
	if _, err := h.svc.CreateInvite(adminCtx(h, h.readKey), org.ID); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("invite with a read key: %v", err)
	}
	if _, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), "no-such-org"); !ent.IsNotFound(err) {
		t.Errorf("invite for an unknown organization: %v", err)
	}
	before := h.clock.now()
	inv, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inv.URL, h.publicURL+login.LoginPath+"?invite=") || inv.ExpiresAt.Before(before.Add(7*24*time.Hour-time.Second)) ||
		inv.ExpiresAt.After(before.Add(7*24*time.Hour+time.Second)) {
		t.Errorf("invite %s expiring %s", inv.URL, inv.ExpiresAt)
	}
	invite := strings.TrimPrefix(inv.URL, h.publicURL+login.LoginPath+"?invite=")
	entries := h.db.Client.AuditEntry.Query().Where(auditentry.Action(audit.CreateDistrictInvite)).AllX(ctx)
	if len(entries) != 1 || entries[0].Target != org.ID || !strings.HasPrefix(entries[0].Actor, "apikey:app-backend") ||
		strings.Contains(entries[0].Outcome, invite[:20]) {
		t.Errorf("audit entries %+v", entries)
	}

	// Following it: to Clever with the link redirect URI and a state of the invite's own, bound to this
	// browser (never the invite itself, which whoever holds the link knows).
	authorize := h.location(h.get(inv.URL + "&district_id=" + h.districtID))
	leg := authorize.Query().Get("state")
	if q := authorize.Query(); q.Get("redirect_uri") != h.publicURL+linkPath || leg == "" || leg == invite || q.Get("district_id") != h.districtID {
		t.Fatalf("invite goes to %s", authorize)
	}
	admin := h.user(func(r map[string]any) bool { _, ok := r["district_admin"]; return ok })
	callback := h.authorize(authorize, admin["id"].(string), nil)
	if callback.Path != linkPath {
		t.Fatalf("callback at %s, want the link path", callback.Path)
	}
	resp, body := h.get(callback.String())
	// The district is not synced yet: the page calls it "your district".
	page(t, resp, body, http.StatusOK, "Signed in with Clever", "of your district", "Acme Learning", "administrator will confirm")
	if in := h.linker.signIns(); len(in) != 1 || in[0].InviteOrganizationID != org.ID || in[0].DistrictID != h.districtID {
		t.Errorf("onboarding told %+v", in)
	}
	if n := h.count("SELECT count(*) FROM login_codes"); n != 0 {
		t.Errorf("%d login codes without an app URL", n)
	}

	// Used up: the link and the callback are refused, and nothing more happens.
	resp, body = h.get(inv.URL)
	page(t, resp, body, http.StatusBadRequest, "This invite link was already used", "Nothing was changed")
	cleverCode, cb := h.simCode(admin["id"].(string), leg)
	resp, body = h.get(strings.Replace(cb.String(), login.CallbackPath, linkPath, 1))
	page(t, resp, body, http.StatusBadRequest, "already used")
	// The invite link itself is never a callback's state.
	_, cb = h.simCode(admin["id"].(string), invite)
	resp, body = h.get(strings.Replace(cb.String(), login.CallbackPath, linkPath, 1))
	page(t, resp, body, http.StatusBadRequest, "not valid")
	if len(h.linker.signIns()) != 1 || !h.codeStillValid(cleverCode) {
		t.Error("a used invite was acted on")
	}

	// An organization that links from invites at once.
	inv2, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), auto.ID)
	if err != nil {
		t.Fatal(err)
	}
	callback = h.authorize(h.location(h.get(inv2.URL)), admin["id"].(string), nil)
	resp, body = h.get(callback.String())
	page(t, resp, body, http.StatusOK, "is now linked to Auto Org")
	h.checkLogs(append(personal(admin), invite, strings.TrimPrefix(inv2.URL, h.publicURL+login.LoginPath+"?invite="), cleverCode)...)
}

// TestForgedState: a state not signed with our key — altered, cut short, made by another key, or
// garbage — is refused with a page, and nothing changes: Clever's code is not even exchanged.
func TestForgedState(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	teacher := h.user(only("teacher"))
	id := teacher["id"].(string)
	genuine := h.start("").Query().Get("state")
	body, mac, _ := strings.Cut(genuine, ".")
	flipped := []byte(body)
	flipped[10] ^= 1
	if flipped[10] == '.' {
		flipped[10] = 'A'
	}

	// A state of another installation (another secret key) over the same database.
	other, err := login.New(login.Config{DB: h.db, Clever: login.CleverClient(h.cc), ClientID: cleversim.DefaultClientID,
		PublicURL: h.publicURL, SecretKey: "another secret key of thirty-two characters", Linker: h.linker, Provisioner: h.engine})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	other.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, login.LoginPath, nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	foreign := loc.Query().Get("state")

	for name, st := range map[string]string{
		"altered payload": string(flipped) + "." + mac,
		"cut short":       genuine[:len(genuine)-5],
		"no mac":          body,
		"other key":       foreign,
		"garbage":         "not-a-state",
		"long":            strings.Repeat("A", 5000) + "." + mac,
	} {
		t.Run(name, func(t *testing.T) {
			cleverCode, cb := h.simCode(id, st)
			resp, page2 := h.get(cb.String())
			page(t, resp, page2, http.StatusBadRequest, "This sign-in link is not valid", "Nothing was changed")
			h.noChange(0, cleverCode)
		})
	}
	// An invite link that is forged, or a login state passed off as an invite.
	for _, inv := range []string{"garbage", genuine, string(flipped) + "." + mac} {
		resp, b := h.get(h.publicURL + login.LoginPath + "?invite=" + url.QueryEscape(inv))
		page(t, resp, b, http.StatusBadRequest, "not valid")
	}
	h.checkLogs(append(personal(teacher), genuine, foreign)...)
}

// TestExpiredState: a sign-in finished after the state's TTL, and an invite followed after its own,
// are refused with pages that say so; nothing changes.
func TestExpiredState(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	id := h.user(only("teacher"))["id"].(string)
	callback := h.authorize(h.start(""), id, nil)
	h.clock.add(login.DefaultStateTTL + time.Second)
	resp, body := h.get(callback.String())
	page(t, resp, body, http.StatusBadRequest, "This sign-in took too long", "10 minutes", "Nothing was changed")
	h.noChange(0, callback.Query().Get("code"))

	org := h.db.Client.Organization.Create().SetExternalID("x").SetName("X").SaveX(context.Background())
	inv, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	authorize := h.location(h.get(inv.URL))
	callback = h.authorize(authorize, id, nil)
	h.clock.add(login.DefaultInviteTTL)
	resp, body = h.get(inv.URL)
	page(t, resp, body, http.StatusBadRequest, "This invite link has expired", "7 days")
	resp, body = h.get(callback.String())
	page(t, resp, body, http.StatusBadRequest, "This invite link has expired")
	h.noChange(0, callback.Query().Get("code"))
}

// TestReplayedState: the callback of a completed sign-in, sent again (reloaded, or replayed with a new
// Clever code), is refused; onboarding is not told twice and no second code is issued.
func TestReplayedState(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	id := h.user(only("teacher"))["id"].(string)
	code, callback := h.signIn(id, nil)
	resp, body := h.get(callback.String())
	page(t, resp, body, http.StatusBadRequest, "This sign-in was already completed", "Nothing was changed")

	cleverCode, cb := h.simCode(id, callback.Query().Get("state"))
	resp, body = h.get(cb.String())
	page(t, resp, body, http.StatusBadRequest, "already completed")
	if !h.codeStillValid(cleverCode) {
		t.Error("the replay's Clever code was exchanged")
	}
	if n := len(h.linker.signIns()); n != 1 {
		t.Errorf("onboarding told %d times, want once", n)
	}
	if n := h.count("SELECT count(*) FROM login_codes"); n != 1 {
		t.Errorf("%d login codes, want 1", n)
	}
	if status, _ := h.exchange(h.adminKey, codeBody(code), "application/json"); status != 200 {
		t.Errorf("the first sign-in's code: %d", status)
	}
}

// TestUnknownState: a genuine invite whose row is gone is refused. (A LOGIN state has no row until it is
// used.)
func TestUnknownState(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	org := h.db.Client.Organization.Create().SetExternalID("x").SetName("X").SaveX(context.Background())
	inv, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	callback := h.authorize(h.location(h.get(inv.URL)), h.user(only("teacher"))["id"].(string), nil)
	h.db.Client.LoginState.Delete().ExecX(context.Background())
	resp, b := h.get(inv.URL)
	page(t, resp, b, http.StatusBadRequest, "not on record")
	resp, body := h.get(callback.String())
	page(t, resp, body, http.StatusBadRequest, "not on record")
	h.noChange(0, callback.Query().Get("code"))
}

// TestCleverErrorAndMissingCode: Clever's ?error= is shown and uses nothing up; a callback without a
// code is refused.
func TestCleverErrorAndMissingCode(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	authorize := h.start("")
	state := authorize.Query().Get("state")
	resp, body := h.get(h.publicURL + login.CallbackPath + "?error=access_denied&error_description=" + url.QueryEscape("<b>The user denied</b>") + "&state=" + url.QueryEscape(state))
	page(t, resp, body, http.StatusBadRequest, "Clever did not sign you in", "Signing in was cancelled")
	if strings.Contains(body, "The user denied") {
		t.Error("the page shows the error description from the URL: anyone could put their words on our page")
	}
	resp, body = h.get(h.publicURL + login.CallbackPath + "?state=" + url.QueryEscape(state))
	page(t, resp, body, http.StatusBadRequest, "has none", "Nothing was changed")
	h.noChange(0, "")
	// The state still works.
	callback := h.authorize(authorize, h.user(only("teacher"))["id"].(string), nil)
	h.location(h.get(callback.String()))
}

// TestExchange: /auth/exchange wants an admin key, a JSON body, and a live code: an expired code is
// refused, and refused requests leave the code usable.
func TestExchange(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	code, _ := h.signIn(h.user(only("teacher"))["id"].(string), nil)
	body := codeBody(code)

	if status, got := h.exchange("", body, "application/json"); status != 401 || got["errors"] == nil {
		t.Errorf("without a key: %d %v", status, got)
	}
	if status, got := h.exchange("rmk_"+strings.Repeat("x", 43), body, "application/json"); status != 401 {
		t.Errorf("with a bad key: %d %v", status, got)
	}
	if status, got := h.exchange(h.readKey, body, "application/json"); status != 403 {
		t.Errorf("with a read key: %d %v", status, got)
	}
	for name, c := range map[string]struct {
		body, contentType string
		status            int
		err               string
	}{
		"form":           {"code=" + code, "application/x-www-form-urlencoded", 400, "invalid_request"},
		"no type":        {body, "", 400, "invalid_request"},
		"not JSON":       {"{code:", "application/json", 400, "invalid_request"},
		"no code":        {`{"other":"x"}`, "application/json", 400, "invalid_request"},
		"number":         {`{"code":5}`, "application/json", 400, "invalid_request"},
		"two objects":    {body + body, "application/json", 400, "invalid_request"},
		"too large":      {`{"code":"` + strings.Repeat("a", 5000) + `"}`, "application/json", 413, "invalid_request"},
		"unknown code":   {codeBody(strings.Repeat("A", 43)), "application/json", 400, "invalid_code"},
		"malformed code": {codeBody("short"), "application/json", 400, "invalid_code"},
	} {
		if status, got := h.exchange(h.adminKey, c.body, c.contentType); status != c.status || got["error"] != c.err {
			t.Errorf("%s: %d %v, want %d %s", name, status, got, c.status, c.err)
		}
	}
	resp, _ := h.get(h.publicURL + login.ExchangePath)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if status, got := h.exchange(h.adminKey, body, "application/json"); status != 200 {
		t.Errorf("the code after refused requests: %d %v", status, got)
	}

	// Expired: the app has login.DefaultCodeTTL.
	code, _ = h.signIn(h.user(only("student"))["id"].(string), nil)
	h.clock.add(login.DefaultCodeTTL + time.Second)
	if status, got := h.exchange(h.adminKey, codeBody(code), "application/json"); status != 400 || got["error"] != "invalid_code" {
		t.Errorf("expired code: %d %v", status, got)
	}
	h.checkLogs(code)
}

// TestUpdateOnLogin: a user already mirrored by a sync is updated by signing in; a district without a
// token for the login service reads the user with the user's own token.
func TestUpdateOnLogin(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	if res, err := h.engine.SyncDistrict(context.Background(), h.districtID, mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %v", err, res.Errors)
	}
	teacher := h.user(only("teacher"))
	id := teacher["id"].(string)
	if err := h.sim.Modify(cleversim.KindUsers, id, []byte(`{"email":"new.address@example.org"}`)); err != nil {
		t.Fatal(err)
	}
	h.signIn(id, nil)
	if n := h.count("SELECT count(*) FROM users WHERE clever_id = ? AND email = 'new.address@example.org'", id); n != 1 {
		t.Error("the user was not updated on login")
	}
	if in := h.linker.signIns(); len(in) != 1 || in[0].Email != "new.address@example.org" {
		t.Errorf("onboarding told %+v", in)
	}
	h.checkLogs("new.address@example.org")

	own := setup(t, options{appURL: appLoginURL, noTokens: true})
	code, _ := own.signIn(id, nil)
	if n := own.count("SELECT count(*) FROM user_roles WHERE user_id = ? AND role = 'TEACHER'", id); n != 1 {
		t.Error("the user was not provisioned with its own token")
	}
	if status, got := own.exchange(own.adminKey, codeBody(code), "application/json"); status != 200 || !slices.Equal(got["roles"].([]any), []any{"teacher"}) {
		t.Errorf("exchange: %d %v", status, got)
	}
}

// TestCleanup: states and codes expired more than a day ago are deleted, fresher ones kept. Sign-ins
// started and never finished left nothing to delete.
func TestCleanup(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL})
	h.signIn(h.user(only("teacher"))["id"].(string), nil)
	for range 5 {
		h.start("")
	}
	org := h.db.Client.Organization.Create().SetExternalID("x").SetName("X").SaveX(context.Background())
	if _, err := h.svc.CreateInvite(adminCtx(h, h.adminKey), org.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := h.svc.Cleanup(context.Background()); err != nil || n != 0 {
		t.Errorf("cleanup of fresh rows: %d %v", n, err)
	}
	if n := h.count("SELECT count(*) FROM login_states"); n != 2 {
		t.Errorf("%d states, want the used login state and the invite", n)
	}
	h.clock.add(login.DefaultStateTTL + login.DefaultRetention)
	if n, err := h.svc.Cleanup(context.Background()); err != nil || n != 2 {
		t.Errorf("cleanup: %d %v, want 1 state and 1 code", n, err)
	}
	h.clock.add(login.DefaultInviteTTL)
	if n, err := h.svc.Cleanup(context.Background()); err != nil || n != 1 {
		t.Errorf("cleanup: %d %v, want the invite", n, err)
	}
	if n := h.count("SELECT count(*) FROM login_states") + h.count("SELECT count(*) FROM login_codes"); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

// TestSignInWhileSyncRuns: while a sync holds the district, the sign-in goes through without provisioning
// (the sync writes the user) and the app still learns the user's roles from the record read.
func TestSignInWhileSyncRuns(t *testing.T) {
	t.Parallel()
	h := setup(t, options{appURL: appLoginURL, provisionWait: 50 * time.Millisecond})
	unlock, ok := h.db.TryLock("sync district " + h.districtID) // the engine's lock, as a running sync holds it
	if !ok {
		t.Fatal("lock held")
	}
	defer unlock()
	id := h.user(only("teacher"))["id"].(string)
	code, _ := h.signIn(id, nil)
	if status, got := h.exchange(h.adminKey, codeBody(code), "application/json"); status != 200 || !slices.Equal(got["roles"].([]any), []any{"teacher"}) {
		t.Errorf("exchange = %d %v", status, got)
	}
	if n := h.count("SELECT count(*) FROM users"); n != 0 {
		t.Errorf("%d users written while the sync holds the district", n)
	}
	if !strings.Contains(h.logs.String(), "signed-in user left to the running sync") {
		t.Error("not logged")
	}
}
