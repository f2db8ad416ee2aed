package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// waitTimeout bounds every wait of these tests; nothing here should take more than milliseconds.
const waitTimeout = 10 * time.Second

// t0 is the fake clock's start: a whole minute, so that a "* * * * * *" tick is one Advance(time.Second).
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// fakeDistricts is a Districts whose list the test changes.
type fakeDistricts struct {
	mu  sync.Mutex
	ids []string
	err error
}

func (f *fakeDistricts) Connected(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ids), f.err
}

func (f *fakeDistricts) set(err error, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids, f.err = ids, err
}

// call is one SyncDistrict call.
type call struct {
	district string
	opts     mirror.Options
}

// fakeSyncer records its calls and answers with do, or success. It fails a call whose options are not
// those of a scheduled run.
type fakeSyncer struct {
	do func(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)

	mu    sync.Mutex
	calls []call
}

func (f *fakeSyncer) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{districtID, opts})
	f.mu.Unlock()
	want := mirror.Options{Mode: mirror.ModeFull, Trigger: "schedule", NotIfRanSince: opts.NotIfRanSince}
	if opts.Trigger == "discovery" { // SyncNow's first syncs
		want.Trigger = "discovery"
	}
	if opts.Mode == mirror.ModeEvents {
		want = mirror.Options{Mode: mirror.ModeEvents, SkipWithoutEvents: true, Trigger: "events", NotIfRanSince: opts.NotIfRanSince}
	}
	if opts.Mode != want.Mode || opts.SkipWithoutEvents != want.SkipWithoutEvents || opts.Trigger != want.Trigger ||
		opts.DryRun || opts.NotIfRanSince.IsZero() {
		return mirror.Result{}, fmt.Errorf("options %+v: want %+v with the tick's time", opts, want)
	}
	if f.do != nil {
		return f.do(ctx, districtID, opts)
	}
	return mirror.Result{RunID: "run-" + districtID, DistrictID: districtID, Status: mirror.StatusSucceeded, Kind: "FULL",
		Counts: syncstats.Counts{"users": {Read: 3, Created: 1, Unchanged: 2}}}, nil
}

// runs counts the calls per district (of one mode, or all when mode is "").
func (f *fakeSyncer) runs(mode string) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, c := range f.calls {
		if mode == "" || c.opts.Mode == mode {
			out[c.district]++
		}
	}
	return out
}

func (f *fakeSyncer) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// logRecorder is a slog.Handler keeping the records.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}

