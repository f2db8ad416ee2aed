package mirror_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/cleverspec"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// clock is a settable engine clock shared by the engines of a test, so that two mirrors written at the
// same steps carry the same timestamps.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 9, 1, 13, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// replica is a second mirror of the harness's simulator: its own database and engine, with its own
// reader (wrap, when set, stands between the engine and the Clever client).
type replica struct {
	db     *store.DB
	engine *mirror.Engine
}

func (h *harness) replica(t *testing.T, now func() time.Time, wrap func(mirror.Reader) mirror.Reader) replica {
	t.Helper()
	db := dbtest.New(t)
	e, err := mirror.New(mirror.Config{DB: db, Tokens: h.tokens, Now: now, Reader: func(tok clever.Token) mirror.Reader {
		var rd mirror.Reader = h.client.WithToken(tok)
		if wrap != nil {
			rd = wrap(rd)
		}
		return rd
	}})
	if err != nil {
		t.Fatal(err)
	}
	return replica{db: db, engine: e}
}

func (r replica) sync(t *testing.T, districtID string, opts mirror.Options) mirror.Result {
	t.Helper()
	res, err := r.engine.SyncDistrict(context.Background(), districtID, opts)
	if err != nil {
		t.Fatalf("sync (%s): %v", opts.Mode, err)
	}
	return res
}

// mustApplyEvents runs an events run that must apply events and succeed.
func (r replica) mustApplyEvents(t *testing.T, districtID string) mirror.Result {
	t.Helper()
	res := r.sync(t, districtID, mirror.Options{Mode: mirror.ModeEvents})
	if res.Status != mirror.StatusSucceeded || res.Kind != "EVENTS" || res.Fallback != "" {
		t.Fatalf("events run: status %s kind %s fallback %q errors %v", res.Status, res.Kind, res.Fallback, res.Errors)
	}
	return res
}

// mirrorTables are the tables a sync writes, with the columns that are generated ids (they differ
// between two databases and say nothing about the mirror's content).
var mirrorTables = map[string]string{
	"districts": "", "schools": "", "terms": "", "courses": "", "users": "", "sections": "", "user_roles": "",
	"role_schools": "id", "section_teachers": "id", "section_students": "id", "contact_relationships": "id",
}

// dump is every row of every table a sync writes, every column included — timestamps of creation,
// archive, restore and membership history — except generated ids, in a stable order: two equal dumps
// are byte-identical mirrors, history included.
func dump(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, skip := range mirrorTables {
		rs, err := db.SQL.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		var rows []string
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for i, c := range cols {
				if c == skip {
					continue
				}
				v := vals[i]
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts = append(parts, fmt.Sprintf("%s=%v", c, v))
			}
			rows = append(rows, strings.Join(parts, "|"))
		}
		rs.Close()
		sort.Strings(rows)
		out[table] = rows
	}
	return out
}

func sameDump(t *testing.T, step string, got, want map[string][]string) {
	t.Helper()
	for table, rows := range want {
		if slices.Equal(got[table], rows) {
			continue
		}
		extra, missing := diff(got[table], rows), diff(rows, got[table])
		t.Errorf("%s: %s differs from the full sync's: %d rows only in the events mirror %v, %d only in the full mirror's %v",
			step, table, len(extra), first(extra), len(missing), first(missing))
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			out = append(out, r)
		}
	}
	return out
}

func first(rows []string) []string { return rows[:min(len(rows), 2)] }

