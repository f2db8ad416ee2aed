package mirror_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

func TestFirstSyncThenNothingChanges(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	first := h.mustSucceed()
	want := map[string]int{"districts": 1, "schools": 4, "terms": 5, "courses": 40, "users": 360, "sections": 60}
	for kind, n := range want {
		if o := first.Counts[kind]; o.Read != n || o.Created != n {
			t.Errorf("first sync %s = %+v, want %d read and created", kind, o, n)
		}
	}
	if first.RunID == "" {
		t.Error("no run id")
	}
	second := h.mustSucceed()
	for kind, n := range want {
		if o := second.Counts[kind]; o != (syncstats.Outcome{Read: n, Unchanged: n}) {
			t.Errorf("second sync %s = %+v, want all %d unchanged", kind, o, n)
		}
	}
	// Rows were not rewritten: last_synced_at still says the first run.
	if got := h.rows("SELECT count(*) FROM users WHERE last_synced_at > ?", first.Finished); got[0] != "0" {
		t.Errorf("%s user rows rewritten by an unchanged sync", got[0])
	}
	// The run is recorded with its counts and the newest event id captured before it started.
	h.change(h.sim.Modify(cleversim.KindCourses, idOf(h.data.Courses[0]), patch(map[string]any{"number": "X9"})))
	latest, err := h.client.WithToken(clever.Token(h.sim.DistrictToken(h.districtID))).LatestEventID(context.Background())
	if err != nil || latest == "" {
		t.Fatalf("latest event: %q %v", latest, err)
	}
	third := h.mustSucceed()
	runs := h.rows("SELECT status, event_cursor FROM sync_runs WHERE id = ?", third.RunID)
	if len(runs) != 1 || runs[0] != "SUCCEEDED|"+latest {
		t.Errorf("recorded run = %v, want succeeded with cursor %s", runs, latest)
	}
	if third.Counts["courses"].Updated != 1 {
		t.Errorf("courses = %+v, want the modified course updated", third.Counts["courses"])
	}
	// Memberships: every section's students and teachers, primary first.
	if got := h.rows("SELECT count(*) FROM section_students WHERE ended_at IS NULL"); got[0] == "0" {
		t.Error("no enrollments")
	}
	sec := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["teachers"].([]any)) >= 2 })
	teachers := h.rows("SELECT user_id FROM section_teachers WHERE section_id = ? AND ended_at IS NULL ORDER BY position", sec["id"])
	if !slices.Equal(teachers, strs(sec["teachers"])) || teachers[0] != sec["teacher"] {
		t.Errorf("section teachers = %v, want %v with %v first", teachers, sec["teachers"], sec["teacher"])
	}
}

