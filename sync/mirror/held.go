package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/bulk"
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
	w := &txWriter{Writer: bulk.New(tx, e.cfg.DB.Dialect == dialect.Postgres), now: now}
	counts := run.Counts
	if counts == nil {
		counts = syncstats.Counts{}
	}
	status := syncrun.StatusRejected
	var ended int64
	if approve {
		status = syncrun.StatusApproved
		for kind, ids := range run.Held {
			if !guarded[kind] {
				return Result{}, fmt.Errorf("apply held archives: unknown record type %q", kind)
			}
			o := counts[kind]
			for start := 0; start < len(ids); start += bulk.ChunkSize {
				cond, args := w.In("clever_id", ids[start:min(start+bulk.ChunkSize, len(ids))])
				if kind == "users" { // their roles and the roles' schools first, while the users are active
					if err := w.archiveRolesOf(ctx, "SELECT clever_id FROM users WHERE archived_at IS NULL AND "+cond, args...); err != nil {
						return Result{}, fmt.Errorf("apply held archives: %w", err)
					}
				}
				n, err := w.Exec(ctx, "UPDATE "+tables[kind].name+" SET archived_at = ?, last_synced_at = ? WHERE archived_at IS NULL AND "+cond,
					append([]any{now, now}, args...)...)
				if err != nil {
					return Result{}, fmt.Errorf("apply held archives: %w", err)
				}
				o.Archived += int(n)
			}
			counts[kind] = o
		}
		// The memberships that follow from those archives end with them, now.
		for table, ids := range run.HeldMemberships {
			if !heldTables[table] {
				return Result{}, fmt.Errorf("end held memberships: unknown membership table %q", table)
			}
			n, err := w.ExecIn(ctx, "UPDATE "+table+" SET ended_at = ? WHERE ended_at IS NULL AND %s", []any{now}, "id", ids)
			if err != nil {
				return Result{}, fmt.Errorf("end held memberships: %w", err)
			}
			ended += n
		}
	}
	countsJSON, err := json.Marshal(counts)
	if err != nil {
		return Result{}, fmt.Errorf("record decision: %w", err)
	}
	if _, err := tx.ExecContext(ctx, w.Rebind("UPDATE sync_runs SET status = ?, decided_by = ?, decided_at = ?, counts = ? WHERE id = ?"),
		string(status), decidedBy, now, string(countsJSON), runID); err != nil {
		return Result{}, fmt.Errorf("record decision: %w", err)
	}
	action := audit.RejectHeldSync
	if approve {
		action = audit.ApproveHeldSync
	}
	if err := audit.Record(ctx, e.cfg.DB.OnTx(tx), audit.Entry{At: now, Actor: decidedBy, Action: action, Target: runID,
		Outcome: string(status)}); err != nil {
		return Result{}, fmt.Errorf("record decision: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Result{}, fmt.Errorf("decide held run: %w", err)
	}
	e.cfg.Logger.InfoContext(ctx, "held sync run decided", slog.String(logRun, runID), slog.String(logDistrict, run.DistrictID),
		slog.String(logStatus, string(status)), slog.Int64("memberships_ended", ended))
	res := Result{RunID: runID, DistrictID: run.DistrictID, Status: string(status), Counts: counts, Held: run.Held,
		HeldMemberships: run.HeldMemberships, Errors: run.Errors, Started: run.StartedAt, Finished: now}
	return res, nil
}

// heldTables are the membership tables whose rows a run may hold (Result.HeldMemberships).
var heldTables = map[string]bool{students.table: true, teachers.table: true, contactMembers.table: true}

