// Package schedule runs each connected district's full sync on a cron schedule (gocron v2). It is
// started by `rostermirror serve`.
//
// Every connected district gets its own job, tagged with its id, in singleton mode: a run that is still
// going when the next tick comes makes that tick be skipped, never overlapped. The list of connected
// districts is re-read periodically, adding and removing jobs. A failure to read it (Clever unreachable,
// say) does not keep the scheduler from starting: it starts with no jobs, so that the server goes on
// serving the data already mirrored, and retries sooner (after 5 seconds, doubling up to the refresh
// interval) until a read succeeds. On Postgres, replicas elect a leader through a session advisory lock,
// and only the leader runs syncs, so each district is synced by one replica per tick; on SQLite (one
// process by definition) or without a database there is no election.
package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// Syncer runs one district's full sync. *mirror.Engine implements it.
type Syncer interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
}

// Districts lists the districts to sync.
type Districts interface {
	// Connected returns the ids of the districts currently connected to the app.
	Connected(ctx context.Context) ([]string, error)
}

// Trigger is the mirror.Options.Trigger of scheduled runs.
const Trigger = "schedule"

// Log attribute keys.
const (
	logDistrict = "district"
	logRun      = "run"
	logStatus   = "status"
	logDuration = "duration"
	logError    = "error"
	logAdded    = "added"
	logRemoved  = "removed"
)

// firstRetry is how long the refresh loop waits before re-reading the district list when no read has
// succeeded since Start; the wait doubles after each failure, up to RefreshEvery.
const firstRetry = 5 * time.Second

// Config configures a Scheduler. Syncer and Districts are required.
type Config struct {
	// Syncer runs a district's sync.
	Syncer Syncer
	// Districts lists the connected districts, read at Start and every RefreshEvery (sooner after
	// failures until the first success, see Start).
	Districts Districts
	// Schedule is ROSTERMIRROR_SYNC_SCHEDULE: "daily" (03:00 UTC), "hourly", or a cron expression of
	// 5 fields (6 with seconds), in UTC unless it starts with "CRON_TZ=Zone". See ParseSchedule.
	// Default "daily".
	Schedule string
	// DB is the mirror's database. On Postgres, replicas elect a leader through a session advisory
	// lock held on one pinned connection, and only the leader runs syncs, so each district is synced by
	// one replica. Nil or SQLite: a single process, no election.
	DB *store.DB
	// RefreshEvery is how often the list of connected districts is re-read to add and remove jobs.
	// Default 10 minutes.
	RefreshEvery time.Duration
	// RunTimeout bounds one district's run; a run still going after it is canceled and logged as
	// failed. Default 2 hours.
	RunTimeout time.Duration
	// Logger receives one line per run and leadership changes; never a token or a person's data.
	// Default: discard.
	Logger *slog.Logger
	// Clock drives the schedule and the refresh (a clockwork.FakeClock in tests). RunTimeout is always
	// measured in real time. Default: the real clock.
	Clock clockwork.Clock
}

// Scheduler runs the districts' scheduled syncs. Start it once, Stop it once; its other methods are
// safe for concurrent use.
type Scheduler struct {
	cfg         Config
	cron        string
	withSeconds bool
	hooks       hooks

	// lifeMu serializes Start and Stop.
	lifeMu sync.Mutex
	// refreshMu serializes Refresh, and Refresh with Stop.
	refreshMu sync.Mutex

	mu            sync.Mutex
	started       bool
	stopping      bool
	gocron        gocron.Scheduler
	elector       *elector // nil without Postgres
	jobs          map[string]gocron.Job
	runs          sync.WaitGroup // runs in progress; Add only under mu while !stopping
	runCtx        context.Context
	cancelRuns    context.CancelFunc
	refreshCancel context.CancelFunc
	refreshDone   chan struct{}
}

