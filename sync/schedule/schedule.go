// Package schedule runs the connected districts' syncs for `rostermirror serve`: a full sync of each
// district on a cron schedule (the daily reconcile), and an events sync of each district every events
// interval.
//
// Every replica of the server schedules every district, and every replica takes runs: the engine's
// per-district lock (an advisory lock on Postgres) makes a run exclusive, and each tick carries its time
// as mirror.Options.NotIfRanSince, so that of the replicas firing one district's tick the first to take
// it runs it and the others get mirror.ErrBusy or mirror.ErrAlreadyRan, which are not failures. The
// tick times are the same on every replica: a district's full sync comes a fixed offset after each cron
// instant, derived from its id within Config.Spread (so that a tick's runs are spread over that window
// instead of all starting at one instant), and its events sync comes every EventsInterval at a phase
// derived from its id.
//
// A process runs at most Config.Concurrency syncs at once; ticks that find no free slot wait in a queue
// that each process serves in its own random order, so that replicas do not contend for the same
// districts. A district never has two scheduled runs at once in a process: a full tick that comes while
// the district's events run is going runs right after it; an events tick that comes while a run of the
// district is going is skipped, as is a full tick during a full run.
//
// The list of connected districts is re-read periodically, adding and removing districts. A failure to
// read it (Clever unreachable, say) does not keep the scheduler from starting: it starts with no
// districts, so that the server goes on serving the data already mirrored, and retries sooner (after 5
// seconds, doubling up to the refresh interval) until a read succeeds.
package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// Syncer runs one district's sync. *mirror.Engine implements it.
type Syncer interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
}

// Districts lists the districts to sync.
type Districts interface {
	// Connected returns the ids of the districts currently connected to the app.
	Connected(ctx context.Context) ([]string, error)
}

// Triggers (mirror.Options.Trigger) of scheduled runs.
const (
	// Trigger is the trigger of the scheduled full syncs.
	Trigger = "schedule"
	// TriggerEvents is the trigger of the events syncs run every EventsInterval.
	TriggerEvents = "events"
)

// DefaultConcurrency is Config.Concurrency's default: how many syncs one process runs at once.
const DefaultConcurrency = 4

// Log attribute keys.
const (
	logDistrict = "district"
	logRun      = "run"
	logMode     = "mode"
	logKind     = "kind"
	logTick     = "tick"
	logStatus   = "status"
	logDuration = "duration"
	logError    = "error"
	logReason   = "reason"
	logAdded    = "added"
	logRemoved  = "removed"
)

// firstRetry is how long the refresh loop waits before re-reading the district list when no read has
// succeeded since Start; the wait doubles after each failure, up to RefreshEvery.
const firstRetry = 5 * time.Second

// idleWait is how long the dispatch loop sleeps when no district is scheduled (a refresh wakes it).
const idleWait = 24 * time.Hour

// Config configures a Scheduler. Syncer and Districts are required.
type Config struct {
	// Syncer runs a district's sync.
	Syncer Syncer
	// Districts lists the connected districts, read at Start and every RefreshEvery (sooner after
	// failures until the first success, see Start).
	Districts Districts
	// Schedule is ROSTERMIRROR_SYNC_SCHEDULE, the schedule of the full syncs: "daily" (03:00 UTC),
	// "hourly", or a cron expression of 5 fields (6 with seconds), in UTC unless it starts with
	// "CRON_TZ=Zone". See ParseSchedule. Default "daily".
	Schedule string
	// Spread is ROSTERMIRROR_SYNC_SPREAD: each district's full sync runs at each tick of Schedule plus an
	// offset in [0, Spread) derived from its id (the same on every replica, whole milliseconds), so that
	// the runs of a tick are spread over Spread rather than all due at one instant. Keep it below the
	// time between ticks. Zero (the default here; serve's default is 1h) runs every district at the tick.
	Spread time.Duration
	// EventsInterval is ROSTERMIRROR_EVENTS_INTERVAL: how often each district's new events are applied
	// (a mirror.ModeEvents run that skips districts without events to apply). Each district's events ticks
	// are EventsInterval apart at a phase derived from its id, the same on every replica. Zero (the
	// default here; serve's default is 5 minutes) turns the events sync off.
	EventsInterval time.Duration
	// Concurrency is ROSTERMIRROR_SYNC_CONCURRENCY: how many scheduled syncs (full and events) this
	// process runs at once. Ticks beyond it wait for a slot, holding no lock. Default DefaultConcurrency.
	Concurrency int
	// RefreshEvery is how often the list of connected districts is re-read to add and remove districts.
	// Default 10 minutes.
	RefreshEvery time.Duration
	// RunTimeout bounds one district's run; a run still going after it is canceled and logged as
	// failed. Default 2 hours.
	RunTimeout time.Duration
	// Logger receives one line per run, debug lines for ticks left to another run, and changes of the
	// district list; never a token or a person's data. Default: discard.
	Logger *slog.Logger
	// Clock drives the schedule and the refresh (a clockwork.FakeClock in tests). RunTimeout is always
	// measured in real time. Default: the real clock.
	Clock clockwork.Clock
}

