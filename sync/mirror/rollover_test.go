package mirror_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/admin"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// clockAt is a clock (events_test.go) set to at (RFC 3339).
func clockAt(t *testing.T, at string) *clock {
	c := newClock()
	setClock(t, c, at)
	return c
}

func setClock(t *testing.T, c *clock, at string) {
	t.Helper()
	v, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	c.t.Store(v.UnixNano())
}

// TestRolloverIsNotHeld: at the school year's end Clever unshares last year's terms and sections, and the
// students who leave (and the contacts of only those students). When the sections' term ended (the run's
// now is past its end date, within the rollover window) the run archives all of it without a hold, in a
// full run and in an events run alike, and counts it as rollover. The same unshare while the term is
// still running — or of sections whose term ended long ago (stale term data), or that have no term — is a
// mid-term mass unshare: the guard holds it.
func TestRolloverIsNotHeld(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		termEnd string // every term's end_date; "" takes the term off the sections
		held    bool
	}{
		{"ended term", "2026-06-10", false},
		{"term not ended", "2026-12-18", true},
		{"term ended long ago", "2025-12-18", true},
		{"no term", "", true},
	}
	for _, mode := range []string{mirror.ModeFull, mirror.ModeEvents} {
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				clk := clockAt(t, "2026-09-01T12:00:00Z")
				h := setup(t, options{engine: mirror.Config{Now: clk.Now}})
				terms := all(h.data.Terms, func(map[string]any) bool { return true })
				sections := all(h.data.Sections, func(map[string]any) bool { return true })
				for _, id := range terms {
					h.change(h.sim.Modify(cleversim.KindTerms, id, patch(map[string]any{"start_date": "2025-08-15", "end_date": tc.termEnd})))
				}
				for _, id := range sections { // one term for all (the demo leaves a section without one)
					term := any(terms[0])
					if tc.termEnd == "" {
						term = nil
					}
					h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"term_id": term})))
				}
				h.mustSucceed()
				if n := h.rows("SELECT count(*) FROM sections WHERE term_id IS NOT NULL"); (n[0] == "0") != (tc.termEnd == "") {
					t.Fatalf("%s sections with a term: the setup is wrong", n[0])
				}

				// The leavers: 40% of the students in a section (a student without one is not explained by a
				// term, so the guard would still weigh it), and the contacts of only those students.
				enrolled := map[string]bool{}
				for _, id := range sections {
					for _, u := range strs(record(t, h.data.Sections, id)["students"]) {
						enrolled[u] = true
					}
				}
				students := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") && enrolled[u["id"].(string)] })
				leavers := students[:len(students)*2/5]
				leaving := map[string]bool{}
				for _, id := range leavers {
					leaving[id] = true
				}
				contacts := all(h.data.Users, func(u map[string]any) bool {
					if !hasRole(u, "contact") {
						return false
					}
					rels, _ := roles(u)["contact"].(map[string]any)["student_relationships"].([]any)
					for _, r := range rels {
						if !leaving[r.(map[string]any)["student"].(string)] {
							return false
						}
					}
					return len(rels) > 0
				})
				if len(contacts) == 0 {
					t.Fatal("no contact of leavers only: the test proves nothing of contacts")
				}
				users := slices.Concat(leavers, contacts)
				for _, id := range sections {
					h.change(h.sim.Unshare(cleversim.KindSections, id))
				}
				for _, id := range terms {
					h.change(h.sim.Unshare(cleversim.KindTerms, id))
				}
				for _, id := range users {
					h.change(h.sim.Unshare(cleversim.KindUsers, id))
				}

				res := h.sync(mirror.Options{Mode: mode})
				if want := map[string]string{mirror.ModeFull: "FULL", mirror.ModeEvents: "EVENTS"}[mode]; res.Kind != want {
					t.Fatalf("run kind %s (fallback %q), want %s", res.Kind, res.Fallback, want)
				}
				us, ss := res.Counts["users"], res.Counts["sections"]
				if tc.held {
					if res.Status != mirror.StatusHeld || len(res.Held["sections"]) != len(sections) || len(res.Held["users"]) != len(users) {
						t.Fatalf("status %s, held %d sections and %d users; want held, %d and %d", res.Status,
							len(res.Held["sections"]), len(res.Held["users"]), len(sections), len(users))
					}
					if us.Archived+ss.Archived+us.Rollover+ss.Rollover != 0 {
						t.Errorf("users %+v, sections %+v: want nothing archived", us, ss)
					}
					checkUsersArchived(t, h, users, false)
					return
				}
				if res.Status != mirror.StatusSucceeded || len(res.Held) != 0 {
					t.Fatalf("status %s %v, held %v; want succeeded, nothing held", res.Status, res.Errors, res.Held)
				}
				if ss.Archived != len(sections) || ss.Rollover != len(sections) {
					t.Errorf("sections %+v: want %d archived, all as rollover", ss, len(sections))
				}
				if us.Archived != len(users) || us.Rollover != len(users) {
					t.Errorf("users %+v: want %d archived (%d students, %d contacts), all as rollover", us, len(users), len(leavers), len(contacts))
				}
				checkUsersArchived(t, h, leavers, true)
				for _, id := range contacts {
					if !h.archived("users", id) {
						t.Errorf("contact %s not archived", id)
					}
				}
				for _, id := range sections {
					if !h.archived("sections", id) {
						t.Errorf("section %s not archived", id)
					}
				}
				// History stays tied to the students: their enrollments are kept, none deleted.
				if n := h.rows("SELECT count(*) FROM section_students WHERE user_id = ?", leavers[0]); n[0] == "0" {
					t.Errorf("the leaver %s has no enrollment left", leavers[0])
				}
			})
		}
	}
}

