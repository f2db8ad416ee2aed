package cleversim

import (
	"encoding/json"
	"net/http"
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
