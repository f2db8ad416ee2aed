package cleversim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventSummary is an event's type, object id and previous_attributes (JSON, "" when absent).
type eventSummary struct {
	typ, id, prev string
}

func summarize(t *testing.T, evs []map[string]any) []eventSummary {
	t.Helper()
	var out []eventSummary
	for _, e := range evs {
		data := e["data"].(map[string]any)
		obj := data["object"].(map[string]any)
		s := eventSummary{typ: e["type"].(string), id: obj["id"].(string)}
		if pa, ok := data["previous_attributes"]; ok {
			s.prev = string(mustJSON(t, pa))
		}
		if _, ok := e["previous_attributes"]; ok {
			t.Errorf("previous_attributes beside data in %v", e)
		}
		out = append(out, s)
	}
	return out
}

func TestUnshareReshareUser(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 4, Config{})
	tok := b.token1()
	mark := lastEventID(t, b, tok)
	if err := b.srv.Unshare(KindUsers, sStudent(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Unshare(KindUsers, sStudent(1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("second unshare: %v", err)
	}
	got := summarize(t, eventsAfter(t, b, tok, mark))
	want := []eventSummary{
		{"sections.updated", sSection1, `{"students":["` + sStudent(1) + `","` + sStudent(2) + `","` + sStudent(3) + `"]}`},
		{"sections.updated", sSection2, `{"students":["` + sStudent(1) + `","` + sStudent(4) + `"]}`},
		{"users.deleted", sStudent(1), ""},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	if resp, _ := b.get(t, tok, "/v3.0/users/"+sStudent(1)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unshared user: %d", resp.StatusCode)
	}
	if got := ids(t, b.getJSON(t, tok, "/v3.0/sections/"+sSection1+"/users?role=student")); slices.Contains(got, sStudent(1)) {
		t.Errorf("section still lists the unshared user: %v", got)
	}
	sec := b.getJSON(t, tok, "/v3.0/sections/"+sSection1)["data"].(map[string]any)
	if sec["last_modified"] == "2023-01-02T03:04:05.000Z" {
		t.Error("section last_modified not bumped")
	}

	mark = lastEventID(t, b, tok)
	if err := b.srv.Reshare(KindUsers, sStudent(1)); err != nil {
		t.Fatal(err)
	}
	got = summarize(t, eventsAfter(t, b, tok, mark))
	want = []eventSummary{
		{"users.created", sStudent(1), ""},
		{"sections.updated", sSection1, `{"students":["` + sStudent(2) + `","` + sStudent(3) + `"]}`},
		{"sections.updated", sSection2, `{"students":["` + sStudent(4) + `"]}`},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	sec = b.getJSON(t, tok, "/v3.0/sections/"+sSection1)["data"].(map[string]any)
	if got := sec["students"]; !jsonEqual(t, mustJSON(t, got), mustJSON(t, []string{sStudent(1), sStudent(2), sStudent(3)})) {
		t.Errorf("students after reshare %v", got)
	}
}

func TestUnsharePrimaryTeacher(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 2, Config{})
	if err := b.srv.Unshare(KindUsers, sTeacher1); err != nil {
		t.Fatal(err)
	}
	sec := b.getJSON(t, b.token1(), "/v3.0/sections/"+sSection1)["data"].(map[string]any)
	if sec["teacher"] != sTeacher2 {
		t.Errorf("teacher = %v, want the next teacher", sec["teacher"])
	}
	if err := b.srv.Reshare(KindUsers, sTeacher1); err != nil {
		t.Fatal(err)
	}
	sec = b.getJSON(t, b.token1(), "/v3.0/sections/"+sSection1)["data"].(map[string]any)
	if sec["teacher"] != sTeacher1 || !jsonEqual(t, mustJSON(t, sec["teachers"]), mustJSON(t, []string{sTeacher1, sTeacher2})) {
		t.Errorf("after reshare: teacher %v teachers %v", sec["teacher"], sec["teachers"])
	}
}

func TestModify(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 2, Config{})
	tok := b.token1()
	mark := lastEventID(t, b, tok)
	b.clock.Add(time.Hour)
	patch := `{"roles":{"student":{"grade":"6","ext":{"gifted_status":"Y"}}},"email":"s1@example.org","name":{"first":null}}`
	if err := b.srv.Modify(KindUsers, sStudent(1), json.RawMessage(patch)); err != nil {
		t.Fatal(err)
	}
	got := summarize(t, eventsAfter(t, b, tok, mark))
	want := []eventSummary{{"users.updated", sStudent(1),
		`{"email":null,"name":{"first":"S1"},"roles":{"student":{"ext":{"gifted_status":"N"},"grade":"5"}}}`}}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	u := b.getJSON(t, tok, "/v3.0/users/"+sStudent(1))["data"].(map[string]any)
	if u["last_modified"] != formatTime(fixtureNow.Add(time.Hour)) || u["email"] != "s1@example.org" {
		t.Errorf("user after modify: %v", u)
	}
	if _, ok := u["name"].(map[string]any)["first"]; ok {
		t.Error("merge patch null did not remove name.first")
	}
	// a no-op patch emits nothing
	mark = lastEventID(t, b, tok)
	if err := b.srv.Modify(KindUsers, sStudent(1), json.RawMessage(`{"email":"s1@example.org"}`)); err != nil {
		t.Fatal(err)
	}
	if evs := eventsAfter(t, b, tok, mark); len(evs) != 0 {
		t.Errorf("no-op patch emitted %v", evs)
	}
	// districts and terms can be modified; their events carry no last_modified
	if err := b.srv.Modify(KindDistricts, sDistrict, json.RawMessage(`{"name":"Renamed"}`)); err != nil {
		t.Fatal(err)
	}
	got = summarize(t, eventsAfter(t, b, tok, mark))
	if !slices.Equal(got, []eventSummary{{"districts.updated", sDistrict, `{"name":"Small ISD"}`}}) {
		t.Errorf("district events %v", got)
	}
	for _, bad := range []struct {
		kind  Kind
		id    string
		patch string
	}{
		{KindUsers, sStudent(1), `{"id":"other"}`},
		{KindUsers, sStudent(1), `{"district":"other"}`},
		{KindUsers, sStudent(1), `[1]`},
		{KindUsers, "missing", `{}`},
		{"widgets", sStudent(1), `{}`},
	} {
		if err := b.srv.Modify(bad.kind, bad.id, json.RawMessage(bad.patch)); err == nil {
			t.Errorf("Modify(%s, %s, %s) succeeded", bad.kind, bad.id, bad.patch)
		}
	}
}

func TestPut(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{})
	tok := b.token1()
	mark := lastEventID(t, b, tok)
	newTerm := `{"id":"5a0000000000000000000202","district":"` + sDistrict + `","name":"Y2"}`
	if err := b.srv.Put(KindTerms, json.RawMessage(newTerm)); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Put(KindTerms, json.RawMessage(`{"id":"5a0000000000000000000202","district":"`+sDistrict+`","name":"Y2b"}`)); err != nil {
		t.Fatal(err)
	}
	got := summarize(t, eventsAfter(t, b, tok, mark))
	want := []eventSummary{
		{"terms.created", "5a0000000000000000000202", ""},
		{"terms.updated", "5a0000000000000000000202", `{"name":"Y2"}`},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if got := ids(t, b.getJSON(t, tok, "/v3.0/terms")); len(got) != 2 {
		t.Errorf("terms %v", got)
	}
	if err := b.srv.Put(KindTerms, json.RawMessage(`{"id":"x","district":"nowhere"}`)); !errors.Is(err, ErrNotFound) {
		t.Errorf("put into unknown district: %v", err)
	}
	if err := b.srv.Put(KindSchools, json.RawMessage(`{"id":"`+sOther+`","district":"`+sDistrict+`"}`)); err == nil {
		t.Error("put of another district's id succeeded")
	}
	if err := b.srv.Unshare(KindTerms, sTerm); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Put(KindTerms, json.RawMessage(`{"id":"`+sTerm+`","district":"`+sDistrict+`"}`)); !errors.Is(err, ErrUnshared) {
		t.Errorf("put of an unshared id: %v", err)
	}
}

func TestReID(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 4, Config{})
	tok := b.token1()
	for _, c := range []struct {
		kind    Kind
		id      string
		updates []string // ids of the records whose references are rewritten, in event order
	}{
		{KindCourses, sCourse, []string{sSection1, sSection2}},
		{KindUsers, sStudent(1), []string{sSection1, sSection2, sContact}},
		{KindSchools, sSchool2, []string{sSection2, sTeacher1, sTeacher2, sStudent(2), sStudent(4)}},
	} {
		mark := lastEventID(t, b, tok)
		newID, err := b.srv.ReID(c.kind, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if newID == c.id || len(newID) != 24 {
			t.Fatalf("new id %q", newID)
		}
		got := summarize(t, eventsAfter(t, b, tok, mark))
		var types, objIDs []string
		for _, e := range got {
			types = append(types, e.typ)
			objIDs = append(objIDs, e.id)
			if strings.HasSuffix(e.typ, ".updated") && !strings.Contains(e.prev, c.id) {
				t.Errorf("%s: previous_attributes %s lack the old id", e.typ, e.prev)
			}
		}
		wantIDs := append(append([]string{newID}, c.updates...), c.id)
		if !slices.Equal(objIDs, wantIDs) || types[0] != string(c.kind)+".created" || types[len(types)-1] != string(c.kind)+".deleted" {
			t.Errorf("reid %s: events %v", c.kind, got)
		}
		if resp, _ := b.get(t, tok, "/v3.0/"+string(c.kind)+"/"+c.id); resp.StatusCode != http.StatusNotFound {
			t.Errorf("old id still served: %d", resp.StatusCode)
		}
		if resp, body := b.get(t, tok, "/v3.0/"+string(c.kind)+"/"+newID); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(newID)) {
			t.Errorf("new id: %d %s", resp.StatusCode, body)
		}
	}
	// the rewritten references resolve to the new records
	sec := b.getJSON(t, tok, "/v3.0/sections/"+sSection2)["data"].(map[string]any)
	for _, rel := range []string{"course", "school"} {
		if resp, _ := b.get(t, tok, "/v3.0/sections/"+sSection2+"/"+rel); resp.StatusCode != http.StatusOK {
			t.Errorf("section %s after reid: %d (%v)", rel, resp.StatusCode, sec)
		}
	}
	if got := ids(t, b.getJSON(t, tok, "/v3.0/users/"+sContact+"/mystudents")); len(got) != 1 || got[0] == sStudent(1) {
		t.Errorf("contact's students after reid %v", got)
	}
	if _, err := b.srv.ReID(KindDistricts, sDistrict); err == nil {
		t.Error("reid of a district succeeded")
	}
}

func TestAddRemoveDistrictAndRotate(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 1, Config{})
	add := &Dataset{
		Districts: []json.RawMessage{json.RawMessage(`{"id":"5b0000000000000000000d03","name":"New ISD"}`)},
		Schools:   []json.RawMessage{json.RawMessage(`{"id":"5b0000000000000000000103","district":"5b0000000000000000000d03","name":"N"}`)},
		Users:     []json.RawMessage{json.RawMessage(`{"id":"5b0000000000000000000403","district":"5b0000000000000000000d03","roles":{}}`)},
	}
	if err := b.srv.AddDistrict(add); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.AddDistrict(add); err == nil {
		t.Error("adding a connected district again succeeded")
	}
	tok := b.srv.DistrictToken("5b0000000000000000000d03")
	if len(tok) != 40 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("default token %q is not 40 lower-hex digits", tok)
	}
	got := summarize(t, eventsAfter(t, b, tok, ""))
	want := []eventSummary{
		{"districts.created", "5b0000000000000000000d03", ""},
		{"schools.created", "5b0000000000000000000103", ""},
		{"users.created", "5b0000000000000000000403", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if got := tokenOwners(t, b, ""); !slices.Equal(got, []string{sDistrict, sDistrict2, "5b0000000000000000000d03"}) {
		t.Errorf("token owners %v", got)
	}

	newTok, err := b.srv.RotateToken("5b0000000000000000000d03")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get(t, tok, "/v3.0/schools"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("rotated-out token: %d", resp.StatusCode)
	}
	if resp, _ := b.get(t, newTok, "/v3.0/schools"); resp.StatusCode != http.StatusOK {
		t.Errorf("new token: %d", resp.StatusCode)
	}
	if b.srv.DistrictToken("5b0000000000000000000d03") != newTok || tokenOf(t, b, "5b0000000000000000000d03") != newTok {
		t.Error("rotated token not listed")
	}

	if err := b.srv.RemoveDistrict("5b0000000000000000000d03"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get(t, newTok, "/v3.0/schools"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("removed district's token: %d", resp.StatusCode)
	}
	if got := tokenOwners(t, b, ""); slices.Contains(got, "5b0000000000000000000d03") {
		t.Errorf("removed district still listed: %v", got)
	}
	if err := b.srv.RemoveDistrict("5b0000000000000000000d03"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second removal: %v", err)
	}
	// the id can be connected again
	if err := b.srv.AddDistrict(add); err != nil {
		t.Errorf("re-adding: %v", err)
	}
}

// TestSimHTTPAPI drives the change API over HTTP.
func TestSimHTTPAPI(t *testing.T) {
	t.Parallel()
	b := setupSmall(t, 3, Config{})
	post := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, out := do(t, b.ts.Client(), req)
		var m map[string]any
		if len(out) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, out)
			}
		}
		return resp.StatusCode, m
	}
	steps := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/sim/modify", `{"kind":"users","id":"` + sStudent(2) + `","patch":{"email":"x@y"}}`, 200},
		{"POST", "/sim/unshare", `{"kind":"users","id":"` + sStudent(3) + `"}`, 200},
		{"POST", "/sim/unshare", `{"kind":"users","id":"` + sStudent(3) + `"}`, 404},
		{"POST", "/sim/reshare", `{"kind":"users","id":"` + sStudent(3) + `"}`, 200},
		{"POST", "/sim/put", `{"kind":"courses","record":{"id":"5a0000000000000000000302","district":"` + sDistrict + `","name":"Art"}}`, 200},
		{"POST", "/sim/put", `{"kind":"courses","record":{"id":"5a0000000000000000000302"}}`, 404},
		{"POST", "/sim/modify", `{"kind":"users","id":"` + sStudent(2) + `","patch":{},"extra":1}`, 400},
		{"POST", "/sim/modify", `{"kind":"widgets","id":"x","patch":{}}`, 400},
		{"PUT", "/sim/faults", `{"seed":3,"error_rate":0.5,"latency":"1ms"}`, 200},
		{"PUT", "/sim/faults", `{"seed":3,"error_rate":2}`, 400},
		{"PUT", "/sim/faults", `{"seed":0}`, 200},
		{"POST", "/sim/districts/" + sDistrict2 + "/rotate-token", ``, 200},
		{"DELETE", "/sim/districts/" + sDistrict2, ``, 200},
		{"DELETE", "/sim/districts/" + sDistrict2, ``, 404},
		{"POST", "/sim/districts", `{"districts":[{"id":"5c0000000000000000000d09"}],"schools":[{"id":"5c0000000000000000000109","district":"5c0000000000000000000d09"}]}`, 200},
		{"POST", "/sim/districts", `{"districts":[]}`, 400},
		{"GET", "/sim/nothing", ``, 404},
	}
	for _, s := range steps {
		if status, body := post(s.method, s.path, s.body); status != s.status {
			t.Errorf("%s %s %s: %d %v, want %d", s.method, s.path, s.body, status, body, s.status)
		}
	}
	status, out := post("POST", "/sim/reid", `{"kind":"terms","id":"`+sTerm+`"}`)
	if status != 200 || len(out["id"].(string)) != 24 {
		t.Errorf("reid: %d %v", status, out)
	}
	if status, out := post("GET", "/sim/faults", ""); status != 200 || out["seed"] != 0.0 {
		t.Errorf("faults: %d %v", status, out)
	}
	resp, body := b.get(t, "", "/sim/dataset")
	if resp.StatusCode != 200 {
		t.Fatalf("dataset: %d", resp.StatusCode)
	}
	d, err := ReadDataset(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Districts) != 2 || len(d.Courses) != 2 || len(d.Users) != 6 || len(d.Events) == 0 {
		t.Errorf("dataset: %d districts %d courses %d users %d events", len(d.Districts), len(d.Courses), len(d.Users), len(d.Events))
	}
	// the snapshot loads into a new simulator
	if _, err := New(Config{Dataset: d}); err != nil {
		t.Errorf("snapshot does not load: %v", err)
	}
}