// Scheduler runs the districts' scheduled syncs. Start it once, Stop it once; its other methods are
// safe for concurrent use.
type Scheduler struct {
	cfg   Config
	cron  string
	next  gocron.Cron // the parsed Schedule; Next is pure
	hooks hooks

	// lifeMu serializes Start and Stop.
	lifeMu sync.Mutex
	// refreshMu serializes Refresh, and Refresh with Stop.
	refreshMu sync.Mutex

	mu            sync.Mutex
	started       bool
	stopping      bool
	entries       map[string]*entry // the scheduled districts
	soon          map[string]string // SyncNow's districts not scheduled yet → the run's trigger
	ready         []*entry          // districts with a tick waiting for a slot, in no order
	running       int               // runs in progress
	peak          int               // the most runs in progress at once since Start
	rand          *rand.Rand        // picks from ready
	runs          sync.WaitGroup    // runs in progress; Add only under mu while !stopping
	runCtx        context.Context
	cancelRuns    context.CancelFunc
	wake          chan struct{} // tells the dispatch loop that the entries changed
	loopCancel    context.CancelFunc
	loopDone      chan struct{}
	refreshCancel context.CancelFunc
	refreshDone   chan struct{}
}

// entry is one scheduled district. Its fields are guarded by Scheduler.mu.
type entry struct {
	id string
	// offset shifts the district's full ticks past the cron instants; phase places its events ticks.
	offset, phase time.Duration
	// nextFull and nextEvents are the district's next ticks (nextEvents zero without events).
	nextFull, nextEvents time.Time
	// pending is the tick waiting for a slot (or for the district's run to end), if any.
	pending *tick
	// running is the mode of the district's run in progress, "" when none.
	running string
	queued  bool // in Scheduler.ready
	gone    bool // removed by Refresh
}

// tick is one due run: its mode (mirror.ModeFull or mirror.ModeEvents) and its scheduled time.
type tick struct {
	mode string
	at   time.Time
	// trigger is the run's mirror.Options.Trigger when it is not a scheduled one (SyncNow).
	trigger string
}

// hooks let tests observe the scheduler without sleeping. Nil functions are not called.
type hooks struct {
	// refreshed is called after each periodic refresh of the district list.
	refreshed func(err error)
	// armed is called when the dispatch loop starts waiting for the next tick, due at next.
	armed func(next time.Time)
	// skipped is called, under the scheduler's lock, when a tick is dropped because of the district's
	// run in progress.
	skipped func(districtID string, t tick, running string)
	// finished is called after each run, once the run's slot is free.
	finished func(districtID string, t tick, err error)
	// stopWaiting is called when Stop starts waiting for the running syncs.
	stopWaiting func()
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
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultConcurrency)
	cfg.RefreshEvery = cmp.Or(cfg.RefreshEvery, 10*time.Minute)
	cfg.RunTimeout = cmp.Or(cfg.RunTimeout, 2*time.Hour)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	switch {
	case cfg.RefreshEvery < 0 || cfg.RunTimeout < 0:
		return nil, fmt.Errorf("new scheduler: RefreshEvery %s and RunTimeout %s must be positive", cfg.RefreshEvery, cfg.RunTimeout)
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("new scheduler: Concurrency %d must be positive", cfg.Concurrency)
	case cfg.Spread < 0 || cfg.EventsInterval < 0:
		return nil, fmt.Errorf("new scheduler: Spread %s and EventsInterval %s must not be negative", cfg.Spread, cfg.EventsInterval)
	}
	next := gocron.NewDefaultCron(withSeconds)
	if err := next.IsValid(cron, time.UTC, cfg.Clock.Now()); err != nil {
		return nil, fmt.Errorf("new scheduler: %w", cronCause(err))
	}
	return &Scheduler{soon: map[string]string{}, cfg: cfg, cron: cron, next: next}, nil
}

