package clever_test

// Contract tests: the client against the simulator for every endpoint the client uses, with every
// simulator response validated against Clever's own Swagger spec (internal/cleverspec names the places
// where the live API differs from the spec). The simulator serves raw dataset JSON and shares no types
// with the client, so a decoding bug cannot hide on both sides.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/cleverspec"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// clock is shared by the simulator and the client: the client's sleeps advance it, so rate-limit
// windows pass without the test waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

type bundle struct {
	sim    *cleversim.Server
	client *clever.Client
	tc     *clever.TokenClient
	data   *cleversim.Dataset
	url    string
	clock  *clock
}

// specValidator loads Clever's spec once per test binary; nil when shared/clever is absent.
var specValidator = sync.OnceValues(func() (*cleverspec.Validator, error) {
	dir, ok := cleverspec.Dir()
	if !ok {
		return nil, nil
	}
	return cleverspec.Load(dir)
})

// validating wraps the simulator so that every response it gives is checked against Clever's spec.
func validating(t *testing.T, h http.Handler) http.Handler {
	v, err := specValidator()
	if err != nil {
		t.Fatalf("load Clever spec: %v", err)
	}
	if v == nil {
		t.Log("shared/clever is absent: simulator responses are not validated against Clever's spec")
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		// ErrNotCovered: /me, /oauth and statuses the spec does not document (the contract tests check those).
		if err := v.ValidateResponse(r.Method, r.URL.RequestURI(), res.StatusCode, res.Header, body); err != nil && !errors.Is(err, cleverspec.ErrNotCovered) {
			t.Errorf("simulator response violates Clever's spec: %s %s: %v", r.Method, r.URL.RequestURI(), err)
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		w.Write(body)
	})
}