func TestUnshareAndReshareEveryType(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	student := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })["id"].(string)
	teacher := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "teacher") })["id"].(string)
	victims := []struct {
		kind  cleversim.Kind
		table string
		id    string
	}{
		{cleversim.KindSchools, "schools", record(t, h.data.Schools, pick(t, h.data.Schools, func(map[string]any) bool { return true })["id"].(string))["id"].(string)},
		{cleversim.KindTerms, "terms", pick(t, h.data.Terms, func(map[string]any) bool { return true })["id"].(string)},
		{cleversim.KindCourses, "courses", pick(t, h.data.Courses, func(map[string]any) bool { return true })["id"].(string)},
		{cleversim.KindUsers, "users", student},
		{cleversim.KindUsers, "users", teacher},
		{cleversim.KindSections, "sections", pick(t, h.data.Sections, func(map[string]any) bool { return true })["id"].(string)},
	}
	for _, v := range victims {
		h.change(h.sim.Unshare(v.kind, v.id))
	}
	res := h.mustSucceed()
	for _, v := range victims {
		if !h.archived(v.table, v.id) {
			t.Errorf("unshared %s %s not archived", v.table, v.id)
		}
	}
	if res.Counts["users"].Archived != 2 || res.Counts["sections"].Archived != 1 || res.Counts["terms"].Archived != 1 {
		t.Errorf("archived counts = %+v", res.Counts)
	}
	// The unshared student left its sections (Clever removes it from them): the enrollments ended, kept.
	ended := h.rows("SELECT count(*) FROM section_students WHERE user_id = ? AND ended_at IS NOT NULL", student)
	open := h.rows("SELECT count(*) FROM section_students WHERE user_id = ? AND ended_at IS NULL", student)
	if ended[0] == "0" || open[0] != "0" {
		t.Errorf("unshared student's enrollments: %s ended, %s open; want history kept and none open", ended[0], open[0])
	}

	for _, v := range victims {
		h.change(h.sim.Reshare(v.kind, v.id))
	}
	res = h.mustSucceed()
	for _, v := range victims {
		if h.archived(v.table, v.id) {
			t.Errorf("reshared %s %s still archived", v.table, v.id)
		}
	}
	if res.Counts["users"].Restored != 2 || res.Counts["schools"].Restored != 1 || res.Counts["courses"].Restored != 1 {
		t.Errorf("restored counts = %+v", res.Counts)
	}
	// Restored and re-linked: the student is in its sections again, with the earlier period kept.
	open = h.rows("SELECT count(*) FROM section_students WHERE user_id = ? AND ended_at IS NULL", student)
	if open[0] == "0" || open[0] != ended[0] {
		t.Errorf("reshared student: %s open enrollments, want the %s it had", open[0], ended[0])
	}
}

func TestTermRecreatedUnderNewID(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	sec := pick(t, h.data.Sections, func(m map[string]any) bool { return m["term_id"] != nil })
	old := sec["term_id"].(string)
	newID, err := h.sim.ReID(cleversim.KindTerms, old)
	h.change(err)
	res := h.mustSucceed()
	if !h.archived("terms", old) || h.archived("terms", newID) {
		t.Errorf("old term archived %v, new term archived %v; want true, false", h.archived("terms", old), h.archived("terms", newID))
	}
	if got := h.rows("SELECT term_id FROM sections WHERE clever_id = ?", sec["id"]); got[0] != newID {
		t.Errorf("section term = %s, want the new id %s", got[0], newID)
	}
	if res.Counts["terms"].Created != 1 || res.Counts["terms"].Archived != 1 {
		t.Errorf("terms = %+v", res.Counts["terms"])
	}
	// The course and section keep their history: nothing was deleted.
	if got := h.rows("SELECT count(*) FROM terms"); got[0] != "6" {
		t.Errorf("%s terms, want 6 (5 + the recreated one)", got[0])
	}
}

func TestStudentMovesSchoolAndSection(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	// A student of a middle school moves to another middle school and from one section to another.
	from := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["students"].([]any)) > 1 })
	to := pick(t, h.data.Sections, func(m map[string]any) bool { return m["school"] != from["school"] })
	student := strs(from["students"])[0]
	u := record(t, h.data.Users, student)
	oldSchool := roles(u)["student"].(map[string]any)["school"].(string)
	newSchool := to["school"].(string)
	h.change(h.sim.Modify(cleversim.KindUsers, student, patch(map[string]any{"roles": map[string]any{"student": map[string]any{
		"school": newSchool, "schools": []string{newSchool}}}})))
	h.change(h.sim.Modify(cleversim.KindSections, from["id"].(string), patch(map[string]any{"students": slices.DeleteFunc(strs(from["students"]), func(s string) bool { return s == student })})))
	h.change(h.sim.Modify(cleversim.KindSections, to["id"].(string), patch(map[string]any{"students": append(strs(to["students"]), student)})))
	h.mustSucceed()

	enrollments := h.rows("SELECT section_id, ended_at IS NULL FROM section_students WHERE user_id = ? AND section_id IN (?, ?) ORDER BY started_at", student, from["id"], to["id"])
	want := []string{from["id"].(string) + "|false", to["id"].(string) + "|true"}
	if len(enrollments) != 2 || (enrollments[0] != want[0] && enrollments[0] != from["id"].(string)+"|0") || (enrollments[1] != want[1] && enrollments[1] != to["id"].(string)+"|1") {
		t.Errorf("enrollments = %v, want the old one ended and the new one open", enrollments)
	}
	schools := h.rows("SELECT school_id, ended_at IS NULL FROM role_schools WHERE role_id = ? ORDER BY ended_at IS NULL", student+"/student")
	if len(schools) < 2 || schools[0][:24] != oldSchool || schools[len(schools)-1][:24] != newSchool {
		t.Errorf("school memberships = %v, want %s ended and %s open", schools, oldSchool, newSchool)
	}
	if got := h.rows("SELECT school_id FROM user_roles WHERE id = ?", student+"/student"); got[0] != newSchool {
		t.Errorf("primary school = %v, want %s", got, newSchool)
	}
}

