package progress_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// TestRollupsMatchRecords drives records through every kind of write — recordProgress, a file, a
// replay changing scores, kinds and sections, a replay changing nothing — then archives a student and
// re-IDs another, and checks that the summary read from progress_rollups (no filter) is, group for
// group, the summary computed from the records themselves (a filter that keeps every record), for
// every grouping with and without the archived; and that the rollups are the records' sums exactly.
func TestRollupsMatchRecords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	pairs := e.col(`SELECT ss.user_id || '|' || ss.section_id FROM section_students ss JOIN user_roles r ON r.id = ss.user_id || '/student'
		WHERE ss.ended_at IS NULL ORDER BY ss.user_id, ss.section_id`)
	var students, sections []string
	for _, p := range pairs {
		f := strings.Split(p, "|")
		if !contains(students, f[0]) {
			students = append(students, f[0])
		}
		if !contains(sections, f[1]) {
			sections = append(sections, f[1])
		}
	}
	if len(students) < 8 || len(sections) < 3 {
		t.Fatalf("demo has %d enrolled students, %d sections", len(students), len(sections))
	}
	at := time.Date(2026, 9, 2, 15, 0, 0, 0, time.UTC)
	var in []progress.Input
	for i, st := range students[:6] {
		for a := range 4 {
			r := progress.Input{StudentCleverID: st, ActivityID: fmt.Sprintf("quiz-%d", a), Kind: progressrecord.KindCOMPLETED,
				CompletedAt: at.Add(time.Duration(a) * time.Hour), TimeSpentSeconds: ptr(30 * (a + 1))}
			if a%2 == 0 {
				r.Score, r.MaxScore = ptr(float64(a+i)), ptr(10.0)
			}
			if a == 3 {
				r.Kind = progressrecord.KindIN_PROGRESS
				r.SectionID = ptr(sections[i%3]) // given: maybe not one of the student's own sections
			}
			in = append(in, r)
		}
	}
	e.must(errOf(e.svc.Record(e.ctx, in)))
	csv := "student_clever_id,activity_id,attempt_id,kind,score,max_score,completed_at,time_spent_seconds\n"
	for _, st := range students[4:8] { // two of them already have records
		csv += st + ",essay,1,completed,7,9,2026-09-03T10:00:00Z,600\n" + st + ",essay,2,in_progress,,,2026-09-04,\n"
	}
	if _, err := e.svc.Import(e.ctx, strings.NewReader(csv), "test"); err != nil {
		t.Fatal(err)
	}
	// A replay: quiz-0 rescored, quiz-3 moved to another section and completed, quiz-1 as it was.
	var replay []progress.Input
	for _, r := range in {
		switch r.ActivityID {
		case "quiz-0":
			r.Score = ptr(9.5)
		case "quiz-3":
			r.SectionID, r.Kind = ptr(sections[(indexOf(students, r.StudentCleverID)+1)%3]), progressrecord.KindCOMPLETED
		case "quiz-2":
			continue
		}
		replay = append(replay, r)
	}
	c, err := e.svc.Record(e.ctx, replay)
	if err != nil {
		t.Fatal(err)
	}
	if c.Created != 0 || c.Updated != 12 || c.Unchanged != 6 {
		t.Errorf("replay: %+v, want 12 updated, 6 unchanged", c)
	}
	// Archive one student, re-ID another and link the former id.
	e.must(e.sim.Unshare(cleversim.KindUsers, students[1]))
	newID, err := e.sim.ReID(cleversim.KindUsers, students[2])
	e.must(err)
	e.sync()
	_, err = e.svc.LinkFormerCleverID(e.ctx, students[2], newID)
	e.must(err)

	all := progressrecord.CompletedAtGTE(time.Unix(0, 0)) // keeps every record: the summary is computed from them
	for _, by := range []progress.GroupBy{progress.BySection, progress.BySchool, progress.ByTerm, progress.ByDistrict} {
		for _, archived := range []bool{false, true} {
			fromRollups, err := e.svc.Summary(e.ctx, e.district, by, archived)
			e.must(err)
			fromRecords, err := e.svc.Summary(e.ctx, e.district, by, archived, all)
			e.must(err)
			if got, want := summaryText(fromRollups), summaryText(fromRecords); got != want {
				t.Errorf("%s, includeArchived %v: from the rollups\n%s\nfrom the records\n%s", by, archived, got, want)
			}
			if len(fromRecords) < 3 && by == progress.BySection {
				t.Errorf("%s: %d groups: the fixture does not spread", by, len(fromRecords))
			}
		}
	}
	// The rollups are the records' sums, and none is left empty.
	e.rollupsAreTheSums()
}