func setup(t *testing.T, data *cleversim.Dataset, cfg cleversim.Config) *bundle {
	t.Helper()
	clk := &clock{now: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)}
	cfg.Dataset = data
	cfg.Now = clk.Now
	sim, err := cleversim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = sim
	if cfg.Faults == (cleversim.Faults{}) {
		h = validating(t, sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := clever.New(clever.Config{
		APIURL: srv.URL, OAuthURL: srv.URL,
		ClientID: cleversim.DefaultClientID, ClientSecret: cleversim.DefaultClientSecret,
		PageLimit: 37, // several pages per resource, and a page boundary nowhere special
		Now:       clk.Now, Sleep: clk.Sleep,
	})
	var districtID struct {
		ID string `json:"id"`
	}
	json.Unmarshal(data.Districts[0], &districtID)
	return &bundle{sim: sim, client: c, tc: c.WithToken(clever.Token(sim.DistrictToken(districtID.ID))), data: data, url: srv.URL, clock: clk}
}

// rawByID indexes a dataset collection.
func rawByID(t *testing.T, raws []json.RawMessage) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, raw := range raws {
		var head struct{ ID string }
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		out[head.ID] = raw
	}
	return out
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// readAll reads every resource of the token's district and returns id → raw JSON per kind.
func readAll(ctx context.Context, tc *clever.TokenClient) (map[string]map[string]json.RawMessage, error) {
	out := map[string]map[string]json.RawMessage{}
	add := func(kind, id string, raw json.RawMessage) error {
		if out[kind] == nil {
			out[kind] = map[string]json.RawMessage{}
		}
		if _, dup := out[kind][id]; dup {
			return fmt.Errorf("%s %s read twice", kind, id)
		}
		out[kind][id] = raw
		return nil
	}
	for d, err := range tc.Districts(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("districts", d.ID, d.Raw); err != nil {
			return nil, err
		}
	}
	for s, err := range tc.Schools(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("schools", s.ID, s.Raw); err != nil {
			return nil, err
		}
	}
	for u, err := range tc.Users(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("users", u.ID, u.Raw); err != nil {
			return nil, err
		}
	}
	for s, err := range tc.Sections(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("sections", s.ID, s.Raw); err != nil {
			return nil, err
		}
	}
	for s, err := range tc.Terms(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("terms", s.ID, s.Raw); err != nil {
			return nil, err
		}
	}
	for s, err := range tc.Courses(ctx) {
		if err != nil {
			return nil, err
		}
		if err := add("courses", s.ID, s.Raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func TestContractFullRead(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{})
	got, err := readAll(t.Context(), b.tc)
	if err != nil {
		t.Fatal(err)
	}
	for kind, raws := range map[string][]json.RawMessage{
		"districts": b.data.Districts, "schools": b.data.Schools, "users": b.data.Users,
		"sections": b.data.Sections, "terms": b.data.Terms, "courses": b.data.Courses,
	} {
		want := rawByID(t, raws)
		if len(got[kind]) != len(want) {
			t.Errorf("%s: read %d, dataset has %d", kind, len(got[kind]), len(want))
		}
		for id, raw := range want {
			if !sameJSON(got[kind][id], raw) {
				t.Errorf("%s %s: read %s, dataset has %s", kind, id, got[kind][id], raw)
			}
		}
	}
}

func TestContractRoleFilterAndGets(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{})
	ctx := t.Context()
	seen := map[clever.Role]int{}
	for _, role := range clever.AllRoles {
		for u, err := range b.tc.Users(ctx, role) {
			if err != nil {
				t.Fatal(err)
			}
			if !u.Roles.Has(role) {
				t.Errorf("role=%s returned %s with roles %v", role, u.ID, u.Roles.List())
			}
			seen[role]++
		}
	}
	for _, role := range clever.AllRoles {
		if seen[role] == 0 {
			t.Errorf("no %s in the demo district", role)
		}
	}
	multi := 0
	for u, err := range b.tc.Users(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Roles.List()) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no multi-role user read")
	}

	// One record of each type by id, equal to the dataset's.
	gets := []struct {
		raws []json.RawMessage
		get  func(id string) (json.RawMessage, error)
	}{
		{b.data.Districts, func(id string) (json.RawMessage, error) { r, err := b.tc.District(ctx, id); return r.Raw, err }},
		{b.data.Schools, func(id string) (json.RawMessage, error) { r, err := b.tc.School(ctx, id); return r.Raw, err }},
		{b.data.Users, func(id string) (json.RawMessage, error) { r, err := b.tc.User(ctx, id); return r.Raw, err }},
		{b.data.Sections, func(id string) (json.RawMessage, error) { r, err := b.tc.Section(ctx, id); return r.Raw, err }},
		{b.data.Terms, func(id string) (json.RawMessage, error) { r, err := b.tc.Term(ctx, id); return r.Raw, err }},
		{b.data.Courses, func(id string) (json.RawMessage, error) { r, err := b.tc.Course(ctx, id); return r.Raw, err }},
	}
	for _, g := range gets {
		for id, want := range rawByID(t, g.raws[len(g.raws)-1:]) {
			got, err := g.get(id)
			if err != nil || !sameJSON(got, want) {
				t.Errorf("get %s: %v: %s", id, err, got)
			}
			if _, err := g.get("000000000000000000000000"); !errors.Is(err, clever.ErrNotFound) {
				t.Errorf("get unknown id: err = %v, want ErrNotFound", err)
			}
		}
	}

	// Sub-resources: a section's students and teachers.
	var sec clever.Section
	json.Unmarshal(b.data.Sections[0], &sec)
	var students []string
	for u, err := range clever.List[clever.User](ctx, b.tc, "/sections/"+sec.ID+"/users", clever.ListOptions{Query: url.Values{"role": {"student"}}}) {
		if err != nil {
			t.Fatal(err)
		}
		students = append(students, u.ID)
	}
	slices.Sort(students)
	want := slices.Clone(sec.Students)
	slices.Sort(want)
	if !slices.Equal(students, want) {
		t.Errorf("section %s students = %v, want %v", sec.ID, students, want)
	}
}

func TestContractErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{})
	ctx := t.Context()
	bad := b.client.WithToken("not-a-token")
	if _, err := bad.School(ctx, "x"); !errors.Is(err, clever.ErrUnauthorized) {
		t.Errorf("bad token: err = %v, want ErrUnauthorized", err)
	}
	for _, err := range bad.Schools(ctx) {
		if !errors.Is(err, clever.ErrUnauthorized) {
			t.Errorf("bad token list: err = %v, want ErrUnauthorized", err)
		}
	}
	tooBig := clever.New(clever.Config{APIURL: b.url, PageLimit: 10001}).WithToken(clever.Token(b.sim.DistrictToken(districtIDOf(b.data))))
	for _, err := range tooBig.Schools(ctx) {
		var apiErr *clever.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("limit 10001: err = %v, want 413", err)
		}
	}
	max := clever.New(clever.Config{APIURL: b.url, PageLimit: 10000}).WithToken(clever.Token(b.sim.DistrictToken(districtIDOf(b.data))))
	n := 0
	for _, err := range max.Schools(ctx) {
		if err != nil {
			t.Fatalf("limit 10000: %v", err)
		}
		n++
	}
	if n != len(b.data.Schools) {
		t.Errorf("limit 10000 read %d schools, want %d", n, len(b.data.Schools))
	}
}