// hooks let tests observe the scheduler without sleeping. Nil functions are not called.
type hooks struct {
	// refreshed is called after each periodic refresh of the district list.
	refreshed func(err error)
	// checked is called after each leadership check.
	checked func(leader bool)
	// stopWaiting is called when Stop starts waiting for the running syncs.
	stopWaiting func()
	// options are extra gocron options, e.g. a gocron.Monitor counting each tick's outcome.
	options []gocron.SchedulerOption
}

// New validates cfg, fills in its defaults and returns a Scheduler that is not started yet.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Syncer == nil || cfg.Districts == nil {
		return nil, errors.New("new scheduler: Syncer and Districts are required")
	}
	cron, withSeconds, err := ParseSchedule(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("new scheduler: %w", err)
	}
	cfg.RefreshEvery = cmp.Or(cfg.RefreshEvery, 10*time.Minute)
	cfg.RunTimeout = cmp.Or(cfg.RunTimeout, 2*time.Hour)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.RefreshEvery < 0 || cfg.RunTimeout < 0 {
		return nil, fmt.Errorf("new scheduler: RefreshEvery %s and RunTimeout %s must be positive", cfg.RefreshEvery, cfg.RunTimeout)
	}
	if cfg.DB != nil {
		switch {
		case cfg.DB.Dialect == dialect.Postgres && cfg.DB.SQL == nil:
			return nil, errors.New("new scheduler: Postgres DB has no *sql.DB for leader election")
		case cfg.DB.Dialect != dialect.Postgres && cfg.DB.Dialect != dialect.SQLite:
			return nil, fmt.Errorf("new scheduler: unsupported database dialect %q", cfg.DB.Dialect)
		}
	}
	return &Scheduler{cfg: cfg, cron: cron, withSeconds: withSeconds}, nil
}

// Start reads the connected districts, creates one job per district and starts the schedule and the
// periodic refresh of the district list. It returns once they are started; ctx bounds the first read
// of the district list (its cancellation does not stop the scheduler: Stop does).
//
// A failed first read (Clever unreachable, a database error: Districts' errors are all alike) does not
// fail Start: it is logged at Error and the scheduler starts with the jobs it could create, none at
// worst; the refresh then retries after 5 seconds, doubling the wait after each failure up to
// RefreshEvery, and keeps to RefreshEvery once a refresh has succeeded. Start fails only when gocron
// cannot be set up or the scheduler was started already. A scheduler runs once: after Stop it cannot be
// started again (after a failed Start it can).
func (s *Scheduler) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("start scheduler: already started")
	}
	opts := []gocron.SchedulerOption{
		gocron.WithLocation(time.UTC),
		gocron.WithClock(s.cfg.Clock),
		gocron.WithLogger(s.cfg.Logger),
	}
	var el *elector
	if s.cfg.DB != nil && s.cfg.DB.Dialect == dialect.Postgres {
		el = &elector{db: s.cfg.DB.SQL, key: leaderLockKey, log: s.cfg.Logger, checked: s.hooks.checked}
		opts = append(opts, gocron.WithDistributedElector(el))
	}
	sched, err := gocron.NewScheduler(append(opts, s.hooks.options...)...)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start scheduler: %w", err)
	}
	s.started, s.gocron, s.elector, s.jobs = true, sched, el, map[string]gocron.Job{}
	// Runs outlive Start's ctx (often the signal context of serve): only Stop cancels them.
	s.runCtx, s.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Unlock()

	// A mirror keeps serving what it has during an outage of Clever: a failed read is retried, not fatal.
	err = s.Refresh(ctx)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "read connected districts", slog.String(logError, err.Error()),
			slog.String("retry_in", min(firstRetry, s.cfg.RefreshEvery).String()))
	}
	sched.Start()

	refreshCtx, cancel := context.WithCancel(s.runCtx)
	s.refreshCancel, s.refreshDone = cancel, make(chan struct{})
	go s.refreshLoop(refreshCtx, err == nil)
	s.cfg.Logger.InfoContext(ctx, "sync schedule started", slog.String("schedule", s.cron),
		slog.Int("districts", len(s.Districts())), slog.Bool("leader_election", el != nil))
	return nil
}

