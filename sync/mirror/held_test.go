package mirror_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// memberTables are the membership tables whose rows a run holds with held user archives, with the
// columns naming the users in them.
var memberTables = map[string]string{
	"section_students":      "user_id",
	"section_teachers":      "user_id",
	"contact_relationships": "student_id",
}

// TestHeldUnshareHoldsMemberships: when the guard holds a mass unshare of students (and a teacher), the
// memberships whose ending follows from it — their enrollments and section teacher places, gone from
// Clever's sections, and the contact links their contacts dropped — stay open and are recorded on the
// run. Rejecting keeps them all; approving ends exactly those and archives the users with their roles and
// the roles' schools. A later run — after a rejection, or superseding the held run — decides again with
// fresh data even though the sections and contacts did not change again in Clever: it holds the same
// memberships, and approving it ends them.
func TestHeldUnshareHoldsMemberships(t *testing.T) {
	t.Parallel()
	for _, decision := range []string{"approve", "reject", "supersede"} {
		t.Run(decision, func(t *testing.T) {
			t.Parallel()
			logger, logs := testlog.New(t)
			h := setup(t, options{engine: mirror.Config{Logger: logger}})
			h.mustSucceed()
			ctx := context.Background()

			// 40% of the students and a teacher unshared: 121 of 360 users, over the guard's 20%.
			students := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })
			unshared := students[:len(students)*2/5]
			unshared = append(unshared, coTeacher(t, h))
			gone := map[string]bool{}
			for _, id := range unshared {
				gone[id] = true
				h.change(h.sim.Unshare(cleversim.KindUsers, id))
			}
			// Their contacts drop them too (the simulator leaves contacts' links as they were).
			for _, id := range all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "contact") }) {
				c := roles(record(t, h.data.Users, id))["contact"].(map[string]any)
				rels := c["student_relationships"].([]any)
				kept := slices.DeleteFunc(slices.Clone(rels), func(r any) bool { return gone[r.(map[string]any)["student"].(string)] })
				if len(kept) < len(rels) {
					h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"contact": map[string]any{"student_relationships": kept}}})))
				}
			}
			want := syncstats.Held{} // the open rows of the unshared users, which Clever's data no longer has
			for table, col := range memberTables {
				want[table] = heldRows(h, table, col, unshared)
				if len(want[table]) == 0 {
					t.Fatalf("no open %s of the unshared users: the test proves nothing", table)
				}
			}
			open := openMembers(h)

			res := h.sync(mirror.Options{})
			if res.Status != mirror.StatusHeld || len(res.Held["users"]) != len(unshared) {
				t.Fatalf("status %s, %d users held; want held, %d", res.Status, len(res.Held["users"]), len(unshared))
			}
			if res.Counts["sections"].Updated == 0 {
				t.Errorf("sections = %+v: the sections that lost the users were not updated", res.Counts["sections"])
			}
			checkHeld(t, res.HeldMemberships, want)
			run, err := h.db.Client.SyncRun.Get(ctx, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			checkHeld(t, run.HeldMemberships, want)
			if got := openMembers(h); !maps.Equal(got, open) {
				t.Errorf("open memberships after the held run = %v, want all %v kept", got, open)
			}
			if line := summaryLine(t, logs, res.RunID); line["held_memberships"] != float64(heldCount(want)) {
				t.Errorf("summary line held_memberships = %v, want %d", line["held_memberships"], heldCount(want))
			}
			checkUsersArchived(t, h, unshared, false)

			decide := res
			switch decision {
			case "reject":
				if _, err := h.engine.RejectHeld(ctx, res.RunID, "test:admin"); err != nil {
					t.Fatal(err)
				}
				if got := openMembers(h); !maps.Equal(got, open) {
					t.Errorf("open memberships after rejecting = %v, want all %v kept", got, open)
				}
				checkUsersArchived(t, h, unshared, false)
				fallthrough
			case "supersede":
				// Nothing changed in Clever since: the sections and contacts are unchanged, and still the
				// run holds what follows from the unshare again.
				decide = h.sync(mirror.Options{})
				if decide.Status != mirror.StatusHeld {
					t.Fatalf("later run: status %s %v, want held", decide.Status, decide.Errors)
				}
				if o := decide.Counts["sections"]; o.Updated != 0 || o.Unchanged != o.Read {
					t.Errorf("later run: sections = %+v, want all unchanged", o)
				}
				checkHeld(t, decide.HeldMemberships, want)
				if got := openMembers(h); !maps.Equal(got, open) {
					t.Errorf("open memberships after the later run = %v, want all %v kept", got, open)
				}
				if decision == "supersede" {
					got := h.rows("SELECT status FROM sync_runs WHERE id = ?", res.RunID)
					if got[0] != mirror.StatusSuperseded {
						t.Errorf("first held run %s, want superseded", got[0])
					}
				}
			}

			if _, err := h.engine.ApproveHeld(ctx, decide.RunID, "test:admin"); err != nil {
				t.Fatal(err)
			}
			checkUsersArchived(t, h, unshared, true)
			checkArchiveInvariants(t, h)
			for table := range memberTables {
				// Exactly the held rows ended, at the decision.
				ended := h.rows("SELECT m.id FROM "+table+" m JOIN sync_runs r ON r.id = ? WHERE m.ended_at = r.decided_at ORDER BY m.id", decide.RunID)
				if !slices.Equal(ended, want[table]) {
					t.Errorf("%s ended by the approval: %d rows, want the %d held", table, len(ended), len(want[table]))
				}
				if got := openMembers(h)[table]; got != open[table]-len(want[table]) {
					t.Errorf("%s open after approving: %d, want %d - %d", table, got, open[table], len(want[table]))
				}
			}

			// The next run holds nothing, changes nothing, and leaves no record marked.
			before := snapshot(t, h.db)
			next := h.mustSucceed()
			if len(next.HeldMemberships) != 0 || next.Counts["sections"].Updated != 0 || next.Counts["users"].Updated != 0 {
				t.Errorf("run after approving: held memberships %v, counts %+v", next.HeldMemberships, next.Counts)
			}
			after := snapshot(t, h.db)
			for _, table := range []string{"user_roles", "role_schools", "section_students", "section_teachers", "contact_relationships"} {
				if !slices.Equal(after[table], before[table]) {
					t.Errorf("run after approving changed %s", table)
				}
			}
			for _, table := range []string{"users", "sections"} {
				if got := h.rows("SELECT count(*) FROM " + table + " WHERE content_hash <> lower(content_hash)"); got[0] != "0" {
					t.Errorf("%s %s still marked as holding memberships", got[0], table)
				}
			}
		})
	}
}

