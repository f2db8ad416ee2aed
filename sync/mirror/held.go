package mirror

import (
	"context"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/syncstats"
)

// decideHeld approves or rejects a held run's archives, under the district's lock.
func (e *Engine) decideHeld(ctx context.Context, runID, decidedBy string, approve bool) (Result, error) {
	run, err := e.runByID(ctx, runID)
	if err != nil {
		return Result{}, fmt.Errorf("decide held run: %w", err)
	}
	unlock, err := e.lock(ctx, run.DistrictID)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if run, err = e.runByID(ctx, runID); err != nil { // again, under the lock
		return Result{}, fmt.Errorf("decide held run: %w", err)
	}
	if run.Status == syncrun.StatusSuperseded {
		return Result{}, fmt.Errorf("decide held run %s: %w", runID, ErrRunSuperseded)
	}
	if run.Status != syncrun.StatusHeld {
		return Result{}, fmt.Errorf("decide held run %s (status %s): %w", runID, run.Status, ErrRunNotHeld)
	}
	now := e.cfg.Now().UTC()
	tx, err := e.cfg.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, fmt.Errorf("decide held run: %w", err)
	}
	defer tx.Rollback()
	w := &txWriter{tx: tx, pg: e.cfg.DB.Dialect == dialect.Postgres, now: now, staged: map[string]bool{}}
	counts := run.Counts
	if counts == nil {
		counts = syncstats.Counts{}
	}
	status := syncrun.StatusRejected
	if approve {
		status = syncrun.StatusApproved
		for kind, ids := range run.Held {
			o := counts[kind]
			for start := 0; start < len(ids); start += 5000 {
				cond, args := w.in("clever_id", ids[start:min(start+5000, len(ids))])
				n, err := w.exec(ctx, "UPDATE "+tables[kind].table+" SET archived_at = ?, last_synced_at = ? WHERE archived_at IS NULL AND "+cond,
					append([]any{now, now}, args...)...)
				if err != nil {
					return Result{}, fmt.Errorf("apply held archives: %w", err)
				}
				o.Archived += int(n)
			}
			counts[kind] = o
		}
	}
	countsJSON, err := json.Marshal(counts)
	if err != nil {
		return Result{}, fmt.Errorf("record decision: %w", err)
	}
	if _, err := tx.ExecContext(ctx, w.rebind("UPDATE sync_runs SET status = ?, decided_by = ?, decided_at = ?, counts = ? WHERE id = ?"),
		string(status), decidedBy, now, string(countsJSON), runID); err != nil {
		return Result{}, fmt.Errorf("record decision: %w", err)
	}
	action := "rejectHeldSync"
	if approve {
		action = "approveHeldSync"
	}
	if _, err := tx.ExecContext(ctx, w.rebind("INSERT INTO audit_entries (id, at, actor, action, target, outcome) VALUES (?, ?, ?, ?, ?, ?)"),
		auditentry.DefaultID(), now, decidedBy, action, runID, string(status)); err != nil {
		return Result{}, fmt.Errorf("record decision in the audit log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Result{}, fmt.Errorf("decide held run: %w", err)
	}
	e.cfg.Logger.InfoContext(ctx, "held sync run decided", "run", runID, logDistrict, run.DistrictID, logStatus, string(status))
	res := Result{RunID: runID, DistrictID: run.DistrictID, Status: string(status), Counts: counts, Held: run.Held,
		Errors: run.Errors, Started: run.StartedAt, Finished: now}
	return res, nil
}