func districtIDOf(d *cleversim.Dataset) string {
	var head struct{ ID string }
	json.Unmarshal(d.Districts[0], &head)
	return head.ID
}

func TestContractDistrictTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{})
	id := districtIDOf(b.data)
	for _, filter := range []string{"", id} {
		toks, err := b.client.DistrictTokens(t.Context(), filter)
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) != 1 || toks[0].Owner.Type != "district" || toks[0].Owner.ID != id || toks[0].AccessToken.Reveal() != b.sim.DistrictToken(id) {
			t.Errorf("district=%q: tokens = %+v", filter, toks)
		}
	}
	if toks, err := b.client.DistrictTokens(t.Context(), "000000000000000000000000"); err != nil || len(toks) != 0 {
		t.Errorf("unknown district: %v, %v", toks, err)
	}
	wrong := clever.New(clever.Config{OAuthURL: b.url, ClientID: cleversim.DefaultClientID, ClientSecret: "wrong"})
	if _, err := wrong.DistrictTokens(t.Context(), ""); !errors.Is(err, clever.ErrUnauthorized) {
		t.Errorf("wrong secret: err = %v, want ErrUnauthorized", err)
	}
}

func TestContractLoginFlow(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{})
	ctx := t.Context()
	var teacher clever.User
	for u, err := range b.tc.Users(ctx, clever.RoleTeacher) {
		if err != nil {
			t.Fatal(err)
		}
		teacher = u
		break
	}
	for _, authorizedBy := range []string{"district", "teacher"} {
		redirect := "https://app.example/clever/callback"
		q := url.Values{"response_type": {"code"}, "client_id": {cleversim.DefaultClientID}, "redirect_uri": {redirect}, "state": {"s-" + authorizedBy}, "user_id": {teacher.ID}}
		if authorizedBy == "teacher" {
			q.Set("authorized_by", "teacher")
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noRedirect.Get(b.url + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != "s-"+authorizedBy {
			t.Fatalf("authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		code := loc.Query().Get("code")
		tok, err := b.client.ExchangeCode(ctx, code, redirect)
		if err != nil {
			t.Fatal(err)
		}
		me, err := b.client.WithToken(tok).Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.Data.ID != teacher.ID || me.Data.District != teacher.District || me.Data.AuthorizedBy != authorizedBy {
			t.Errorf("me = %+v, want teacher %s authorized by %s", me, teacher.ID, authorizedBy)
		}
		if _, err := b.client.ExchangeCode(ctx, code, redirect); !errors.Is(err, clever.ErrInvalidGrant) {
			t.Errorf("reused code: err = %v, want ErrInvalidGrant", err)
		}
		// A user token reads only itself.
		if u, err := b.client.WithToken(tok).User(ctx, teacher.ID); err != nil || u.ID != teacher.ID {
			t.Errorf("user token reading itself: %v", err)
		}
		for _, err := range b.client.WithToken(tok).Sections(ctx) {
			if !errors.Is(err, clever.ErrNotFound) {
				t.Errorf("user token listing sections: err = %v, want the HTML 404 as ErrNotFound", err)
			}
		}
	}
}

func TestContractEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, synth.Demo(), cleversim.Config{EventRetention: -1})
	ctx := t.Context()
	cursor, err := b.tc.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sec clever.Section
	json.Unmarshal(b.data.Sections[0], &sec)
	if err := b.sim.Modify(cleversim.Kind("sections"), sec.ID, json.RawMessage(`{"period":"9","ext":{"room":"B2"}}`)); err != nil {
		t.Fatal(err)
	}
	var student string = sec.Students[0]
	if err := b.sim.Unshare(cleversim.Kind("users"), student); err != nil {
		t.Fatal(err)
	}
	var events []clever.Event
	for ev, err := range b.tc.Events(ctx, clever.EventOptions{StartingAfter: cursor}) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	if len(events) < 2 {
		t.Fatalf("events after the cursor: %d, want the update and the unshare", len(events))
	}
	first := events[0]
	if first.Type != "sections.updated" || first.RecordType() != "sections" || first.Action() != "updated" {
		t.Fatalf("first event = %s", first.Type)
	}
	obj, err := clever.DecodeObject[clever.Section](first)
	if err != nil || obj.ID != sec.ID || obj.Period != "9" {
		t.Errorf("event object = %+v, %v", obj, err)
	}
	var prev map[string]any
	json.Unmarshal(first.Data.PreviousAttributes, &prev)
	if prev["period"] != sec.Period {
		t.Errorf("previous_attributes = %s, want the old period %q", first.Data.PreviousAttributes, sec.Period)
	}
	var deleted bool
	for _, ev := range events {
		if ev.Type == "users.deleted" {
			u, err := clever.DecodeObject[clever.User](ev)
			deleted = err == nil && u.ID == student
		}
		if ev.ID <= cursor {
			t.Errorf("event %s not after the cursor %s", ev.ID, cursor)
		}
	}
	if !deleted {
		t.Error("no users.deleted event for the unshared student")
	}
	if latest, err := b.tc.LatestEventID(ctx); err != nil || latest != events[len(events)-1].ID {
		t.Errorf("LatestEventID = %s, %v; want %s", latest, err, events[len(events)-1].ID)
	}
	if ev, err := b.tc.Event(ctx, first.ID); err != nil || ev.Type != first.Type {
		t.Errorf("Event(%s) = %v, %v", first.ID, ev.Type, err)
	}
	if _, err := b.tc.User(ctx, student); !errors.Is(err, clever.ErrNotFound) {
		t.Errorf("unshared user: err = %v, want ErrNotFound", err)
	}
}

// TestFaultyReadEqualsCleanRead: with 20% injected errors, 429 storms and cut connections, a full read
// returns exactly the records of a fault-free read.
func TestFaultyReadEqualsCleanRead(t *testing.T) {
	t.Parallel()
	data := synth.Generate(synth.Config{Seed: 7, Students: 1500, Teachers: 80, Sections: 120})
	clean, err := readAll(t.Context(), setup(t, data, cleversim.Config{}).tc)
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{1, 2, 3} {
		logger, faultLog := testlog.New(t)
		faulty := setup(t, data, cleversim.Config{
			Faults: cleversim.Faults{Seed: seed, ErrorRate: 0.10, RateLimitRate: 0.05, CutRate: 0.05},
			Logger: logger,
		})
		got, err := readAll(t.Context(), faulty.tc)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// The read must have met every kind of fault, or this test proves nothing.
		for _, kind := range []string{"server error", "rate limit storm", "connection cut"} {
			if !strings.Contains(faultLog.String(), `"fault":"`+kind+`"`) {
				t.Errorf("seed %d: no %q was injected", seed, kind)
			}
		}
		for kind, recs := range clean {
			if len(got[kind]) != len(recs) {
				t.Errorf("seed %d: %s: %d records, fault-free read has %d", seed, kind, len(got[kind]), len(recs))
			}
			for id, raw := range recs {
				if !bytes.Equal(got[kind][id], raw) {
					t.Errorf("seed %d: %s %s differs from the fault-free read", seed, kind, id)
				}
			}
		}
	}
}
