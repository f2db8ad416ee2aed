package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/syncrun"
)

// The end of a term, and Clever's summer pause, change what a run archives.
//
// Rollover. At the end of a school year (or a semester) Clever typically unshares the sections of the
// term that ended, and their terms, and shares the new ones; the students who graduate or leave, their
// contacts and departing teachers go too. That is no mistake to hold, but it is a mass unshare: on its
// own the mass-archive guard would hold every school year's rollover. So the guard weighs only the
// archives that no ended term explains (explained):
//
//   - a section is explained when its term has ended recently: the term's end_date (the mirrored terms
//     table, archived terms included — Clever unshares last year's terms with their sections) is a whole
//     day or more before the run's now, and less than Config.RolloverWindow (default 180 days) before it.
//     A section without a term, or whose term has no end date, has not ended, or ended longer ago (the
//     district's terms are stale: its sections may well be in use) is not explained;
//   - a user is explained when it was a member of at least one section (a student enrolled, a teacher
//     teaching — current or past memberships) and every section it was ever a member of is explained:
//     its only sections were ended-term ones. A user with a section of the current term, with a
//     section without a term, or with no section at all (staff, administrators) is not explained;
//   - a contact is explained when it is linked to at least one student and every student it was ever
//     linked to is explained and leaves too: archived already, or unshared in the same run.
//
// Explained archives are applied whatever their number, and counted in Outcome.Rollover. The guard then
// weighs the rest as before, against the type's shared records that no ended term explains: it holds
// them when they are at least GuardMinimum and more than GuardShare of base − explained. So a rollover
// is archived without a hold, while a mid-term mass unshare (sections whose term has not ended, the
// students of a school) is held as before — and when both come in one run, the rollover is applied and
// only the unexplained part is held.
//
// Pause. Clever lets a district pause its SIS sync over the summer (pause_start … pause_end on the
// district record): its data is frozen in Clever so that last year's rosters stay in use while the
// district prepares the new year, though the district may still change what it shares. While the
// district is paused (paused), a run archives nothing: a full sync leaves the records it did not read
// as they are and an events run does not apply deletions; both count what they left
// (Outcome.Deferred). Records created and updated are applied as usual. The first full sync after the
// pause ends archives what is still not shared — under the guard and the rollover rule above.

// dayLength is how long after a date (which Clever gives at midnight UTC) the day it names is over.
const dayLength = 24 * time.Hour

// Paused reports whether a district whose Clever pause runs from start to end is paused at now. The
// pause begins on start's day and ends when end's day is over (Clever's "last day" of a pause is
// paused too); without an end the pause is open-ended, and without a start there is no pause. Clever
// sends dates; a datetime counts from its instant.
func Paused(start, end *time.Time, now time.Time) bool {
	switch {
	case start == nil:
		return false
	case now.Before(*start):
		return false
	case end == nil:
		return true
	}
	return now.Before(end.Add(dayLength))
}