func TestCoTeachersAddedAndRemoved(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	sec := pick(t, h.data.Sections, func(m map[string]any) bool { return len(m["teachers"].([]any)) == 1 })
	primary := sec["teacher"].(string)
	var co []string
	for len(co) < 2 {
		u := pick(t, h.data.Users, func(m map[string]any) bool {
			return hasRole(m, "teacher") && m["id"] != primary && !slices.Contains(co, m["id"].(string))
		})
		co = append(co, u["id"].(string))
	}
	id := sec["id"].(string)
	h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"teachers": []string{primary, co[0], co[1]}})))
	h.mustSucceed()
	open := h.rows("SELECT user_id, position FROM section_teachers WHERE section_id = ? AND ended_at IS NULL ORDER BY position", id)
	if !slices.Equal(open, []string{primary + "|0", co[0] + "|1", co[1] + "|2"}) {
		t.Errorf("teachers = %v", open)
	}
	// Remove the first co-teacher: the second moves up.
	h.change(h.sim.Modify(cleversim.KindSections, id, patch(map[string]any{"teachers": []string{primary, co[1]}})))
	h.mustSucceed()
	open = h.rows("SELECT user_id, position FROM section_teachers WHERE section_id = ? AND ended_at IS NULL ORDER BY position", id)
	if !slices.Equal(open, []string{primary + "|0", co[1] + "|1"}) {
		t.Errorf("teachers after removal = %v", open)
	}
	if got := h.rows("SELECT count(*) FROM section_teachers WHERE section_id = ? AND user_id = ? AND ended_at IS NOT NULL", id, co[0]); got[0] != "1" {
		t.Errorf("removed co-teacher's history rows = %s, want 1", got[0])
	}
}

func TestUserGainsAndLosesRole(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	u := pick(t, h.data.Users, func(m map[string]any) bool { return hasRole(m, "teacher") && len(roles(m)) == 1 })
	id := u["id"].(string)
	school := roles(u)["teacher"].(map[string]any)["school"].(string)
	staff := map[string]any{"staff_id": "S-1", "title": "Coach", "department": "Athletics", "schools": []string{school}, "roles": []string{"Coach"}}
	h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"staff": staff}})))
	h.mustSucceed()
	got := h.rows("SELECT role, archived_at IS NULL, title, department FROM user_roles WHERE user_id = ? ORDER BY role", id)
	if len(got) != 2 || (got[0] != "STAFF|true|Coach|Athletics" && got[0] != "STAFF|1|Coach|Athletics") {
		t.Fatalf("roles after gaining staff = %v", got)
	}
	h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"staff": nil}})))
	h.mustSucceed()
	got = h.rows("SELECT role, archived_at IS NULL FROM user_roles WHERE user_id = ? ORDER BY role", id)
	if len(got) != 2 || (got[0] != "STAFF|false" && got[0] != "STAFF|0") {
		t.Errorf("roles after losing staff = %v, want staff archived and teacher kept", got)
	}
	if g := h.rows("SELECT count(*) FROM role_schools WHERE role_id = ? AND ended_at IS NULL", id+"/staff"); g[0] != "0" {
		t.Errorf("lost role still has %s open schools", g[0])
	}
	// Regained: the same role row comes back.
	h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"staff": staff}})))
	h.mustSucceed()
	if g := h.rows("SELECT count(*) FROM user_roles WHERE id = ? AND archived_at IS NULL", id+"/staff"); g[0] != "1" {
		t.Errorf("regained role not restored")
	}
}

