// Package admin carries out the API's domain actions — start a district's sync now, approve or reject a
// held sync — for the API key in the request: it checks the key's scope, records every action in the
// audit log, and runs syncs started from the API in the background, tracked until Close.
package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// Engine is what the actions need of the sync engine (*mirror.Engine).
type Engine interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
	ApproveHeld(ctx context.Context, runID, decidedBy string) (mirror.Result, error)
	RejectHeld(ctx context.Context, runID, decidedBy string) (mirror.Result, error)
}

// Service runs admin actions.
type Service struct {
	db      *store.DB
	engine  Engine
	log     *slog.Logger
	timeout time.Duration
	now     func() time.Time // the clock: time.Now unless WithClock

	wg     sync.WaitGroup
	ctx    context.Context // parent of background syncs; cancelled by Close after its grace period
	cancel context.CancelFunc
}

// New returns a Service. runTimeout bounds a sync started from the API (default 2h).
func New(db *store.DB, engine Engine, logger *slog.Logger, runTimeout time.Duration) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{db: db, engine: engine, log: cmp.Or(logger, slog.New(slog.DiscardHandler)),
		timeout: cmp.Or(runTimeout, 2*time.Hour), now: time.Now, ctx: ctx, cancel: cancel}
}

// WithClock makes the service tell the time with now (a district's Clever pause is judged at it) and
// returns it.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// SyncDistrict starts a sync of the district now in mode (mirror.Modes, in either case: the GraphQL enum
// is upper case) and returns its run (status RUNNING) as soon as it is recorded; the sync goes on in the
// background. Needs the admin scope.
func (s *Service) SyncDistrict(ctx context.Context, districtID, mode string) (*ent.SyncRun, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	mode = strings.ToLower(mode)
	if !slices.Contains(mirror.Modes, mode) {
		return nil, fmt.Errorf("sync district %s: mode %q: want one of %s", districtID, mode, strings.Join(mirror.Modes, ", "))
	}
	actor := auth.Actor(ctx)
	started := make(chan string, 1)
	done := make(chan error, 1)
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
		defer cancel()
		_, err := s.engine.SyncDistrict(ctx, districtID, mirror.Options{Mode: mode, Trigger: "api", Started: func(id string) { started <- id }})
		done <- err
	})
	select {
	case id := <-started:
		if err := audit.Record(ctx, s.db.Client, audit.Entry{Actor: actor, Action: audit.SyncDistrict, Target: districtID,
			Outcome: "started run " + id}); err != nil {
			s.log.ErrorContext(ctx, "record audit entry", slog.String("error", err.Error()))
		}
		return s.db.Client.SyncRun.Get(ctx, id)
	case err := <-done: // could not start (another run holds the district, the database is down, …)
		return nil, fmt.Errorf("start sync of district %s: %w", districtID, err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ApproveHeldSync applies a held run's archives. Needs the admin scope.
func (s *Service) ApproveHeldSync(ctx context.Context, runID string) (*ent.SyncRun, error) {
	return s.decide(ctx, runID, s.engine.ApproveHeld)
}

// RejectHeldSync discards a held run's archives. Needs the admin scope.
func (s *Service) RejectHeldSync(ctx context.Context, runID string) (*ent.SyncRun, error) {
	return s.decide(ctx, runID, s.engine.RejectHeld)
}

func (s *Service) decide(ctx context.Context, runID string, f func(context.Context, string, string) (mirror.Result, error)) (*ent.SyncRun, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	if _, err := f(ctx, runID, auth.Actor(ctx)); err != nil { // the engine audits the decision in its transaction
		return nil, err
	}
	return s.db.Client.SyncRun.Get(ctx, runID)
}

// Close waits for background syncs until ctx is done, then cancels them and waits for them to stop.
func (s *Service) Close(ctx context.Context) error {
	finished := make(chan struct{})
	go func() { s.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		s.cancel()
		<-finished
		return errors.Join(errors.New("close admin service: cancelled running syncs"), ctx.Err())
	}
}
