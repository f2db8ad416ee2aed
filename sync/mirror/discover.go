package mirror

import (
	"context"
	"fmt"
)

// Discover writes the district's own record into the mirror ahead of its first full sync, so that a
// newly connected district shows with its Clever facts (name, MDR and NCES numbers, launch date, login
// methods, Clever's sync state) at once. It reads only /districts, through the same record → row path
// as a full sync, and records no run. It returns ErrBusy when a sync of the district is running (that
// sync writes the record anyway).
func (e *Engine) Discover(ctx context.Context, districtID string) error {
	unlock, err := e.lock(ctx, districtID)
	if err != nil {
		return err
	}
	defer unlock()
	tok, err := e.cfg.Tokens.Token(ctx, districtID)
	if err != nil {
		return fmt.Errorf("discover district %s: %w", districtID, e.classify(ctx, districtID, err))
	}
	if _, _, _, err := e.syncKind(ctx, e.cfg.Reader(tok), districtID, "districts", e.cfg.Now().UTC(), nil, Options{}); err != nil {
		return fmt.Errorf("discover district %s: %w", districtID, e.classify(ctx, districtID, err))
	}
	return nil
}
