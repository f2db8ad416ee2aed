package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// waitTimeout bounds every wait of these tests; nothing here should take more than milliseconds.
const waitTimeout = 10 * time.Second

// t0 is the fake clock's start: a whole second, so that a "* * * * * *" tick is one Advance(time.Second).
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

// fakeSyncer counts its calls per district and answers with do, or success.
type fakeSyncer struct {
	do func(ctx context.Context, districtID string) (mirror.Result, error)

	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeSyncer) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[districtID]++
	f.mu.Unlock()
	if opts.Trigger != "schedule" || opts.DryRun {
		return mirror.Result{}, fmt.Errorf("options %+v: want a real run triggered by the schedule", opts)
	}
	if f.do != nil {
		return f.do(ctx, districtID)
	}
	return mirror.Result{RunID: "run-" + districtID, DistrictID: districtID, Status: mirror.StatusSucceeded,
		Counts: syncstats.Counts{"users": {Read: 3, Created: 1, Unchanged: 2}}}, nil
}

func (f *fakeSyncer) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// outcome is what became of one district job's tick on one replica, as gocron's monitor reports it:
// gocron.Success (the task ran), gocron.Skip (not the leader) or gocron.SingletonRescheduled (the
// job's previous run still held its singleton slot).
type outcome struct {
	district string
	status   gocron.JobStatus
}

// monitor is a gocron.Monitor forwarding each tick's outcome.
type monitor struct{ outcomes chan outcome }

func (m monitor) IncrementJob(_ uuid.UUID, _ string, tags []string, status gocron.JobStatus) {
	m.outcomes <- outcome{district: tags[0], status: status}
}

func (monitor) RecordJobTiming(time.Time, time.Time, uuid.UUID, string, []string) {}

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

// runLines returns the log records of runs ("scheduled sync …").
func (l *logRecorder) runLines() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if strings.HasPrefix(r.Message, "scheduled sync ") {
			out = append(out, r)
		}
	}
	return out
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

// cluster is what the schedulers of a test share: the fake clock, the district list and the outcomes of
// all replicas' ticks.
type cluster struct {
	clock     *clockwork.FakeClock
	districts *fakeDistricts
	outcomes  chan outcome
	replicas  []*replica
}

// replica is one scheduler with its own Syncer and log.
type replica struct {
	s         *Scheduler
	syncer    *fakeSyncer
	logs      *logRecorder
	refreshed chan error
}

func newCluster(districts ...string) *cluster {
	c := &cluster{clock: clockwork.NewFakeClockAt(t0), districts: &fakeDistricts{}, outcomes: make(chan outcome, 1000)}
	c.districts.set(nil, districts...)
	return c
}