// lines returns the log records whose message starts with prefix.
func (l *logRecorder) lines(prefix string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if strings.HasPrefix(r.Message, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// runLines returns the log records of runs that ran ("scheduled sync …", not "… skipped").
func (l *logRecorder) runLines() []slog.Record {
	return slices.DeleteFunc(l.lines("scheduled sync "), func(r slog.Record) bool { return r.Message == "scheduled sync skipped" })
}

func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// finish is a run's end, as hooks.finished reports it.
type finish struct {
	district string
	tick     tick
	err      error
}

// skip is a dropped tick, as hooks.skipped reports it.
type skip struct {
	district string
	tick     tick
	running  string
}

// cluster is what the schedulers of a test share: the fake clock and the district list.
type cluster struct {
	clock     *clockwork.FakeClock
	districts *fakeDistricts
}

// replica is one scheduler with its own Syncer, log and hook channels.
type replica struct {
	s         *Scheduler
	syncer    *fakeSyncer
	logs      *logRecorder
	refreshed chan error
	armed     chan time.Time
	finished  chan finish
	skipped   chan skip
}

func newCluster(districts ...string) *cluster {
	c := &cluster{clock: clockwork.NewFakeClockAt(t0), districts: &fakeDistricts{}}
	c.districts.set(nil, districts...)
	return c
}

// add builds a scheduler on the cluster (full syncs every second, no spread, no events by default),
// stopped when t ends. change edits its Config before New.
func (c *cluster) add(t *testing.T, change func(*Config)) *replica {
	t.Helper()
	r := &replica{syncer: &fakeSyncer{}, logs: &logRecorder{}, refreshed: make(chan error, 100),
		armed: make(chan time.Time, 10000), finished: make(chan finish, 10000), skipped: make(chan skip, 10000)}
	cfg := Config{Syncer: r.syncer, Districts: c.districts, Schedule: "* * * * * *", Logger: slog.New(r.logs), Clock: c.clock}
	if change != nil {
		change(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.hooks.refreshed = func(err error) { r.refreshed <- err }
	s.hooks.armed = func(next time.Time) { r.armed <- next }
	s.hooks.finished = func(id string, tk tick, err error) { r.finished <- finish{id, tk, err} }
	s.hooks.skipped = func(id string, tk tick, running string) { r.skipped <- skip{id, tk, running} }
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	r.s = s
	return r
}

// start starts r and waits for its dispatch loop to wait for the first tick, which it returns.
func (r *replica) start(t *testing.T) time.Time {
	t.Helper()
	if err := r.s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r.arm(t)
}

// arm waits for r's dispatch loop to wait for its next tick (after Start, a change of the district
// list or a tick) and returns when that tick is due.
func (r *replica) arm(t *testing.T) time.Time {
	t.Helper()
	return recv(t, r.armed, "the dispatch loop to wait for its next tick")
}

// advanceTo moves the clock to at and waits for each replica's dispatch loop to have handled it. Every
// replica's loop must be waiting (see arm) for a tick due at or before at.
func (c *cluster) advanceTo(t *testing.T, at time.Time, rs ...*replica) {
	t.Helper()
	c.clock.Advance(at.Sub(c.clock.Now()))
	for _, r := range rs {
		r.arm(t)
	}
}

// waitFinished waits for n runs of r to finish and returns them.
func (r *replica) waitFinished(t *testing.T, n int) []finish {
	t.Helper()
	out := make([]finish, n)
	for i := range out {
		out[i] = recv(t, r.finished, fmt.Sprintf("run %d of %d to finish", i+1, n))
	}
	return out
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("waited %s for %s", waitTimeout, what)
		panic("unreachable")
	}
}

// none fails when ch delivers something within a short while.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: got %+v", what, v)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	ok := Config{Syncer: &fakeSyncer{}, Districts: &fakeDistricts{}}
	tests := []struct {
		name   string
		change func(*Config)
		err    string
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "no syncer", change: func(c *Config) { c.Syncer = nil }, err: "Syncer and Districts are required"},
		{name: "no districts", change: func(c *Config) { c.Districts = nil }, err: "Syncer and Districts are required"},
		{name: "bad schedule", change: func(c *Config) { c.Schedule = "every day" }, err: `parse schedule "every day"`},
		{name: "negative refresh", change: func(c *Config) { c.RefreshEvery = -time.Second }, err: "must be positive"},
		{name: "negative timeout", change: func(c *Config) { c.RunTimeout = -time.Second }, err: "must be positive"},
		{name: "negative concurrency", change: func(c *Config) { c.Concurrency = -1 }, err: "Concurrency -1 must be positive"},
		{name: "negative spread", change: func(c *Config) { c.Spread = -time.Minute }, err: "Spread -1m0s and EventsInterval 0s must not be negative"},
		{name: "negative events interval", change: func(c *Config) { c.EventsInterval = -time.Minute }, err: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.change(&cfg)
			s, err := New(cfg)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.cron != "0 3 * * *" || s.cfg.Concurrency != DefaultConcurrency || s.cfg.Spread != 0 || s.cfg.EventsInterval != 0 ||
					s.cfg.RefreshEvery != 10*time.Minute || s.cfg.RunTimeout != 2*time.Hour || s.cfg.Logger == nil || s.cfg.Clock == nil {
					t.Fatalf("defaults: cron %q, config %+v", s.cron, s.cfg)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "new scheduler: ") || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("New error %v: want \"new scheduler: …%s…\"", err, tt.err)
			}
		})
	}
}

func TestDistrictsFollowConnected(t *testing.T) {
	t.Parallel()
	c := newCluster("b", "a")
	r := c.add(t, func(cfg *Config) { cfg.Schedule = "daily"; cfg.RefreshEvery = 10 * time.Minute })

	if got := r.s.Districts(); len(got) != 0 {
		t.Fatalf("Districts before Start = %v, want none", got)
	}
	at3 := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	if next := r.start(t); !next.Equal(at3) {
		t.Fatalf("the first tick is due at %v, want %v", next, at3)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Districts = %v, want [a b]", got)
	}
	if next, ok := r.s.NextRun("a"); !ok || !next.Equal(at3) {
		t.Fatalf("NextRun(a) = %v, %v; want %v (daily is 03:00 UTC)", next, ok, at3)
	}
	if next, ok := r.s.NextRun("z"); ok {
		t.Fatalf("NextRun of an unknown district = %v, want none", next)
	}

	// The list changes; the next refresh adds c and removes a.
	c.districts.set(nil, "b", "c")
	if err := c.clock.BlockUntilContext(t.Context(), 2); err != nil { // the dispatch timer + refresh ticker
		t.Fatal(err)
	}
	c.clock.Advance(10 * time.Minute)
	if err := recv(t, r.refreshed, "refresh"); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Districts after refresh = %v, want [b c]", got)
	}
	if next, ok := r.s.NextRun("a"); ok {
		t.Fatalf("NextRun(a) after removal = %v, want none", next)
	}
	if next, ok := r.s.NextRun("c"); !ok || !next.Equal(at3) {
		t.Fatalf("NextRun(c) = %v, %v; want %v", next, ok, at3)
	}

	// A failed read keeps the districts as they are and is logged.
	c.districts.set(errors.New("database down"))
	c.clock.Advance(10 * time.Minute)
	if err := recv(t, r.refreshed, "refresh"); err == nil || !strings.Contains(err.Error(), "database down") {
		t.Fatalf("refresh error = %v, want database down", err)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Districts after a failed refresh = %v, want [b c]", got)
	}

	// Refresh picks up a newly connected district at once.
	c.districts.set(nil, "b", "c", "d")
	if err := r.s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("Districts after Refresh = %v, want [b c d]", got)
	}
	if calls := r.syncer.snapshot(); len(calls) != 0 {
		t.Fatalf("synced before 03:00: %v", calls)
	}

	if err := r.s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := r.s.Districts(); len(got) != 0 {
		t.Fatalf("Districts after Stop = %v, want none", got)
	}
	if err := r.s.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh after Stop succeeded")
	}
}

