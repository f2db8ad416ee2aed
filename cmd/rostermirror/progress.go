package main

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/rostermirror/rostermirror/sync/mirror"
)

// progress shows how far sync runs have got, one line per district and record type. Report is safe for
// concurrent use; Close finishes whatever a run left open (a run that failed part-way).
type progress interface {
	Report(mirror.Progress)
	Close()
}

// newProgress returns spinners for a terminal and plain lines for anything else (a log file, CI).
func newProgress(w io.Writer, terminal bool) progress {
	if terminal {
		return &spinnerProgress{w: w, bars: map[progressKey]*progressbar.ProgressBar{}}
	}
	return newPlainProgress(w, time.Now, plainProgressEvery)
}

// progressKey names one district's record type.
type progressKey struct{ district, kind string }

// plainProgressEvery is the least time between two plain progress lines of one record type.
const plainProgressEvery = 2 * time.Second

// plainProgress writes "district D users: 12345 read" at most every interval per record type, and one
// "…, done" line when the type is finished.
type plainProgress struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	every time.Duration
	last  map[progressKey]time.Time // when the type's last line was written (or its first report came)
}

func newPlainProgress(w io.Writer, now func() time.Time, every time.Duration) *plainProgress {
	return &plainProgress{w: w, now: now, every: every, last: map[progressKey]time.Time{}}
}

// Report implements progress.
func (p *plainProgress) Report(pr mirror.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := progressKey{pr.DistrictID, pr.Kind}
	now := p.now()
	switch last, seen := p.last[k]; {
	case pr.Done:
		delete(p.last, k)
		fmt.Fprintf(p.w, "district %s %s: %d read, done\n", pr.DistrictID, pr.Kind, pr.Read)
	case !seen:
		p.last[k] = now // a type that finishes within the interval gets only its done line
	case now.Sub(last) >= p.every:
		p.last[k] = now
		fmt.Fprintf(p.w, "district %s %s: %d read\n", pr.DistrictID, pr.Kind, pr.Read)
	}
}

// Close implements progress.
func (p *plainProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.last)
}

// spinnerProgress draws one spinner per district and record type on a terminal: "⠙ D users 12,345 read
// [3s]", left on its own line, ", done", when the type is finished.
type spinnerProgress struct {
	mu   sync.Mutex
	w    io.Writer
	bars map[progressKey]*progressbar.ProgressBar
}

// Report implements progress.
func (p *spinnerProgress) Report(pr mirror.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := progressKey{pr.DistrictID, pr.Kind}
	bar := p.bars[k]
	if bar == nil {
		bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSpinnerType(14),
			// No spinner goroutine: the spinner turns as reports come, and nothing outlives Close.
			progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetElapsedTime(true),
		)
		p.bars[k] = bar
	}
	desc := fmt.Sprintf("%s %s %s read", pr.DistrictID, pr.Kind, thousands(pr.Read))
	if pr.Done {
		bar.Describe(desc + ", done")
		p.finish(k, bar)
		return
	}
	bar.Describe(desc)
}

// finish draws bar's last state and moves to a new line.
func (p *spinnerProgress) finish(k progressKey, bar *progressbar.ProgressBar) {
	_ = bar.Finish()
	fmt.Fprintln(p.w)
	delete(p.bars, k)
}

// Close implements progress.
func (p *spinnerProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, bar := range p.bars {
		p.finish(k, bar)
	}
}

// thousands formats n with comma separators: 12345 → "12,345".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