func TestMissingOptionalFieldsAndDanglingReferences(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	school := pick(t, h.data.Schools, func(map[string]any) bool { return true })["id"].(string)
	ghost := "5f0000000000000000000001" // a student Clever has not shared (yet)
	// A section with nothing but the guaranteed fields, naming a student the mirror does not have.
	bare := map[string]any{"id": "5f00000000000000000000aa", "district": h.districtID, "school": school,
		"name": "", "sis_id": "X1", "students": []string{ghost}, "teachers": []string{}, "created": "2023-01-01T00:00:00.000Z",
		"last_modified": "2023-01-01T00:00:00.000Z", "subject": ""}
	h.change(h.sim.Put(cleversim.KindSections, patch(bare)))
	res := h.mustSucceed()
	if res.Counts["sections"].Created != 1 {
		t.Fatalf("sections = %+v", res.Counts["sections"])
	}
	if got := h.rows("SELECT term_id, course_id, period, grade FROM sections WHERE clever_id = ?", bare["id"]); got[0] != "NULL|NULL||" {
		t.Errorf("optional columns = %v", got)
	}
	if got := h.rows("SELECT user_id FROM section_students WHERE section_id = ? AND ended_at IS NULL", bare["id"]); !slices.Equal(got, []string{ghost}) {
		t.Errorf("dangling enrollment = %v, want kept", got)
	}
	// Through ent the edge leads nowhere yet…
	ctx := context.Background()
	n, err := h.db.Client.SectionStudent.Query().Where().QueryUser().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// …and resolves by itself once Clever shares the student.
	student := map[string]any{"id": ghost, "district": h.districtID, "name": map[string]any{"first": "Late", "last": "Arrival"},
		"created": "2023-01-01T00:00:00.000Z", "last_modified": "2023-01-01T00:00:00.000Z",
		"roles": map[string]any{"student": map[string]any{"school": school, "schools": []string{school}, "sis_id": "999", "enrollments": []any{}}}}
	h.change(h.sim.Put(cleversim.KindUsers, patch(student)))
	h.mustSucceed()
	n2, err := h.db.Client.SectionStudent.Query().QueryUser().Count(ctx)
	if err != nil || n2 != n+1 {
		t.Errorf("enrolled users reachable: %d then %d (%v); want one more once the student arrived", n, n2, err)
	}
}

func TestDistrictDisconnected(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	before := snapshot(t, h.db)
	h.change(h.sim.RemoveDistrict(h.districtID)) // the district disconnects the app: its token answers 401
	res := h.sync(mirror.Options{})
	if res.Status != mirror.StatusFailed || len(res.Errors) == 0 {
		t.Fatalf("status %s errors %v, want failed", res.Status, res.Errors)
	}
	if err := res.Err(); err == nil {
		t.Error("Err() = nil for a failed run")
	}
	if !errors.Is(h.tokens.revoked[h.districtID], clever.ErrUnauthorized) {
		t.Errorf("token not reported revoked: %v", h.tokens.revoked)
	}
	// Nothing archived: the records wait for an admin's decision.
	sameSnapshot(t, snapshot(t, h.db), before)
}