// TestStartSurvivesUnreadableDistricts: when the district list cannot be read at Start (Clever down),
// the scheduler starts anyway with no districts and logs the failure, then retries sooner than
// RefreshEvery (after 5 seconds, then 10, …) until a read succeeds, and keeps to RefreshEvery from then
// on.
func TestStartSurvivesUnreadableDistricts(t *testing.T) {
	t.Parallel()
	c := newCluster()
	down := errors.New("list connected districts: clever token listing unavailable: dial tcp 10.0.0.1:443: connect: connection refused")
	c.districts.set(down)
	r := c.add(t, func(cfg *Config) { cfg.Schedule = "daily"; cfg.RefreshEvery = 10 * time.Minute })
	r.start(t)
	if got := r.s.Districts(); len(got) != 0 {
		t.Fatalf("Districts = %v, want none while the list cannot be read", got)
	}
	logged := r.logs.lines("read connected districts")
	if len(logged) != 1 || logged[0].Level != slog.LevelError || attr(logged[0], logError) != "refresh districts: "+down.Error() {
		t.Fatalf("logged %v: want one error line \"read connected districts\" with the error", logged)
	}

	// The first retry comes after 5 seconds (not 10 minutes), and fails again.
	if err := c.clock.BlockUntilContext(t.Context(), 2); err != nil { // the idle dispatch timer + the retry timer
		t.Fatal(err)
	}
	c.clock.Advance(4 * time.Second)
	none(t, r.refreshed, "refreshed after 4s, want the first retry after 5s")
	c.clock.Advance(time.Second)
	if err := recv(t, r.refreshed, "the first retry"); !errors.Is(err, down) {
		t.Fatalf("first retry: %v, want %v", err, down)
	}

	// The next waits twice as long; by then Clever is back and the districts are scheduled.
	c.clock.Advance(9 * time.Second)
	none(t, r.refreshed, "refreshed 9s after the first retry, want the second after 10s")
	c.districts.set(nil, "b", "a")
	c.clock.Advance(time.Second)
	if err := recv(t, r.refreshed, "the second retry"); err != nil {
		t.Fatalf("second retry: %v", err)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Districts after the list became readable = %v, want [a b]", got)
	}
	at3 := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	if next, ok := r.s.NextRun("a"); !ok || !next.Equal(at3) {
		t.Fatalf("NextRun(a) = %v, %v; want %v", next, ok, at3)
	}
	if next := r.arm(t); !next.Equal(at3) { // the new districts woke the dispatch loop
		t.Fatalf("the dispatch loop waits for %v, want %v", next, at3)
	}

	// After a success, the list is re-read every RefreshEvery again.
	c.districts.set(nil, "a", "b", "c")
	if err := c.clock.BlockUntilContext(t.Context(), 2); err != nil { // the dispatch timer + refresh ticker
		t.Fatal(err)
	}
	c.clock.Advance(20 * time.Second)
	none(t, r.refreshed, "refreshed 20s after a success, want RefreshEvery")
	c.clock.Advance(10*time.Minute - 20*time.Second)
	if err := recv(t, r.refreshed, "the periodic refresh"); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := r.s.Districts(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Districts after the periodic refresh = %v, want [a b c]", got)
	}
}