// Start reads the connected districts, schedules them and starts the dispatch loop and the periodic
// refresh of the district list. It returns once they are started; ctx bounds the first read of the
// district list (its cancellation does not stop the scheduler: Stop does).
//
// A failed first read (Clever unreachable, a database error: Districts' errors are all alike) does not
// fail Start: it is logged at Error and the scheduler starts with no districts; the refresh then retries
// after 5 seconds, doubling the wait after each failure up to RefreshEvery, and keeps to RefreshEvery
// once a refresh has succeeded. Start fails only when the scheduler was started already. A scheduler
// runs once: after Stop it cannot be started again.
func (s *Scheduler) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("start scheduler: already started")
	}
	s.started, s.entries, s.wake = true, map[string]*entry{}, make(chan struct{}, 1)
	s.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) // each replica its own order
	// Runs outlive Start's ctx (often the signal context of serve): only Stop cancels them.
	s.runCtx, s.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Unlock()

	// A mirror keeps serving what it has during an outage of Clever: a failed read is retried, not fatal.
	err := s.Refresh(ctx)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "read connected districts", slog.String(logError, err.Error()),
			slog.String("retry_in", min(firstRetry, s.cfg.RefreshEvery).String()))
	}
	loopCtx, cancelLoop := context.WithCancel(s.runCtx)
	s.loopCancel, s.loopDone = cancelLoop, make(chan struct{})
	go s.loop(loopCtx)

	refreshCtx, cancel := context.WithCancel(s.runCtx)
	s.refreshCancel, s.refreshDone = cancel, make(chan struct{})
	go s.refreshLoop(refreshCtx, err == nil)
	s.cfg.Logger.InfoContext(ctx, "sync schedule started", slog.String("schedule", s.cron),
		slog.Duration("spread", s.cfg.Spread), slog.Duration("events_interval", s.cfg.EventsInterval),
		slog.Int("concurrency", s.cfg.Concurrency), slog.Int("districts", len(s.Districts())))
	return nil
}

// Stop stops scheduling, lets the running syncs finish until ctx is done, then cancels them and waits
// for them to return. Ticks still waiting for a slot are dropped. It returns an error wrapping ctx's
// error when running syncs had to be canceled. Syncer must return soon after its context is canceled.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if !s.started || s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true // no run starts from now on
	s.ready = nil
	s.mu.Unlock()

	s.refreshCancel()
	<-s.refreshDone
	s.loopCancel()
	<-s.loopDone
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
	s.mu.Lock()
	s.entries = nil
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
	return slices.Sorted(maps.Keys(s.entries))
}

// NextRun returns when the district's next scheduled full sync is due — its tick's time, spread offset
// included, the same on every replica; a tick waiting for a slot is due now and reports its own time —
// and false when the district is not scheduled (or the scheduler is not running). The events ticks in
// between are not reported: most of them find nothing to apply.
func (s *Scheduler) NextRun(districtID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[districtID]
	if !ok || s.stopping {
		return time.Time{}, false
	}
	if e.pending != nil && e.pending.mode == mirror.ModeFull {
		return e.pending.at, true
	}
	return e.nextFull, true
}

// Concurrency is how many syncs this process runs at once (Config.Concurrency).
func (s *Scheduler) Concurrency() int { return s.cfg.Concurrency }

// Running returns how many scheduled syncs this process is running now.
func (s *Scheduler) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// PeakRunning returns the most scheduled syncs this process ran at once since Start; never more than
// Concurrency.
func (s *Scheduler) PeakRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Waiting returns how many districts have a tick waiting for a free slot now.
func (s *Scheduler) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ready)
}

