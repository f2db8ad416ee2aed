package apprecord_test

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// BenchmarkMatch100k is issue 11's performance figure: 100,000 app students matched against a
// 100,000-student district synced into the mirror, through the product's path — the CSV read twice
// (checked, then applied), the records stored, the district's students read from the mirror, matched,
// and every result and suggestion written — on the database TEST_DATABASE_URL names (SQLite without
// it). Each iteration starts from no app records. It reports the peak Go heap seen while it ran.
//
//	TEST_DATABASE_URL=postgres://… go test ./internal/apprecord -run '^$' -bench Match100k -benchtime 3x
//
// BenchmarkRematch100k is the rematch a sync runs afterwards, with every undecided record's result to
// write again (the worst case; a rematch with nothing new writes nothing).
func BenchmarkMatch100k(b *testing.B) { benchmarkMatch(b, false) }

func BenchmarkRematch100k(b *testing.B) { benchmarkMatch(b, true) }

func benchmarkMatch(b *testing.B, rematch bool) {
	ds := synth.Generate(synth.Config{Seed: 100, Students: 100_000, Teachers: 50, Staff: 5, DistrictAdmins: 1,
		Contacts: -1, Sections: -1, Courses: -1, Terms: -1})
	set := match.Labelled(100, match.LabelledOptions{Dataset: ds, AppShare: 0.97, AppOnly: 0.01})
	e := newEnvTB(b, ds)
	file := writeCSV(set.App, studentFields)
	b.Logf("%d app records, %d Clever students, %d MB of CSV", len(set.App), len(set.Clever), len(file)>>20)
	if rematch {
		if _, err := e.importCSV(match.Student, file); err != nil {
			b.Fatal(err)
		}
	}
	peak := watchHeap(b)
	for b.Loop() {
		b.StopTimer()
		if rematch {
			e.db.Client.MatchSuggestion.Delete().ExecX(e.ctx)
			e.db.Client.AppRecord.Update().SetStatus(apprecord.StatusUNMATCHED).ClearCleverID().SetMethod("").SetScore(0).SetExplanation("").ExecX(e.ctx)
		} else {
			e.db.Client.MatchSuggestion.Delete().ExecX(e.ctx)
			e.db.Client.AppRecord.Delete().ExecX(e.ctx)
		}
		runtime.GC()
		b.StartTimer()
		if rematch {
			if _, err := e.svc.RematchAs(e.ctx, e.district, nil, ""); err != nil {
				b.Fatal(err)
			}
		} else if imp, err := e.importCSV(match.Student, file); err != nil {
			b.Fatal(err)
		} else if imp.Matched == 0 {
			b.Fatal("nothing matched")
		}
	}
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
}

// watchHeap samples the live heap every 10 ms until the benchmark ends; it returns the peak.
func watchHeap(b *testing.B) func() uint64 {
	var max atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > max.Load() {
					max.Store(v)
				}
			}
		}
	}()
	b.Cleanup(func() { close(done) })
	return max.Load
}