// TestRolloverWithMidTermUnshare: a run that brings a rollover (last year's sections, whose term ended)
// and a mass unshare of sections whose term is running archives the rollover and holds only the rest.
func TestRolloverWithMidTermUnshare(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{mirror.ModeFull, mirror.ModeEvents} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := clockAt(t, "2026-09-01T12:00:00Z")
			h := setup(t, options{engine: mirror.Config{Now: clk.Now}})
			terms := all(h.data.Terms, func(map[string]any) bool { return true })
			sections := all(h.data.Sections, func(map[string]any) bool { return true })
			// The first term ended in June; the others run until December. Half of the sections are of
			// the first.
			for i, id := range terms {
				end := "2026-12-18"
				if i == 0 {
					end = "2026-06-10"
				}
				h.change(h.sim.Modify(cleversim.KindTerms, id, patch(map[string]any{"start_date": "2025-08-15", "end_date": end})))
			}
			last, current := sections[:len(sections)/2], sections[len(sections)/2:]
			for i, id := range sections {
				term := terms[0]
				if i >= len(last) {
					term = terms[1]
				}
				h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"term_id": term})))
			}
			h.mustSucceed()
			unshared := current[:len(current)/2] // 15 of the 30 current sections: 50%
			for _, id := range slices.Concat(last, unshared) {
				h.change(h.sim.Unshare(cleversim.KindSections, id))
			}
			res := h.sync(mirror.Options{Mode: mode})
			ss := res.Counts["sections"]
			if res.Status != mirror.StatusHeld || !slices.Equal(res.Held["sections"], sorted(unshared)) {
				t.Fatalf("status %s, held %v; want held, the %d current sections", res.Status, res.Held["sections"], len(unshared))
			}
			if ss.Archived != len(last) || ss.Rollover != len(last) {
				t.Errorf("sections %+v: want last year's %d archived as rollover", ss, len(last))
			}
			for _, id := range last {
				if !h.archived("sections", id) {
					t.Errorf("last year's section %s not archived", id)
				}
			}
			for _, id := range unshared {
				if h.archived("sections", id) {
					t.Errorf("current section %s archived, want held", id)
				}
			}
			// 15 of the 30 current sections (the ended term's are not weighed): 50%.
			if held, base, pct := ss.HeldShare(); held != 15 || base != 30 || pct != 50 {
				t.Errorf("HeldShare = %d, %d, %d%%; want 15 of 30, 50%%", held, base, pct)
			}
		})
	}
}

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

