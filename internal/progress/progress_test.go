package progress_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// env is the simulator's demo district synced into a database of its own, and the progress service.
type env struct {
	t        *testing.T
	ctx      context.Context // an admin key's
	sim      *cleversim.Server
	db       *store.DB
	engine   *mirror.Engine
	district string
	svc      *progress.Service
}

type simTokens struct{ sim *cleversim.Server }

func (s simTokens) Token(_ context.Context, id string) (clever.Token, error) {
	return clever.Token(s.sim.DistrictToken(id)), nil
}
func (simTokens) Used(context.Context, string) error           { return nil }
func (simTokens) Revoked(context.Context, string, error) error { return nil }

func setup(t *testing.T) *env {
	t.Helper()
	data := synth.Demo()
	sim, err := cleversim.New(cleversim.Config{Dataset: data, Now: func() time.Time { return time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := clever.New(clever.Config{APIURL: srv.URL, OAuthURL: srv.URL, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	db := dbtest.New(t)
	e, err := mirror.New(mirror.Config{DB: db, Reader: func(tok clever.Token) mirror.Reader { return c.WithToken(tok) }, Tokens: simTokens{sim}})
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ ID string }
	json.Unmarshal(data.Districts[0], &head)
	ctx := auth.WithKey(context.Background(), auth.Key{ID: "0123456789abcdef0123456789abcdef", Name: "analytics", Scopes: []auth.Scope{auth.ScopeAdmin}})
	en := &env{t: t, ctx: ctx, sim: sim, db: db, engine: e, district: head.ID, svc: progress.New(db)}
	en.sync()
	return en
}

func (e *env) sync() {
	e.t.Helper()
	res, err := e.engine.SyncDistrict(context.Background(), e.district, mirror.Options{Mode: mirror.ModeFull})
	if err != nil || res.Status != mirror.StatusSucceeded {
		e.t.Fatalf("sync: %v %v %v", err, res.Status, res.Errors)
	}
}

// col runs a query (ids quoted in it) and returns its first column, row by row.
func (e *env) col(q string) []string {
	e.t.Helper()
	rows, err := e.db.SQL.QueryContext(context.Background(), q)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v *string
		if err := rows.Scan(&v); err != nil {
			e.t.Fatal(err)
		}
		if v == nil {
			out = append(out, "<nil>")
		} else {
			out = append(out, *v)
		}
	}
	return out
}

// enrolled is a student enrolled now in a section with a term, the section, and a second section of
// the same school the student is not in.
func (e *env) enrolled() (student, sec, other string) {
	e.t.Helper()
	r := e.col(`SELECT ss.user_id || '|' || ss.section_id || '|' || (SELECT o.clever_id FROM sections o WHERE o.school_id = s.school_id AND o.clever_id <> s.clever_id
		AND NOT EXISTS (SELECT 1 FROM section_students x WHERE x.section_id = o.clever_id AND x.user_id = ss.user_id) ORDER BY o.clever_id LIMIT 1)
		FROM section_students ss JOIN sections s ON s.clever_id = ss.section_id JOIN user_roles r ON r.id = ss.user_id || '/student'
		WHERE ss.ended_at IS NULL AND s.term_id IS NOT NULL
		AND (SELECT COUNT(*) FROM section_students y WHERE y.user_id = ss.user_id AND y.ended_at IS NULL) = 1
		ORDER BY ss.user_id LIMIT 1`)
	if len(r) == 0 {
		e.t.Fatal("no enrolled student in the demo")
	}
	f := strings.Split(r[0], "|")
	return f[0], f[1], f[2]
}

func ptr[T any](v T) *T { return &v }

func inputs(student string, n int, at time.Time) []progress.Input {
	var in []progress.Input
	for i := range n {
		in = append(in, progress.Input{StudentCleverID: student, ActivityID: fmt.Sprintf("lesson-%d", i), AttemptID: ptr("1"),
			Kind: progressrecord.KindCOMPLETED, Score: ptr(float64(i + 1)), MaxScore: ptr(10.0), CompletedAt: at,
			TimeSpentSeconds: ptr(60), Data: ptr(`{"hints": 2}`)})
	}
	return in
}

func TestRecordIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, sec, _ := e.enrolled()
	at := time.Now().UTC()
	in := inputs(student, 3, at)
	c, err := e.svc.Record(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if *c != (progress.Counts{Created: 3}) {
		t.Errorf("first write: %+v", *c)
	}
	before := e.col(`SELECT id || updated_at FROM progress_records ORDER BY id`)
	c, err = e.svc.Record(e.ctx, in)
	if err != nil || *c != (progress.Counts{Unchanged: 3}) {
		t.Errorf("replay: %+v %v", c, err)
	}
	if after := e.col(`SELECT id || updated_at FROM progress_records ORDER BY id`); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("a replay rewrote rows:\n%v\n%v", before, after)
	}
	in[1].Score = ptr(9.5)
	c, err = e.svc.Record(e.ctx, in)
	if err != nil || *c != (progress.Counts{Updated: 1, Unchanged: 2}) {
		t.Errorf("changed replay: %+v %v", c, err)
	}
	if got := e.col(`SELECT DISTINCT section_id FROM progress_records`); len(got) != 1 || got[0] != sec {
		t.Errorf("sections resolved: %v, want [%s]", got, sec)
	}
	// Validation: every problem named, nothing written.
	bad := inputs(student, 2, at)
	bad[0].ActivityID = ""
	bad[1].Score = ptr(-1.0)
	bad[1].Data = ptr("{")
	_, err = e.svc.Record(e.ctx, append(bad, progress.Input{StudentCleverID: "nobody", ActivityID: "x", Kind: progressrecord.KindCOMPLETED, CompletedAt: at}))
	if !errors.Is(err, progress.ErrInvalid) {
		t.Fatalf("bad records: %v", err)
	}
	for _, want := range []string{"record 1: activityId: empty", "record 2: score: -1", "record 2: data: not JSON"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = e.svc.Record(e.ctx, []progress.Input{inputs(student, 1, at)[0], {StudentCleverID: "nobody", ActivityID: "x", Kind: progressrecord.KindCOMPLETED, CompletedAt: at}})
	if err == nil || !strings.Contains(err.Error(), `record 2: studentCleverId: "nobody" is no student`) {
		t.Errorf("unknown student: %v", err)
	}
	if n := e.col(`SELECT COUNT(*) FROM progress_records`); n[0] != "3" {
		t.Errorf("%s rows after refused writes, want 3", n[0])
	}
	read := auth.WithKey(context.Background(), auth.Key{ID: "r", Name: "reader", Scopes: []auth.Scope{auth.ScopeRead}})
	if _, err := e.svc.Record(read, in); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("a read key wrote progress: %v", err)
	}
}

func TestImportErrorsNothingApplied(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	good := "Student Clever ID,activity_id,attempt_id,Kind,score,max_score,completed_at,time_spent_seconds,data\n" +
		student + ",a1,1,completed,8,10,2026-03-01,120,\n" +
		student + ",a2,1,In Progress,,,2026-03-02T10:00:00Z,30,\"{\"\"x\"\": 1}\"\n"
	c, err := e.svc.Import(e.ctx, strings.NewReader(good), "test")
	if err != nil || c != (progress.Counts{Created: 2}) {
		t.Fatalf("import: %+v %v", c, err)
	}
	c, err = e.svc.Import(e.ctx, strings.NewReader(good), "test")
	if err != nil || c != (progress.Counts{Unchanged: 2}) {
		t.Fatalf("re-import: %+v %v", c, err)
	}
	bad := good + student + ",a3,1,done,8,10,2026-03-01,120,\n" + // line 4: kind
		student + ",a4,1,completed,x,10,2026-13-01,-5,\n" + // line 5: score, date, time
		"ghost,a5,1,completed,1,10,2026-03-01,1,\n" // line 6: unknown student (found in the database)
	_, err = e.svc.Import(e.ctx, strings.NewReader(bad), "test")
	var ce *csvin.Error
	if !errors.As(err, &ce) {
		t.Fatalf("bad file: %v", err)
	}
	for _, want := range []string{"line 4, column 4 (Kind)", "line 5, column 5 (score)", "line 5, column 7 (completed_at)", "line 5, column 8 (time_spent_seconds)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Once the rows parse, the database's checks report with lines too.
	bad = good + "ghost,a5,1,completed,1,10,2026-03-01,1,\n" + student + ",a1,1,completed,9,10,2026-03-01,120,\n"
	_, err = e.svc.Import(e.ctx, strings.NewReader(bad), "test")
	for _, want := range []string{"line 4, column 1 (Student Clever ID)", "line 5, column 3 (attempt_id): the same student, activity and attempt as line 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := e.col(`SELECT COUNT(*) FROM progress_records`); n[0] != "2" {
		t.Errorf("%s rows after refused files, want 2", n[0])
	}
	_, err = e.svc.Import(e.ctx, strings.NewReader("who,activity_id\n"), "test")
	if err == nil || !strings.Contains(err.Error(), "no student_clever_id column") || !strings.Contains(err.Error(), "the file's columns who are none of these") || !strings.Contains(err.Error(), "no kind column") {
		t.Errorf("bad header: %v", err)
	}
	// A file with more columns than a record has (an export's notes): they are left out, and said so.
	c, err = e.svc.Import(e.ctx, strings.NewReader("Notes,Clever ID,Activity ID,Attempt,Kind,Completed At,Time Spent (s)\n\"good, fast\","+student+",extra-1,3,Completed,2026-11-20,300\n"), "test")
	if err != nil || c.Created != 1 || c.Ignored != "Notes" {
		t.Fatalf("file with a notes column: %+v, %v; want 1 created, Notes ignored", c, err)
	}
	if got := e.col(`SELECT attempt_id || '|' || CAST(time_spent_seconds AS TEXT) FROM progress_records WHERE activity_id = 'extra-1'`); len(got) != 1 || got[0] != "3|300" {
		t.Errorf("the aliases attempt and time spent (s): %v, want 3|300", got)
	}
}

// visible lists the activity ids of the student's progress as the API reads it.
func (e *env) visible(student string, includeArchived bool) string {
	e.t.Helper()
	ids, err := e.db.Client.ProgressRecord.Query().Where(progress.OfStudent(student), progress.Visible(includeArchived)).
		Order(ent.Asc(progressrecord.FieldActivityID)).Select(progressrecord.FieldActivityID).Strings(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Join(ids, ",")
}

// TestProgressSurvivesRosterChanges drives the roster through the simulator — a section move, a school
// move, archive and restore, a re-ID — and checks that progress stays, with the class it was earned in.
func TestProgressSurvivesRosterChanges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, sec, other := e.enrolled()
	if _, err := e.svc.Record(e.ctx, inputs(student, 2, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		return strings.Join(e.col(`SELECT student_clever_id || '|' || activity_id || '|' || COALESCE(section_id, '-') || '|' || COALESCE(school_id, '-') || '|' || content_hash FROM progress_records ORDER BY activity_id`), "\n")
	}
	want := snapshot()
	if !strings.Contains(want, "|"+sec+"|") {
		t.Fatalf("progress not in the student's section %s:\n%s", sec, want)
	}
	check := func(step, wantVisible string, all bool) {
		t.Helper()
		if got := snapshot(); got != want {
			t.Errorf("%s: progress changed:\n%s\nwant:\n%s", step, got, want)
		}
		if got := e.visible(student, all); got != wantVisible {
			t.Errorf("%s: visible %q, want %q", step, got, wantVisible)
		}
	}
	// Section move: out of sec, into other.
	var secRec struct{ Students []string }
	e.sectionStudents(sec, &secRec)
	var keep []string
	for _, s := range secRec.Students {
		if s != student {
			keep = append(keep, s)
		}
	}
	e.must(e.sim.Modify(cleversim.KindSections, sec, mustJSON(map[string]any{"students": keep})))
	var otherRec struct{ Students []string }
	e.sectionStudents(other, &otherRec)
	e.must(e.sim.Modify(cleversim.KindSections, other, mustJSON(map[string]any{"students": append(otherRec.Students, student)})))
	e.sync()
	check("section move", "lesson-0,lesson-1", false)
	// New work after the move goes to the new section.
	if _, err := e.svc.Record(e.ctx, []progress.Input{{StudentCleverID: student, ActivityID: "after-move", Kind: progressrecord.KindCOMPLETED, CompletedAt: time.Now().UTC().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if got := e.col(`SELECT section_id FROM progress_records WHERE activity_id = 'after-move'`); got[0] != other {
		t.Errorf("work after the move credited to %v, want %s", got, other)
	}
	want = snapshot()
	// Archive (unshared) and restore.
	e.must(e.sim.Unshare(cleversim.KindUsers, student))
	e.sync()
	check("archive", "", false)
	check("archive, includeArchived", "after-move,lesson-0,lesson-1", true)
	e.must(e.sim.Reshare(cleversim.KindUsers, student))
	e.sync()
	check("restore", "after-move,lesson-0,lesson-1", false)
	// Re-ID: the old id is archived; an alias brings its progress to the new id.
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	e.sync()
	check("re-ID", "", false)
	if _, err := e.svc.LinkFormerCleverID(e.ctx, newID, student); !errors.Is(err, progress.ErrInvalid) {
		t.Errorf("linking the current id as a former one of an archived student: %v", err)
	}
	if _, err := e.svc.LinkFormerCleverID(e.ctx, student, "nobody"); !errors.Is(err, progress.ErrNotFound) {
		t.Errorf("linking to an unknown student: %v", err)
	}
	if _, err := e.svc.LinkFormerCleverID(e.ctx, student, newID); err != nil {
		t.Fatal(err)
	}
	check("alias", "after-move,lesson-0,lesson-1", false)
	if got := e.visible(newID, false); got != "after-move,lesson-0,lesson-1" {
		t.Errorf("by the new id: %q", got)
	}
	if _, err := e.svc.LinkFormerCleverID(e.ctx, newID, student); !errors.Is(err, progress.ErrInvalid) || !strings.Contains(err.Error(), "a cycle") {
		t.Errorf("a cycle: %v", err)
	}
	if cur, _ := progress.CurrentID(context.Background(), e.db.Client, student); cur != newID {
		t.Errorf("current id of %s: %s, want %s", student, cur, newID)
	}
	// Unlink and link again: nothing is lost either way.
	if _, err := e.svc.UnlinkFormerCleverID(e.ctx, student); err != nil {
		t.Fatal(err)
	}
	check("unlinked", "", false)
	if _, err := e.svc.LinkFormerCleverID(e.ctx, student, newID); err != nil {
		t.Fatal(err)
	}
	if n := e.col(`SELECT COUNT(*) FROM audit_entries WHERE action IN ('linkFormerCleverId', 'unlinkFormerCleverId')`); n[0] != "3" {
		t.Errorf("%s audit entries for the aliases, want 3", n[0])
	}
	// Five more syncs change nothing.
	for range 5 {
		e.sync()
	}
	check("syncs", "after-move,lesson-0,lesson-1", false)
}

// TestSISAlias is the sync's way of adding an alias (internal/progress.AddSISAlias), at the domain level.
func TestSISAlias(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	if _, err := e.svc.Record(e.ctx, inputs(student, 1, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	e.sync()
	ctx := context.Background()
	added, err := progress.AddSISAlias(ctx, e.db.Client, e.district, student, newID)
	if err != nil || !added {
		t.Fatalf("add: %v %v", added, err)
	}
	if added, err := progress.AddSISAlias(ctx, e.db.Client, e.district, student, newID); err != nil || added {
		t.Errorf("again: %v %v", added, err)
	}
	if got := e.visible(newID, false); got != "lesson-0" {
		t.Errorf("by the new id: %q", got)
	}
	if got := e.col(`SELECT method FROM clever_id_aliases`); len(got) != 1 || got[0] != "SIS_ID" {
		t.Errorf("aliases: %v", got)
	}
}

// TestSummaryHandComputed checks progressSummary against numbers worked out by hand.
func TestSummaryHandComputed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st := e.col(`SELECT ss.user_id || '|' || ss.section_id FROM section_students ss JOIN user_roles r ON r.id = ss.user_id || '/student'
		WHERE ss.ended_at IS NULL ORDER BY ss.section_id, ss.user_id`)
	// Two sections, two students in the first and one in the second.
	var secA, secB string
	var inA, inB []string
	for _, r := range st {
		f := strings.Split(r, "|")
		switch {
		case secA == "" || (f[1] == secA && len(inA) < 2):
			secA = f[1]
			inA = append(inA, f[0])
		case f[1] != secA && secB == "" && !contains(inA, f[0]):
			secB, inB = f[1], []string{f[0]}
		}
	}
	if len(inA) < 2 || secB == "" {
		t.Fatalf("fixture: %v %v %v %v", secA, inA, secB, inB)
	}
	at := time.Now().UTC()
	rec := func(student, sec, act string, kind progressrecord.Kind, score, max *float64, spent int) progress.Input {
		return progress.Input{StudentCleverID: student, ActivityID: act, Kind: kind, Score: score, MaxScore: max, CompletedAt: at, TimeSpentSeconds: &spent, SectionID: &sec}
	}
	C, P := progressrecord.KindCOMPLETED, progressrecord.KindIN_PROGRESS
	in := []progress.Input{
		rec(inA[0], secA, "a", C, ptr(8.0), ptr(10.0), 100), // 0.8
		rec(inA[0], secA, "b", P, ptr(1.0), ptr(4.0), 50),   // 0.25
		rec(inA[1], secA, "a", C, nil, nil, 30),             // no score
		rec(inB[0], secB, "a", C, ptr(5.0), ptr(5.0), 20),   // 1.0
	}
	if _, err := e.svc.Record(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	rows, err := e.svc.Summary(e.ctx, e.district, progress.BySection, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if r.Name == nil {
			t.Errorf("group %v has no name", r.ID)
		}
		got[*r.ID] = fmt.Sprintf("records=%d students=%d completed=%d rate=%.4f mean=%.4f time=%d", r.Records, r.Students, r.Completed, r.CompletionRate, *r.MeanScore, r.TimeSpentSeconds)
	}
	want := map[string]string{
		secA: "records=3 students=2 completed=2 rate=0.6667 mean=0.5250 time=180", // (0.8+0.25)/2
		secB: "records=1 students=1 completed=1 rate=1.0000 mean=1.0000 time=20",
	}
	if len(got) != 2 || got[secA] != want[secA] || got[secB] != want[secB] {
		t.Errorf("summary:\n%v\nwant:\n%v", got, want)
	}
	rows, err = e.svc.Summary(e.ctx, e.district, progress.ByDistrict, false)
	if err != nil || len(rows) != 1 || rows[0].Records != 4 || rows[0].Students != 3 || rows[0].Completed != 3 || rows[0].TimeSpentSeconds != 200 ||
		fmt.Sprintf("%.4f", *rows[0].MeanScore) != "0.6833" { // (0.8+0.25+1)/3
		t.Errorf("district summary: %+v %v", rows, err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// sectionStudents reads the simulator's section record.
func (e *env) sectionStudents(id string, into any) {
	e.t.Helper()
	for _, raw := range e.sim.Snapshot().Sections {
		var head struct{ ID string }
		json.Unmarshal(raw, &head)
		if head.ID == id {
			e.must(json.Unmarshal(raw, into))
			return
		}
	}
	e.t.Fatalf("no section %s in the simulator", id)
}
