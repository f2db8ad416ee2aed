package cleversim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// listTokens GETs /oauth/tokens with the default client credentials.
func listTokens(t *testing.T, b *bundle, query string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+"/oauth/tokens?owner_type=district"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	resp, body := do(t, b.ts.Client(), req)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("tokens: %v in %s", err, body)
	}
	return resp.StatusCode, m
}

func tokenOwners(t *testing.T, b *bundle, query string) []string {
	t.Helper()
	_, m := listTokens(t, b, query)
	var out []string
	for _, it := range m["data"].([]any) {
		out = append(out, it.(map[string]any)["owner"].(map[string]any)["id"].(string))
	}
	return out
}

func tokenOf(t *testing.T, b *bundle, district string) string {
	t.Helper()
	_, m := listTokens(t, b, "&district="+district)
	data := m["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("tokens for %s: %v", district, m)
	}
	return data[0].(map[string]any)["access_token"].(string)
}

func TestTokensList(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{})
	status, all := listTokens(t, b, "")
	if status != 200 || len(all["data"].([]any)) != 2 {
		t.Fatalf("tokens: %d %v", status, all)
	}
	if ls, _ := links(t, all); ls["self"] != "/oauth/tokens?owner_type=district" {
		t.Errorf("self %v", ls)
	}
	// the filter, with the self link's parameter order as recorded
	_, one := listTokens(t, b, "&district="+sDistrict2)
	if ls, _ := links(t, one); ls["self"] != "/oauth/tokens?owner_type=district&district="+sDistrict2 {
		t.Errorf("self %v", ls)
	}
	item := one["data"].([]any)[0].(map[string]any)
	if item["access_token"] != sToken2 || len(item["id"].(string)) != 24 || item["created"] == "" {
		t.Errorf("token item %v", item)
	}
	// the same keys as the recorded answer
	if _, ok := sharedDir(); ok {
		for _, rec := range loadRecordings(t) {
			if rec.File != "api__token.json" {
				continue
			}
			var want map[string]any
			if err := json.Unmarshal(rec.Response.Body, &want); err != nil {
				t.Fatal(err)
			}
			if !sameShape(item, want["data"].([]any)[0]) || !sameShape(one, want) {
				t.Errorf("token list shape differs from the recording:\n%v\n%v", one, want)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/oauth/tokens?owner_type=district", nil)
	req.SetBasicAuth(DefaultClientID, "wrong")
	resp, body := do(t, b.ts.Client(), req)
	var e struct{ Error string }
	if json.Unmarshal(body, &e); resp.StatusCode != 401 || e.Error != "invalid_client" {
		t.Errorf("bad secret: %d %s", resp.StatusCode, body)
	}
}

// sameShape reports whether two decoded JSON values have the same object keys, recursively.
func sameShape(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameShape(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && (len(x) == 0 || len(y) == 0 || sameShape(x[0], y[0]))
	}
	return true
}

// login runs /oauth/authorize for a user and returns the redirect location.
func login(t *testing.T, b *bundle, params url.Values) *url.URL {
	t.Helper()
	c := b.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(b.ts.URL + "/oauth/authorize?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func exchange(t *testing.T, b *bundle, body, contentType string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/oauth/tokens", strings.NewReader(body))
	req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	req.Header.Set("Content-Type", contentType)
	resp, out := do(t, b.ts.Client(), req)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("exchange: %v in %s", err, out)
	}
	return resp.StatusCode, m
}

func TestOAuthCodeFlow(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 2, Config{})
	redirect := "http://app.test/auth/clever?x=1"
	base := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect}}

	// the picker lists users as login links
	resp, body := b.get(t, "", "/oauth/authorize?"+base.Encode()+"&district_id="+sDistrict)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "user_id="+sTeacher1) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("picker: %d %s", resp.StatusCode, body)
	}

	// district SSO with state
	p := url.Values{"state": {"s t&ate"}, "user_id": {sTeacher1}}
	for k, v := range base {
		p[k] = v
	}
	loc := login(t, b, p)
	code := loc.Query().Get("code")
	if loc.Host != "app.test" || code == "" || loc.Query().Get("state") != "s t&ate" || loc.Query().Get("x") != "1" {
		t.Fatalf("redirect %s", loc)
	}
	status, tok := exchange(t, b, string(mustJSON(t, map[string]string{"code": code, "grant_type": "authorization_code", "redirect_uri": redirect})), "application/json")
	if status != 200 || tok["token_type"] != "bearer" || tok["access_token"] == "" || len(tok) != 2 {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	userTok := tok["access_token"].(string)
	status, again := exchange(t, b, string(mustJSON(t, map[string]string{"code": code, "grant_type": "authorization_code", "redirect_uri": redirect})), "application/json")
	if status != 400 || again["error"] != "invalid_grant" || again["error_description"] != "Invalid grant: invalid code" {
		t.Errorf("reused code: %d %v", status, again)
	}
	me := b.getJSON(t, userTok, "/v3.0/me")
	want := map[string]any{"type": "user", "data": map[string]any{"id": sTeacher1, "district": sDistrict, "type": "teacher", "authorized_by": "district"},
		"links": []any{map[string]any{"rel": "self", "uri": "/me"}, map[string]any{"rel": "canonical", "uri": "/v3.0/users/" + sTeacher1},
			map[string]any{"rel": "district", "uri": "/v3.0/districts/" + sDistrict}}}
	if !jsonEqual(t, mustJSON(t, me), mustJSON(t, want)) {
		t.Errorf("/me = %v", me)
	}
	// a user token reads only itself and its district; records come without links
	if u := b.getJSON(t, userTok, "/v3.0/users/"+sTeacher1); u["links"] != nil || u["data"] == nil {
		t.Errorf("own user: %v", u)
	}
	b.getJSON(t, userTok, "/v3.0/districts/"+sDistrict)
	for _, path := range []string{"/v3.0/users/" + sTeacher2, "/v3.0/resources", "/v3.0/schools", "/v3.0/events"} {
		resp, body := b.get(t, userTok, path)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "<pre>Cannot GET "+path+"</pre>") {
			t.Errorf("user token on %s: %d %s", path, resp.StatusCode, body)
		}
	}
	// tokeninfo
	resp, body = b.get(t, userTok, "/oauth/tokeninfo")
	var info struct {
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	}
	if json.Unmarshal(body, &info); resp.StatusCode != 200 || info.ClientID != DefaultClientID || !slices.Contains(info.Scopes, "read:user_id") {
		t.Errorf("tokeninfo: %d %s", resp.StatusCode, body)
	}

	// Library (teacher-authorized) login without state, exchanged with a form body
	p = url.Values{"user_id": {sStudent(1)}, "authorized_by": {"teacher"}}
	for k, v := range base {
		p[k] = v
	}
	loc = login(t, b, p)
	if loc.Query().Has("state") {
		t.Errorf("state without a state: %s", loc)
	}
	form := url.Values{"code": {loc.Query().Get("code")}, "grant_type": {"authorization_code"}, "redirect_uri": {"http://elsewhere.test/"}}
	if status, m := exchange(t, b, form.Encode(), "application/x-www-form-urlencoded"); status != 400 || m["error"] != "invalid_grant" {
		t.Errorf("redirect mismatch: %d %v", status, m)
	}
	form.Set("redirect_uri", redirect)
	status, tok = exchange(t, b, form.Encode(), "application/x-www-form-urlencoded")
	if status != 200 {
		t.Fatalf("form exchange: %d %v", status, tok)
	}
	me = b.getJSON(t, tok["access_token"].(string), "/me")
	if d := me["data"].(map[string]any); d["type"] != "student" || d["authorized_by"] != "teacher" {
		t.Errorf("library /me %v", me)
	}

	// an expired code
	loc = login(t, b, p)
	b.clock.Add(codeTTL)
	form.Set("code", loc.Query().Get("code"))
	if status, m := exchange(t, b, form.Encode(), "application/x-www-form-urlencoded"); status != 400 || m["error"] != "invalid_grant" {
		t.Errorf("expired code: %d %v", status, m)
	}

	// instant login has no state and needs a district
	c := b.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r, err := c.Get(b.ts.URL + "/oauth/instant-login?client_id=" + DefaultClientID + "&district_id=" + sDistrict + "&user_id=" + sTeacher2 + "&redirect_uri=" + url.QueryEscape(redirect) + "&state=x")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if l, _ := url.Parse(r.Header.Get("Location")); r.StatusCode != 302 || l.Query().Get("code") == "" || l.Query().Has("state") {
		t.Errorf("instant login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	for _, bad := range []string{
		"/oauth/authorize?response_type=token&client_id=" + DefaultClientID + "&redirect_uri=" + url.QueryEscape(redirect),
		"/oauth/authorize?response_type=code&client_id=other&redirect_uri=" + url.QueryEscape(redirect),
		"/oauth/authorize?response_type=code&client_id=" + DefaultClientID + "&redirect_uri=relative",
		"/oauth/authorize?response_type=code&client_id=" + DefaultClientID + "&redirect_uri=" + url.QueryEscape(redirect) + "&user_id=" + sOther + "&district_id=" + sDistrict,
		"/oauth/instant-login?client_id=" + DefaultClientID + "&redirect_uri=" + url.QueryEscape(redirect),
	} {
		if resp, body := b.get(t, "", bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	// removing the district ends its users' sessions
	if err := b.srv.RemoveDistrict(sDistrict); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get(t, userTok, "/me"); resp.StatusCode != 401 {
		t.Errorf("user token after disconnect: %d", resp.StatusCode)
	}
}

func TestFixtureDistrictToken(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Dataset: fixtureDataset(t)})
	if got := b.srv.DistrictToken(FixtureDistrictID); got != "TEST_TOKEN" {
		t.Errorf("fixture district token %q", got)
	}
	o := setup(t, Config{Dataset: fixtureDataset(t), Tokens: map[string]string{FixtureDistrictID: "mine"}})
	if got := o.srv.DistrictToken(FixtureDistrictID); got != "mine" {
		t.Errorf("override %q", got)
	}
}

