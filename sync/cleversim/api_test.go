package cleversim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPaging(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 7, Config{})
	tok := b.token1()
	all := ids(t, b.getJSON(t, tok, "/v3.0/users?limit=100"))
	if len(all) != 10 || !slices.IsSorted(all) {
		t.Fatalf("users = %v, want 10 sorted ids", all)
	}
	type want struct {
		ids   []string
		links []string // rel=uri in order
	}
	cases := []struct {
		path string
		want want
	}{
		{"/v3.0/users?limit=4", want{all[:4], []string{
			"self=/v3.0/users?limit=4", "next=/v3.0/users?limit=4&starting_after=" + all[3]}}},
		{"/v3.0/users?limit=4&starting_after=" + all[3], want{all[4:8], []string{
			"self=/v3.0/users?limit=4&starting_after=" + all[3],
			"prev=/v3.0/users?limit=4&ending_before=" + all[4],
			"next=/v3.0/users?limit=4&starting_after=" + all[7]}}},
		{"/v3.0/users?limit=4&starting_after=" + all[7], want{all[8:], []string{
			"self=/v3.0/users?limit=4&starting_after=" + all[7],
			"prev=/v3.0/users?limit=4&ending_before=" + all[8]}}},
		// a cursor that is no record's id works as an id bound
		{"/v3.0/users?limit=3&starting_after=5a0000000000000000000402ff", want{all[2:5], []string{
			"self=/v3.0/users?limit=3&starting_after=5a0000000000000000000402ff",
			"prev=/v3.0/users?limit=3&ending_before=" + all[2],
			"next=/v3.0/users?limit=3&starting_after=" + all[4]}}},
		{"/v3.0/users?ending_before=" + all[8] + "&limit=3", want{all[5:8], []string{
			"self=/v3.0/users?ending_before=" + all[8] + "&limit=3",
			"prev=/v3.0/users?limit=3&ending_before=" + all[5],
			"next=/v3.0/users?limit=3&starting_after=" + all[7]}}},
		{"/v3.0/users?limit=3&ending_before=" + all[2], want{all[:2], []string{
			"self=/v3.0/users?limit=3&ending_before=" + all[2],
			"next=/v3.0/users?limit=3&starting_after=" + all[1]}}},
		{"/v3.0/users?limit=3&ending_before=last", want{all[7:], []string{
			"self=/v3.0/users?limit=3&ending_before=last",
			"prev=/v3.0/users?limit=3&ending_before=" + all[7]}}},
		{"/v3.0/users?starting_after=ffffffffffffffffffffffff", want{nil, []string{
			"self=/v3.0/users?starting_after=ffffffffffffffffffffffff"}}},
		{"/v3.0/users?role=teacher&limit=1", want{[]string{sTeacher1}, []string{
			"self=/v3.0/users?role=teacher&limit=1", "next=/v3.0/users?role=teacher&limit=1&starting_after=" + sTeacher1}}},
		{"/v3.0/districts?count=5", want{[]string{sDistrict}, []string{"self=/v3.0/districts?count=5"}}},
	}
	for _, c := range cases {
		m := b.getJSON(t, tok, c.path)
		got := ids(t, m)
		if !slices.Equal(got, c.want.ids) && (len(got) != 0 || len(c.want.ids) != 0) {
			t.Errorf("%s: ids %v, want %v", c.path, got, c.want.ids)
		}
		ls, order := links(t, m)
		var gotLinks []string
		for _, rel := range order {
			gotLinks = append(gotLinks, rel+"="+ls[rel])
		}
		if !slices.Equal(gotLinks, c.want.links) {
			t.Errorf("%s: links\n%v\nwant\n%v", c.path, gotLinks, c.want.links)
		}
	}
	// following next from the first page visits every record once
	var seen []string
	next := "/v3.0/users?limit=3"
	for next != "" {
		m := b.getJSON(t, tok, next)
		seen = append(seen, ids(t, m)...)
		ls, _ := links(t, m)
		next = ls["next"]
	}
	if !slices.Equal(seen, all) {
		t.Errorf("following next: %v, want %v", seen, all)
	}
}