func TestFailingDistrictsDoNotStopOthers(t *testing.T) {
	t.Parallel()
	c := newCluster("ok", "error", "failed", "panics")
	r := c.add(t, nil)
	r.syncer.do = func(_ context.Context, id string, _ mirror.Options) (mirror.Result, error) {
		switch id {
		case "error":
			return mirror.Result{}, errors.New("fetch schools: 502 Bad Gateway")
		case "failed":
			return mirror.Result{DistrictID: id, RunID: "r1", Status: mirror.StatusFailed, Errors: []string{"users: 500"},
				Counts: syncstats.Counts{"schools": {Read: 4, Updated: 1}}}, nil
		case "panics":
			panic("nil map")
		}
		return mirror.Result{DistrictID: id, RunID: "r2", Status: mirror.StatusSucceeded}, nil
	}
	next := r.start(t)

	// Two ticks: the scheduler goes on after failures and a panic.
	for range 2 {
		c.advanceTo(t, next, r)
		r.waitFinished(t, 4)
		next = next.Add(time.Second)
	}
	lines := r.logs.runLines()
	if len(lines) != 8 {
		t.Fatalf("%d run log lines for 8 runs, want one per run", len(lines))
	}
	for _, l := range lines {
		id := attr(l, logDistrict)
		wantLevel, wantErr := slog.LevelError, map[string]string{"error": "502 Bad Gateway", "failed": "users: 500", "panics": "panic: nil map"}[id]
		if id == "ok" {
			wantLevel = slog.LevelInfo
		}
		if l.Level != wantLevel || !strings.Contains(attr(l, logError), wantErr) {
			t.Errorf("district %s: logged %s %q error %q; want %s with %q", id, l.Level, l.Message, attr(l, logError), wantLevel, wantErr)
		}
		if id == "failed" && (attr(l, "read") != "4" || attr(l, "updated") != "1" || attr(l, logRun) != "r1") {
			t.Errorf("failed run logged without its counts: %v", l)
		}
	}
}

// TestTicksLeftToOthersAreQuiet: a tick another run took (busy, or already ran, as another replica's
// run makes them) or a district without events to apply is a debug line, not an error.
func TestTicksLeftToOthersAreQuiet(t *testing.T) {
	t.Parallel()
	c := newCluster("busy", "ran", "noevents", "nothingnew")
	r := c.add(t, nil)
	r.syncer.do = func(_ context.Context, id string, _ mirror.Options) (mirror.Result, error) {
		err := map[string]error{"busy": mirror.ErrBusy, "ran": mirror.ErrAlreadyRan, "noevents": mirror.ErrEventsUnavailable, "nothingnew": mirror.ErrNothingNew}[id]
		return mirror.Result{DistrictID: id}, fmt.Errorf("sync district %s: %w", id, err)
	}
	c.advanceTo(t, r.start(t), r)
	r.waitFinished(t, 4)
	if lines := r.logs.runLines(); len(lines) != 0 {
		t.Fatalf("logged %d run lines (%v), want none", len(lines), lines)
	}
	skipped := r.logs.lines("scheduled sync skipped")
	reasons := map[string]string{}
	for _, l := range skipped {
		if l.Level != slog.LevelDebug {
			t.Errorf("%s logged at %s, want debug", attr(l, logDistrict), l.Level)
		}
		reasons[attr(l, logDistrict)] = attr(l, logReason)
	}
	want := map[string]string{"busy": "another run holds the district", "ran": "another run ran this tick", "noevents": "no events to apply", "nothingnew": "no new events"}
	if !maps.Equal(reasons, want) {
		t.Fatalf("skip reasons %v, want %v", reasons, want)
	}
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	c := newCluster("slow")
	r := c.add(t, func(cfg *Config) { cfg.RunTimeout = time.Millisecond })
	r.syncer.do = func(ctx context.Context, _ string, _ mirror.Options) (mirror.Result, error) {
		<-ctx.Done()
		return mirror.Result{}, fmt.Errorf("fetch users: %w", ctx.Err())
	}
	c.advanceTo(t, r.start(t), r)
	r.waitFinished(t, 1)
	lines := r.logs.runLines()
	if len(lines) != 1 || lines[0].Level != slog.LevelError || !strings.Contains(attr(lines[0], logError), "run timed out after 1ms") {
		t.Fatalf("log %v: want one error line saying the run timed out", lines)
	}
}

// blocking makes r's runs wait for release (called at the latest when t ends) or for their context. It
// reports each run's start on entered, and counts the runs in progress in the largest number at once.
type blocking struct {
	entered  chan call
	release  func()
	finished atomic.Int32
	// releaseOne lets one waiting run finish.
	releaseOne chan struct{}

	mu             sync.Mutex
	running, most  int
	runningByDistr map[string]int
	overlapped     []string // districts that had two runs at once
}