// TestPausedDistrictArchivesNothing: while the district is paused in Clever (its summer pause, from
// pause_start's day to the end of pause_end's), a run — full, or events — archives nothing: the users and
// sections no longer shared stay, counted as deferred, and the run succeeds. District.status shows the
// pause. The first full sync after the pause's last day archives them, and a reconcile does not report
// them as missed by the events.
func TestPausedDistrictArchivesNothing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{mirror.ModeFull, mirror.ModeEvents} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := clockAt(t, "2026-07-15T12:00:00Z")
			h := setup(t, options{engine: mirror.Config{Now: clk.Now}})
			ctx := context.Background()
			h.change(h.sim.Modify(cleversim.KindDistricts, h.districtID, patch(map[string]any{"pause_start": "2026-07-01", "pause_end": "2026-07-20"})))
			h.mustSucceed()
			status := admin.New(h.db, nil, nil, 0).WithClock(clk.Now)
			st, err := status.DistrictStatus(ctx, h.districtID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Paused || st.PauseStart == nil || st.PauseEnd == nil || st.PauseStart.Format(time.DateOnly) != "2026-07-01" ||
				st.PauseEnd.Format(time.DateOnly) != "2026-07-20" || !strings.Contains(st.Summary, "paused in Clever from 2026-07-01 to 2026-07-20") {
				t.Errorf("status paused %v, %v – %v, summary %q; want the pause shown", st.Paused, st.PauseStart, st.PauseEnd, st.Summary)
			}

			// During the pause: a mass unshare (over the guard's share) is neither archived nor held.
			students := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })
			users := students[:len(students)/2]
			sections := all(h.data.Sections, func(map[string]any) bool { return true })[:3]
			for _, id := range users {
				h.change(h.sim.Unshare(cleversim.KindUsers, id))
			}
			for _, id := range sections {
				h.change(h.sim.Unshare(cleversim.KindSections, id))
			}
			for _, at := range []string{"2026-07-15T13:00:00Z", "2026-07-20T23:00:00Z"} { // the pause's last day is paused
				setClock(t, clk, at)
				res := h.sync(mirror.Options{Mode: mode})
				if res.Status != mirror.StatusSucceeded || len(res.Held) != 0 {
					t.Fatalf("%s: status %s %v, held %v; want succeeded", at, res.Status, res.Errors, res.Held)
				}
				us, ss := res.Counts["users"], res.Counts["sections"]
				if us.Archived+ss.Archived != 0 {
					t.Errorf("%s: users %+v, sections %+v: archived during the pause", at, us, ss)
				}
				if mode == mirror.ModeFull || at == "2026-07-15T13:00:00Z" { // an events run defers each deletion once
					if us.Deferred != len(users) || ss.Deferred != len(sections) {
						t.Errorf("%s: deferred %d users and %d sections, want %d and %d", at, us.Deferred, ss.Deferred, len(users), len(sections))
					}
				}
				checkUsersArchived(t, h, users, false)
			}

			// The pause is over: the next full sync archives them (and an events run alone does not:
			// their events were passed).
			setClock(t, clk, "2026-07-21T01:00:00Z")
			if st, err = status.DistrictStatus(ctx, h.districtID, nil); err != nil || st.Paused || strings.Contains(st.Summary, "paused in Clever") {
				t.Errorf("after the pause: paused %v, summary %q (%v)", st.Paused, st.Summary, err)
			}
			if mode == mirror.ModeEvents {
				if res := h.sync(mirror.Options{Mode: mode}); res.Status != mirror.StatusSucceeded || res.Kind != "EVENTS" {
					t.Fatalf("events run after the pause: %s %s %v", res.Kind, res.Status, res.Errors)
				}
			}
			res := h.sync(mirror.Options{Mode: mirror.ModeFull})
			if res.Status != mirror.StatusHeld || len(res.Held["users"]) != len(users) {
				t.Fatalf("status %s, held %d users; want the mass unshare held now that it is weighed", res.Status, len(res.Held["users"]))
			}
			if _, err := h.engine.ApproveHeld(ctx, res.RunID, "test:admin"); err != nil {
				t.Fatal(err)
			}
			checkUsersArchived(t, h, users, true)
			ss := res.Counts["sections"]
			if ss.Archived != len(sections) || ss.Deferred != 0 {
				t.Errorf("sections %+v: want %d archived after the pause", ss, len(sections))
			}
			for kind, o := range res.Counts {
				if o.Missed != 0 {
					t.Errorf("%s: %d missed: the archives the pause deferred are not missed events", kind, o.Missed)
				}
			}
		})
	}
}