// add builds a scheduler on the cluster (every second by default), stopped when t ends. change edits
// its Config before New.
func (c *cluster) add(t *testing.T, db *store.DB, change func(*Config)) *replica {
	t.Helper()
	r := &replica{syncer: &fakeSyncer{}, logs: &logRecorder{}, refreshed: make(chan error, 100)}
	cfg := Config{
		Syncer: r.syncer, Districts: c.districts, Schedule: "* * * * * *", DB: db,
		Logger: slog.New(r.logs), Clock: c.clock,
	}
	if change != nil {
		change(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.hooks.options = []gocron.SchedulerOption{gocron.WithMonitor(monitor{c.outcomes})}
	s.hooks.refreshed = func(err error) { r.refreshed <- err }
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	r.s = s
	c.replicas = append(c.replicas, r)
	return r
}

func (c *cluster) start(t *testing.T, r *replica) {
	t.Helper()
	if err := r.s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// tick waits until every running replica has scheduled its next tick (one timer per district job plus
// the refresh ticker), moves the clock one second and collects the outcome of each of the jobs district
// jobs. It returns the runs per district.
//
// Tests tick each job once: gocron frees a singleton job's slot just after its run reports its outcome,
// so a second tick a fake clock brings microseconds later may find the slot still taken. Rounds of
// ticks use new districts (see round).
func (c *cluster) tick(t *testing.T, jobs int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := c.clock.BlockUntilContext(ctx, jobs+c.running()); err != nil {
		t.Fatalf("wait for %d timers: %v", jobs+c.running(), err)
	}
	c.clock.Advance(time.Second)
	runs := map[string]int{}
	for i := range jobs {
		select {
		case o := <-c.outcomes:
			switch o.status {
			case gocron.Success:
				runs[o.district]++
			case gocron.Skip:
			default:
				t.Fatalf("district %s: tick %s", o.district, o.status)
			}
		case <-ctx.Done():
			t.Fatalf("tick: waited for %d job outcomes, got %d", jobs, i)
		}
	}
	return runs
}

// round connects the districts ids (instead of the previous ones), refreshes the running replicas, ticks
// once and checks that each district was synced exactly once in total.
func (c *cluster) round(t *testing.T, ids ...string) {
	t.Helper()
	c.districts.set(nil, ids...)
	for _, r := range c.replicas {
		if c.isRunning(r) {
			if err := r.s.Refresh(t.Context()); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
		}
	}
	runs := c.tick(t, len(ids)*c.running())
	want := map[string]int{}
	for _, id := range ids {
		want[id] = 1
	}
	if !maps.Equal(runs, want) {
		t.Fatalf("tick synced %v, want each of %v once", runs, ids)
	}
}

func (c *cluster) isRunning(r *replica) bool {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.started && !r.s.stopping
}

// running counts the replicas started and not stopped (each has a refresh ticker).
func (c *cluster) running() int {
	n := 0
	for _, r := range c.replicas {
		if c.isRunning(r) {
			n++
		}
	}
	return n
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
		{name: "postgres without sql", change: func(c *Config) { c.DB = &store.DB{Dialect: dialect.Postgres} }, err: "no *sql.DB"},
		{name: "mysql", change: func(c *Config) { c.DB = &store.DB{Dialect: dialect.MySQL} }, err: `unsupported database dialect "mysql"`},
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
				if s.cron != "0 3 * * *" || s.cfg.RefreshEvery != 10*time.Minute || s.cfg.RunTimeout != 2*time.Hour || s.cfg.Logger == nil || s.cfg.Clock == nil {
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

func TestJobsFollowConnectedDistricts(t *testing.T) {
	t.Parallel()
	c := newCluster("b", "a")
	r := c.add(t, nil, func(cfg *Config) { cfg.Schedule = "daily"; cfg.RefreshEvery = 10 * time.Minute })

	if got := r.s.Districts(); len(got) != 0 {
		t.Fatalf("Districts before Start = %v, want none", got)
	}
	c.start(t, r)
	if got := r.s.Districts(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Districts = %v, want [a b]", got)
	}
	at3 := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	if next, ok := r.s.NextRun("a"); !ok || !next.Equal(at3) {
		t.Fatalf("NextRun(a) = %v, %v; want %v (daily is 03:00 UTC)", next, ok, at3)
	}
	if next, ok := r.s.NextRun("z"); ok {
		t.Fatalf("NextRun of an unknown district = %v, want none", next)
	}

	// The list changes; the next refresh adds c and removes a.
	c.districts.set(nil, "b", "c")
	if err := c.clock.BlockUntilContext(t.Context(), 3); err != nil { // 2 jobs + refresh ticker
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

	// A failed read keeps the jobs as they are and is logged.
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
	if len(r.syncer.snapshot()) != 0 {
		t.Fatalf("synced before 03:00: %v", r.syncer.snapshot())
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
// the scheduler starts anyway with no jobs and logs the failure, then retries sooner than RefreshEvery
// (after 5 seconds, then 10, …) until a read succeeds, and keeps to RefreshEvery from then on.
func TestStartSurvivesUnreadableDistricts(t *testing.T) {
	t.Parallel()
	c := newCluster()
	down := errors.New("list connected districts: clever token listing unavailable: dial tcp 10.0.0.1:443: connect: connection refused")
	c.districts.set(down)
	r := c.add(t, nil, func(cfg *Config) { cfg.Schedule = "daily"; cfg.RefreshEvery = 10 * time.Minute })
	c.start(t, r)
	if got := r.s.Districts(); len(got) != 0 {
		t.Fatalf("Districts = %v, want none while the list cannot be read", got)
	}
	var logged []slog.Record
	r.logs.mu.Lock()
	for _, l := range r.logs.recs {
		if l.Message == "read connected districts" {
			logged = append(logged, l)
		}
	}
	r.logs.mu.Unlock()
	if len(logged) != 1 || logged[0].Level != slog.LevelError || attr(logged[0], logError) != "refresh districts: "+down.Error() {
		t.Fatalf("logged %v: want one error line \"read connected districts\" with the error", logged)
	}

	// The first retry comes after 5 seconds (not 10 minutes), and fails again.
	noRefresh := func(after string) {
		t.Helper()
		select {
		case err := <-r.refreshed:
			t.Fatalf("refreshed (%v) %s", err, after)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := c.clock.BlockUntilContext(t.Context(), 1); err != nil { // the retry timer
		t.Fatal(err)
	}
	c.clock.Advance(4 * time.Second)
	noRefresh("after 4s, want the first retry after 5s")
	c.clock.Advance(time.Second)
	if err := recv(t, r.refreshed, "the first retry"); !errors.Is(err, down) {
		t.Fatalf("first retry: %v, want %v", err, down)
	}

	// The next waits twice as long; by then Clever is back and the districts are scheduled.
	c.clock.Advance(9 * time.Second)
	noRefresh("9s after the first retry, want the second after 10s")
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

	// After a success, the list is re-read every RefreshEvery again.
	c.districts.set(nil, "a", "b", "c")
	if err := c.clock.BlockUntilContext(t.Context(), 3); err != nil { // 2 jobs + refresh ticker
		t.Fatal(err)
	}
	c.clock.Advance(20 * time.Second)
	noRefresh("20s after a success, want RefreshEvery")
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
	r := c.add(t, nil, nil)
	r.syncer.do = func(_ context.Context, id string) (mirror.Result, error) {
		switch strings.TrimSuffix(id, "2") {
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
	c.start(t, r)

	// Two rounds: the scheduler goes on after failures and a panic.
	c.round(t, "ok", "error", "failed", "panics")
	c.round(t, "ok2", "error2", "failed2", "panics2")
	lines := r.logs.runLines()
	if len(lines) != 8 {
		t.Fatalf("%d run log lines for 8 runs, want one per run", len(lines))
	}
	for _, l := range lines {
		id := strings.TrimSuffix(attr(l, logDistrict), "2")
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

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	c := newCluster("slow")
	r := c.add(t, nil, func(cfg *Config) { cfg.RunTimeout = time.Millisecond })
	r.syncer.do = func(ctx context.Context, _ string) (mirror.Result, error) {
		<-ctx.Done()
		return mirror.Result{}, fmt.Errorf("fetch users: %w", ctx.Err())
	}
	c.start(t, r)
	c.tick(t, 1)
	lines := r.logs.runLines()
	if len(lines) != 1 || lines[0].Level != slog.LevelError || !strings.Contains(attr(lines[0], logError), "run timed out after 1ms") {
		t.Fatalf("log %v: want one error line saying the run timed out", lines)
	}
}

// blockingSyncer makes r's runs wait for release (called at the latest when t ends) or for their
// context.
func blockingSyncer(t *testing.T, r *replica) (entered chan string, release func(), finished *atomic.Bool) {
	entered, finished = make(chan string, 10), &atomic.Bool{}
	released := make(chan struct{})
	release = sync.OnceFunc(func() { close(released) })
	t.Cleanup(release) // before the Stop registered by add: a failed test does not hang in it
	r.syncer.do = func(ctx context.Context, id string) (mirror.Result, error) {
		entered <- id
		select {
		case <-released:
			finished.Store(true)
			return mirror.Result{DistrictID: id, Status: mirror.StatusSucceeded}, nil
		case <-ctx.Done():
			return mirror.Result{DistrictID: id, Status: mirror.StatusFailed}, fmt.Errorf("fetch users: %w", ctx.Err())
		}
	}
	return entered, release, finished
}

func TestStopWaitsForRunningSync(t *testing.T) {
	t.Parallel()
	c := newCluster("a")
	r := c.add(t, nil, nil)
	entered, release, finished := blockingSyncer(t, r)
	waiting := make(chan struct{})
	r.s.hooks.stopWaiting = func() { close(waiting) }
	c.start(t, r)
	if err := c.clock.BlockUntilContext(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(time.Second)
	recv(t, entered, "the run to start")

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
	release()
	if err := recv(t, stopped, "Stop"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the sync finished")
	}
	if got := r.syncer.snapshot(); got["a"] != 1 {
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
	r := c.add(t, nil, nil)
	entered, _, _ := blockingSyncer(t, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	r.s.hooks.stopWaiting = func() { cancel(context.DeadlineExceeded) }
	c.start(t, r)
	if err := c.clock.BlockUntilContext(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(time.Second)
	recv(t, entered, "a run to start")
	recv(t, entered, "a run to start")

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

// TestNoElectionWithoutPostgres: on SQLite (one process) and without a database, the scheduler runs
// every tick itself.
func TestNoElectionWithoutPostgres(t *testing.T) {
	t.Parallel()
	sqlite, err := store.Open(t.Context(), "file:"+filepath.Join(t.TempDir(), "single.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlite.Close() })
	for name, db := range map[string]*store.DB{"sqlite": sqlite, "no database": nil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCluster("a", "b")
			r := c.add(t, db, nil)
			c.start(t, r)
			if r.s.elector != nil {
				t.Fatal("an elector on a single process")
			}
			c.round(t, "a", "b")
			c.round(t, "c")
			if got := r.syncer.snapshot(); !maps.Equal(got, map[string]int{"a": 1, "b": 1, "c": 1}) {
				t.Fatalf("syncer calls %v, want a, b and c once", got)
			}
		})
	}
}

// TestSlowRunIsNotOverlapped: a tick that comes while the district's previous run is still going is
// skipped.
func TestSlowRunIsNotOverlapped(t *testing.T) {
	t.Parallel()
	c := newCluster("slow")
	r := c.add(t, nil, nil)
	entered, release, _ := blockingSyncer(t, r)
	c.start(t, r)
	for i := range 2 {
		if err := c.clock.BlockUntilContext(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(time.Second)
		if i == 0 {
			recv(t, entered, "the first run to start")
		}
	}
	select {
	case o := <-c.outcomes:
		if o.status != gocron.SingletonRescheduled {
			t.Fatalf("second tick: %s, want it skipped", o.status)
		}
	case <-entered:
		t.Fatal("the second tick started a run while the first was going")
	case <-time.After(waitTimeout):
		t.Fatal("no outcome for the second tick")
	}
	release()
	// Under load gocron may deliver further skipped ticks before the first run reports; each must be a
	// skip, and the first run must then succeed.
	for {
		o := recv(t, c.outcomes, "the first run's outcome")
		if o.status == gocron.SingletonRescheduled {
			continue
		}
		if o.status != gocron.Success {
			t.Fatalf("first run: %s", o.status)
		}
		break
	}
	if got := r.syncer.snapshot(); got["slow"] != 1 {
		t.Fatalf("syncer calls %v, want one", got)
	}
}
