package progress_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// benchRecords is the number of progress records the benchmarks import: PROGRESS_BENCH_RECORDS, or
// 100,000 (the figure, 1,000,000, is run by hand).
func benchRecords(b *testing.B) int {
	if v := os.Getenv("PROGRESS_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("PROGRESS_BENCH_RECORDS=%q: want a positive number", v)
		}
		return n
	}
	return 100_000
}

// benchDistrict is the district — 100,000 students, 5,000 teachers, 4,000 sections, 8 terms
// over two school years — synced by the mirror engine into a database of its own.
type benchDistrict struct {
	db       *store.DB
	district string
	students []string
	terms    []benchTerm
}

type benchTerm struct {
	start, end time.Time
}

func newBenchDistrict(b *testing.B) *benchDistrict {
	b.Helper()
	data := synth.Generate(synth.Config{Seed: 3, Schools: 60, Students: 100_000, Teachers: 5_000, Staff: 400,
		DistrictAdmins: 6, Contacts: 0, Sections: 4_000, Courses: 3_000, Terms: 8})
	sim, err := cleversim.New(cleversim.Config{Dataset: data, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var head struct{ ID string }
	json.Unmarshal(data.Districts[0], &head)
	client := clever.New(clever.Config{APIURL: srv.URL})
	db := dbtest.New(b)
	e, err := mirror.New(mirror.Config{DB: db, Reader: func(t clever.Token) mirror.Reader { return client.WithToken(t) },
		Tokens: simTokens{sim}})
	if err != nil {
		b.Fatal(err)
	}
	res, err := e.SyncDistrict(context.Background(), head.ID, mirror.Options{Mode: mirror.ModeFull})
	if err != nil || res.Status != mirror.StatusSucceeded {
		b.Fatalf("sync: %v %v", err, res.Errors)
	}
	d := &benchDistrict{db: db, district: head.ID}
	rows, err := db.SQL.Query(`SELECT user_id FROM user_roles WHERE role = 'STUDENT' ORDER BY user_id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		d.students = append(d.students, id)
	}
	rows.Close()
	trows, err := db.SQL.Query(`SELECT start_date, end_date FROM terms WHERE start_date IS NOT NULL AND end_date IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	for trows.Next() {
		var t benchTerm
		if err := trows.Scan(&t.start, &t.end); err != nil {
			b.Fatal(err)
		}
		d.terms = append(d.terms, t)
	}
	trows.Close()
	if len(d.students) < 100_000 || len(d.terms) == 0 {
		b.Fatalf("synced %d students, %d terms", len(d.students), len(d.terms))
	}
	return d
}

// writeCSV writes n progress records of the district's students to a file and returns its path:
// about ten activities a student, done on a day of one of the terms (their section resolved from the
// enrollment history), one in ten with a second attempt, scores, time spent, and a small JSON payload
// on one in five.
func (d *benchDistrict) writeCSV(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "progress.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(13, 13))
	fmt.Fprintln(w, "student_clever_id,activity_id,attempt_id,kind,score,max_score,completed_at,time_spent_seconds,section_id,data")
	for i := range n {
		student := d.students[i%len(d.students)]
		activity := i / len(d.students)
		attempt := ""
		if i%10 == 9 {
			attempt = "2"
		}
		kind := "completed"
		if r.IntN(5) == 0 {
			kind = "in_progress"
		}
		t := d.terms[r.IntN(len(d.terms))]
		span := t.end.Sub(t.start)
		at := t.start.Add(time.Duration(r.Int64N(int64(span)))).UTC().Truncate(time.Second)
		data := ""
		if i%5 == 0 {
			data = `"{""hints"":` + strconv.Itoa(r.IntN(4)) + `}"`
		}
		fmt.Fprintf(w, "%s,lesson-%d,%s,%s,%d,100,%s,%d,,%s\n", student, activity, attempt, kind, r.IntN(101),
			at.Format(time.RFC3339), 60+r.IntN(1800), data)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// importFile imports path as `rostermirror progress import` does (Service.Import over the file).
func (d *benchDistrict) importFile(b *testing.B, svc *progress.Service, path string) progress.Counts {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	c, err := svc.Import(context.Background(), f, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkProgressImport imports a CSV file of progress records (100,000, or PROGRESS_BENCH_RECORDS)
// for the 100,000-student district through the code of `rostermirror progress import`, every
// record's section resolved from the enrollment history, into an empty progress table each iteration,
// and reports records/s (median over the iterations). The target is 50,000 records/s at 1,000,000 on
// Postgres:
//
//	TEST_DATABASE_URL=postgres://… go test ./internal/progress -run '^$' -bench ProgressImport -benchtime 1x
//	TEST_DATABASE_URL=postgres://… PROGRESS_BENCH_RECORDS=1000000 go test ./internal/progress -run '^$' -bench ProgressImport -benchtime 1x -timeout 30m
func BenchmarkProgressImport(b *testing.B) {
	d := newBenchDistrict(b)
	n := benchRecords(b)
	path := d.writeCSV(b, n)
	svc := progress.New(d.db)
	var rates, secs []float64
	for b.Loop() {
		b.StopTimer()
		if _, err := d.db.SQL.Exec(`DELETE FROM progress_records`); err != nil {
			b.Fatal(err)
		}
		if _, err := d.db.SQL.Exec(`DELETE FROM progress_rollups`); err != nil {
			b.Fatal(err)
		}
		if dbtest.Postgres() {
			if _, err := d.db.SQL.Exec(`VACUUM ANALYZE progress_records, progress_rollups`); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		c := d.importFile(b, svc, path)
		el := time.Since(start)
		if c.Created != n {
			b.Fatalf("imported %v, want %d created", c, n)
		}
		rates = append(rates, float64(n)/el.Seconds())
		secs = append(secs, el.Seconds())
	}
	var unresolved int
	d.db.SQL.QueryRow(`SELECT COUNT(*) FROM progress_records WHERE section_id IS NULL`).Scan(&unresolved)
	slices.Sort(rates)
	slices.Sort(secs)
	b.ReportMetric(rates[len(rates)/2], "records/s")
	b.ReportMetric(secs[len(secs)/2], "s/import")
	b.ReportMetric(float64(unresolved)/float64(n), "unresolved-ratio")
}

// BenchmarkProgressSummary is progressSummary(groupBy: SECTION) of the 100,000-student
// district over its imported progress records (100,000, or PROGRESS_BENCH_RECORDS), computed in the
// database; ns/op is the time of one summary (target: under 500 ms at 1,000,000 on Postgres):
//
//	TEST_DATABASE_URL=postgres://… go test ./internal/progress -run '^$' -bench ProgressSummary -benchtime 5x
//	TEST_DATABASE_URL=postgres://… PROGRESS_BENCH_RECORDS=1000000 go test ./internal/progress -run '^$' -bench ProgressSummary -benchtime 5x -timeout 30m
func BenchmarkProgressSummary(b *testing.B) {
	d := newBenchDistrict(b)
	n := benchRecords(b)
	svc := progress.New(d.db)
	d.importFile(b, svc, d.writeCSV(b, n))
	if dbtest.Postgres() { // as autovacuum would (the import analyzed progress_rollups itself)
		if _, err := d.db.SQL.Exec(`VACUUM ANALYZE progress_records`); err != nil {
			b.Fatal(err)
		}
	}
	ctx := auth.WithKey(context.Background(), auth.Key{ID: "0123456789abcdef0123456789abcdef", Name: "bench", Scopes: []auth.Scope{auth.ScopeRead}})
	var groups int
	for b.Loop() {
		rows, err := svc.Summary(ctx, d.district, progress.BySection, false)
		if err != nil {
			b.Fatal(err)
		}
		groups = len(rows)
	}
	if groups < 1000 {
		b.Fatalf("%d sections summarised", groups)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