func TestPartialReadArchivesNothing(t *testing.T) {
	t.Parallel()
	h := setup(t, options{client: clever.Config{PageLimit: 50, MaxAttempts: 1}, engine: mirror.Config{BatchSize: 50}})
	h.mustSucceed()
	before := snapshot(t, h.db)
	unshared := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })["id"].(string)
	h.change(h.sim.Unshare(cleversim.KindUsers, unshared))
	opts := mirror.Options{Progress: func(p mirror.Progress) {
		if p.Kind == "users" && p.Read == 50 && !p.Done {
			h.sim.SetFaults(cleversim.Faults{Seed: 1, ErrorRate: 1}) // every later page fails
		}
		if p.Kind == "users" && p.Done {
			h.sim.SetFaults(cleversim.Faults{})
		}
	}}
	res := h.sync(opts)
	// Read part-way: the page being written plus the one prefetched, then the failure.
	if n := res.Counts["users"].Read; res.Status != mirror.StatusFailed || n == 0 || n >= 360 {
		t.Fatalf("status %s users %+v errors %v", res.Status, res.Counts["users"], res.Errors)
	}
	if h.archived("users", unshared) {
		t.Error("a partial users read archived a user")
	}
	after := snapshot(t, h.db)
	if !slices.Equal(after["users"], before["users"]) || !slices.Equal(after["user_roles"], before["user_roles"]) {
		t.Error("a partial users read changed users")
	}
	// The types read in full still moved forward (sections lost the unshared student).
	if res.Counts["sections"].Updated == 0 {
		t.Errorf("sections = %+v, want the sections that lost the student updated", res.Counts["sections"])
	}
}

func TestMassArchiveGuard(t *testing.T) {
	t.Parallel()
	for _, approve := range []bool{true, false} {
		h := setup(t, options{})
		h.mustSucceed()
		var ids []string
		for i := range 15 { // 15 of 60 sections: 25% > 20%, and over the minimum of 10
			ids = append(ids, idOf(h.data.Sections[i]))
			h.change(h.sim.Unshare(cleversim.KindSections, ids[i]))
		}
		newTerm := map[string]any{"id": "5f00000000000000000000bb", "district": h.districtID, "name": "Summer", "start_date": "2024-06-01", "end_date": "2024-08-01"}
		h.change(h.sim.Put(cleversim.KindTerms, patch(newTerm)))
		res := h.sync(mirror.Options{})
		if res.Status != mirror.StatusHeld || res.Counts["sections"].Held != 15 || len(res.Held["sections"]) != 15 {
			t.Fatalf("status %s sections %+v held %d", res.Status, res.Counts["sections"], len(res.Held["sections"]))
		}
		if len(res.HeldMemberships) != 0 { // unshared sections are not read: their memberships are untouched
			t.Errorf("held memberships %v, want none when only sections are held", res.HeldMemberships)
		}
		for _, id := range ids {
			if h.archived("sections", id) {
				t.Fatalf("held section %s archived", id)
			}
		}
		// Everything else was applied.
		if h.archived("terms", newTerm["id"].(string)) || res.Counts["terms"].Created != 1 {
			t.Errorf("the new term was not applied alongside the held archives: %+v", res.Counts["terms"])
		}
		var decided mirror.Result
		var err error
		if approve {
			decided, err = h.engine.ApproveHeld(context.Background(), res.RunID, "test:admin")
		} else {
			decided, err = h.engine.RejectHeld(context.Background(), res.RunID, "test:admin")
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if h.archived("sections", id) != approve {
				t.Errorf("approve=%v: section %s archived = %v", approve, id, !approve)
			}
		}
		if got := h.rows("SELECT status, decided_by FROM sync_runs WHERE id = ?", res.RunID); got[0] != decided.Status+"|test:admin" {
			t.Errorf("run after decision = %v", got)
		}
		if _, err := h.engine.ApproveHeld(context.Background(), res.RunID, "x"); !errors.Is(err, mirror.ErrRunNotHeld) {
			t.Errorf("deciding twice: %v, want ErrRunNotHeld", err)
		}
	}
	// A later run supersedes a held one.
	h := setup(t, options{})
	h.mustSucceed()
	for i := range 15 {
		h.change(h.sim.Unshare(cleversim.KindSections, idOf(h.data.Sections[i])))
	}
	held := h.sync(mirror.Options{})
	h.sync(mirror.Options{})
	if _, err := h.engine.ApproveHeld(context.Background(), held.RunID, "x"); !errors.Is(err, mirror.ErrRunSuperseded) {
		t.Errorf("approving a superseded run: %v", err)
	}
	if _, err := h.engine.ApproveHeld(context.Background(), "nope", "x"); !errors.Is(err, mirror.ErrRunNotFound) {
		t.Errorf("approving an unknown run: %v", err)
	}
}

