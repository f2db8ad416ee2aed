package clever

// Conformance with real Clever traffic: every response recorded from Clever's "#DEMO Certification ISD -
// Events" district (../shared/clever/fixtures, third-party files read where they sit) decodes without
// error and without losing a field, and the client pages through the recorded page chains.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/cleverspec"
)

// recordings loads every recorded exchange, or skips the test when shared/clever is not beside the
// checkout.
func recordings(t *testing.T) []cleverspec.Recording {
	t.Helper()
	dir, ok := cleverspec.Dir()
	if !ok {
		t.Skip("shared/clever is not beside the checkout (set CLEVER_SHARED_DIR): skipping conformance with Clever's recorded responses")
	}
	recs, err := cleverspec.Recordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// dataKind names the record type a Data API path returns and whether it is a list: /v3.0/users → users
// list; /v3.0/users/ID → one user; /v3.0/sections/ID/term → one term; /v3.0/users/ID/mycontacts → users.
func dataKind(path string) (kind string, list bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/v3.0/"), "/")
	switch len(segs) {
	case 1:
		return segs[0], segs[0] != "me"
	case 2:
		return segs[0], false
	}
	switch sub := segs[2]; sub {
	case "district", "school", "term", "course":
		return sub + "s", false
	case "mycontacts", "myteachers", "mystudents":
		return "users", true
	default:
		return sub, true
	}
}

func TestRecordedResponsesDecodeLosslessly(t *testing.T) {
	t.Parallel()
	decoded := map[string]int{}
	for _, rec := range recordings(t) {
		u, err := url.Parse(rec.Request.URI)
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != "api.clever.com" || rec.Response.Status != http.StatusOK {
			continue // OAuth exchanges and error pages are covered by the OAuth and error tests
		}
		name := rec.File + " " + u.RequestURI()
		kind, list := dataKind(u.Path)
		var raws []json.RawMessage
		if list {
			pg, err := decodePage(rec.Response.Body)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			raws = pg.items
		} else {
			var env struct{ Data json.RawMessage }
			if err := json.Unmarshal(rec.Response.Body, &env); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			raws = []json.RawMessage{env.Data}
		}
		for _, raw := range raws {
			if err := roundTrip(kind, raw); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			decoded[kind]++
		}
	}
	t.Logf("decoded records by kind: %v", decoded)
	for _, kind := range []string{"districts", "schools", "users", "sections", "terms", "courses", "events", "me"} {
		if decoded[kind] == 0 {
			t.Errorf("no recorded %s decoded: the harness is not reaching them", kind)
		}
	}
}

// roundTrip decodes raw as kind, checks the raw JSON is kept, and checks that encoding the typed record
// gives back every non-empty value of raw: a field the types do not model would be missing.
func roundTrip(kind string, raw json.RawMessage) error {
	var typed any
	var err error
	switch kind {
	case "districts":
		typed, err = checkRaw[District](raw)
	case "schools":
		typed, err = checkRaw[School](raw)
	case "users":
		typed, err = checkRaw[User](raw)
	case "sections":
		typed, err = checkRaw[Section](raw)
	case "terms":
		typed, err = checkRaw[Term](raw)
	case "courses":
		typed, err = checkRaw[Course](raw)
	case "me":
		var me MeData
		typed, err = me, json.Unmarshal(raw, &me)
		typed = me
	case "events":
		var ev Event
		ev, err = checkRaw[Event](raw)
		if err == nil {
			err = eventObject(ev)
		}
		typed = ev
	case "resources":
		return nil
	default:
		return fmt.Errorf("no decoder for %q", kind)
	}
	if err != nil {
		return err
	}
	back, err := json.Marshal(typed)
	if err != nil {
		return err
	}
	var want, got any
	json.Unmarshal(raw, &want)
	json.Unmarshal(back, &got)
	want, got = normalize(want), normalize(got)
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s %s: typed record lost or changed fields:\n raw:   %v\n typed: %v", kind, recordID(raw), want, got)
	}
	return nil
}