func TestEnvelopeBytes(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{})
	resp, body := b.get(t, b.token1(), "/v3.0/schools?limit=1")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	want := `{"data":[{"data":{"created":"2023-01-02T03:04:05.000Z","district":"` + sDistrict + `","id":"` + sSchool1 +
		`","last_modified":"2023-01-02T03:04:05.000Z","name":"One"},"uri":"/v3.0/schools/` + sSchool1 + `"}],"links":[` +
		`{"rel":"self","uri":"/v3.0/schools?limit=1"},{"rel":"next","uri":"/v3.0/schools?limit=1&starting_after=` + sSchool1 + `"}]}`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
	// records are served as stored: no re-encoding, no HTML escaping of "&"
	_, body = b.get(t, b.token1(), "/v3.0/schools/"+sSchool2)
	if !strings.Contains(string(body), `"name":"Two & Co"`) {
		t.Errorf("record re-encoded: %s", body)
	}
	m := b.getJSON(t, b.token1(), "/v3.0/users/"+sTeacher1)
	_, order := links(t, m)
	if want := []string{"self", "district", "sections", "myStudents", "schools"}; !slices.Equal(order, want) {
		t.Errorf("teacher links %v, want %v", order, want)
	}
	m = b.getJSON(t, b.token1(), "/v3.0/users/"+sStudent(1))
	_, order = links(t, m)
	if want := []string{"self", "district", "sections", "myContacts", "myTeachers", "schools"}; !slices.Equal(order, want) {
		t.Errorf("student links %v, want %v", order, want)
	}
	// every link of a record resolves
	m = b.getJSON(t, b.token1(), "/v3.0/sections/"+sSection1)
	ls, _ := links(t, m)
	for rel, uri := range ls {
		if resp, _ := b.get(t, b.token1(), uri); resp.StatusCode != http.StatusOK {
			t.Errorf("link %s %s: %d", rel, uri, resp.StatusCode)
		}
	}
}