// TestEventReplayEqualsFullResync takes a district through unshares, reshares, a re-IDed term, a student
// moving school and section, co-teacher changes, role changes and a record changed back and forth. After
// every step one mirror is fully resynced and another applies the step's events, at the same instant:
// the two must be byte-identical, history included.
func TestEventReplayEqualsFullResync(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	full := h.replica(t, clk.Now, nil)
	events := h.replica(t, clk.Now, nil)
	d := h.districtID
	if res := full.sync(t, d, mirror.Options{Mode: mirror.ModeFull}); res.Status != mirror.StatusSucceeded {
		t.Fatal(res.Errors)
	}
	// The events mirror starts with a full sync too (auto: no cursor yet, so a full sync, no fallback noted).
	if res := events.sync(t, d, mirror.Options{}); res.Kind != "FULL" || res.Fallback != "" || res.Status != mirror.StatusSucceeded {
		t.Fatalf("first auto run: kind %s fallback %q status %s", res.Kind, res.Fallback, res.Status)
	}
	sameDump(t, "first sync", dump(t, events.db), dump(t, full.db))

	student := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })["id"].(string)
	teacher := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "teacher") && len(roles(u)) == 1 })["id"].(string)
	type victim struct {
		kind cleversim.Kind
		id   string
	}
	victims := []victim{
		{cleversim.KindSchools, idOf(h.data.Schools[1])},
		{cleversim.KindTerms, idOf(h.data.Terms[0])},
		{cleversim.KindCourses, idOf(h.data.Courses[0])},
		{cleversim.KindUsers, student},
		{cleversim.KindUsers, teacher},
		{cleversim.KindSections, idOf(h.data.Sections[0])},
	}
	from := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["students"].([]any)) > 1 })
	to := pick(t, h.data.Sections, func(m map[string]any) bool { return m["school"] != from["school"] })
	mover := strs(from["students"])[1]
	coSection := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["teachers"].([]any)) == 1 && m["id"] != from["id"] })
	primary := coSection["teacher"].(string)
	var co []string
	for _, raw := range h.data.Users {
		var u map[string]any
		json.Unmarshal(raw, &u)
		if hasRole(u, "teacher") && u["id"] != primary && u["id"] != teacher && len(co) < 2 {
			co = append(co, u["id"].(string))
		}
	}
	roleUser := pick(t, h.data.Users, func(m map[string]any) bool {
		return hasRole(m, "teacher") && len(roles(m)) == 1 && m["id"] != teacher && !slices.Contains(co, m["id"].(string)) && m["id"] != primary
	})
	roleSchool := roles(roleUser)["teacher"].(map[string]any)["school"].(string)
	staff := map[string]any{"staff_id": "S-1", "title": "Coach", "department": "Athletics", "schools": []string{roleSchool}, "roles": []string{"Coach"}}
	term := pick(t, h.data.Sections, func(m map[string]any) bool { return m["term_id"] != nil && m["term_id"] != idOf(h.data.Terms[0]) })["term_id"].(string)
	phoneSchool := idOf(h.data.Schools[2])

	steps := []struct {
		name   string
		change func()
	}{
		{"unshare every type", func() {
			for _, v := range victims {
				h.change(h.sim.Unshare(v.kind, v.id))
			}
		}},
		{"reshare them", func() {
			for _, v := range victims {
				h.change(h.sim.Reshare(v.kind, v.id))
			}
		}},
		{"re-ID a term", func() {
			_, err := h.sim.ReID(cleversim.KindTerms, term)
			h.change(err)
		}},
		{"a student moves school and section", func() {
			school := to["school"].(string)
			h.change(h.sim.Modify(cleversim.KindUsers, mover, patch(map[string]any{"roles": map[string]any{"student": map[string]any{
				"school": school, "schools": []string{school}}}})))
			h.change(h.sim.Modify(cleversim.KindSections, from["id"].(string), patch(map[string]any{
				"students": slices.DeleteFunc(strs(from["students"]), func(s string) bool { return s == mover })})))
			h.change(h.sim.Modify(cleversim.KindSections, to["id"].(string), patch(map[string]any{"students": append(strs(to["students"]), mover)})))
		}},
		{"co-teachers added", func() {
			h.change(h.sim.Modify(cleversim.KindSections, coSection["id"].(string), patch(map[string]any{"teachers": []string{primary, co[0], co[1]}})))
		}},
		{"a co-teacher removed", func() {
			h.change(h.sim.Modify(cleversim.KindSections, coSection["id"].(string), patch(map[string]any{"teachers": []string{primary, co[1]}})))
		}},
		{"a role gained", func() {
			h.change(h.sim.Modify(cleversim.KindUsers, roleUser["id"].(string), patch(map[string]any{"roles": map[string]any{"staff": staff}})))
		}},
		{"the role lost, a school changed back and forth, a user unshared and reshared", func() {
			h.change(h.sim.Modify(cleversim.KindUsers, roleUser["id"].(string), patch(map[string]any{"roles": map[string]any{"staff": nil}})))
			h.change(h.sim.Modify(cleversim.KindSchools, phoneSchool, patch(map[string]any{"phone": "555-0100"})))
			h.change(h.sim.Modify(cleversim.KindSchools, phoneSchool, patch(map[string]any{"phone": record(t, h.data.Schools, phoneSchool)["phone"]})))
			h.change(h.sim.Unshare(cleversim.KindUsers, student))
			h.change(h.sim.Reshare(cleversim.KindUsers, student))
		}},
		{"the role regained, everything changed", func() {
			h.change(h.sim.Modify(cleversim.KindUsers, roleUser["id"].(string), patch(map[string]any{"roles": map[string]any{"staff": staff}})))
			changeEverything(h)
		}},
	}
	for _, step := range steps {
		step.change()
		clk.Advance(time.Hour)
		res := full.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
		if res.Status != mirror.StatusSucceeded {
			t.Fatalf("%s: full sync %s %v", step.name, res.Status, res.Errors)
		}
		for kind, o := range res.Counts { // every change came with its event
			if o.Missed != 0 {
				t.Errorf("%s: the full sync reports %d %s the events missed", step.name, o.Missed, kind)
			}
		}
		res = events.mustApplyEvents(t, d)
		var read int
		for _, o := range res.Counts {
			read += o.Read
		}
		if read == 0 {
			t.Fatalf("%s: the events run read no events", step.name)
		}
		sameDump(t, step.name, dump(t, events.db), dump(t, full.db))
	}
	// Nothing new: an events run reads nothing and changes nothing.
	clk.Advance(time.Hour)
	before := dump(t, events.db)
	if res := events.mustApplyEvents(t, d); res.Counts.Changed() {
		t.Errorf("an events run with no new events changed %+v", res.Counts)
	}
	sameDump(t, "no new events", dump(t, events.db), before)
}