// browserOf is a browser on the simulator: a cookie jar, redirects shown rather than followed.
func browserOf(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browse GETs path in the browser and returns the status, the redirect (nil without one) and the body.
func browse(t *testing.T, c *http.Client, b *bundle, path string) (int, *url.URL, string) {
	t.Helper()
	resp, err := c.Get(b.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc, _ := resp.Location()
	return resp.StatusCode, loc, string(body)
}

// meOf exchanges the code of a redirect and returns /me's data: who the code signed in.
func meOf(t *testing.T, b *bundle, loc *url.URL, redirect string) map[string]any {
	t.Helper()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code in %v", loc)
	}
	status, tok := exchange(t, b, string(mustJSON(t, map[string]string{"code": loc.Query().Get("code"), "grant_type": "authorization_code",
		"redirect_uri": redirect})), "application/json")
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	return b.getJSON(t, tok["access_token"].(string), "/me")["data"].(map[string]any)
}

// TestOAuthSession: like clever.com, the simulator remembers who signed in. A login by user_id= (the
// picker's choice, or Instant Login) sets a session cookie; /oauth/authorize without user_id= then logs
// that user in at once — with the state of the request — when district_id, if any, is theirs, and shows
// the picker otherwise. Another user_id= replaces the session; authorized_by= overrides the remembered
// one; the session ends when the user is unshared, at /sim/logout, and after sessionTTL. Another browser
// has a session of its own.
func TestOAuthSession(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 2, Config{})
	redirect := "http://app.test/auth/clever/callback"
	authorize := func(extra url.Values) string {
		q := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect}}
		for k, v := range extra {
			q[k] = v
		}
		return "/oauth/authorize?" + q.Encode()
	}
	alice := browserOf(t)

	// Not signed in: the picker.
	if status, loc, body := browse(t, alice, b, authorize(url.Values{"state": {"s1"}})); status != 200 || loc != nil || !strings.Contains(body, "user_id=") {
		t.Fatalf("without a session: %d %v", status, loc)
	}
	// The picker's choice signs in, and sets the session cookie.
	resp, err := alice.Get(b.ts.URL + authorize(url.Values{"state": {"s1"}, "user_id": {sTeacher1}, "district_id": {sDistrict}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			cookie = ck
		}
	}
	if resp.StatusCode != 302 || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Value == "" {
		t.Fatalf("login: %d, cookie %+v", resp.StatusCode, cookie)
	}
	// Signed in: straight back with a code for the same user and the request's state.
	status, loc, _ := browse(t, alice, b, authorize(url.Values{"state": {"s2"}}))
	if status != 302 || loc.Query().Get("state") != "s2" || loc.Host != "app.test" {
		t.Fatalf("with a session: %d %v", status, loc)
	}
	if me := meOf(t, b, loc, redirect); me["id"] != sTeacher1 || me["district"] != sDistrict || me["authorized_by"] != "district" {
		t.Errorf("the session logged in %v", me)
	}
	// With the user's district too; another district shows the picker of that district.
	if status, loc, _ := browse(t, alice, b, authorize(url.Values{"district_id": {sDistrict}})); status != 302 || loc.Query().Has("state") {
		t.Errorf("district_id of the session: %d %v", status, loc)
	}
	if status, loc, body := browse(t, alice, b, authorize(url.Values{"district_id": {sDistrict2}, "state": {"s3"}})); status != 200 || loc != nil ||
		!strings.Contains(body, "Other ISD") || strings.Contains(body, "Small ISD") {
		t.Errorf("another district_id: %d %v", status, loc)
	}
	// Instant Login with the session's district: at once, without state.
	status, loc, _ = browse(t, alice, b, "/oauth/instant-login?client_id="+DefaultClientID+"&district_id="+sDistrict+"&redirect_uri="+url.QueryEscape(redirect))
	if status != 302 || loc.Query().Has("state") {
		t.Fatalf("instant login with a session: %d %v", status, loc)
	}
	if me := meOf(t, b, loc, redirect); me["id"] != sTeacher1 {
		t.Errorf("instant login logged in %v", me)
	}
	// authorized_by= overrides the remembered one, without changing the session.
	_, loc, _ = browse(t, alice, b, authorize(url.Values{"authorized_by": {"teacher"}}))
	if me := meOf(t, b, loc, redirect); me["id"] != sTeacher1 || me["authorized_by"] != "teacher" {
		t.Errorf("authorized_by=teacher: %v", me)
	}
	// Another user_id= wins, and becomes the session (remembering authorized_by).
	_, loc, _ = browse(t, alice, b, authorize(url.Values{"user_id": {sStudent(1)}, "authorized_by": {"teacher"}}))
	if me := meOf(t, b, loc, redirect); me["id"] != sStudent(1) {
		t.Errorf("user_id= over the session: %v", me)
	}
	_, loc, _ = browse(t, alice, b, authorize(nil))
	if me := meOf(t, b, loc, redirect); me["id"] != sStudent(1) || me["authorized_by"] != "teacher" {
		t.Errorf("the new session: %v", me)
	}

	// Another browser: a session of its own, started by Instant Login.
	bob := browserOf(t)
	if status, loc, _ := browse(t, bob, b, authorize(nil)); status != 200 || loc != nil {
		t.Errorf("another browser: %d %v", status, loc)
	}
	browse(t, bob, b, "/oauth/instant-login?client_id="+DefaultClientID+"&district_id="+sDistrict+"&user_id="+sTeacher2+"&redirect_uri="+url.QueryEscape(redirect))
	_, loc, _ = browse(t, bob, b, authorize(url.Values{"state": {"b"}}))
	if me := meOf(t, b, loc, redirect); me["id"] != sTeacher2 {
		t.Errorf("bob's session: %v", me)
	}
	_, loc, _ = browse(t, alice, b, authorize(nil))
	if me := meOf(t, b, loc, redirect); me["id"] != sStudent(1) {
		t.Errorf("alice's session after bob's: %v", me)
	}
	// A cookie the simulator never set is no session.
	forged := browserOf(t)
	u, _ := url.Parse(b.ts.URL)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "0123456789abcdef0123456789abcdef01234567"}})
	if status, _, _ := browse(t, forged, b, authorize(nil)); status != 200 {
		t.Errorf("a made-up session cookie: %d", status)
	}

	// Unsharing the user ends their session.
	if err := b.srv.Unshare(KindUsers, sStudent(1)); err != nil {
		t.Fatal(err)
	}
	if status, loc, _ := browse(t, alice, b, authorize(nil)); status != 200 || loc != nil {
		t.Errorf("session of an unshared user: %d %v", status, loc)
	}
	// /sim/logout ends it.
	if status, _, _ := browse(t, bob, b, "/sim/logout"); status != 200 {
		t.Errorf("logout: %d", status)
	}
	if status, loc, _ := browse(t, bob, b, authorize(nil)); status != 200 || loc != nil {
		t.Errorf("after logout: %d %v", status, loc)
	}
	// And it expires.
	carol := browserOf(t)
	browse(t, carol, b, authorize(url.Values{"user_id": {sTeacher2}}))
	if status, _, _ := browse(t, carol, b, authorize(nil)); status != 302 {
		t.Errorf("carol's fresh session: %d", status)
	}
	b.clock.Add(sessionTTL)
	if status, loc, _ := browse(t, carol, b, authorize(nil)); status != 200 || loc != nil {
		t.Errorf("an expired session: %d %v", status, loc)
	}
	// An unknown user_id= neither logs in nor changes the session.
	dave := browserOf(t)
	browse(t, dave, b, authorize(url.Values{"user_id": {sTeacher1}}))
	if status, _, _ := browse(t, dave, b, authorize(url.Values{"user_id": {sOther}})); status != 400 {
		t.Errorf("unknown user_id: %d", status)
	}
	_, loc, _ = browse(t, dave, b, authorize(nil))
	if me := meOf(t, b, loc, redirect); me["id"] != sTeacher1 {
		t.Errorf("after an unknown user_id: %v", me)
	}
}