// TestFailedRunKeepsHeldDecision: a run that fails before it could read the district (a token outage, a
// token refused) made no decision of its own, so the held run before it can still be approved; a run
// that read the district and succeeded supersedes it.
func TestFailedRunKeepsHeldDecision(t *testing.T) {
	t.Parallel()
	for _, later := range []string{"token outage", "token refused", "succeeded"} {
		h := setup(t, options{})
		h.mustSucceed()
		var ids []string
		for i := range 15 {
			ids = append(ids, idOf(h.data.Sections[i]))
			h.change(h.sim.Unshare(cleversim.KindSections, ids[i]))
		}
		held := h.sync(mirror.Options{})
		if held.Status != mirror.StatusHeld {
			t.Fatalf("status %s, want held", held.Status)
		}
		want := mirror.StatusFailed
		switch later {
		case "token outage":
			h.tokens.err = errors.New("Clever token listing unavailable")
		case "token refused":
			h.change(h.sim.RemoveDistrict(h.districtID)) // its token answers 401
		case "succeeded":
			for _, id := range ids {
				h.change(h.sim.Reshare(cleversim.KindSections, id))
			}
			want = mirror.StatusSucceeded
		}
		if res := h.sync(mirror.Options{}); res.Status != want {
			t.Fatalf("%s: status %s %v, want %s", later, res.Status, res.Errors, want)
		}
		_, err := h.engine.ApproveHeld(context.Background(), held.RunID, "test:admin")
		status := h.rows("SELECT status FROM sync_runs WHERE id = ?", held.RunID)[0]
		if later == "succeeded" {
			if !errors.Is(err, mirror.ErrRunSuperseded) || status != mirror.StatusSuperseded {
				t.Errorf("%s: approving the held run: %v, run %s; want ErrRunSuperseded", later, err, status)
			}
		} else if err != nil || status != mirror.StatusApproved {
			t.Errorf("%s: approving the held run: %v, run %s; want it approved", later, err, status)
		}
	}
}

// changeEverything changes records of every type in a way that can be replayed on another simulator.
func changeEverything(h *harness) {
	h.change(h.sim.Unshare(cleversim.KindUsers, idOf(h.data.Users[5])))
	h.change(h.sim.Unshare(cleversim.KindCourses, idOf(h.data.Courses[2])))
	h.change(h.sim.Modify(cleversim.KindSections, idOf(h.data.Sections[3]), patch(map[string]any{"period": "7"})))
	h.change(h.sim.Modify(cleversim.KindSchools, idOf(h.data.Schools[1]), patch(map[string]any{"phone": "555-0100"})))
	h.change(h.sim.Put(cleversim.KindTerms, patch(map[string]any{"id": "5f00000000000000000000cc", "district": h.districtID, "name": "Q5"})))
}