// pages is a Reader whose events feed misbehaves: it serves the events in pages of size, each page
// served as order says (page indexes: repeated, out of order), and can stop after a number of pages.
type pages struct {
	mirror.Reader
	size   int
	order  func(n int) []int // the page indexes to serve, given the number of pages
	cancel func()            // called before serving page stopAt
	stopAt int
}

func (p *pages) Events(ctx context.Context, opts clever.EventOptions) iter.Seq2[clever.Event, error] {
	return func(yield func(clever.Event, error) bool) {
		var all []clever.Event
		for ev, err := range p.Reader.Events(ctx, opts) {
			if err != nil {
				yield(ev, err)
				return
			}
			all = append(all, ev)
		}
		n := (len(all) + p.size - 1) / p.size
		for served, i := range p.order(n) {
			if p.cancel != nil && served == p.stopAt {
				p.cancel()
				yield(clever.Event{}, ctx.Err())
				return
			}
			for _, ev := range all[i*p.size : min((i+1)*p.size, len(all))] {
				if !yield(ev, nil) {
					return
				}
			}
		}
	}
}

func TestDuplicateAndOutOfOrderEventPages(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	full := h.replica(t, clk.Now, nil)
	shuffled := h.replica(t, clk.Now, func(rd mirror.Reader) mirror.Reader {
		return &pages{Reader: rd, size: 3, order: func(n int) []int {
			var out []int
			for i := n - 1; i >= 0; i-- { // newest page first, and every page twice
				out = append(out, i, i)
			}
			return append(out, 0) // the oldest page once more at the end
		}}
	})
	d := h.districtID
	full.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	shuffled.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	changeEverything(h)
	from := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["students"].([]any)) > 2 })
	for i := range 3 { // one record changed three times: only its newest state may stand
		h.change(h.sim.Modify(cleversim.KindSections, from["id"].(string), patch(map[string]any{"period": fmt.Sprint(i + 11)})))
	}
	clk.Advance(time.Hour)
	full.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	res := shuffled.mustApplyEvents(t, d)
	if res.Counts["sections"].Read < 4 {
		t.Fatalf("sections events read = %d, want the feed's (served twice and out of order)", res.Counts["sections"].Read)
	}
	sameDump(t, "shuffled pages", dump(t, shuffled.db), dump(t, full.db))
	if got := queryRows(t, shuffled.db, "SELECT period FROM sections WHERE clever_id = '"+from["id"].(string)+"'"); got[0] != "13" {
		t.Errorf("period = %v, want the newest event's 13", got)
	}
}