// Stop stops scheduling, lets the running syncs finish until ctx is done, then cancels them and waits
// for them to return, and gives up leadership. It returns an error wrapping ctx's error when running
// syncs had to be canceled. Syncer must return soon after its context is canceled.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if !s.started || s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true // no run starts from now on
	s.mu.Unlock()

	s.refreshCancel()
	<-s.refreshDone
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()

	var errs []error
	finished := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(finished)
	}()
	if s.hooks.stopWaiting != nil {
		s.hooks.stopWaiting()
	}
	select {
	case <-finished:
	case <-ctx.Done():
		s.cancelRuns()
		<-finished
		errs = append(errs, fmt.Errorf("cancel running syncs: %w", context.Cause(ctx)))
	}
	s.cancelRuns()
	if err := s.gocron.Shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("shut down gocron: %w", err))
	}
	if s.elector != nil {
		s.elector.close(ctx)
	}
	s.mu.Lock()
	s.jobs = nil
	s.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop scheduler: %w", err)
	}
	return nil
}

// Districts returns the ids of the districts currently scheduled, sorted.
func (s *Scheduler) Districts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.jobs))
}

// NextRun returns when the district's next scheduled run is due, and false when the district is not
// scheduled (or the scheduler is not running). On a replica that is not the leader, it is when the
// leader will run it.
func (s *Scheduler) NextRun(districtID string) (time.Time, bool) {
	s.mu.Lock()
	job, ok := s.jobs[districtID]
	s.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	next, err := job.NextRun()
	if err != nil || next.IsZero() {
		return time.Time{}, false
	}
	return next, true
}

// Refresh re-reads the connected districts now, adding a job for each new one and removing the jobs of
// the districts gone (a run in progress finishes). When the list cannot be read the jobs are left as
// they are. It runs every RefreshEvery on its own (sooner until one succeeds, see Start); call it to
// pick up a newly connected district at once.
func (s *Scheduler) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	s.mu.Lock()
	sched, stopping := s.gocron, s.stopping
	s.mu.Unlock()
	if sched == nil || stopping {
		return errors.New("refresh districts: scheduler is not running")
	}

	ids, err := s.cfg.Districts.Connected(ctx)
	if err != nil {
		return fmt.Errorf("refresh districts: %w", err)
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	s.mu.Lock()
	have := maps.Clone(s.jobs)
	s.mu.Unlock()

	var added, removed []string
	var errs []error
	for id, job := range have {
		if want[id] {
			continue
		}
		if err := sched.RemoveJob(job.ID()); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
			errs = append(errs, fmt.Errorf("remove job of district %s: %w", id, err))
			continue
		}
		delete(have, id)
		removed = append(removed, id)
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if _, ok := have[id]; ok {
			continue
		}
		job, err := sched.NewJob(
			gocron.CronJob(s.cron, s.withSeconds),
			gocron.NewTask(s.run, id),
			gocron.WithName("sync district "+id),
			gocron.WithTags(id),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
		)
		if err != nil {
			errs = append(errs, fmt.Errorf("add job of district %s: %w", id, err))
			continue
		}
		have[id] = job
		added = append(added, id)
	}
	s.mu.Lock()
	s.jobs = have
	s.mu.Unlock()
	if len(added)+len(removed) > 0 {
		slices.Sort(removed)
		s.cfg.Logger.InfoContext(ctx, "scheduled districts changed",
			slog.Any(logAdded, added), slog.Any(logRemoved, removed), slog.Int("districts", len(have)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("refresh districts: %w", err)
	}
	return nil
}

// refreshLoop refreshes the district list until ctx is canceled: every RefreshEvery once a refresh has
// succeeded (ok: Start's did), and until then after firstRetry, doubling after each failure up to
// RefreshEvery.
func (s *Scheduler) refreshLoop(ctx context.Context, ok bool) {
	defer close(s.refreshDone)
	var ticker clockwork.Ticker // once ok
	var timer clockwork.Timer   // the retry in progress, before
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
		if timer != nil {
			timer.Stop()
		}
	}()
	retry := min(firstRetry, s.cfg.RefreshEvery)
	// next arms the wait for the next refresh. It is called before hooks.refreshed so that a test
	// advancing its fake clock after the hook cannot outrun it.
	next := func() <-chan time.Time {
		if ok {
			if ticker == nil {
				ticker = s.cfg.Clock.NewTicker(s.cfg.RefreshEvery)
			}
			return ticker.Chan()
		}
		timer = s.cfg.Clock.NewTimer(retry)
		retry = min(2*retry, s.cfg.RefreshEvery)
		return timer.Chan()
	}
	due := next()
	for {
		select {
		case <-ctx.Done():
			return
		case <-due:
		}
		refreshCtx, cancel := context.WithTimeout(ctx, s.cfg.RefreshEvery)
		err := s.Refresh(refreshCtx)
		cancel()
		ok = ok || err == nil
		due = next()
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.ErrorContext(ctx, "refresh scheduled districts", slog.String(logError, err.Error()))
		}
		if s.hooks.refreshed != nil {
			s.hooks.refreshed(err)
		}
	}
}