// coTeacher returns a teacher who never teaches a section alone: Clever takes an unshared teacher out of
// a section's teachers, but keeps a sole teacher as the section's "teacher".
func coTeacher(t *testing.T, h *harness) string {
	t.Helper()
	alone := map[string]bool{}
	var teachers []string
	for _, raw := range h.data.Sections {
		var s struct{ Teachers []string }
		json.Unmarshal(raw, &s)
		if len(s.Teachers) == 1 {
			alone[s.Teachers[0]] = true
		}
		teachers = append(teachers, s.Teachers...)
	}
	for _, id := range teachers {
		if !alone[id] {
			return id
		}
	}
	t.Fatal("every teacher teaches a section alone")
	return ""
}

// heldRows lists the open rows of table whose col names one of users.
func heldRows(h *harness, table, col string, users []string) []string {
	var out []string
	in := map[string]bool{}
	for _, u := range users {
		in[u] = true
	}
	for _, r := range h.rows("SELECT id, " + col + " FROM " + table + " WHERE ended_at IS NULL ORDER BY id") {
		id, user, _ := strings.Cut(r, "|")
		if in[user] {
			out = append(out, id)
		}
	}
	return out
}

// openMembers counts the open rows of each membership table.
func openMembers(h *harness) map[string]int {
	out := map[string]int{}
	for table := range memberTables {
		n, err := strconv.Atoi(h.rows("SELECT count(*) FROM " + table + " WHERE ended_at IS NULL")[0])
		if err != nil {
			h.t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func checkHeld(t *testing.T, got, want syncstats.Held) {
	t.Helper()
	for table, ids := range want {
		if !slices.Equal(got[table], ids) {
			t.Errorf("held %s: %d rows %v, want %d", table, len(got[table]), got[table], len(ids))
		}
	}
	if len(got) != len(want) {
		t.Errorf("held memberships in %d tables, want %d: %v", len(got), len(want), slices.Collect(maps.Keys(got)))
	}
}

func heldCount(h syncstats.Held) int {
	n := 0
	for _, ids := range h {
		n += len(ids)
	}
	return n
}

// checkUsersArchived checks that the users, their roles and the roles' schools are all archived, or all
// active.
func checkUsersArchived(t *testing.T, h *harness, users []string, archived bool) {
	t.Helper()
	want := "0"
	if archived {
		want = "1"
	}
	for _, id := range users {
		got := normBools(h.rows(`SELECT DISTINCT u.archived_at IS NOT NULL, r.archived_at IS NOT NULL, rs.archived_at IS NOT NULL
			FROM users u JOIN user_roles r ON r.user_id = u.clever_id LEFT JOIN role_schools rs ON rs.role_id = r.id WHERE u.clever_id = ?`, id))
		for _, g := range got {
			if g != want+"|"+want+"|"+want && g != want+"|"+want+"|NULL" {
				t.Fatalf("user %s: user, role, role school archived = %s; want all %s", id, g, want)
			}
		}
	}
}

// summaryLine returns the "sync run" log line of run.
func summaryLine(t *testing.T, logs *testlog.Log, run string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "sync run" && m["run"] == run {
			return m
		}
	}
	t.Fatalf("no summary line for run %s", run)
	return nil
}