// TestEventsRunKilledBetweenPages: a run cancelled between two pages of events changes nothing (the
// mirror and the cursor are as they were); the next run applies all of them.
func TestEventsRunKilledBetweenPages(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	full := h.replica(t, clk.Now, nil)
	var cancel context.CancelFunc
	killed := h.replica(t, clk.Now, func(rd mirror.Reader) mirror.Reader {
		return &pages{Reader: rd, size: 2, stopAt: 2, cancel: func() { cancel() }, order: func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		}}
	})
	d := h.districtID
	full.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	killed.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	cursor := queryRows(t, killed.db, "SELECT event_id FROM event_cursors")
	before := dump(t, killed.db)
	changeEverything(h)
	clk.Advance(time.Hour)
	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if _, err := killed.engine.SyncDistrict(ctx, d, mirror.Options{Mode: mirror.ModeEvents}); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v, want context.Canceled", err)
	}
	sameDump(t, "killed between pages", dump(t, killed.db), before)
	if got := queryRows(t, killed.db, "SELECT event_id FROM event_cursors"); !slices.Equal(got, cursor) {
		t.Errorf("cursor moved by a killed run: %v, was %v", got, cursor)
	}
	if runs := queryRows(t, killed.db, "SELECT kind, status FROM sync_runs"); len(runs) != 1 {
		t.Errorf("runs = %v, want the first full sync only: a run killed while reading events has not started writing", runs)
	}
	// The next run, with a reader that behaves, applies everything.
	full.sync(t, d, mirror.Options{Mode: mirror.ModeFull})
	fixed, err := mirror.New(mirror.Config{DB: killed.db, Tokens: h.tokens, Now: clk.Now,
		Reader: func(tok clever.Token) mirror.Reader { return h.client.WithToken(tok) }})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := fixed.SyncDistrict(context.Background(), d, mirror.Options{Mode: mirror.ModeEvents}); err != nil || res.Kind != "EVENTS" || res.Status != mirror.StatusSucceeded {
		t.Fatalf("rerun: %v %s %s %v", err, res.Kind, res.Status, res.Errors)
	}
	sameDump(t, "rerun after the kill", dump(t, killed.db), dump(t, full.db))
}

