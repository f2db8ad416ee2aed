package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

func TestPlainProgress(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	now := start
	var b strings.Builder
	p := newPlainProgress(&b, func() time.Time { return now }, 2*time.Second)
	at := func(d time.Duration, pr mirror.Progress) {
		now = start.Add(d)
		p.Report(pr)
	}
	const d = "643f0c9e1a2b3c4d5e6f7a8b"
	at(0, mirror.Progress{DistrictID: d, Kind: "districts", Read: 1})
	at(100*time.Millisecond, mirror.Progress{DistrictID: d, Kind: "districts", Read: 1, Done: true})
	at(200*time.Millisecond, mirror.Progress{DistrictID: d, Kind: "users", Read: 1000})
	at(1*time.Second, mirror.Progress{DistrictID: d, Kind: "users", Read: 5000})
	at(2200*time.Millisecond, mirror.Progress{DistrictID: d, Kind: "users", Read: 12345})
	at(3*time.Second, mirror.Progress{DistrictID: d, Kind: "users", Read: 15000})
	at(4300*time.Millisecond, mirror.Progress{DistrictID: d, Kind: "users", Read: 20000})
	at(5*time.Second, mirror.Progress{DistrictID: d, Kind: "users", Read: 20500, Done: true})
	at(5*time.Second, mirror.Progress{DistrictID: d, Kind: "sections", Done: true})
	p.Close()

	want := `district 643f0c9e1a2b3c4d5e6f7a8b districts: 1 read, done
district 643f0c9e1a2b3c4d5e6f7a8b users: 12345 read
district 643f0c9e1a2b3c4d5e6f7a8b users: 20000 read
district 643f0c9e1a2b3c4d5e6f7a8b users: 20500 read, done
district 643f0c9e1a2b3c4d5e6f7a8b sections: 0 read, done
`
	if b.String() != want {
		t.Errorf("plain progress:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestProgressConcurrent checks that both reporters (plain lines and terminal spinners) take reports
// from several goroutines and write each type's done line.
func TestProgressConcurrent(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		var b testlog.Buffer
		p := newProgress(&b, terminal)
		var wg sync.WaitGroup
		for _, kind := range mirror.Kinds {
			wg.Go(func() {
				for i := range 50 {
					p.Report(mirror.Progress{DistrictID: "d", Kind: kind, Read: i})
				}
				p.Report(mirror.Progress{DistrictID: "d", Kind: kind, Read: 50, Done: true})
			})
		}
		wg.Wait()
		p.Close()
		for _, kind := range mirror.Kinds {
			want := "district d " + kind + ": 50 read, done\n"
			if terminal {
				want = "d " + kind + " 50 read, done"
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("terminal=%v: output lacks %q:\n%s", terminal, want, b.String())
			}
		}
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