// holds is what one record type's sync keeps open for the mass-archive guard. When the guard holds the
// archive of users, what follows from it is held too: those users are gone from Clever's sections and
// from contacts' links as well, and ending their enrollments, section teacher places and contact links
// would apply half of what the guard held back (rejecting the run would keep the users without them).
// Those memberships stay open and their row ids go on the run (held_memberships): approving the run
// ends them, rejecting it leaves them open. A run held only because of sections holds no memberships:
// an unshared section is not read, so its memberships are not touched anyway.
//
// A record that owns held memberships (a section, a contact) is stored with heldMark as its content
// hash, so that every later run reconciles its memberships again — even when Clever's copy has not
// changed since — and decides again with that run's own held users: a run that supersedes a held one
// holds them again (or ends them, or finds them back in Clever's data); the superseded run's list is
// simply left.
type holds struct {
	users       map[string]bool // the run's held users; the users sync learns them when it archives
	rows        syncstats.Held  // membership table → ids of the rows kept open
	owners      map[string]bool // records owning rows kept open
	rechecked   []string        // records reconciled again, unchanged in Clever, because they were marked
	contactEnds []ending        // users sync: contact links to end, decided once the held users are known
}

func newHolds(users []string) *holds {
	h := &holds{users: map[string]bool{}, rows: syncstats.Held{}, owners: map[string]bool{}}
	for _, id := range users {
		h.users[id] = true
	}
	return h
}

// heldMember says whether a section membership (owner: the section, other: the user) follows from a
// held archive.
func (h *holds) heldMember(p pair) bool { return h.users[p.other] }

// heldLink says whether a contact link (owner: the contact, other: the student) follows from a held
// archive.
func (h *holds) heldLink(p pair) bool { return h.users[p.owner] || h.users[p.other] }

// end ends associations of m that the records read no longer have, except those that held says follow
// from a held archive: those stay open and are recorded.
func (h *holds) end(ctx context.Context, w *txWriter, m membership, ends []ending, held func(pair) bool) error {
	var ids []string
	for _, e := range ends {
		if held(e.pair) {
			h.rows[m.table] = append(h.rows[m.table], e.id)
			h.owners[e.owner] = true
			continue
		}
		ids = append(ids, e.id)
	}
	return w.endMembers(ctx, m, ids)
}

// endContacts ends the contact links the users sync gathered, now that the run's held users are known.
func (h *holds) endContacts(ctx context.Context, w *txWriter, heldUsers []string) error {
	for _, id := range heldUsers {
		h.users[id] = true
	}
	ends := h.contactEnds
	h.contactEnds = nil
	return h.end(ctx, w, contactMembers, ends, h.heldLink)
}

// heldMark is the content hash stored for a record that owns held memberships: the hash in upper case.
// Content hashes are lower-case hex (contentHash), so the mark differs from every hash Clever's copy
// can have — the next run takes the record as changed and reconciles its memberships — yet names the
// same content, so that run counts it unchanged and does not rewrite it. SQL's upper() and lower() set
// and clear it. (A hash without a letter, about one in 10^13, cannot be marked: its record is reconciled
// again only when it changes.)
func heldMark(hash string) string { return strings.ToUpper(hash) }

// mark stores the content hash of table's records: marked for those owning rows kept open, plain again
// for rechecked ones that no longer do.
func (h *holds) mark(ctx context.Context, w *txWriter, table string) error {
	var plain []string
	for _, id := range h.rechecked {
		if !h.owners[id] {
			plain = append(plain, id)
		}
	}
	if _, err := w.ExecIn(ctx, "UPDATE "+table+" SET content_hash = lower(content_hash) WHERE %s", nil, "clever_id", plain); err != nil {
		return fmt.Errorf("unmark %s: %w", table, err)
	}
	owners := slices.Sorted(maps.Keys(h.owners))
	if _, err := w.ExecIn(ctx, "UPDATE "+table+" SET content_hash = upper(content_hash) WHERE %s", nil, "clever_id", owners); err != nil {
		return fmt.Errorf("mark %s: %w", table, err)
	}
	return nil
}

// held returns the rows kept open per membership table, each list sorted; nil when none.
func (h *holds) held() syncstats.Held {
	if len(h.rows) == 0 {
		return nil
	}
	for _, ids := range h.rows {
		slices.Sort(ids)
	}
	return h.rows
}