func block(t *testing.T, r *replica) *blocking {
	b := &blocking{entered: make(chan call, 1000), releaseOne: make(chan struct{}, 1000), runningByDistr: map[string]int{}}
	released := make(chan struct{})
	b.release = sync.OnceFunc(func() { close(released) })
	t.Cleanup(b.release) // before the Stop registered by add: a failed test does not hang in it
	r.syncer.do = func(ctx context.Context, id string, opts mirror.Options) (mirror.Result, error) {
		b.mu.Lock()
		b.running++
		b.most = max(b.most, b.running)
		if b.runningByDistr[id]++; b.runningByDistr[id] > 1 {
			b.overlapped = append(b.overlapped, id)
		}
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.running--
			b.runningByDistr[id]--
			b.mu.Unlock()
		}()
		b.entered <- call{id, opts}
		select {
		case <-released:
		case <-b.releaseOne:
		case <-ctx.Done():
			return mirror.Result{DistrictID: id, Status: mirror.StatusFailed}, fmt.Errorf("fetch users: %w", ctx.Err())
		}
		b.finished.Add(1)
		return mirror.Result{DistrictID: id, Status: mirror.StatusSucceeded}, nil
	}
	return b
}

func TestStopWaitsForRunningSync(t *testing.T) {
	t.Parallel()
	c := newCluster("a")
	r := c.add(t, nil)
	b := block(t, r)
	waiting := make(chan struct{})
	r.s.hooks.stopWaiting = func() { close(waiting) }
	next := r.start(t)
	c.advanceTo(t, next, r)
	recv(t, b.entered, "the run to start")

	stopped := make(chan error, 1)
	go func() { stopped <- r.s.Stop(context.Background()) }()
	recv(t, waiting, "Stop to wait for the run")
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v while a sync was running", err)
	default:
	}
	// A tick while stopping starts nothing.
	c.clock.Advance(time.Second)
	b.release()
	if err := recv(t, stopped, "Stop"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if b.finished.Load() != 1 {
		t.Fatal("Stop returned before the sync finished")
	}
	if got := r.syncer.runs(""); got["a"] != 1 {
		t.Fatalf("syncer calls %v, want one", got)
	}
	lines := r.logs.runLines()
	if len(lines) != 1 || lines[0].Level != slog.LevelInfo || attr(lines[0], logStatus) != mirror.StatusSucceeded {
		t.Fatalf("log %v: want one info line for the finished run", lines)
	}
}

func TestStopCancelsSyncsAfterDeadline(t *testing.T) {
	t.Parallel()
	c := newCluster("a", "b")
	r := c.add(t, nil)
	b := block(t, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	r.s.hooks.stopWaiting = func() { cancel(context.DeadlineExceeded) }
	c.advanceTo(t, r.start(t), r)
	recv(t, b.entered, "a run to start")
	recv(t, b.entered, "a run to start")

	err := r.s.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "stop scheduler: cancel running syncs: ") {
		t.Fatalf("Stop = %v, want it to say it canceled the running syncs", err)
	}
	lines := r.logs.runLines()
	if len(lines) != 2 {
		t.Fatalf("%d run log lines, want 2", len(lines))
	}
	for _, l := range lines {
		if l.Level != slog.LevelInfo || l.Message != "scheduled sync canceled by shutdown" || attr(l, logStatus) != "canceled" {
			t.Errorf("logged %s %q (%s): want an info line, a shutdown is not an error", l.Level, l.Message, attr(l, logError))
		}
	}
}

// TestSlowRunIsNotOverlapped: a full tick that comes while the district's previous full sync is still
// going is skipped.
func TestSlowRunIsNotOverlapped(t *testing.T) {
	t.Parallel()
	c := newCluster("slow")
	r := c.add(t, nil)
	b := block(t, r)
	next := r.start(t)
	c.advanceTo(t, next, r)
	recv(t, b.entered, "the first run to start")
	c.advanceTo(t, next.Add(time.Second), r)
	if s := recv(t, r.skipped, "the second tick to be skipped"); s.district != "slow" || s.running != mirror.ModeFull || !s.tick.at.Equal(next.Add(time.Second)) {
		t.Fatalf("skipped %+v, want the second full tick of slow, skipped for the full run going", s)
	}
	none(t, b.entered, "a run started while the first was going")
	b.release()
	r.waitFinished(t, 1)
	if got := r.syncer.runs(""); got["slow"] != 1 {
		t.Fatalf("syncer calls %v, want one", got)
	}
}