// pausedAt reads the district's pause from the mirror (the districts type, synced first in the run) and
// says whether it is paused at now.
func (w *txWriter) pausedAt(ctx context.Context, districtID string) (bool, error) {
	var start, end sql.NullTime
	err := w.Tx.QueryRowContext(ctx, w.Rebind("SELECT pause_start, pause_end FROM districts WHERE clever_id = ?"), districtID).Scan(&start, &end)
	switch {
	case err == sql.ErrNoRows:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the district's pause: %w", err)
	}
	return Paused(nullTime(start), nullTime(end), w.now), nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// rollover builds the rollover rule's SQL, collecting its arguments in the order of the text it returns.
type rollover struct {
	span [2]time.Time // rolloverSpan's: the day over at the run's now, and the window's start
	args []any
}

// termEnded is SQL true when the section aliased sec belongs to a term that ended recently: its end
// date's day is over at the run's now, and it is less than the rollover window old.
func (r *rollover) termEnded(sec string) string {
	r.args = append(r.args, r.span[0], r.span[1])
	return "EXISTS (SELECT 1 FROM terms tm WHERE tm.clever_id = " + sec + ".term_id AND tm.end_date <= ? AND tm.end_date > ?)"
}

// termOver is SQL true when the section aliased sec belongs to a term whose end date's day is over,
// however long ago.
func (r *rollover) termOver(sec string) string {
	r.args = append(r.args, r.span[0])
	return "EXISTS (SELECT 1 FROM terms tm WHERE tm.clever_id = " + sec + ".term_id AND tm.end_date <= ?)"
}

// userExplained is SQL true when the user aliased u was a member (student or teacher) of a section
// whose term ended recently, and of no section whose term is not over: last year's sections, ended
// long before, do not make a returning student's leaving unexplained.
func (r *rollover) userExplained(u string) string {
	members := []string{"section_students", "section_teachers"}
	var recent, current []string
	for _, m := range members {
		recent = append(recent, "EXISTS (SELECT 1 FROM "+m+" m JOIN sections s ON s.clever_id = m.section_id WHERE m.user_id = "+
			u+".clever_id AND "+r.termEnded("s")+")")
	}
	for _, m := range members {
		current = append(current, "NOT EXISTS (SELECT 1 FROM "+m+" m LEFT JOIN sections s ON s.clever_id = m.section_id WHERE m.user_id = "+
			u+".clever_id AND NOT "+r.termOver("s")+")")
	}
	return "((" + strings.Join(recent, " OR ") + ") AND " + strings.Join(current, " AND ") + ")"
}

// explainedBy returns the SQL condition (on the table's alias t) under which an archive of kind is
// explained by the end of a term, with its arguments; "" for the types the rollover rule does not
// concern. leaving(alias) is the run's condition, without arguments, that a user (aliased alias)
// leaves: not seen by the read, or deleted by an event.
func explainedBy(kind string, span [2]time.Time, leaving func(alias string) string) (string, []any) {
	r := &rollover{span: span}
	switch kind {
	case "sections":
		return r.termEnded("t"), r.args
	case "users":
		user := r.userExplained("t") // before the contact's clause: the arguments follow the text
		contact := "(EXISTS (SELECT 1 FROM contact_relationships r WHERE r.contact_id = t.clever_id) AND " +
			"NOT EXISTS (SELECT 1 FROM contact_relationships r LEFT JOIN users st ON st.clever_id = r.student_id WHERE r.contact_id = t.clever_id AND NOT (" +
			"st.clever_id IS NOT NULL AND (st.archived_at IS NOT NULL OR " + leaving("st") + ") AND " + r.userExplained("st") + ")))"
		return "(" + user + " OR " + contact + ")", r.args
	}
	return "", nil
}

// excuseDeferred takes out of a reconcile's missed records the archives that runs during a Clever pause
// deferred: their deletion events came before the cursor (an events run passed them over, or a full sync
// saved its cursor after them), so no event since explains them, yet nothing was missed. The deferred
// records are not kept by id: per type, up to the number deferred by the latest full run before this
// one and by the events runs after it are excused — an upper bound, as the archives themselves are.
func (e *Engine) excuseDeferred(ctx context.Context, districtID string, now time.Time, res *Result) {
	missed := false
	for _, o := range res.Counts {
		missed = missed || o.Missed > 0
	}
	if !missed {
		return // nothing missed, nothing to excuse: the usual reconcile
	}
	runs, err := e.cfg.DB.Client.SyncRun.Query().
		Where(syncrun.DistrictID(districtID), syncrun.StartedAtLT(now), syncrun.IDNEQ(res.RunID), syncrun.StatusNotIn(syncrun.StatusRunning, syncrun.StatusFailed)).
		Order(ent.Desc(syncrun.FieldStartedAt)).Select(syncrun.FieldKind, syncrun.FieldCounts).Limit(maxExcuseRuns).All(ctx)
	if err != nil {
		e.cfg.Logger.WarnContext(ctx, "reconcile: read the runs that deferred archives", slog.String(logDistrict, districtID), slog.String("error", err.Error()))
		return
	}
	deferred := map[string]int{}
	for _, run := range runs {
		for kind, o := range run.Counts {
			deferred[kind] += o.Deferred
		}
		if run.Kind == syncrun.KindFull {
			break
		}
	}
	for kind, n := range deferred {
		o := res.Counts[kind]
		if o.Missed == 0 || n == 0 {
			continue
		}
		o.Missed -= min(o.Missed, n, o.Archived)
		res.Counts[kind] = o
	}
}

// maxExcuseRuns bounds the runs excuseDeferred reads back to the last full run: a day of events runs
// every five minutes, with room.
const maxExcuseRuns = 1000

// rolloverSpan is the term end dates that explain an archive at now: the latest date whose day is over,
// and the date window before now beyond which a term ended too long ago to explain anything.
func rolloverSpan(now time.Time, window time.Duration) [2]time.Time {
	return [2]time.Time{now.Add(-dayLength), now.Add(-window)}
}
