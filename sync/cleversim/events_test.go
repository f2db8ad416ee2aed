package cleversim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEventFiltersAndRetention(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Dataset: fixtureDataset(t)})
	all := ids(t, b.getJSON(t, FixtureToken, "/v3.0/events?limit=10000"))
	if len(all) != 200 || !slices.IsSorted(all) {
		t.Fatalf("%d events, sorted %v", len(all), slices.IsSorted(all))
	}
	m := b.getJSON(t, FixtureToken, "/v3.0/events")
	if ls, _ := links(t, m); ls["self"] != "/v3.0/events?" {
		t.Errorf("events self %q, recorded as /v3.0/events?", ls["self"])
	}
	// record_type (repeatable) and school
	count := func(path string) int { return len(ids(t, b.getJSON(t, FixtureToken, path))) }
	users := count("/v3.0/events?limit=10000&record_type=users")
	schools := count("/v3.0/events?limit=10000&record_type=schools")
	both := count("/v3.0/events?limit=10000&record_type=users&record_type=schools")
	if users != 195 || schools != 4 || both != 199 {
		t.Errorf("record_type: users %d schools %d both %d", users, schools, both)
	}
	if n := count("/v3.0/events?limit=10000&school=58da8c58155b940248000008"); n == 0 || n >= 199 {
		t.Errorf("school filter kept %d", n)
	}
	// the newest event, as clients ask for it
	if got := ids(t, b.getJSON(t, FixtureToken, "/v3.0/events?ending_before=last&limit=1")); !slices.Equal(got, all[199:]) {
		t.Errorf("ending_before=last: %v", got)
	}
	// a single event
	ev := b.getJSON(t, FixtureToken, "/v3.0/events/"+all[0])
	if ls, order := links(t, ev); len(order) != 1 || ls["self"] != "/v3.0/events/"+all[0] {
		t.Errorf("event links %v", ls)
	}
	// new events sort after the dataset's, and only they follow its last id
	if err := b.srv.Modify(KindSchools, "58da8c58155b940248000007", json.RawMessage(`{"phone":"555"}`)); err != nil {
		t.Fatal(err)
	}
	after := eventsAfter(t, b, FixtureToken, all[199])
	if len(after) != 1 || after[0]["type"] != "schools.updated" || after[0]["id"].(string) <= all[199] {
		t.Errorf("new events %v", after)
	}
	if after[0]["created"] != formatTime(fixtureNow) {
		t.Errorf("created %v", after[0]["created"])
	}
	// retention counts back from the newest event, not the clock: years later the recording still
	// serves its events...
	b.clock.Set(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
	if got := ids(t, b.getJSON(t, FixtureToken, "/v3.0/events?limit=10000")); len(got) != 201 {
		t.Errorf("an old recording lists %d events, want all 201", len(got))
	}
	// ...until an event 30 days newer than them arrives: then only it and the events of its last 30
	// days are left.
	b.clock.Set(time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC))
	if err := b.srv.Modify(KindSchools, "58da8c58155b940248000007", json.RawMessage(`{"phone":"556"}`)); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, b.getJSON(t, FixtureToken, "/v3.0/events")); len(got) != 1 {
		t.Errorf("after retention: %d events", len(got))
	}
	if resp, _ := b.get(t, FixtureToken, "/v3.0/events/"+all[0]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired event: %d", resp.StatusCode)
	}
	// an expired cursor still works as a bound
	if got := ids(t, b.getJSON(t, FixtureToken, "/v3.0/events?starting_after="+all[0])); len(got) != 1 {
		t.Errorf("expired cursor: %v", got)
	}
	keep := setup(t, Config{Dataset: fixtureDataset(t), EventRetention: -1})
	keep.clock.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if got := ids(t, keep.getJSON(t, FixtureToken, "/v3.0/events?limit=1000")); len(got) != 200 {
		t.Errorf("retention -1 kept %d", len(got))
	}
}

func TestFaultsDeterministic(t *testing.T) {
	t.Parallel()
	f := Faults{Seed: 42, ErrorRate: 0.2, RateLimitRate: 0.1, CutRate: 0.2}
	run := func(f Faults) []string {
		b := setupSmall(t, 3, Config{Faults: f, RateLimit: -1})
		var out []string
		for range 60 {
			req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/v3.0/users", nil)
			req.Header.Set("Authorization", "Bearer "+b.token1())
			resp, err := b.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut: %v, want unexpected EOF", err)
				}
				out = append(out, "cut")
			default:
				out = append(out, resp.Status[:3])
			}
			if resp.StatusCode == 429 && resp.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("storm 429 headers %v", resp.Header)
			}
		}
		// faults never change state
		b.srv.SetFaults(Faults{})
		if got := ids(t, b.getJSON(t, b.token1(), "/v3.0/users?limit=100")); len(got) != 6 {
			t.Errorf("users after faults %v", got)
		}
		return out
	}
	a, c := run(f), run(f)
	if !slices.Equal(a, c) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, c)
	}
	joined := strings.Join(a, " ")
	for _, want := range []string{"cut", "429 429", "200"} {
		if !strings.Contains(joined, want) {
			t.Errorf("sequence %v lacks %q", a, want)
		}
	}
	if !strings.Contains(joined, "500") && !strings.Contains(joined, "502") && !strings.Contains(joined, "503") {
		t.Errorf("sequence %v has no 5xx", a)
	}
	f.Seed = 43
	if d := run(f); slices.Equal(a, d) {
		t.Error("different seeds gave the same faults")
	}
	// SetFaults restarts the sequence and zero faults inject nothing
	b := setupSmall(t, 1, Config{})
	b.srv.SetFaults(Faults{Seed: 1, ErrorRate: 1})
	if resp, _ := b.get(t, b.token1(), "/v3.0/users"); resp.StatusCode < 500 {
		t.Errorf("error rate 1: %d", resp.StatusCode)
	}
	b.srv.SetFaults(Faults{})
	if resp, _ := b.get(t, b.token1(), "/v3.0/users"); resp.StatusCode != 200 {
		t.Errorf("no faults: %d", resp.StatusCode)
	}
	if _, err := New(Config{Faults: Faults{ErrorRate: 0.9, CutRate: 0.9}}); err == nil {
		t.Error("rates above 1 accepted")
	}
}