// Refresh re-reads the connected districts now, scheduling each new one and dropping the districts gone
// (a run in progress finishes). When the list cannot be read the districts are left as they are. It
// runs every RefreshEvery on its own (sooner until one succeeds, see Start); call it to pick up a newly
// connected district at once.
func (s *Scheduler) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	s.mu.Lock()
	running := s.started && !s.stopping
	s.mu.Unlock()
	if !running {
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
	var added, removed []string
	s.mu.Lock()
	now := s.cfg.Clock.Now()
	for id, e := range s.entries {
		if !want[id] {
			e.gone, e.pending = true, nil
			delete(s.entries, id)
			removed = append(removed, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if _, ok := s.entries[id]; ok {
			continue
		}
		e := &entry{id: id, offset: offset(id, "full", s.cfg.Spread), phase: offset(id, "events", s.cfg.EventsInterval)}
		e.nextFull = s.fullAfter(e, now)
		if s.cfg.EventsInterval > 0 {
			e.nextEvents = s.eventsAfter(e, now)
		}
		s.entries[id] = e
		added = append(added, id)
		if trigger, ok := s.soon[id]; ok { // SyncNow asked before the district was listed
			delete(s.soon, id)
			s.fire(e, tick{mode: mirror.ModeFull, at: now, trigger: trigger})
		}
	}
	s.dispatch()
	n := len(s.entries)
	s.mu.Unlock()
	if len(added)+len(removed) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		slices.Sort(removed)
		s.cfg.Logger.InfoContext(ctx, "scheduled districts changed",
			slog.Any(logAdded, added), slog.Any(logRemoved, removed), slog.Int("districts", n))
	}
	return nil
}

// SyncNow queues a full sync of districtID now, with trigger, within the process's concurrency bound
// like a scheduled tick: a newly discovered district's first sync (link.Discovery.StartSync), so that
// connecting two thousand districts at once does not start two thousand syncs. A district not
// scheduled yet — Discovery calls it from within Refresh's read of the list — runs as soon as Refresh
// schedules it. It does nothing once the scheduler stops.
func (s *Scheduler) SyncNow(districtID, trigger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	e, ok := s.entries[districtID]
	if !ok {
		s.soon[districtID] = trigger
		return
	}
	s.fire(e, tick{mode: mirror.ModeFull, at: s.cfg.Clock.Now(), trigger: trigger})
	s.dispatch()
}

// offset derives a district's offset in [0, window) from its id, in whole milliseconds: the same on
// every replica and across restarts. salt keeps the full and events offsets apart.
func offset(districtID, salt string, window time.Duration) time.Duration {
	steps := uint64(window / time.Millisecond)
	if steps == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte("rostermirror schedule " + salt + " " + districtID))
	return time.Duration(h.Sum64()%steps) * time.Millisecond
}

// fullAfter is the district's first full tick after now: a cron instant plus its offset.
func (s *Scheduler) fullAfter(e *entry, now time.Time) time.Time {
	return s.next.Next(now.Add(-e.offset)).UTC().Add(e.offset)
}

// eventsAfter is the district's first events tick after now: EventsInterval apart from the Unix epoch
// plus its phase.
func (s *Scheduler) eventsAfter(e *entry, now time.Time) time.Time {
	iv := s.cfg.EventsInterval
	since := now.Sub(time.Unix(0, 0).Add(e.phase))
	k := since / iv
	if since < 0 && since%iv != 0 {
		k-- // round towards negative infinity
	}
	return time.Unix(0, 0).Add(e.phase).Add((k + 1) * iv).UTC()
}

// loop fires the districts' ticks as they come due until ctx is canceled.
func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.loopDone)
	for {
		s.mu.Lock()
		now := s.cfg.Clock.Now()
		next := now.Add(idleWait)
		for _, e := range s.entries {
			if !e.nextFull.After(now) {
				s.fire(e, tick{mode: mirror.ModeFull, at: e.nextFull})
				e.nextFull = s.fullAfter(e, now)
			}
			if !e.nextEvents.IsZero() && !e.nextEvents.After(now) {
				s.fire(e, tick{mode: mirror.ModeEvents, at: e.nextEvents})
				e.nextEvents = s.eventsAfter(e, now)
			}
			if e.nextFull.Before(next) {
				next = e.nextFull
			}
			if !e.nextEvents.IsZero() && e.nextEvents.Before(next) {
				next = e.nextEvents
			}
		}
		s.dispatch()
		s.mu.Unlock()

		timer := s.cfg.Clock.NewTimer(next.Sub(now))
		if s.hooks.armed != nil {
			s.hooks.armed(next)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.Chan():
		case <-s.wake:
			timer.Stop()
		}
	}
}

// fire queues a due tick of e, or drops it because of the district's run in progress (see the package
// comment). Callers hold s.mu.
func (s *Scheduler) fire(e *entry, t tick) {
	if s.stopping {
		return
	}
	switch {
	case e.running != "" && (t.mode == mirror.ModeEvents || e.running == mirror.ModeFull):
		s.cfg.Logger.Debug("scheduled tick skipped: the district's previous run is still going", slog.String(logDistrict, e.id),
			slog.String(logMode, t.mode), slog.Time(logTick, t.at), slog.String("running", e.running))
		if s.hooks.skipped != nil {
			s.hooks.skipped(e.id, t, e.running)
		}
		return
	case e.pending != nil && t.mode == mirror.ModeEvents:
		return // the waiting tick (events, or a full sync) covers this one
	}
	e.pending = &t // a full tick replaces a waiting events tick, or an older full one
	if e.running == "" && !e.queued {
		e.queued = true
		s.ready = append(s.ready, e)
	}
}

