package progress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// syncer is the engine as the commands run it: with the SIS-id aliases after each run.
func (e *env) syncAliased() mirror.Result {
	e.t.Helper()
	res, err := e.svc.Syncer(e.engine).SyncDistrict(context.Background(), e.district, mirror.Options{Trigger: "test"})
	if err != nil || res.Status != mirror.StatusSucceeded {
		e.t.Fatalf("sync: %v %v %v", err, res.Status, res.Errors)
	}
	return res
}

// simUser is the simulator's user record, decoded.
func (e *env) simUser(id string) map[string]any {
	e.t.Helper()
	for _, raw := range e.sim.Snapshot().Users {
		var m map[string]any
		e.must(json.Unmarshal(raw, &m))
		if m["id"] == id {
			return m
		}
	}
	e.t.Fatalf("no user %s in the simulator", id)
	return nil
}

func (e *env) sisID(student string) string {
	e.t.Helper()
	sis, _ := e.simUser(student)["roles"].(map[string]any)["student"].(map[string]any)["sis_id"].(string)
	if sis == "" {
		e.t.Fatalf("student %s has no SIS id in the simulator", student)
	}
	return sis
}

func (e *env) setSIS(student, sis string) {
	e.t.Helper()
	e.must(e.sim.Modify(cleversim.KindUsers, student, mustJSON(map[string]any{"roles": map[string]any{"student": map[string]any{"sis_id": sis}}})))
}

// students are n students of the demo, shared now, each with a current enrollment.
func (e *env) students(n int) []string {
	e.t.Helper()
	ids := e.col(`SELECT DISTINCT ss.user_id FROM section_students ss JOIN user_roles r ON r.id = ss.user_id || '/student'
		WHERE ss.ended_at IS NULL ORDER BY ss.user_id`)
	if len(ids) < n {
		e.t.Fatalf("%d students in the demo, want %d", len(ids), n)
	}
	return ids[:n]
}

// aliases lists the aliases as "former>current/method".
func (e *env) aliases() string {
	e.t.Helper()
	return strings.Join(e.col(`SELECT former_clever_id || '>' || clever_id || '/' || method FROM clever_id_aliases ORDER BY former_clever_id`), ",")
}

// TestSyncAliasesReIDedStudent: Clever re-IDs a student who has progress (the old id is unshared, a new
// one with the same SIS id appears); the sync's alias step links them, and the old id's progress reads
// under the new one, counted as one student.
func TestSyncAliasesReIDedStudent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	at := time.Now().UTC()
	if _, err := e.svc.Record(e.ctx, inputs(student, 2, at)); err != nil {
		t.Fatal(err)
	}
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	res := e.syncAliased()
	if u := res.Counts["users"]; u.Created != 1 || u.Archived != 1 {
		t.Fatalf("the re-ID's sync: users %+v, want 1 created and 1 archived", u)
	}
	if got, want := e.aliases(), student+">"+newID+"/SIS_ID"; got != want {
		t.Fatalf("aliases %q, want %q", got, want)
	}
	if got := e.visible(newID, false); got != "lesson-0,lesson-1" {
		t.Errorf("progress by the new id: %q", got)
	}
	if cur, _ := progress.CurrentID(context.Background(), e.db.Client, student); cur != newID {
		t.Errorf("current id of the old id: %s, want %s", cur, newID)
	}
	// New work under the new id: still one student.
	if _, err := e.svc.Record(e.ctx, []progress.Input{{StudentCleverID: newID, ActivityID: "after-reid", Kind: progressrecord.KindCOMPLETED, CompletedAt: at.Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.svc.Summary(e.ctx, e.district, progress.ByDistrict, false)
	if err != nil || len(rows) != 1 || rows[0].Records != 3 || rows[0].Students != 1 {
		t.Errorf("summary: %+v %v, want 3 records of 1 student", rows, err)
	}
	// Idempotent: nothing more to link.
	if n, err := e.svc.AliasReIDedStudents(context.Background(), e.district); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}
	// An admin's unlink stands: the sync does not link them again.
	if _, err := e.svc.UnlinkFormerCleverID(e.ctx, student); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.AliasReIDedStudents(context.Background(), e.district); err != nil || n != 0 || e.aliases() != "" {
		t.Errorf("after an unlink: %d %v, aliases %q", n, err, e.aliases())
	}
}

// TestSyncAliasAmbiguous: the SIS id does not say who — two archived students have it, two shared
// students have it, or the old id is shared again — and the sync links nobody; in the same district a
// plain re-ID is linked.
func TestSyncAliasAmbiguous(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ids := e.students(7)
	a, b, c, d, old, plain := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]

	// Two archived students with the SIS id of the new one.
	e.setSIS(b, e.sisID(a))
	e.syncAliased()
	e.must(e.sim.Unshare(cleversim.KindUsers, b))
	e.syncAliased()
	newA, err := e.sim.ReID(cleversim.KindUsers, a)
	e.must(err)
	// Two shared students with the SIS id of the archived one.
	sisC := e.sisID(c)
	newC, err := e.sim.ReID(cleversim.KindUsers, c)
	e.must(err)
	e.setSIS(d, sisC)
	// The old id shared again beside a new one with its SIS id.
	rec := e.simUser(old)
	e.must(e.sim.Unshare(cleversim.KindUsers, old))
	e.syncAliased()
	rec["id"] = "64373a0000000000000aa001"
	rec["created"], rec["last_modified"] = "2026-09-01T12:00:00.000Z", "2026-09-01T12:00:00.000Z"
	e.must(e.sim.Put(cleversim.KindUsers, mustJSON(rec)))
	e.must(e.sim.Reshare(cleversim.KindUsers, old))
	// A plain re-ID, linked.
	newPlain, err := e.sim.ReID(cleversim.KindUsers, plain)
	e.must(err)
	e.syncAliased()

	if got, want := e.aliases(), plain+">"+newPlain+"/SIS_ID"; got != want {
		t.Errorf("aliases %q, want only %q (ambiguous: %s/%s→%s, %s→%s/%s, %s shared again)", got, want, a, b, newA, c, newC, d, old)
	}
	if n, err := e.svc.AliasReIDedStudents(context.Background(), e.district); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}
}

