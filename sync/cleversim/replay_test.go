package cleversim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// coverage says how much of a recorded answer the partial fixture dataset can reproduce.
type coverage int

const (
	fullBody   coverage = iota // status, content type and the whole body
	sameIDs                    // the same records in the same order and the same links but "next"; record contents may differ
	notCovered                 // only the status
)

// partial lists the recorded requests that the fixture dataset does not fully cover, with the reason.
// Every other recorded district-token GET must be answered exactly as recorded.
func partial() map[string]struct {
	cov    coverage
	reason string
} {
	type entry = struct {
		cov    coverage
		reason string
	}
	termDates := entry{sameIDs, "the terms were recorded on several days and Clever changed S2/Y1 dates between date and datetime form; the dataset keeps one version"}
	return map[string]entry{
		"/v3.0/terms":         termDates,
		"/v3.0/terms?limit=3": termDates,
		"/v3.0/terms?limit=3&starting_after=5b42365868c8d6104f634d34":                            termDates,
		"/v3.0/terms?starting_after=5b42365868c8d6104f634d34":                                    termDates,
		"/v3.0/events?starting_after=64206e4531f12f05cc490ffd":                                   {sameIDs, "the live feed had more than the 200 recorded events, so the recording has a next link"},
		"/v3.0/schools/58da8c58155b940248000007/terms":                                           {notCovered, "the dataset holds only the recorded sections, which reference 2 of the school's 4 terms"},
		"/v3.0/schools/58da8c58155b940248000007/courses?starting_after=5970d4dd35e9e697410001ff": {notCovered, "the dataset holds only the recorded sections, not all that reference the school's courses"},
	}
}

// TestReplayRecordings replays every recorded Data API request made with the district token against the
// simulator loaded with the fixture dataset, at the recorded time, and compares status, content type
// and the JSON body (semantically: key order is not part of the contract).
func TestReplayRecordings(t *testing.T) {
	t.Parallel()
	recs := loadRecordings(t)
	b := setup(t, Config{Dataset: fixtureDataset(t)})
	// Clever's demo SSO tokens, as user tokens of the fixture district (white-box: the simulator only
	// issues user tokens through the code flow).
	b.srv.mu.Lock()
	for _, tok := range []string{"ilc_DEMO_TEACHER_TOKEN", "ilc_DEMO_STUDENT_TOKEN", "ilc_DEMO_SCHOOL_ADMIN_TOKEN", "ilc_DEMO_DISTRICT_ADMIN_TOKEN"} {
		b.srv.tokens[tok] = &bearer{district: FixtureDistrictID, user: "58da8c5da7a7e5a647000094", role: "teacher", authorizedBy: "district"}
	}
	b.srv.mu.Unlock()
	replayed := 0
	for _, rec := range recs {
		if rec.Response.Status == http.StatusNotFound && strings.HasPrefix(rec.Request.Auth, "Bearer ilc_") {
			// the wrong-token-type HTML page, byte for byte
			path := pathOf(t, rec.Request.URI)
			var want string
			if err := json.Unmarshal(rec.Response.Body, &want); err != nil {
				t.Fatal(err)
			}
			resp, body := b.get(t, strings.TrimPrefix(rec.Request.Auth, "Bearer "), path)
			if resp.StatusCode != 404 || string(body) != want || resp.Header.Get("Content-Type") != rec.Response.Headers["content-type"] {
				t.Errorf("%s (%s): %d %q %q, recorded %q", path, rec.File, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
			}
			replayed++
			continue
		}
		if rec.Request.Method != http.MethodGet || rec.Request.Auth != "Bearer TEST_TOKEN" ||
			!strings.HasPrefix(rec.Request.URI, "https://api.clever.com/") {
			continue
		}
		path := pathOf(t, rec.Request.URI)
		cov := partial()[path]
		b.clock.Set(rec.RecordedAt)
		resp, body := b.get(t, FixtureToken, path)
		if resp.StatusCode != rec.Response.Status {
			t.Errorf("%s (%s): status %d, recorded %d", path, rec.File, resp.StatusCode, rec.Response.Status)
			continue
		}
		if got, want := resp.Header.Get("Content-Type"), rec.Response.Headers["content-type"]; got != want {
			t.Errorf("%s (%s): content type %q, recorded %q", path, rec.File, got, want)
		}
		for _, h := range []string{"X-RateLimit-Bucket", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s: no %s header", path, h)
			}
		}
		switch cov.cov {
		case fullBody:
			if !jsonEqual(t, body, rec.Response.Body) {
				t.Errorf("%s (%s): body differs from the recording\n got: %.600s\nwant: %.600s", path, rec.File, body, rec.Response.Body)
			}
			replayed++
		case sameIDs:
			var got, want map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(rec.Response.Body, &want); err != nil {
				t.Fatal(err)
			}
			if g, w := ids(t, got), ids(t, want); !slices.Equal(g, w) {
				t.Errorf("%s: ids %v, recorded %v", path, g, w)
			}
			gl, _ := links(t, got)
			wl, _ := links(t, want)
			delete(gl, "next")
			delete(wl, "next")
			if !maps.Equal(gl, wl) {
				t.Errorf("%s: links %v, recorded %v", path, gl, wl)
			}
			t.Logf("%s: compared ids and links only: %s", path, cov.reason)
		case notCovered:
			t.Logf("%s: compared status only: %s", path, cov.reason)
		}
	}
	if replayed < 50 {
		t.Errorf("replayed only %d recordings", replayed)
	}
}