func checkRaw[T any, P record[T]](raw json.RawMessage) (T, error) {
	v, err := decodeRecord[T, P](raw)
	if err != nil {
		return v, err
	}
	if got := reflect.ValueOf(P(&v)).Elem().FieldByName("Payload").Interface().(Payload).Raw; string(got) != string(raw) {
		return v, fmt.Errorf("raw JSON not kept")
	}
	return v, nil
}

// eventObject checks an event's object decodes as its record type, and that an update keeps its nested
// previous_attributes.
func eventObject(ev Event) error {
	if ev.Action() == "updated" && len(ev.Data.PreviousAttributes) < 3 {
		return fmt.Errorf("event %s: updated without previous_attributes", ev.ID)
	}
	if err := roundTrip(ev.RecordType(), ev.Data.Object); err != nil {
		return fmt.Errorf("event %s object: %w", ev.ID, err)
	}
	return nil
}

// normalize drops empty values ("", null, [], {}) — Clever sends absent and empty interchangeably — and
// turns scalars into their text, so that a number kept as Text compares equal.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if n := normalize(e); n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range v {
			out = append(out, normalize(e))
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return v
	default:
		return fmt.Sprint(v)
	}
}

// TestPagingOverRecordedPages replays recorded page chains (e.g. /v3.0/schools?limit=3 and the page its
// next link names) and checks the client follows them to the end, yielding every recorded record once.
func TestPagingOverRecordedPages(t *testing.T) {
	t.Parallel()
	byURI := map[string]cleverspec.Recording{}
	for _, rec := range recordings(t) {
		u, _ := url.Parse(rec.Request.URI)
		if u.Host == "api.clever.com" && rec.Response.Status == http.StatusOK {
			byURI[canonicalURI(u)] = rec
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := byURI[canonicalURI(r.URL)]
		if !ok {
			http.Error(w, "not recorded: "+r.URL.RequestURI(), http.StatusNotImplemented)
			return
		}
		for k, v := range rec.Response.Headers {
			w.Header().Set(k, v)
		}
		w.Write(rec.Response.Body)
	}))
	t.Cleanup(srv.Close)

	chains := []struct {
		path  string
		limit int
	}{
		{"/schools", 3},
		{"/terms", 3},
	}
	for _, ch := range chains {
		tc := New(Config{APIURL: srv.URL, PageLimit: ch.limit}).WithToken("TEST_TOKEN")
		var ids []string
		var err error
		switch ch.path {
		case "/schools":
			for s, e := range tc.Schools(t.Context()) {
				if err = e; e != nil {
					break
				}
				ids = append(ids, s.ID)
			}
		case "/terms":
			for s, e := range tc.Terms(t.Context()) {
				if err = e; e != nil {
					break
				}
				ids = append(ids, s.ID)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", ch.path, err)
		}
		// The chain's records are the union of its recorded pages, in id order, each once.
		want := chainIDs(t, byURI, fmt.Sprintf("/v3.0%s?limit=%d", ch.path, ch.limit))
		if !reflect.DeepEqual(ids, want) || len(ids) <= ch.limit {
			t.Errorf("%s: paged %v, want %v spanning more than one page", ch.path, ids, want)
		}
		if !sort.StringsAreSorted(ids) {
			t.Errorf("%s: ids not ascending: %v", ch.path, ids)
		}
	}
}

// chainIDs follows the recorded next links from first and returns the ids of every record on the way.
func chainIDs(t *testing.T, byURI map[string]cleverspec.Recording, first string) []string {
	var ids []string
	for next := first; next != ""; {
		u, _ := url.Parse(next)
		rec, ok := byURI[canonicalURI(u)]
		if !ok {
			t.Fatalf("recorded chain breaks at %s", next)
		}
		pg, err := decodePage(rec.Response.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range pg.items {
			id, _ := recordIDOf(raw)
			ids = append(ids, id)
		}
		next = pg.next
	}
	return ids
}

func canonicalURI(u *url.URL) string { return u.Path + "?" + u.Query().Encode() }