func TestKilledRunThenRerunConvergesToCleanRun(t *testing.T) {
	t.Parallel()
	// The reference: the same history without a kill.
	ref := setup(t, options{})
	ref.mustSucceed()
	changeEverything(ref)
	ref.mustSucceed()
	want := snapshot(t, ref.db)
	for _, killAt := range []string{"schools", "users", "sections"} {
		h := setup(t, options{client: clever.Config{PageLimit: 40}, engine: mirror.Config{BatchSize: 40}})
		h.mustSucceed()
		changeEverything(h)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := h.engine.SyncDistrict(ctx, h.districtID, mirror.Options{Progress: func(p mirror.Progress) {
			if p.Kind == killAt && p.Read > 0 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("killed at %s: err = %v, want context.Canceled", killAt, err)
		}
		h.mustSucceed()
		got := snapshot(t, h.db)
		for table := range want {
			if !slices.Equal(got[table], want[table]) {
				t.Errorf("killed at %s: %s differs from an uninterrupted history", killAt, table)
			}
		}
		if running := h.rows("SELECT id FROM sync_runs WHERE status = 'RUNNING'"); len(running) != 0 {
			t.Errorf("killed run left as running: %v", running)
		}
	}
}

func TestFaultyRunEqualsCleanRun(t *testing.T) {
	t.Parallel()
	clean := setup(t, options{client: clever.Config{PageLimit: 30}})
	clean.mustSucceed()
	logger, faultLog := testlog.New(t)
	faulty := setup(t, options{client: clever.Config{PageLimit: 10}, // ~60 requests: every kind of fault occurs
		simConfig: cleversim.Config{Faults: cleversim.Faults{Seed: 11, ErrorRate: 0.10, RateLimitRate: 0.05, CutRate: 0.05},
			Logger: logger}})
	faulty.mustSucceed()
	sameSnapshot(t, snapshot(t, faulty.db), snapshot(t, clean.db))
	for _, kind := range []string{"server error", "rate limit storm", "connection cut"} {
		if !strings.Contains(faultLog.String(), `"fault":"`+kind+`"`) {
			t.Errorf("no %q was injected: the test proves nothing", kind)
		}
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	res := h.sync(mirror.Options{DryRun: true})
	if res.Status != mirror.StatusSucceeded || res.Counts["users"].Created != 360 || res.RunID != "" {
		t.Fatalf("dry run = %s %+v run %q", res.Status, res.Counts["users"], res.RunID)
	}
	if got := res.Plan["users"]["created"]; len(got) != mirror.PlanSamples || !strings.HasPrefix(got[0], "6437391f") {
		t.Errorf("the plan's sample users = %v, want %d Clever ids", got, mirror.PlanSamples)
	}
	for _, table := range []string{"districts", "users", "sections", "user_roles", "section_students", "sync_runs"} {
		if got := h.rows("SELECT count(*) FROM " + table); got[0] != "0" {
			t.Errorf("dry run wrote %s rows to %s", got[0], table)
		}
	}
}

// TestOneRunPerDistrictAtATime: while a run syncs the district, another engine may not. On Postgres the
// other engine is another replica — its own connection pool to the same database — so only the advisory
// lock can refuse it. On SQLite (one process per database file) it shares the first engine's *store.DB,
// and the in-process lock refuses it.
func TestOneRunPerDistrictAtATime(t *testing.T) {
	t.Parallel()
	o := options{client: clever.Config{PageLimit: 20}, engine: mirror.Config{BatchSize: 20}}
	if dbtest.Postgres() {
		o.dbURL = dbtest.URL(t)
	}
	h := setup(t, o)
	otherDB := h.db // SQLite: the in-process lock
	if dbtest.Postgres() {
		otherDB = openDB(t, o.dbURL) // Postgres: the advisory lock
	}
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan mirror.Result)
	go func() {
		res, _ := h.engine.SyncDistrict(context.Background(), h.districtID, mirror.Options{Progress: func(p mirror.Progress) {
			if p.Kind == "users" && p.Read == 20 {
				close(started)
				<-release
			}
		}})
		done <- res
	}()
	select {
	case <-started:
	case res := <-done:
		t.Fatalf("first run ended before it could be held: %s %v", res.Status, res.Errors)
	}
	other, err := mirror.New(mirror.Config{DB: otherDB, Reader: func(tok clever.Token) mirror.Reader { return h.client.WithToken(tok) }, Tokens: h.tokens})
	if err != nil {
		t.Fatal(err)
	}
	// Refused at once; without the lock it would block on the first run's rows until ctx expires.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := other.SyncDistrict(ctx, h.districtID, mirror.Options{}); !errors.Is(err, mirror.ErrBusy) {
		t.Errorf("concurrent sync: err = %v, want ErrBusy", err)
	}
	close(release)
	if res := <-done; res.Status != mirror.StatusSucceeded {
		t.Errorf("first run: %s %v", res.Status, res.Errors)
	}
	// Once the first run is over, the other engine may sync the district.
	if res, err := other.SyncDistrict(context.Background(), h.districtID, mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Errorf("sync after the first run: %v %s %v", err, res.Status, res.Errors)
	}
}

func idOf(raw []byte) string {
	var head struct{ ID string }
	json.Unmarshal(raw, &head)
	return head.ID
}