// TestEventsAndFullSyncsDoNotOverlap: the scheduler running events and full syncs of a district
// without overlap. A full tick that comes during an events run runs right after it, with its own tick
// time; an events tick that comes during a full run is skipped; events ticks come every EventsInterval.
func TestEventsAndFullSyncsDoNotOverlap(t *testing.T) {
	t.Parallel()
	c := newCluster("d")
	r := c.add(t, func(cfg *Config) { cfg.Schedule = "* * * * *"; cfg.EventsInterval = 20 * time.Second })
	b := block(t, r)
	phase := offset("d", "events", 20*time.Second)
	firstEvents := t0.Add(phase)
	if phase == 0 {
		firstEvents = t0.Add(20 * time.Second)
	}
	minute := t0.Add(time.Minute)
	if next := r.start(t); !next.Equal(firstEvents) {
		t.Fatalf("first tick at %v, want the events tick at %v (phase %s)", next, firstEvents, phase)
	}

	// The events tick starts an events run.
	c.advanceTo(t, firstEvents, r)
	ev := recv(t, b.entered, "the events run")
	if ev.opts.Mode != mirror.ModeEvents || !ev.opts.NotIfRanSince.Equal(firstEvents) {
		t.Fatalf("first run %+v, want an events run of the tick at %v", ev.opts, firstEvents)
	}
	// The events run is still going at the full tick (and at the events ticks before it, which are
	// skipped): the full sync waits.
	c.advanceTo(t, minute, r)
	none(t, b.entered, "a full run started while the events run was going")
	if next, ok := r.s.NextRun("d"); !ok || !next.Equal(minute) {
		t.Fatalf("NextRun while the full tick waits = %v, %v; want %v", next, ok, minute)
	}
	for _, s := range drain(r.skipped) {
		if s.tick.mode != mirror.ModeEvents || s.running != mirror.ModeEvents {
			t.Fatalf("skipped %+v, want only events ticks during the events run", s)
		}
	}
	// It runs right after the events run.
	b.releaseOne <- struct{}{}
	full := recv(t, b.entered, "the full run")
	if full.opts.Mode != mirror.ModeFull || !full.opts.NotIfRanSince.Equal(minute) {
		t.Fatalf("second run %+v, want the full run of the tick at %v", full.opts, minute)
	}
	// An events tick during the full run is skipped.
	nextEvents := r.s.entries["d"].nextEvents // under no lock: the loop waits and no run writes it
	c.advanceTo(t, nextEvents, r)
	if s := recv(t, r.skipped, "the events tick to be skipped"); s.tick.mode != mirror.ModeEvents || s.running != mirror.ModeFull {
		t.Fatalf("skipped %+v, want the events tick, for the full run going", s)
	}
	none(t, b.entered, "an events run started during the full run")
	b.releaseOne <- struct{}{}
	r.waitFinished(t, 2)
	// The next events tick runs again.
	c.advanceTo(t, nextEvents.Add(20*time.Second), r)
	if ev := recv(t, b.entered, "the next events run"); ev.opts.Mode != mirror.ModeEvents {
		t.Fatalf("third run %+v, want an events run", ev.opts)
	}
	b.release()
	r.waitFinished(t, 1)
	if len(b.overlapped) > 0 {
		t.Fatalf("runs of %v overlapped", b.overlapped)
	}
	if got := r.syncer.runs(mirror.ModeFull); got["d"] != 1 {
		t.Fatalf("full runs %v, want one", got)
	}
}

func drain[T any](ch <-chan T) []T {
	var out []T
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// TestConcurrencyBound: a process runs at most Concurrency syncs at once; the ticks beyond wait for a
// slot and all run.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("d%02d", i)
	}
	c := newCluster(ids...)
	r := c.add(t, func(cfg *Config) { cfg.Concurrency = 3 })
	b := block(t, r)
	c.advanceTo(t, r.start(t), r)
	for range 3 {
		recv(t, b.entered, "a run to start")
	}
	none(t, b.entered, "a fourth run started with 3 slots")
	if r.s.Running() != 3 || r.s.Waiting() != 7 {
		t.Fatalf("running %d, waiting %d; want 3 and 7", r.s.Running(), r.s.Waiting())
	}
	// Each run that ends lets one waiting tick in.
	for i := range 7 {
		b.releaseOne <- struct{}{}
		recv(t, b.entered, fmt.Sprintf("waiting run %d to start", i+1))
	}
	b.release()
	r.waitFinished(t, 10)
	if b.most != 3 || r.s.PeakRunning() != 3 {
		t.Fatalf("at most %d runs at once (peak reported %d), want 3", b.most, r.s.PeakRunning())
	}
	if got := r.syncer.runs(""); len(got) != 10 || slices.ContainsFunc(slices.Collect(maps.Values(got)), func(n int) bool { return n != 1 }) {
		t.Fatalf("runs %v, want each district once", got)
	}
}

