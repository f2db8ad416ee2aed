package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// lockPoll is how often ProvisionUser tries the district's lock again while a sync holds it.
const lockPoll = 50 * time.Millisecond

// ProvisionUser writes one user record read from Clever (GET /v3.0/users/{id}) into the mirror at once,
// with its roles and their schools and its contact links: the records and rows a full sync would write
// for it, through the same code (writeBatch). It serves a Clever sign-in, so that a user of a district
// that is connected but not synced yet — or a user shared since the last sync — is in the mirror the
// moment they sign in, and a user who is there is brought up to date (update on login).
//
// It works like one record of a full sync's users pass, in a transaction of its own: a user new to the
// mirror is created; a changed one updated; an archived one restored with its roles and their schools.
// It never archives a record that the read did not return — it read only this one. What the record
// itself says is applied as a full sync would apply it: a role the user no longer holds is archived
// with its schools, a contact link the user no longer has ends (unless it is held for a held run's
// pending user archives, as in a sync). No sync run is recorded.
//
// It takes the district's sync lock, waiting up to Config.ProvisionWait. While a sync holds the lock
// it writes nothing and returns an error matching ErrBusy: that sync is reading the district's users
// and writes this one too (and on SQLite its open write transaction would keep this one waiting
// anyway). user must belong to districtID and carry its raw JSON (as clever.TokenClient.User returns
// it), or the error matches clever.ErrMalformed.
func (e *Engine) ProvisionUser(ctx context.Context, districtID string, user clever.User) (syncstats.Outcome, error) {
	var out syncstats.Outcome
	switch {
	case user.ID == "" || len(user.Raw) == 0:
		return out, fmt.Errorf("provision user: %w: a user record without an id or its JSON", clever.ErrMalformed)
	case user.District != districtID:
		return out, fmt.Errorf("provision user %s: %w: it belongs to district %q, not %s", user.ID, clever.ErrMalformed, user.District, districtID)
	}
	unlock, err := e.lockWithin(ctx, districtID, e.cfg.ProvisionWait)
	if err != nil {
		return out, fmt.Errorf("provision user %s: %w", user.ID, err)
	}
	defer unlock()

	heldUsers, err := e.pendingHeldUsers(ctx, districtID)
	if err != nil {
		return out, fmt.Errorf("provision user %s: %w", user.ID, err)
	}
	now := e.cfg.Now().UTC()
	tx, err := e.cfg.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("provision user %s: begin: %w", user.ID, err)
	}
	defer tx.Rollback()
	w := &txWriter{Writer: bulk.New(tx, e.cfg.DB.Dialect == dialect.Postgres), now: now}
	if err := w.TempTable(ctx, "seen_users", "(id TEXT PRIMARY KEY)"); err != nil { // writeBatch notes the user seen
		return out, fmt.Errorf("provision user %s: %w", user.ID, err)
	}
	h := newHolds(heldUsers)
	out, err = e.writeBatch(ctx, w, districtID, "users", []item{userItem(&user, now)}, nil, h)
	if err == nil {
		err = h.endContacts(ctx, w, heldUsers)
	}
	if err == nil {
		err = h.mark(ctx, w, tables["users"].name)
	}
	if err == nil {
		err = w.DropTemp(ctx)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return syncstats.Outcome{}, fmt.Errorf("provision user %s: %w", user.ID, err)
	}
	e.cfg.Logger.InfoContext(ctx, "user provisioned", slog.String(logDistrict, districtID), slog.String("user", user.ID),
		slog.Int("created", out.Created), slog.Int("updated", out.Updated), slog.Int("restored", out.Restored),
		slog.Int("unchanged", out.Unchanged))
	return out, nil
}

// lockWithin takes the district's sync lock (lock), trying again for up to wait while another run
// holds it.
func (e *Engine) lockWithin(ctx context.Context, districtID string, wait time.Duration) (func(), error) {
	deadline := time.Now().Add(wait)
	for {
		unlock, err := e.lock(ctx, districtID)
		if !errors.Is(err, ErrBusy) || !time.Now().Before(deadline) {
			return unlock, err
		}
		t := time.NewTimer(min(lockPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// pendingHeldUsers are the users whose archive the district's held run (awaiting an admin's decision)
// kept back. A write between runs keeps their memberships open, as the runs do.
func (e *Engine) pendingHeldUsers(ctx context.Context, districtID string) ([]string, error) {
	runs, err := e.cfg.DB.Client.SyncRun.Query().
		Where(syncrun.DistrictID(districtID), syncrun.StatusEQ(syncrun.StatusHeld)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read held runs: %w", err)
	}
	var users []string
	for _, r := range runs {
		users = append(users, r.Held["users"]...)
	}
	return users, nil
}