// rollupsAreTheSums checks that progress_rollups holds exactly the records' sums, row for row (the sum
// of score ratios to rounding: it is added in another order).
func (e *env) rollupsAreTheSums() {
	e.t.Helper()
	sums := `SELECT district_id || '|' || student_clever_id || '|' || section_id || '|' || school_id || '|' || term_id || '|' ||
		records || '|' || completed || '|' || scored || '|' || time_spent_seconds FROM (%s) x ORDER BY 1`
	got := e.col(fmt.Sprintf(sums, `SELECT * FROM progress_rollups`))
	want := e.col(fmt.Sprintf(sums, `SELECT district_id, student_clever_id, COALESCE(section_id, '') AS section_id,
		COALESCE(school_id, '') AS school_id, COALESCE(term_id, '') AS term_id, COUNT(*) AS records,
		SUM(CASE WHEN kind = 'COMPLETED' THEN 1 ELSE 0 END) AS completed, COUNT(CASE WHEN max_score > 0 THEN score END) AS scored,
		COALESCE(SUM(time_spent_seconds), 0) AS time_spent_seconds FROM progress_records
		GROUP BY district_id, student_clever_id, COALESCE(section_id, ''), COALESCE(school_id, ''), COALESCE(term_id, '')`))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		e.t.Errorf("rollups:\n%s\nrecords' sums:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var fromRollups, fromRecords float64
	fmt.Sscan(e.col(`SELECT CAST(COALESCE(SUM(score_sum), 0) AS TEXT) FROM progress_rollups`)[0], &fromRollups)
	fmt.Sscan(e.col(`SELECT CAST(COALESCE(SUM(score / max_score), 0) AS TEXT) FROM progress_records WHERE max_score > 0`)[0], &fromRecords)
	if math.Abs(fromRollups-fromRecords) > 1e-9 {
		e.t.Errorf("score sums: rollups %v, records %v", fromRollups, fromRecords)
	}
}

func errOf[T any](_ T, err error) error { return err }

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// summaryText writes a summary a group a line, the mean score rounded to 9 places (the rollups add
// the same ratios in another order).
func summaryText(rows []*progress.SummaryRow) string {
	var b strings.Builder
	for _, r := range rows {
		mean := "-"
		if r.MeanScore != nil {
			mean = fmt.Sprintf("%.9f", math.Round(*r.MeanScore*1e9)/1e9)
		}
		fmt.Fprintf(&b, "%v %v records=%d students=%d completed=%d rate=%.9f mean=%s time=%d\n", deref(r.ID), deref(r.Name),
			r.Records, r.Students, r.Completed, r.CompletionRate, mean, r.TimeSpentSeconds)
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// TestConcurrentWriteOfTheSameRecord: a write that meets a record another transaction stores while it
// runs fails whole with ErrConcurrent (the GraphQL CONFLICT), changes nothing, and succeeds when run
// again. Postgres only: SQLite runs one writer at a time, so the two cannot meet there.
func TestConcurrentWriteOfTheSameRecord(t *testing.T) {
	t.Parallel()
	if !dbtest.Postgres() {
		t.Skip("SQLite serialises writers: two writes cannot meet (TEST_DATABASE_URL runs this on Postgres)")
	}
	e := setup(t)
	student, _, _ := e.enrolled()
	other := e.col(`SELECT user_id FROM user_roles WHERE role = 'STUDENT' AND user_id <> '` + student + `' ORDER BY user_id LIMIT 1`)[0]
	at := time.Date(2026, 9, 2, 15, 0, 0, 0, time.UTC)
	tx, err := e.db.SQL.Begin()
	e.must(err)
	defer tx.Rollback()
	_, err = tx.Exec(`INSERT INTO progress_records (id, student_clever_id, activity_id, attempt_id, kind, completed_at, district_id,
		section_given, grade, content_hash, created_at, updated_at) VALUES ('concurrent', $1, 'race', '', 'COMPLETED', $2, $3, false, '', 'x', $2, $2)`,
		student, at, e.district)
	e.must(err)
	done := make(chan error, 1)
	in := []progress.Input{
		{StudentCleverID: other, ActivityID: "race", Kind: progressrecord.KindCOMPLETED, CompletedAt: at},
		{StudentCleverID: student, ActivityID: "race", Kind: progressrecord.KindCOMPLETED, CompletedAt: at},
	}
	go func() { _, err := e.svc.Record(e.ctx, in); done <- err }()
	// The write waits on the other transaction's uncommitted key; then that one commits.
	for waited := 0; ; waited++ {
		if n := e.col(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`); n[0] != "0" {
			break
		}
		if waited > 500 {
			t.Fatal("the write never waited on the other transaction")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.must(tx.Commit())
	if err := <-done; !errors.Is(err, progress.ErrConcurrent) {
		t.Fatalf("write meeting a concurrent one: %v, want ErrConcurrent", err)
	}
	if n := e.col(`SELECT COUNT(*) FROM progress_records WHERE student_clever_id = '` + other + `'`); n[0] != "0" {
		t.Errorf("the failed write left %s records of the other student", n[0])
	}
	c, err := e.svc.Record(e.ctx, in)
	if err != nil || c.Created != 1 || c.Updated != 1 {
		t.Errorf("run again: %+v %v, want 1 created and 1 updated", c, err)
	}
}

// TestReplayUnderTheNewID: once a re-IDed student's former id is linked, the app may send their work
// under the new id; a record it already stored under the former one is that record — unchanged, or
// updated where it is stored — not a second one counted twice. The same activity under both ids in one
// write is refused as given twice.
func TestReplayUnderTheNewID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	at := time.Date(2026, 9, 2, 15, 0, 0, 0, time.UTC)
	first := inputs(student, 2, at)
	e.must(errOf(e.svc.Record(e.ctx, first)))
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	e.sync()
	_, err = e.svc.LinkFormerCleverID(e.ctx, student, newID)
	e.must(err)

	again := inputs(newID, 2, at)
	again[1].Score = ptr(9.0)
	again = append(again, progress.Input{StudentCleverID: newID, ActivityID: "after-re-id", Kind: progressrecord.KindCOMPLETED, CompletedAt: at.Add(time.Hour)})
	c, err := e.svc.Record(e.ctx, again)
	if err != nil || c.Unchanged != 1 || c.Updated != 1 || c.Created != 1 {
		t.Fatalf("replay under the new id: %+v %v, want 1 unchanged, 1 updated, 1 created", c, err)
	}
	got := e.col(`SELECT student_clever_id || '|' || activity_id || '|' || COALESCE(CAST(CAST(score AS INTEGER) AS TEXT), '-')
		FROM progress_records ORDER BY activity_id`)
	want := []string{newID + "|after-re-id|-", student + "|lesson-0|1", student + "|lesson-1|9"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("records: %v, want %v", got, want)
	}
	both := []progress.Input{first[0], inputs(newID, 1, at)[0]}
	if _, err := e.svc.Record(e.ctx, both); err == nil || !strings.Contains(err.Error(), "record 2: attemptId: the same student, activity and attempt as record 1") {
		t.Errorf("the same activity under both ids: %v", err)
	}
	if secs := e.col(`SELECT COALESCE(section_id, '-') FROM progress_records WHERE activity_id LIKE 'lesson-%' ORDER BY activity_id`); secs[0] != secs[1] || secs[0] == "-" {
		t.Errorf("the record changed under the new id left the section it was earned in: %v", secs)
	}
	rows, err := e.svc.Summary(e.ctx, e.district, progress.ByDistrict, false)
	e.must(err)
	if len(rows) != 1 || rows[0].Records != 3 || rows[0].Students != 1 {
		t.Errorf("summary: %+v, want 3 records of 1 student", rows[0])
	}
	fromRecords, err := e.svc.Summary(e.ctx, e.district, progress.BySection, false, progressrecord.CompletedAtGTE(time.Unix(0, 0)))
	e.must(err)
	fromRollups, err := e.svc.Summary(e.ctx, e.district, progress.BySection, false)
	e.must(err)
	if summaryText(fromRollups) != summaryText(fromRecords) {
		t.Errorf("from the rollups\n%s\nfrom the records\n%s", summaryText(fromRollups), summaryText(fromRecords))
	}
	e.rollupsAreTheSums()
}

// TestBothIDsStored: records stored under a re-IDed student's former id and, before the ids were
// linked, under the new one: a replay under either id changes the record stored under that id.
func TestBothIDsStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	student, _, _ := e.enrolled()
	at := time.Date(2026, 9, 2, 15, 0, 0, 0, time.UTC)
	e.must(errOf(e.svc.Record(e.ctx, inputs(student, 1, at))))
	newID, err := e.sim.ReID(cleversim.KindUsers, student)
	e.must(err)
	e.sync()
	e.must(errOf(e.svc.Record(e.ctx, inputs(newID, 1, at)))) // not linked yet: a record of its own
	_, err = e.svc.LinkFormerCleverID(e.ctx, student, newID)
	e.must(err)
	for _, id := range []string{newID, student} {
		in := inputs(id, 1, at)
		in[0].Score = ptr(7.0)
		if id == student {
			in[0].Score = ptr(3.0)
		}
		c, err := e.svc.Record(e.ctx, in)
		if err != nil || c.Updated != 1 {
			t.Fatalf("replay under %s: %+v %v", id, c, err)
		}
	}
	got := e.col(`SELECT student_clever_id || '|' || CAST(CAST(score AS INTEGER) AS TEXT) FROM progress_records ORDER BY student_clever_id`)
	want := []string{student + "|3", newID + "|7"}
	if student > newID {
		want[0], want[1] = want[1], want[0]
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("records %v, want %v", got, want)
	}
	e.rollupsAreTheSums()
}

// TestConcurrentChangesKeepTheSums: writes changing the same record at the same time — its score and
// its section — leave progress_rollups equal to the records' sums (each reads the values it moves out
// of a rollup under the record's lock). Postgres only: SQLite runs one writer at a time.
func TestConcurrentChangesKeepTheSums(t *testing.T) {
	t.Parallel()
	if !dbtest.Postgres() {
		t.Skip("SQLite serialises writers: no two writes change a record at the same time (TEST_DATABASE_URL runs this on Postgres)")
	}
	e := setup(t)
	student, sec, other := e.enrolled()
	at := time.Date(2026, 9, 2, 15, 0, 0, 0, time.UTC)
	e.must(errOf(e.svc.Record(e.ctx, inputs(student, 3, at))))
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			in := inputs(student, 3, at)
			for j := range in {
				in[j].Score = ptr(float64(i))
				in[j].SectionID = ptr([]string{sec, other}[i%2])
			}
			_, err := e.svc.Record(e.ctx, in)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil && !errors.Is(err, progress.ErrConcurrent) {
			t.Error(err)
		}
	}
	e.rollupsAreTheSums()
}