// TestSpread: each district's full tick is the cron instant plus an offset derived from its id within
// Spread, the same on every replica, and the run carries that time; NextRun reports it.
func TestSpread(t *testing.T) {
	t.Parallel()
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("district-%d", i)
	}
	c := newCluster(ids...)
	spread := 30 * time.Minute
	cfg := func(cfg *Config) { cfg.Schedule = "hourly"; cfg.Spread = spread }
	r1, r2 := c.add(t, cfg), c.add(t, cfg)
	first := r1.start(t)
	r2.start(t)
	hour := t0 // the clock starts on a tick: its window is still to come
	offsets := map[time.Duration]bool{}
	var last time.Time
	for _, id := range ids {
		n1, ok1 := r1.s.NextRun(id)
		n2, ok2 := r2.s.NextRun(id)
		if !ok1 || !ok2 || !n1.Equal(n2) {
			t.Fatalf("NextRun(%s) = %v, %v on one replica and %v, %v on the other; want the same", id, n1, ok1, n2, ok2)
		}
		if n1.Before(hour) || !n1.Before(hour.Add(spread)) || n1.Truncate(time.Millisecond) != n1 {
			t.Fatalf("NextRun(%s) = %v, want whole milliseconds in [%v, %v)", id, n1, hour, hour.Add(spread))
		}
		offsets[n1.Sub(hour)] = true
		if n1.After(last) {
			last = n1
		}
		if n1.Before(first) {
			t.Fatalf("NextRun(%s) = %v, before the first tick the loop waits for (%v)", id, n1, first)
		}
	}
	if len(offsets) < 45 || last.Sub(hour) < spread/2 {
		t.Fatalf("%d distinct offsets for 50 districts, the last %s into the window: want them spread over %s", len(offsets), last.Sub(hour), spread)
	}

	// Only the districts due run by the middle of the window, each with its own tick's time.
	mid := hour.Add(spread / 2)
	due := map[string]bool{}
	for _, id := range ids {
		if offset(id, "full", spread) <= spread/2 {
			due[id] = true
		}
	}
	if len(due) == 0 || len(due) == len(ids) {
		t.Fatalf("%d of %d districts due half-way through the window, want some", len(due), len(ids))
	}
	c.clock.Advance(mid.Sub(c.clock.Now()))
	for _, f := range r1.waitFinished(t, len(due)) {
		if want := hour.Add(offset(f.district, "full", spread)); !due[f.district] || !f.tick.at.Equal(want) {
			t.Fatalf("district %s ran the tick of %v, want only the due districts, each at its own time", f.district, f.tick.at)
		}
	}
	none(t, r1.finished, "a district ran before its tick")
	for _, c := range r1.syncer.snapshot() {
		if want := hour.Add(offset(c.district, "full", spread)); !c.opts.NotIfRanSince.Equal(want) {
			t.Fatalf("district %s ran with NotIfRanSince %v, want %v", c.district, c.opts.NotIfRanSince, want)
		}
	}
}

// sharedEngine stands for the engine on one database shared by replicas: a district is locked by one
// run at a time, and a run whose tick another run has run since is refused, as mirror.Engine does with
// its advisory lock and NotIfRanSince.
type sharedEngine struct {
	clock   *clockwork.FakeClock
	gate    chan struct{} // closed to let the runs that took their district finish
	entered chan struct{} // a value per run that took its district

	mu      sync.Mutex
	locked  map[string]bool
	started map[string]time.Time
	ran     map[string]int // runs that ran, per district
}

func (e *sharedEngine) sync(ctx context.Context, id string, opts mirror.Options) (mirror.Result, error) {
	e.mu.Lock()
	switch {
	case e.locked[id]:
		e.mu.Unlock()
		return mirror.Result{}, fmt.Errorf("sync district %s: %w", id, mirror.ErrBusy)
	case !e.started[id].IsZero() && !e.started[id].Before(opts.NotIfRanSince):
		e.mu.Unlock()
		return mirror.Result{}, fmt.Errorf("sync district %s: %w", id, mirror.ErrAlreadyRan)
	}
	e.locked[id], e.started[id] = true, e.clock.Now()
	e.ran[id]++
	gate := e.gate
	e.mu.Unlock()
	e.entered <- struct{}{}
	defer func() {
		e.mu.Lock()
		e.locked[id] = false
		e.mu.Unlock()
	}()
	select {
	case <-gate:
	case <-ctx.Done():
		return mirror.Result{}, ctx.Err()
	}
	return mirror.Result{DistrictID: id, Status: mirror.StatusSucceeded, Kind: "FULL"}, nil
}