// TestLostWindowFallsBackToFullSync: a cursor not read within Clever's 30 days, and a cursor whose event
// Clever no longer lists (404), make an events run a full sync that says why.
func TestLostWindowFallsBackToFullSync(t *testing.T) {
	t.Parallel()
	t.Run("cursor too old", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{})
		clk := newClock()
		r := h.replica(t, clk.Now, nil)
		r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
		changeEverything(h)
		clk.Advance(31 * 24 * time.Hour)
		res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeEvents, SkipWithoutEvents: true})
		if res.Kind != "FULL" || !strings.Contains(res.Fallback, "cursor lost") || res.Status != mirror.StatusSucceeded {
			t.Fatalf("kind %s fallback %q status %s", res.Kind, res.Fallback, res.Status)
		}
		if got := queryRows(t, r.db, "SELECT kind, fallback FROM sync_runs ORDER BY started_at DESC LIMIT 1"); !strings.HasPrefix(got[0], "FULL|cursor lost: the events were last read 744h0m0s ago") {
			t.Errorf("run = %v", got)
		}
		if res.Counts["users"].Archived != 1 || res.Counts["terms"].Created != 1 {
			t.Errorf("the fallback full sync did not apply the changes: %+v", res.Counts)
		}
	})
	t.Run("cursor event gone (404)", func(t *testing.T) {
		t.Parallel()
		simNow := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
		var simClock atomic.Int64
		simClock.Store(simNow.UnixNano())
		h := setup(t, options{simConfig: cleversim.Config{Now: func() time.Time { return time.Unix(0, simClock.Load()).UTC() }}})
		clk := newClock()
		r := h.replica(t, clk.Now, nil)
		h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[0]), patch(map[string]any{"phone": "555-0101"})))
		r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull}) // the cursor is that event
		simClock.Add(int64(40 * 24 * time.Hour))                       // Clever's feed moves on 40 days …
		h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[0]), patch(map[string]any{"phone": "555-0102"})))
		clk.Advance(time.Hour) // … while the mirror last read it an hour ago (a stopped clock, a restored backup)
		res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeEvents})
		if res.Kind != "FULL" || !strings.Contains(res.Fallback, "no longer in Clever's feed (404)") || res.Status != mirror.StatusSucceeded {
			t.Fatalf("kind %s fallback %q status %s", res.Kind, res.Fallback, res.Status)
		}
		if res.Counts["schools"].Updated != 1 {
			t.Errorf("schools = %+v", res.Counts["schools"])
		}
		// The full sync saved a fresh cursor: events apply again.
		h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[0]), patch(map[string]any{"phone": "555-0103"})))
		if res := r.mustApplyEvents(t, h.districtID); res.Counts["schools"].Updated != 1 {
			t.Errorf("after the fallback: schools = %+v", res.Counts["schools"])
		}
	})
}

// TestEventsNotEnabled: a district whose app has no Events API gets full syncs, reported as such — or,
// for the scheduler's events interval (SkipWithoutEvents), nothing at all.
func TestEventsNotEnabled(t *testing.T) {
	t.Parallel()
	h := setup(t, options{simConfig: cleversim.Config{EventsDisabled: true}})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	if res := r.sync(t, h.districtID, mirror.Options{}); res.Kind != "FULL" || res.Status != mirror.StatusSucceeded {
		t.Fatalf("first run: %s %s", res.Kind, res.Status)
	}
	if got := queryRows(t, r.db, "SELECT event_id, enabled FROM event_cursors"); len(got) != 1 || (got[0] != "|false" && got[0] != "|0") {
		t.Fatalf("cursor = %v, want saved as not enabled", got)
	}
	changeEverything(h)
	clk.Advance(time.Hour)
	if _, err := r.engine.SyncDistrict(context.Background(), h.districtID, mirror.Options{Mode: mirror.ModeEvents, SkipWithoutEvents: true}); !errors.Is(err, mirror.ErrEventsUnavailable) {
		t.Fatalf("skipped events run: %v, want ErrEventsUnavailable", err)
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM sync_runs"); got[0] != "1" {
		t.Errorf("a skipped events run recorded a run: %v runs", got)
	}
	res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeEvents})
	if res.Kind != "FULL" || !strings.HasPrefix(res.Fallback, "events not enabled") || res.Counts["users"].Archived != 1 {
		t.Fatalf("events run without events: kind %s fallback %q users %+v", res.Kind, res.Fallback, res.Counts["users"])
	}
	// Enabled later: the next full sync saves a cursor, and events apply from then on.
	h.sim.SetEventsEnabled(true)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[0]), patch(map[string]any{"phone": "555-0104"})))
	r.mustApplyEvents(t, h.districtID)
	// Disabled again: the feed answers 403, and the run falls back.
	h.sim.SetEventsEnabled(false)
	if res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeAuto}); res.Kind != "FULL" || !strings.Contains(res.Fallback, "403") {
		t.Errorf("events switched off: kind %s fallback %q", res.Kind, res.Fallback)
	}
}

