package login

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rostermirror/rostermirror/ent/logincode"
	"github.com/rostermirror/rostermirror/ent/loginstate"
)

// cleanupInterval is how often sign-ins clean up opportunistically.
const cleanupInterval = time.Hour

// Cleanup deletes the states and codes that expired more than Config.Retention ago, and returns how many
// rows it deleted. An expired state is refused from its signed expiry whether its row is there or not,
// so deleting it changes nothing a caller can see. Sign-ins call it about once an hour; call it from a
// scheduler as well for a server that sees few sign-ins.
func (s *Service) Cleanup(ctx context.Context) (int, error) {
	before := s.now().Add(-s.cfg.Retention)
	states, err := s.cfg.DB.Client.LoginState.Delete().Where(loginstate.ExpiresAtLT(before)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired login states: %w", err)
	}
	codes, err := s.cfg.DB.Client.LoginCode.Delete().Where(logincode.ExpiresAtLT(before)).Exec(ctx)
	if err != nil {
		return states, fmt.Errorf("delete expired login codes: %w", err)
	}
	if n := states + codes; n > 0 {
		s.log.InfoContext(ctx, "expired login states and codes deleted", slog.Int(logDeleted, n))
	}
	return states + codes, nil
}

// maybeCleanup runs Cleanup when the last run in this process is cleanupInterval ago. A failure is
// logged: it costs only rows kept longer.
func (s *Service) maybeCleanup(ctx context.Context) {
	now := s.now().Unix()
	last := s.lastCleanup.Load()
	if now-last < int64(cleanupInterval/time.Second) || !s.lastCleanup.CompareAndSwap(last, now) {
		return
	}
	if _, err := s.Cleanup(ctx); err != nil {
		s.log.WarnContext(ctx, "clean up expired login states", slog.String(logError, err.Error()))
	}
}