// run is a district job's task: one scheduled sync of districtID, logged in one line.
func (s *Scheduler) run(districtID string) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.runs.Add(1)
	s.mu.Unlock()
	defer s.runs.Done()

	ctx, cancel := context.WithTimeout(s.runCtx, s.cfg.RunTimeout)
	defer cancel()
	start := s.cfg.Clock.Now()
	res, err := s.syncDistrict(ctx, districtID)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && s.runCtx.Err() == nil {
		err = fmt.Errorf("run timed out after %s: %w", s.cfg.RunTimeout, err)
	}
	s.logRun(ctx, districtID, res, err, s.cfg.Clock.Since(start))
}

// syncDistrict calls the Syncer, turning a panic into an error so that one district cannot bring the
// scheduler down.
func (s *Scheduler) syncDistrict(ctx context.Context, districtID string) (res mirror.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sync district: panic: %v\n%s", p, debug.Stack())
		}
	}()
	return s.cfg.Syncer.SyncDistrict(ctx, districtID, mirror.Options{Trigger: Trigger})
}

// logRun writes a run's one log line: Info when it succeeded or was canceled by Stop, Warn when archives
// were held for approval, Error when it failed.
func (s *Scheduler) logRun(ctx context.Context, districtID string, res mirror.Result, err error, took time.Duration) {
	var total syncstats.Outcome
	for _, o := range res.Counts {
		total.Add(o)
	}
	status := res.Status
	if status == "" {
		status = mirror.StatusSucceeded
		if err != nil {
			status = mirror.StatusFailed
		}
	}
	level, msg := slog.LevelInfo, "scheduled sync finished"
	switch {
	case err != nil && errors.Is(err, context.Canceled) && s.runCtx.Err() != nil:
		status, msg = "canceled", "scheduled sync canceled by shutdown"
	case err != nil || res.Status == mirror.StatusFailed:
		level, msg = slog.LevelError, "scheduled sync failed"
		if err == nil {
			err = res.Err()
		}
	case res.Status == mirror.StatusHeld:
		level, msg = slog.LevelWarn, "scheduled sync held archives for approval"
	}
	attrs := []slog.Attr{
		slog.String(logDistrict, districtID), slog.String(logRun, res.RunID), slog.String(logStatus, status),
		slog.Duration(logDuration, took),
		slog.Int("read", total.Read), slog.Int("created", total.Created), slog.Int("updated", total.Updated),
		slog.Int("archived", total.Archived), slog.Int("restored", total.Restored), slog.Int("held", total.Held),
	}
	if err != nil && level == slog.LevelError {
		attrs = append(attrs, slog.String(logError, err.Error()))
	}
	s.cfg.Logger.LogAttrs(context.WithoutCancel(ctx), level, msg, attrs...)
}