// progressRows is every column of every progress record, as the database returns it.
func (e *env) progressRows() string {
	e.t.Helper()
	rows, err := e.db.SQL.QueryContext(context.Background(), `SELECT * FROM progress_records ORDER BY id`)
	e.must(err)
	defer rows.Close()
	cols, err := rows.Columns()
	e.must(err)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		e.must(rows.Scan(ptrs...))
		var f []string
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			f = append(f, fmt.Sprintf("%s=%v", cols[i], v))
		}
		out = append(out, strings.Join(f, " "))
	}
	e.must(rows.Err())
	if len(out) == 0 {
		e.t.Fatal("no progress records")
	}
	return strings.Join(out, "\n")
}

// TestProgressSurvivesSchoolMove: a student moves to another school in Clever (the role's school, and
// out of their section into one of the new school). Their progress keeps the school and section of the
// time of the work; work done after the move goes to the new school.
func TestProgressSurvivesSchoolMove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, sec, _ := e.enrolled()
	fromSchool := e.col(`SELECT school_id FROM sections WHERE clever_id = '` + sec + `'`)[0]
	to := e.col(`SELECT clever_id || '|' || school_id FROM sections WHERE school_id <> '` + fromSchool + `' AND term_id IS NOT NULL ORDER BY clever_id LIMIT 1`)
	if len(to) == 0 {
		t.Fatal("the demo has one school")
	}
	f := strings.Split(to[0], "|")
	toSec, toSchool := f[0], f[1]
	at := time.Now().UTC()
	if _, err := e.svc.Record(e.ctx, inputs(student, 2, at)); err != nil {
		t.Fatal(err)
	}
	if got := e.col(`SELECT DISTINCT school_id || '|' || section_id FROM progress_records`); len(got) != 1 || got[0] != fromSchool+"|"+sec {
		t.Fatalf("progress resolved to %v, want %s|%s", got, fromSchool, sec)
	}
	before := e.progressRows()

	var from, dest struct{ Students []string }
	e.sectionStudents(sec, &from)
	e.sectionStudents(toSec, &dest)
	var keep []string
	for _, s := range from.Students {
		if s != student {
			keep = append(keep, s)
		}
	}
	e.must(e.sim.Modify(cleversim.KindSections, sec, mustJSON(map[string]any{"students": keep})))
	e.must(e.sim.Modify(cleversim.KindSections, toSec, mustJSON(map[string]any{"students": append(dest.Students, student)})))
	e.must(e.sim.Modify(cleversim.KindUsers, student, mustJSON(map[string]any{"roles": map[string]any{"student": map[string]any{"school": toSchool, "schools": []string{toSchool}}}})))
	e.syncAliased()
	if got := e.col(`SELECT school_id FROM user_roles WHERE id = '` + student + `/student'`); got[0] != toSchool {
		t.Fatalf("the move did not reach the mirror: school %v, want %s", got, toSchool)
	}
	if after := e.progressRows(); after != before {
		t.Errorf("the school move changed progress:\n%s\nwant:\n%s", after, before)
	}
	if got := e.visible(student, false); got != "lesson-0,lesson-1" {
		t.Errorf("visible after the move: %q", got)
	}
	if _, err := e.svc.Record(e.ctx, []progress.Input{{StudentCleverID: student, ActivityID: "after-move", Kind: progressrecord.KindCOMPLETED, CompletedAt: time.Now().UTC().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if got := e.col(`SELECT school_id || '|' || section_id FROM progress_records WHERE activity_id = 'after-move'`); got[0] != toSchool+"|"+toSec {
		t.Errorf("work after the move credited to %v, want %s|%s", got, toSchool, toSec)
	}
	rows, err := e.svc.Summary(e.ctx, e.district, progress.BySchool, false)
	got := map[string]int{}
	for _, r := range rows {
		got[*r.ID] = r.Records
	}
	if err != nil || len(got) != 2 || got[fromSchool] != 2 || got[toSchool] != 1 {
		t.Errorf("summary by school: %v %v, want 2 at %s and 1 at %s", got, err, fromSchool, toSchool)
	}
}

// TestProgressSurvivesRelink: the district is unlinked from its organization and linked again
// (unlinkDistrict, linkDistrict), and disconnected from the app in Clever and connected again (its token
// gone meanwhile: the sync fails). Progress is byte-identical throughout and reads as before.
func TestProgressSurvivesRelink(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	if _, err := e.svc.Record(e.ctx, inputs(student, 3, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	want := e.progressRows()
	check := func(step string) {
		t.Helper()
		if got := e.progressRows(); got != want {
			t.Errorf("%s: progress changed:\n%s\nwant:\n%s", step, got, want)
		}
		if got := e.visible(student, false); got != "lesson-0,lesson-1,lesson-2" {
			t.Errorf("%s: visible %q", step, got)
		}
	}
	ctx := context.Background()
	links := link.New(link.Config{DB: e.db})
	org, err := e.db.Client.Organization.Create().SetExternalID("org-1").SetName("Demo customer").SetMdrNumber("").SetState("NY").SetEmailDomains([]string{}).Save(ctx)
	e.must(err)
	sync := func(step string, wantOK bool) {
		t.Helper()
		res, err := links.Syncer(e.svc.Syncer(e.engine)).SyncDistrict(ctx, e.district, mirror.Options{Mode: mirror.ModeFull, Trigger: "test"})
		if ok := err == nil && res.Status == mirror.StatusSucceeded; ok != wantOK {
			t.Fatalf("%s: sync %v %v %v, want success %v", step, err, res.Status, res.Errors, wantOK)
		}
	}
	if _, err := links.LinkDistrict(e.ctx, e.district, org.ID); err != nil {
		t.Fatal(err)
	}
	sync("linked", true)
	if _, err := links.UnlinkDistrict(e.ctx, e.district); err != nil {
		t.Fatal(err)
	}
	sync("unlinked", true)
	check("unlinked")

	// Disconnected in Clever: the token answers no more, the district's records are gone from the API.
	snap := e.sim.Snapshot()
	snap.Events = nil
	e.must(e.sim.RemoveDistrict(e.district))
	sync("disconnected", false)
	check("disconnected")
	e.must(e.sim.AddDistrict(snap))
	sync("reconnected", true)
	if _, err := links.LinkDistrict(e.ctx, e.district, org.ID); err != nil {
		t.Fatal(err)
	}
	sync("relinked", true)
	check("relinked")
	if n := e.col(`SELECT COUNT(*) FROM users WHERE archived_at IS NOT NULL`); n[0] != "0" {
		t.Errorf("%s users archived after the reconnection", n[0])
	}
}

// TestAliasAfterApprovedHeldRun: a re-ID arrives in a run the guard holds (many students unshared at
// once): the former id is not archived yet, so no alias; when an admin approves the run, its archives
// are applied and AfterApproval links the re-IDed student.
func TestAliasAfterApprovedHeldRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	var total int
	fmt.Sscan(e.col(`SELECT COUNT(*) FROM users`)[0], &total)
	unshared := 0
	for _, id := range e.col(`SELECT user_id FROM user_roles WHERE role = 'STUDENT' AND user_id <> '` + student + `' ORDER BY user_id`) {
		if unshared > total/3 {
			break
		}
		e.must(e.sim.Unshare(cleversim.KindUsers, id))
		unshared++
	}
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	res, err := e.svc.Syncer(e.engine).SyncDistrict(context.Background(), e.district, mirror.Options{Trigger: "test"})
	if err != nil || res.Status != mirror.StatusHeld || !contains(res.Held["users"], student) {
		t.Fatalf("the sync: %v %s, held %d users; want the re-IDed student's old id held", err, res.Status, len(res.Held["users"]))
	}
	if got := e.aliases(); got != "" {
		t.Fatalf("aliases before the approval: %q", got)
	}
	approved, err := e.engine.ApproveHeld(context.Background(), res.RunID, "test:admin")
	e.must(err)
	e.svc.AfterApproval(context.Background(), approved)
	if got, want := e.aliases(), student+">"+newID+"/SIS_ID"; got != want {
		t.Errorf("aliases after the approval %q, want %q", got, want)
	}
}