// dispatch starts waiting ticks, picked at random, while slots are free. Callers hold s.mu.
func (s *Scheduler) dispatch() {
	for !s.stopping && s.running < s.cfg.Concurrency && len(s.ready) > 0 {
		i := s.rand.IntN(len(s.ready))
		e := s.ready[i]
		s.ready[i] = s.ready[len(s.ready)-1]
		s.ready = s.ready[:len(s.ready)-1]
		e.queued = false
		if e.gone || e.pending == nil || e.running != "" {
			continue
		}
		t := *e.pending
		e.pending, e.running = nil, t.mode
		s.running++
		s.peak = max(s.peak, s.running)
		s.runs.Add(1)
		go s.run(e, t)
	}
}

// run is one scheduled run of e's district, logged in one line; it then frees its slot and starts the
// next waiting tick.
func (s *Scheduler) run(e *entry, t tick) {
	defer s.runs.Done()
	ctx, cancel := context.WithTimeout(s.runCtx, s.cfg.RunTimeout)
	start := s.cfg.Clock.Now()
	res, err := s.syncDistrict(ctx, e.id, t)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && s.runCtx.Err() == nil {
		err = fmt.Errorf("run timed out after %s: %w", s.cfg.RunTimeout, err)
	}
	s.logRun(ctx, e.id, t, res, err, s.cfg.Clock.Since(start))
	cancel()

	s.mu.Lock()
	e.running = ""
	s.running--
	if e.pending != nil && !e.gone && !e.queued && !s.stopping { // a full tick that came during an events run
		e.queued = true
		s.ready = append(s.ready, e)
	}
	s.dispatch()
	s.mu.Unlock()
	if s.hooks.finished != nil {
		s.hooks.finished(e.id, t, err)
	}
}

// options are the mirror.Options of a tick's run.
func options(t tick) mirror.Options {
	if t.mode == mirror.ModeEvents {
		return mirror.Options{Mode: mirror.ModeEvents, SkipWithoutEvents: true, SkipEmpty: true, Trigger: TriggerEvents, NotIfRanSince: t.at}
	}
	return mirror.Options{Mode: mirror.ModeFull, Trigger: cmp.Or(t.trigger, Trigger), NotIfRanSince: t.at}
}

// syncDistrict calls the Syncer, turning a panic into an error so that one district cannot bring the
// scheduler down.
func (s *Scheduler) syncDistrict(ctx context.Context, districtID string, t tick) (res mirror.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sync district: panic: %v\n%s", p, debug.Stack())
		}
	}()
	return s.cfg.Syncer.SyncDistrict(ctx, districtID, options(t))
}

// quiet reports the errors of a tick that ran nothing worth a line: the district has no events to apply
// or none new, another run holds it, or another run (another replica's) ran it already.
func quiet(err error) (reason string, ok bool) {
	switch {
	case errors.Is(err, mirror.ErrEventsUnavailable):
		return "no events to apply", true
	case errors.Is(err, mirror.ErrNothingNew):
		return "no new events", true
	case errors.Is(err, mirror.ErrBusy):
		return "another run holds the district", true
	case errors.Is(err, mirror.ErrAlreadyRan):
		return "another run ran this tick", true
	}
	return "", false
}

// logRun writes a run's one log line: Debug when the tick was not this process's to run (see quiet),
// Info when it succeeded or was canceled by Stop, Warn when archives were held for approval, Error when
// it failed.
func (s *Scheduler) logRun(ctx context.Context, districtID string, t tick, res mirror.Result, err error, took time.Duration) {
	ctx = context.WithoutCancel(ctx)
	if reason, ok := quiet(err); ok {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "scheduled sync skipped", slog.String(logDistrict, districtID),
			slog.String(logMode, t.mode), slog.Time(logTick, t.at), slog.String(logReason, reason))
		return
	}
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
		slog.String(logDistrict, districtID), slog.String(logRun, res.RunID), slog.String(logMode, t.mode),
		slog.String(logKind, res.Kind), slog.String(logStatus, status), slog.Duration(logDuration, took),
		slog.Int("read", total.Read), slog.Int("created", total.Created), slog.Int("updated", total.Updated),
		slog.Int("archived", total.Archived), slog.Int("restored", total.Restored), slog.Int("held", total.Held),
	}
	if res.Fallback != "" {
		attrs = append(attrs, slog.String("fallback", res.Fallback))
	}
	if err != nil && level == slog.LevelError {
		attrs = append(attrs, slog.String(logError, err.Error()))
	}
	s.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
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