// TestGuardHoldsAnEventsBurst: users.deleted events for 30% of the students are held like a full sync's
// unshares; approving applies them.
func TestGuardHoldsAnEventsBurst(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	var gone []string
	for _, raw := range h.data.Users {
		var u map[string]any
		json.Unmarshal(raw, &u)
		if hasRole(u, "student") && len(gone) < 110 { // 110 of 360 users: 31%
			gone = append(gone, u["id"].(string))
			h.change(h.sim.Unshare(cleversim.KindUsers, u["id"].(string)))
		}
	}
	clk.Advance(time.Hour)
	res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeEvents})
	if res.Kind != "EVENTS" || res.Status != mirror.StatusHeld || len(res.Held["users"]) != len(gone) {
		t.Fatalf("events burst: kind %s status %s held %d", res.Kind, res.Status, len(res.Held["users"]))
	}
	if n, _ := res.HeldMemberships.Memberships(); n == "" {
		t.Errorf("the held students' enrollments were not held with them")
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM users WHERE archived_at IS NOT NULL"); got[0] != "0" {
		t.Fatalf("%s users archived by a held run", got[0])
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM section_students WHERE ended_at IS NOT NULL"); got[0] != "0" {
		t.Errorf("%s enrollments ended by a held run", got[0])
	}
	if _, err := r.engine.ApproveHeld(context.Background(), res.RunID, "test:admin"); err != nil {
		t.Fatal(err)
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM users WHERE archived_at IS NOT NULL"); got[0] != fmt.Sprint(len(gone)) {
		t.Errorf("%s users archived after approval, want %d", got[0], len(gone))
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM section_students WHERE ended_at IS NULL AND user_id IN ('"+strings.Join(gone, "','")+"')"); got[0] != "0" {
		t.Errorf("%s enrollments of archived students still open after approval", got[0])
	}
}

// TestEventsDryRun prints the plan and writes nothing, cursor included.
func TestEventsDryRun(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	changeEverything(h)
	clk.Advance(time.Hour)
	before := dump(t, r.db)
	cursor := queryRows(t, r.db, "SELECT event_id, checked_at FROM event_cursors")
	res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeEvents, DryRun: true})
	if res.Kind != "EVENTS" || res.RunID != "" || res.Counts["users"].Archived != 1 || res.Counts["terms"].Created != 1 {
		t.Fatalf("dry run: kind %s run %q counts %+v", res.Kind, res.RunID, res.Counts)
	}
	if !slices.Equal(res.Plan["users"]["archived"], []string{idOf(h.data.Users[5])}) || !slices.Equal(res.Plan["terms"]["created"], []string{"5f00000000000000000000cc"}) ||
		len(res.Plan["sections"]["updated"]) == 0 {
		t.Errorf("plan = %v", res.Plan)
	}
	sameDump(t, "dry run", dump(t, r.db), before)
	if got := queryRows(t, r.db, "SELECT event_id, checked_at FROM event_cursors"); !slices.Equal(got, cursor) {
		t.Errorf("a dry run moved the cursor: %v, was %v", got, cursor)
	}
	if got := queryRows(t, r.db, "SELECT count(*) FROM sync_runs"); got[0] != "1" {
		t.Errorf("a dry run recorded a run")
	}
}

