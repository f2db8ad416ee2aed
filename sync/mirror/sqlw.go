package mirror

import (
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
}

// note adds id to the plan's samples of what the run did to kind.
func (w *txWriter) note(kind, action, id string) {
	if w.changes != nil && action != "held" {
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