func TestSubResources(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 5, Config{})
	tok := b.token1()
	cases := map[string][]string{
		"/v3.0/schools/" + sSchool1 + "/users":                           {sTeacher1, sStudent(1), sStudent(3), sStudent(5)},
		"/v3.0/schools/" + sSchool2 + "/users?role=staff":                {sTeacher2},
		"/v3.0/schools/" + sSchool2 + "/users?role=teacher&primary=true": {sTeacher2},
		"/v3.0/schools/" + sSchool2 + "/users?role=teacher":              {sTeacher1, sTeacher2},
		"/v3.0/schools/" + sSchool1 + "/sections":                        {sSection1},
		"/v3.0/schools/" + sSchool1 + "/terms":                           {sTerm},
		"/v3.0/schools/" + sSchool1 + "/courses":                         {sCourse},
		"/v3.0/sections/" + sSection1 + "/users":                         {sTeacher1, sTeacher2, sStudent(1), sStudent(2), sStudent(3)},
		"/v3.0/sections/" + sSection1 + "/users?role=student":            {sStudent(1), sStudent(2), sStudent(3)},
		"/v3.0/terms/" + sTerm + "/schools":                              {sSchool1, sSchool2},
		"/v3.0/terms/" + sTerm + "/sections":                             {sSection1, sSection2},
		"/v3.0/courses/" + sCourse + "/schools":                          {sSchool1, sSchool2},
		"/v3.0/courses/" + sCourse + "/sections":                         {sSection1, sSection2},
		"/v3.0/users/" + sStudent(1) + "/mycontacts":                     {sContact},
		"/v3.0/users/" + sStudent(1) + "/myContacts":                     {sContact},
		"/v3.0/users/" + sStudent(1) + "/myteachers":                     {sTeacher1, sTeacher2},
		"/v3.0/users/" + sTeacher2 + "/mystudents":                       {sStudent(1), sStudent(2), sStudent(3), sStudent(4)},
		"/v3.0/users/" + sContact + "/myStudents":                        {sStudent(1)},
		"/v3.0/users/" + sStudent(1) + "/sections":                       {sSection1, sSection2},
		"/v3.0/users/" + sTeacher1 + "/schools":                          {sSchool1, sSchool2},
		"/v3.0/users/" + sTeacher1 + "/schools?primary=true":             {sSchool1},
	}
	for path, want := range cases {
		if got := ids(t, b.getJSON(t, tok, path)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	ones := map[string]string{
		"/v3.0/sections/" + sSection1 + "/school":  "/v3.0/schools/" + sSchool1,
		"/v3.0/sections/" + sSection1 + "/term":    "/v3.0/terms/" + sTerm,
		"/v3.0/sections/" + sSection1 + "/course":  "/v3.0/courses/" + sCourse,
		"/v3.0/users/" + sStudent(2) + "/district": "/v3.0/districts/" + sDistrict,
		"/v3.0/schools/" + sSchool1 + "/district/": "/v3.0/districts/" + sDistrict,
	}
	for path, self := range ones {
		ls, order := links(t, b.getJSON(t, tok, path))
		if len(order) != 1 || ls["self"] != self {
			t.Errorf("%s: links %v, want only self %s", path, ls, self)
		}
	}
	for _, path := range []string{"/v3.0/resources", "/v3.0/sections/" + sSection1 + "/resources", "/v3.0/users/" + sTeacher1 + "/resources"} {
		resp, body := b.get(t, tok, path)
		if resp.StatusCode != 200 || string(body) != `{"resources": []}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 2, Config{})
	tok := b.token1()
	cases := []struct {
		token, path string
		status      int
		html        bool
	}{
		{"", "/v3.0/schools", 401, false},
		{"nope", "/v3.0/schools", 401, false},
		{tok, "/v3.0/schools/" + sOther, 404, false}, // another district's record
		{sToken2, "/v3.0/schools/" + sSchool1, 404, false},
		{tok, "/v3.0/districts/" + sDistrict2, 404, false},
		{tok, "/v3.0/users/000000000000000000000000", 404, false},
		{tok, "/v3.0/users/000000000000000000000000/sections", 404, false},
		{tok, "/v3.0/resources/abc", 404, false},
		{tok, "/v3.0/events/000000000000000000000000", 404, false},
		{tok, "/v3.0/schools?limit=10001", 413, false},
		{tok, "/v3.0/schools?limit=99999999999999999999999", 413, false},
		{tok, "/v3.0/schools?limit=0", 400, false},
		{tok, "/v3.0/schools?limit=ten", 400, false},
		{tok, "/v3.0/schools?limit=1&limit=2", 400, false},
		{tok, "/v3.0/users?role=principal", 400, false},
		{tok, "/v3.0/sections/" + sSection1 + "/users?role=staff", 400, false},
		{tok, "/v3.0/users/" + sTeacher1 + "/schools?primary=maybe", 400, false},
		{tok, "/v3.0/nothing", 404, true},
		{tok, "/v3.0/schools/" + sSchool1 + "/nothing", 404, true},
		{tok, "/v3.0/districts/" + sDistrict + "/schools", 404, true},
		{tok, "/v3.0", 404, true},
		{tok, "/elsewhere", 404, true},
	}
	for _, c := range cases {
		resp, body := b.get(t, c.token, c.path)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.path, resp.StatusCode, c.status, body)
			continue
		}
		if c.html {
			want := "<pre>Cannot GET " + c.path + "</pre>"
			if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), want) {
				t.Errorf("%s: %q %s, want HTML %s", c.path, resp.Header.Get("Content-Type"), body, want)
			}
			continue
		}
		var m struct{ Message string }
		if err := json.Unmarshal(body, &m); err != nil || m.Message == "" {
			t.Errorf("%s: body %s, want {\"message\":…}", c.path, body)
		}
	}
	// a POST is Express's "Cannot POST"
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/v3.0/schools", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, body := do(t, b.ts.Client(), req); resp.StatusCode != 404 || !strings.Contains(string(body), "<pre>Cannot POST /v3.0/schools</pre>") {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{RateLimit: 3})
	tok := b.token1()
	reset := strconv.FormatInt(fixtureNow.Add(time.Minute).Unix(), 10)
	check := func(path string, status int, remaining string) {
		t.Helper()
		resp, body := b.get(t, tok, path)
		if resp.StatusCode != status {
			t.Errorf("%s: %d, want %d (%s)", path, resp.StatusCode, status, body)
		}
		h := resp.Header
		if h.Get("X-RateLimit-Bucket") != "bearer" || h.Get("X-RateLimit-Limit") != "3" ||
			h.Get("X-RateLimit-Remaining") != remaining || h.Get("X-RateLimit-Reset") != reset {
			t.Errorf("%s: headers %v, want remaining %s reset %s", path, h, remaining, reset)
		}
	}
	check("/v3.0/schools", 200, "2")
	b.clock.Add(10 * time.Second)
	check("/v3.0/nothing", 404, "1") // errors count and carry the headers
	check("/me", 200, "0")
	check("/v3.0/schools", 429, "0")
	// another token has its own bucket
	if resp, _ := b.get(t, sToken2, "/v3.0/schools"); resp.StatusCode != 200 {
		t.Errorf("second token limited: %d", resp.StatusCode)
	}
	// the next window starts after the reset
	b.clock.Set(fixtureNow.Add(time.Minute))
	reset = strconv.FormatInt(fixtureNow.Add(2*time.Minute).Unix(), 10)
	check("/v3.0/schools", 200, "2")
	// no rate-limit headers on /oauth
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/oauth/tokens?owner_type=district", nil)
	req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
	if resp, _ := do(t, b.ts.Client(), req); resp.Header.Get("X-RateLimit-Limit") != "" || resp.StatusCode != 200 {
		t.Errorf("/oauth/tokens: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestMeDistrictToken(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{})
	for _, path := range []string{"/me", "/v3.0/me"} {
		got := b.getJSON(t, b.token1(), path)
		want := map[string]any{"type": "district", "data": map[string]any{"id": sDistrict}, "links": []any{
			map[string]any{"rel": "self", "uri": "/me"},
			map[string]any{"rel": "canonical", "uri": "/v3.0/districts/" + sDistrict},
			map[string]any{"rel": "district", "uri": "/v3.0/districts/" + sDistrict},
		}}
		if !jsonEqual(t, mustJSON(t, got), mustJSON(t, want)) {
			t.Errorf("%s: %v", path, got)
		}
	}
}

// TestNoPanics throws junk at the handler directly (no server recovery) on every path family.
func TestNoPanics(t *testing.T) {
	t.Parallel()
	c := newClock(fixtureNow)
	srv, err := New(Config{Dataset: smallDataset(3), Now: c.Now, Faults: Faults{Seed: 1, ErrorRate: 0.1, CutRate: 0.1, RateLimitRate: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	tok := srv.DistrictToken(sDistrict)
	paths := []string{
		"/", "//", "/v3.0/", "/v3.0//", "/v3.0/users/", "/v3.0/users//sections", "/v3.0/users/%00", "/v3.0/users/%zz",
		"/v3.0/users/" + sStudent(1) + "/sections/extra", "/v3.0/a/b/c/d/e", "/v3.0/events/", "/v3.0/EVENTS",
		"/v3.0/users?limit=-1", "/v3.0/users?limit=%", "/v3.0/users?starting_after=&ending_before=", "/v3.0/users?ending_before=last&starting_after=zzzz",
		"/v3.0/events?record_type=&record_type=,,&school=", "/v3.0/events?school=a&school=b", "/v3.0/users?role=&role=",
		"/v3.0/users?%=%&&&=&limit=1", "/v3.0/schools/" + sSchool1 + "/users?primary=&role=", "/me/", "/me/x",
		"/oauth/", "/oauth/tokens?owner_type=x", "/oauth/authorize", "/oauth/authorize?response_type=code&client_id=" + DefaultClientID + "&redirect_uri=%",
		"/oauth/authorize?response_type=code&client_id=" + DefaultClientID + "&redirect_uri=http://x/&user_id=nope",
		"/oauth/instant-login?client_id=" + DefaultClientID, "/oauth/tokeninfo", "/sim/", "/sim/dataset", "/sim/faults", "/sim/nothing",
		"/v3.0/users?limit=1\x7f", "/v3.0/\xff", "/v3.0/users/\xff\xfe",
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodHead}
	bodies := []string{"", "{", "null", `{"kind":"users","id":"x","patch":null}`, `{"code":1}`, "code=&grant_type=authorization_code", `{"seed":1,"latency":"bad"}`}
	for _, p := range paths {
		for _, m := range methods {
			for _, body := range bodies {
				for _, auth := range []string{"", "Bearer " + tok, "Bearer", "Basic !!!", "Basic " + "Y2xldmVyc2ltLWNsaWVudDpjbGV2ZXJzaW0tc2VjcmV0"} {
					req := httptest.NewRequest(m, "http://sim.test/", strings.NewReader(body))
					req.URL.Path, req.URL.RawQuery, _ = strings.Cut(p, "?")
					req.RequestURI = p
					if auth != "" {
						req.Header.Set("Authorization", auth)
					}
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					if rec.Code == 0 {
						t.Fatalf("%s %s: no status", m, p)
					}
				}
			}
		}
	}
	for _, p := range []string{"/sim/unshare", "/sim/reshare", "/sim/modify", "/sim/put", "/sim/reid", "/sim/districts"} {
		for _, body := range []string{"", "{}", `{"kind":"x","id":"y"}`, `{"kind":"users","id":"` + sStudent(1) + `","patch":[1]}`, `{"kind":"users","record":5}`, `{"districts":[{"id":1}]}`} {
			req := httptest.NewRequest(http.MethodPost, "http://sim.test"+p, strings.NewReader(body))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code < 400 && body != `{"kind":"users","id":"`+sStudent(1)+`","patch":[1]}` {
				t.Errorf("POST %s %s: %d %s", p, body, rec.Code, rec.Body)
			}
		}
	}
}

// TestLargeDistrictPaging pages a district of tens of thousands of users at limit=10000.
func TestLargeDistrictPaging(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large district: skipped in -short")
	}
	const n = 40000
	b := setupSmall(t, n, Config{RateLimit: -1})
	start := time.Now()
	total, pages := 0, 0
	next := "/v3.0/users?limit=10000"
	for next != "" {
		m := b.getJSON(t, b.token1(), next)
		total += len(m["data"].([]any))
		pages++
		ls, _ := links(t, m)
		next = ls["next"]
	}
	if total != n+3 || pages != 5 {
		t.Errorf("paged %d users in %d pages, want %d in 5", total, pages, n+3)
	}
	t.Logf("paged %d users in %v", total, time.Since(start))
	if resp, _ := b.get(t, b.token1(), "/v3.0/schools/"+sSchool1+"/users?limit=10000&starting_after="+sStudent(100)); resp.StatusCode != 200 {
		t.Errorf("school users: %d", resp.StatusCode)
	}
}