// TestEventsFromADatasetSwappedOnDisk: the simulator restarted on a dataset file that replaced the first
// (here: the first simulator's snapshot after changes, events included) serves the new file's events as
// given, and an events run applies them.
func TestEventsFromADatasetSwappedOnDisk(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	var handler atomic.Pointer[http.Handler]
	var first http.Handler = h.sim
	handler.Store(&first)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	c := clever.New(clever.Config{APIURL: srv.URL, OAuthURL: srv.URL})
	db := dbtest.New(t)
	e, err := mirror.New(mirror.Config{DB: db, Tokens: h.tokens, Now: clk.Now, Reader: func(tok clever.Token) mirror.Reader { return c.WithToken(tok) }})
	if err != nil {
		t.Fatal(err)
	}
	r := replica{db: db, engine: e}
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	want := h.replica(t, clk.Now, nil) // the reference: full syncs of the first simulator at the same instants
	want.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	changeEverything(h)
	path := filepath.Join(t.TempDir(), "district.json")
	b, err := json.Marshal(h.sim.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := cleversim.LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	next, err := cleversim.New(cleversim.Config{Dataset: data})
	if err != nil {
		t.Fatal(err)
	}
	var swapped http.Handler = next
	handler.Store(&swapped)
	clk.Advance(time.Hour)
	res := r.mustApplyEvents(t, h.districtID)
	if res.Counts["users"].Archived != 1 || res.Counts["courses"].Archived != 1 || res.Counts["terms"].Created != 1 {
		t.Errorf("events from the swapped file: %+v", res.Counts)
	}
	want.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	sameDump(t, "swapped file", dump(t, db), dump(t, want.db))
}

// TestReconcileReportsWhatTheEventsMissed: the daily full sync of a district whose events are applied
// counts the changes no event had reported (Outcome.Missed) — not those whose events are merely pending.
func TestReconcileReportsWhatTheEventsMissed(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	applied, pending, silent := idOf(h.data.Schools[0]), idOf(h.data.Schools[1]), idOf(h.data.Schools[2])
	h.change(h.sim.Modify(cleversim.KindSchools, applied, patch(map[string]any{"phone": "555-0201"})))
	clk.Advance(5 * time.Minute)
	r.mustApplyEvents(t, h.districtID)
	h.sim.SetEventsEnabled(false) // Clever generates no event for this change
	h.change(h.sim.Modify(cleversim.KindSchools, silent, patch(map[string]any{"phone": "555-0202"})))
	h.sim.SetEventsEnabled(true)
	h.change(h.sim.Modify(cleversim.KindSchools, pending, patch(map[string]any{"phone": "555-0203"})))
	clk.Advance(5 * time.Minute)
	res := r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	if o := res.Counts["schools"]; o.Updated != 2 || o.Missed != 1 {
		t.Errorf("reconcile: schools %+v, want 2 updated of which 1 missed by the events", o)
	}
	var stored map[string]struct{ Missed int }
	if got := queryRows(t, r.db, "SELECT counts FROM sync_runs WHERE id = '"+res.RunID+"'"); json.Unmarshal([]byte(got[0]), &stored) != nil || stored["schools"].Missed != 1 {
		t.Errorf("the run's counts do not record what was missed: %v", got)
	}
	// A district that never applied events (its first full sync) reports nothing missed.
	first := h.replica(t, clk.Now, nil).sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	if first.Counts["schools"].Missed != 0 {
		t.Errorf("first sync reports missed %+v", first.Counts["schools"])
	}
}

// TestOlderEventsNeverTakeARecordBack replays Clever's own recording: its users list (April 2023) holds
// newer states of the users than its events (March 2023). A cursor left behind the full read — a full
// sync that failed after its users committed keeps the previous cursor — replays those events: the
// records the mirror holds in a newer state (Clever's last_modified) stay as they are, and only what is
// new to the mirror is applied.
func TestOlderEventsNeverTakeARecordBack(t *testing.T) {
	t.Parallel()
	dir, ok := cleverspec.Dir()
	if !ok {
		t.Skipf("skipping: %s not found (Clever's recordings live outside the repository; set %s)", dir, cleverspec.EnvSharedDir)
	}
	data, err := cleversim.LoadDataset(filepath.Join(dir, "fixtures", "certification-isd-events-dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := setup(t, options{data: data, simConfig: cleversim.Config{EventRetention: -1}})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	// Which users the list holds in a newer state than their newest event: those must stay as read.
	listed := map[string]string{}
	for _, raw := range data.Users {
		var u struct {
			ID           string
			LastModified string `json:"last_modified"`
		}
		json.Unmarshal(raw, &u)
		listed[u.ID] = u.LastModified
	}
	newest := map[string]struct{ id, lastModified string }{}
	oldest := ""
	for _, raw := range data.Events {
		var ev struct {
			ID, Type string
			Data     struct {
				Object struct {
					ID           string
					LastModified string `json:"last_modified"`
				}
			}
		}
		json.Unmarshal(raw, &ev)
		if oldest == "" || ev.ID < oldest {
			oldest = ev.ID
		}
		if o := ev.Data.Object; strings.HasPrefix(ev.Type, "users.") && ev.ID > newest[o.ID].id {
			newest[o.ID] = struct{ id, lastModified string }{ev.ID, o.LastModified}
		}
	}
	var newer []string // RFC 3339 in UTC with milliseconds: the strings order as the times
	for id, ev := range newest {
		if lm, ok := listed[id]; ok && ev.lastModified < lm {
			newer = append(newer, id)
		}
	}
	if len(newer) < 100 {
		t.Fatalf("the recording has %d users listed newer than their events: it no longer shows the case", len(newer))
	}
	hash := func(id string) []string {
		return queryRows(t, r.db, "SELECT content_hash FROM users WHERE clever_id = '"+id+"'")
	}
	before := map[string][]string{}
	for _, id := range newer {
		before[id] = hash(id)
	}
	if _, err := r.db.SQL.Exec("UPDATE event_cursors SET event_id = '" + oldest + "'"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	res := r.mustApplyEvents(t, h.districtID)
	if u := res.Counts["users"]; u.Unchanged < len(newer) || u.Created == 0 {
		t.Errorf("users = %+v, want the %d users the list holds newer left unchanged, and the users it lacks created", u, len(newer))
	}
	for _, id := range newer {
		if got := hash(id); !slices.Equal(got, before[id]) {
			t.Errorf("user %s, listed newer than its events, was rewritten by an older event", id)
		}
	}
}

// TestQuietEventsRunsAreNotRecorded: an events run with SkipEmpty (the scheduler's interval) that finds
// no new change records no run and returns ErrNothingNew, but moves the cursor's checked_at (the feed
// was read: the lag District.status shows); once a change comes, the run is recorded and applies it.
func TestQuietEventsRunsAreNotRecorded(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	clk := newClock()
	r := h.replica(t, clk.Now, nil)
	r.sync(t, h.districtID, mirror.Options{Mode: mirror.ModeFull})
	checked := func() string { return queryRows(t, r.db, "SELECT checked_at FROM event_cursors")[0] }
	runs := func() string { return queryRows(t, r.db, "SELECT count(*) FROM sync_runs")[0] }
	before := checked()
	clk.Advance(5 * time.Minute)
	quiet := mirror.Options{Mode: mirror.ModeEvents, SkipWithoutEvents: true, SkipEmpty: true}
	if _, err := r.engine.SyncDistrict(context.Background(), h.districtID, quiet); !errors.Is(err, mirror.ErrNothingNew) {
		t.Fatalf("events run with nothing new: %v, want ErrNothingNew", err)
	}
	if got := runs(); got != "1" {
		t.Errorf("%s runs after a quiet events run, want the full sync's 1", got)
	}
	if after := checked(); after == before {
		t.Errorf("checked_at stayed %s: the quiet run did not record that it read the feed", after)
	}
	// Another replica firing the same tick finds the feed read since: it runs nothing, though no run
	// was recorded.
	tick := clk.Now()
	again := quiet
	again.NotIfRanSince = tick
	if _, err := r.engine.SyncDistrict(context.Background(), h.districtID, again); !errors.Is(err, mirror.ErrAlreadyRan) {
		t.Errorf("the same events tick again: %v, want ErrAlreadyRan", err)
	}
	h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[0]), patch(map[string]any{"phone": "555-0199"})))
	clk.Advance(5 * time.Minute)
	res, err := r.engine.SyncDistrict(context.Background(), h.districtID, quiet)
	if err != nil || res.Kind != "EVENTS" || res.Counts["schools"].Updated != 1 {
		t.Fatalf("events run with a change: %v %s %+v", err, res.Kind, res.Counts["schools"])
	}
	if got := runs(); got != "2" {
		t.Errorf("%s runs after an events run that applied a change, want 2", got)
	}
	// Asked for by hand, an events run with nothing new is recorded.
	r.mustApplyEvents(t, h.districtID)
	if got := runs(); got != "3" {
		t.Errorf("%s runs after an events run asked for by hand, want 3", got)
	}
}