// open lets the runs through until the gate is replaced.
func (e *sharedEngine) open() {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.gate:
	default:
		close(e.gate)
	}
}

// TestReplicasShareTicks: three replicas schedule the same districts, each running up to its own
// Concurrency: every replica takes runs, no replica runs more than its bound at once, and every district
// is synced exactly once per tick.
func TestReplicasShareTicks(t *testing.T) {
	t.Parallel()
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = fmt.Sprintf("d%02d", i)
	}
	c := newCluster(ids...)
	eng := &sharedEngine{clock: c.clock, gate: make(chan struct{}), entered: make(chan struct{}, 1000), locked: map[string]bool{}, started: map[string]time.Time{}, ran: map[string]int{}}
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = c.add(t, func(cfg *Config) { cfg.Concurrency = 2 })
		rs[i].syncer.do = eng.sync
	}
	t.Cleanup(eng.open) // before the Stops registered by add: a failed test does not hang in them
	var next time.Time
	for _, r := range rs {
		next = r.start(t)
	}
	for tickNo := range 2 {
		c.advanceTo(t, next, rs...)
		// The runs that take a district wait at the gate: once 6 have, every replica's 2 slots hold one.
		for range 6 {
			recv(t, eng.entered, "a run to take its district")
		}
		for i, r := range rs {
			if got := r.s.Running(); got != 2 {
				t.Fatalf("tick %d: replica %d runs %d syncs, want 2: every replica takes runs", tickNo, i, got)
			}
		}
		eng.open() // let every run through, then wait for each replica to go through all districts
		for _, r := range rs {
			r.waitFinished(t, len(ids))
		}
		eng.mu.Lock()
		eng.gate = make(chan struct{}) // no run is going: the next tick's runs wait again
		eng.mu.Unlock()
		drain(eng.entered)
		for _, id := range ids {
			if eng.ran[id] != tickNo+1 {
				t.Fatalf("after tick %d district %s ran %d times, want %d", tickNo, id, eng.ran[id], tickNo+1)
			}
		}
		next = next.Add(time.Second)
	}
	for i, r := range rs {
		if got := r.s.PeakRunning(); got > 2 {
			t.Errorf("replica %d ran %d syncs at once, bound 2", i, got)
		}
		if len(r.logs.runLines()) == 0 {
			t.Errorf("replica %d ran no sync", i)
		}
	}
}

// discovering is a Districts that, like link.Discovery, starts the first sync of each district it lists
// for the first time (SyncNow) from within the scheduler's read of the list.
type discovering struct {
	*fakeDistricts
	s    *Scheduler
	seen map[string]bool
}

func (d *discovering) Connected(ctx context.Context) ([]string, error) {
	ids, err := d.fakeDistricts.Connected(ctx)
	for _, id := range ids {
		if !d.seen[id] {
			d.seen[id] = true
			d.s.SyncNow(id, "discovery")
		}
	}
	return ids, err
}

// TestFirstSyncsAreBounded: the first syncs of newly discovered districts run at once, without waiting
// for their tick, and within the process's concurrency bound, with their own trigger.
func TestFirstSyncsAreBounded(t *testing.T) {
	t.Parallel()
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = fmt.Sprintf("d%02d", i)
	}
	c := newCluster(ids...)
	d := &discovering{fakeDistricts: c.districts, seen: map[string]bool{}}
	r := c.add(t, func(cfg *Config) {
		cfg.Concurrency = 2
		cfg.Schedule = "0 3 * * *" // daily: no scheduled tick during the test
	})
	r.s.cfg.Districts = d
	d.s = r.s
	b := block(t, r)
	r.start(t)
	for range 2 {
		recv(t, b.entered, "a first sync to start")
	}
	none(t, b.entered, "a third first sync started with 2 slots")
	b.release()
	done := r.waitFinished(t, len(ids))
	for _, f := range done {
		if f.err != nil || f.tick.trigger != "discovery" || !f.tick.at.Equal(t0) {
			t.Errorf("first sync %+v: want a discovery run at the start", f)
		}
	}
	if b.most != 2 {
		t.Errorf("at most %d first syncs at once, want 2", b.most)
	}
	for _, call := range r.syncer.snapshot() {
		if call.opts.Trigger != "discovery" || call.opts.Mode != mirror.ModeFull {
			t.Errorf("first sync options %+v", call.opts)
		}
	}
	// A district discovered later starts at once too.
	c.districts.set(nil, append(ids, "d99")...)
	if err := r.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f := r.waitFinished(t, 1)[0]; f.district != "d99" || f.tick.trigger != "discovery" {
		t.Errorf("later discovery: %+v", f)
	}
}
