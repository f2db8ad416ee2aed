package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rostermirror/rostermirror/internal/bulk"
)

// txWriter runs one record type's writes inside its transaction (bulk.Writer), at one instant: now.
type txWriter struct {
	*bulk.Writer
	now time.Time
	// plan, when set, gathers sample ids of what the run does (Result.Plan).
	plan Plan
	// changes, when set, gathers the ids of the records the run changes (a reconcile: Outcome.Missed).
	changes *changeSet
	// unnoted is set when the run need not note the records it reads in seen_<kind>: a type of which the
	// district had no shared record when the run began has nothing the run could archive.
	unnoted bool
}

// note adds id to the plan's samples of what the run did to kind.
func (w *txWriter) note(kind, action, id string) {
	if w.changes != nil && action != "held" && action != "deferred" { // neither changes the mirror
		w.changes.add(kind, id)
	}
	if w.plan == nil {
		return
	}
	byAction := w.plan[kind]
	if byAction == nil {
		byAction = map[string][]string{}
		w.plan[kind] = byAction
	}
	if len(byAction[action]) < PlanSamples {
		byAction[action] = append(byAction[action], id)
	}
}

// shared counts the district's records of kind that are shared (not archived): what the mass-archive
// guard weighs a run's archives against.
func (w *txWriter) shared(ctx context.Context, kind, districtID string) (int, error) {
	var n int
	if err := w.Tx.QueryRowContext(ctx, w.Rebind("SELECT count(*) FROM "+tables[kind].name+" WHERE district_id = ? AND archived_at IS NULL"), districtID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", kind, err)
	}
	return n, nil
}

// querier reads: a transaction, or the run's own connection (Options.session).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