// TestRolloverStillWeighsUsersWithoutSections: at a rollover, users in no section at all (students not
// yet placed, staff) are not explained by the ended term: unsharing them is weighed by the guard as
// before — held here, over a guard share of 5% — while the rollover's sections are archived.
func TestRolloverStillWeighsUsersWithoutSections(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{mirror.ModeFull, mirror.ModeEvents} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := clockAt(t, "2026-09-01T12:00:00Z")
			h := setup(t, options{engine: mirror.Config{Now: clk.Now, GuardShare: 0.05}})
			terms := all(h.data.Terms, func(map[string]any) bool { return true })
			sections := all(h.data.Sections, func(map[string]any) bool { return true })
			for _, id := range terms {
				h.change(h.sim.Modify(cleversim.KindTerms, id, patch(map[string]any{"start_date": "2025-08-15", "end_date": "2026-06-10"})))
			}
			for _, id := range sections {
				h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"term_id": terms[0]})))
			}
			h.mustSucceed()
			enrolled := map[string]bool{}
			for _, id := range sections {
				s := record(t, h.data.Sections, id)
				for _, u := range slices.Concat(strs(s["students"]), strs(s["teachers"])) {
					enrolled[u] = true
				}
			}
			unplaced := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") && !enrolled[u["id"].(string)] })
			if len(unplaced) < 10 {
				t.Fatalf("%d students in no section: too few to reach the guard's minimum", len(unplaced))
			}
			for _, id := range sections {
				h.change(h.sim.Unshare(cleversim.KindSections, id))
			}
			for _, id := range unplaced {
				h.change(h.sim.Unshare(cleversim.KindUsers, id))
			}
			res := h.sync(mirror.Options{Mode: mode})
			ss, us := res.Counts["sections"], res.Counts["users"]
			if ss.Archived != len(sections) || ss.Rollover != len(sections) {
				t.Errorf("sections %+v: want all %d archived as rollover", ss, len(sections))
			}
			if res.Status != mirror.StatusHeld || len(res.Held["users"]) != len(unplaced) || us.Rollover != 0 {
				t.Fatalf("status %s, %d users held, users %+v; want the %d students in no section held, none as rollover",
					res.Status, len(res.Held["users"]), us, len(unplaced))
			}
			checkUsersArchived(t, h, unplaced, false)
		})
	}
}

// TestRolloverInTheSecondYear: students who leave at a rollover were also in last year's classes, whose
// term ended long before the rollover window. Those ended classes do not make their leaving
// unexplained: the rollover is archived without a hold, as in the first year.
func TestRolloverInTheSecondYear(t *testing.T) {
	t.Parallel()
	clk := clockAt(t, "2026-09-01T12:00:00Z")
	h := setup(t, options{engine: mirror.Config{Now: clk.Now}})
	terms := all(h.data.Terms, func(map[string]any) bool { return true })
	sections := all(h.data.Sections, func(map[string]any) bool { return true })
	for _, id := range terms {
		h.change(h.sim.Modify(cleversim.KindTerms, id, patch(map[string]any{"start_date": "2025-08-15", "end_date": "2026-06-10"})))
	}
	for _, id := range sections {
		h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"term_id": terms[0]})))
	}
	enrolled := map[string]bool{}
	for _, id := range sections {
		for _, u := range strs(record(t, h.data.Sections, id)["students"]) {
			enrolled[u] = true
		}
	}
	students := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") && enrolled[u["id"].(string)] })
	leavers := students[:len(students)*2/5]
	// Last year: a term that ended in June 2025 and a class of the leavers in it.
	lastTerm := record(t, h.data.Terms, terms[0])
	lastTerm["id"], lastTerm["start_date"], lastTerm["end_date"] = "6a0000000000000000000a01", "2024-08-15", "2025-06-10"
	lastClass := record(t, h.data.Sections, sections[0])
	lastClass["id"], lastClass["term_id"], lastClass["students"], lastClass["name"] = "6a0000000000000000000a02", lastTerm["id"], leavers, "Last year's class"
	h.change(h.sim.Put(cleversim.KindTerms, patch(lastTerm)))
	h.change(h.sim.Put(cleversim.KindSections, patch(lastClass)))
	h.mustSucceed()
	// Last year's class was archived at last year's rollover.
	h.change(h.sim.Unshare(cleversim.KindSections, "6a0000000000000000000a02"))
	h.change(h.sim.Unshare(cleversim.KindTerms, "6a0000000000000000000a01"))
	h.mustSucceed()
	if n := h.rows("SELECT count(*) FROM section_students WHERE section_id = ?", "6a0000000000000000000a02"); n[0] != strconv.Itoa(len(leavers)) {
		t.Fatalf("last year's class has %s enrollments, want %d", n[0], len(leavers))
	}

	for _, id := range sections {
		h.change(h.sim.Unshare(cleversim.KindSections, id))
	}
	for _, id := range terms {
		h.change(h.sim.Unshare(cleversim.KindTerms, id))
	}
	for _, id := range leavers {
		h.change(h.sim.Unshare(cleversim.KindUsers, id))
	}
	res := h.sync(mirror.Options{})
	if res.Status != mirror.StatusSucceeded || len(res.Held) != 0 {
		t.Fatalf("status %s, held %d users: the second year's rollover was held", res.Status, len(res.Held["users"]))
	}
	if us := res.Counts["users"]; us.Archived != len(leavers) || us.Rollover != len(leavers) {
		t.Errorf("users %+v: want %d archived as rollover", us, len(leavers))
	}
}
