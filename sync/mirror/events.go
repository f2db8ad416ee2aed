package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// An events run applies the district's events since its cursor (EventCursor): Clever's Events API lists
// every record created, updated or deleted (shared or unshared) in id order, each with the record's full
// state after the change. The run reads every pending event first, keeping the last event of each
// record — the record's newest state — and then applies those states in one transaction with the
// cursor's move, through the same record → rows code as a full sync (writeBatch, memberships and roles
// included): a created or updated record is upserted (restored if archived), a deleted one archived with
// its roles, under the same mass-archive guard. So:
//
//   - an event and a full read can never disagree about what a record's rows are;
//   - replaying events (a page served twice, pages out of order, an event a full sync already read)
//     changes nothing: the newest state wins, and a state the mirror has is unchanged;
//   - a run killed anywhere leaves the mirror and the cursor as they were: the next run applies the
//     same events again;
//   - the mirror never moves backwards: an older event of a record is never applied after a newer one,
//     even when a full sync read the record between the two.
//
// When the events cannot be applied, a full sync runs instead and the run records why (Result.Fallback):
// no cursor (never fully synced), the cursor lost (not checked within Clever's retention, or its event
// gone from the feed: 404), events not enabled for the app (the feed answers 403 or 404), too many
// records changed since the cursor (a full read is cheaper), or an event the events path cannot
// interpret.

// mirrored reports whether an event's record type is one the sync mirrors (a kind of tables); the
// events of other types (resources) are passed over.
func mirrored(recordType string) bool {
	_, ok := tables[recordType]
	return ok
}

// eventHead is what every event's object names: the record's Clever id and district.
type eventHead struct {
	ID       string `json:"id"`
	District string `json:"district"`
}

// headOf reads the record id and district of ev's object; a district's own district is itself.
func headOf(ev clever.Event) (eventHead, error) {
	var h eventHead
	if err := json.Unmarshal(ev.Data.Object, &h); err != nil || h.ID == "" {
		return h, fmt.Errorf("event %s (%s) has no record id in data.object", ev.ID, ev.Type)
	}
	if ev.RecordType() == "districts" {
		h.District = h.ID
	}
	return h, nil
}

// fallback is why an events run cannot apply events.
type fallback struct {
	reason string
	// repair: only a full sync brings the mirror up to date (a lost window, an event it cannot
	// interpret, too many changes); otherwise the district simply has no events to apply from (never
	// fully synced, events not enabled), which Options.SkipWithoutEvents may skip.
	repair bool
}

// pending are the events read from a cursor: the newest event of each record, by kind.
type pending struct {
	cursor   *ent.EventCursor
	last     string    // the newest event id read; the cursor's new position
	newestAt time.Time // when Clever created the newest event read
	read     map[string]int
	latest   map[string]map[string]clever.Event // kind → Clever id → the record's newest event
	records  int
}

// readEvents reads the district's events since its cursor. It returns the pending events, or why they
// cannot be applied, or an error that fails the run (Clever unreachable, the token refused, ctx
// cancelled).
func (e *Engine) readEvents(ctx context.Context, rd Reader, districtID string, cur *ent.EventCursor, now time.Time) (*pending, *fallback, error) {
	switch {
	case cur == nil:
		return nil, &fallback{reason: "no event cursor: the district has had no full sync that saved one"}, nil
	case !cur.Enabled:
		return nil, &fallback{reason: "events not enabled: the last full sync could not read the district's events (enable them in Clever's dashboard)"}, nil
	case now.Sub(cur.CheckedAt) > e.cfg.EventRetention:
		return nil, &fallback{repair: true, reason: fmt.Sprintf("cursor lost: the events were last read %s ago, beyond Clever's %s retention",
			now.Sub(cur.CheckedAt).Round(time.Minute), e.cfg.EventRetention)}, nil
	}
	if cur.EventID != "" {
		if _, err := rd.Event(ctx, cur.EventID); err != nil {
			switch {
			case errors.Is(err, clever.ErrNotFound):
				return nil, &fallback{repair: true, reason: "cursor lost: its event " + cur.EventID + " is no longer in Clever's feed (404)"}, nil
			case forbidden(err):
				return nil, notEnabled(err), nil
			}
			return nil, nil, err
		}
	}
	p := &pending{cursor: cur, last: cur.EventID, read: map[string]int{}, latest: map[string]map[string]clever.Event{}}
	for ev, err := range rd.Events(ctx, clever.EventOptions{StartingAfter: cur.EventID}) {
		switch {
		case err != nil && (errors.Is(err, clever.ErrNotFound) || forbidden(err)):
			return nil, notEnabled(err), nil
		case err != nil && errors.Is(err, clever.ErrMalformed):
			return nil, uninterpretable(err), nil
		case err != nil:
			return nil, nil, err
		}
		if ev.ID <= cur.EventID { // at or before the cursor: applied already (a server replaying a page)
			continue
		}
		if fb := p.add(ev, districtID); fb != nil {
			return nil, fb, nil
		}
		if p.records > e.cfg.MaxPendingEvents {
			return nil, &fallback{repair: true, reason: fmt.Sprintf("more than %d records changed since the cursor: a full read is cheaper", e.cfg.MaxPendingEvents)}, nil
		}
	}
	return p, nil, nil
}

// add keeps ev if it is its record's newest event so far.
func (p *pending) add(ev clever.Event, districtID string) *fallback {
	kind, action := ev.RecordType(), ev.Action()
	if ev.ID > p.last {
		p.last = ev.ID
	}
	if t, ok := ev.Created.Time(); ok && t.After(p.newestAt) {
		p.newestAt = t
	}
	if !mirrored(kind) {
		return nil
	}
	if action != "created" && action != "updated" && action != "deleted" {
		return uninterpretable(fmt.Errorf("event %s has type %q", ev.ID, ev.Type))
	}
	head, err := headOf(ev)
	if err != nil {
		return uninterpretable(err)
	}
	if head.District != districtID {
		return uninterpretable(fmt.Errorf("event %s (%s) is about a record of district %q, not %s", ev.ID, ev.Type, head.District, districtID))
	}
	p.read[kind]++
	byID := p.latest[kind]
	if byID == nil {
		byID = map[string]clever.Event{}
		p.latest[kind] = byID
	}
	if have, ok := byID[head.ID]; !ok || ev.ID > have.ID {
		if !ok {
			p.records++
		}
		byID[head.ID] = ev
	}
	return nil
}

func notEnabled(err error) *fallback {
	return &fallback{reason: "events not enabled for the app: " + err.Error()}
}

func uninterpretable(err error) *fallback {
	return &fallback{repair: true, reason: "an event the events sync cannot interpret: " + err.Error()}
}

// forbidden reports a 403: the app may not read the district's events.
func forbidden(err error) bool {
	var ae *clever.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden
}

// eventItem is the item an event's record makes, as a full read of it would.
func eventItem(kind string, ev clever.Event, now time.Time) (item, error) {
	switch kind {
	case "districts":
		d, err := clever.DecodeObject[clever.District](ev)
		return item{rec: districtRecord(d, now)}, err
	case "schools":
		s, err := clever.DecodeObject[clever.School](ev)
		return item{rec: schoolRecord(s, now)}, err
	case "terms":
		t, err := clever.DecodeObject[clever.Term](ev)
		return item{rec: termRecord(t, now)}, err
	case "courses":
		c, err := clever.DecodeObject[clever.Course](ev)
		return item{rec: courseRecord(c, now)}, err
	case "users":
		u, err := clever.DecodeObject[clever.User](ev)
		return userItem(&u, now), err
	case "sections":
		s, err := clever.DecodeObject[clever.Section](ev)
		return item{rec: sectionRecord(&s, now), section: &s}, err
	}
	return item{}, fmt.Errorf("unknown record type %q", kind)
}

// decodePending turns the pending events into what each kind applies: the records to upsert and the ids
// to archive, in Clever id order. An object that does not decode is uninterpretable.
func decodePending(p *pending, now time.Time) (upserts map[string][]item, deletes map[string][]string, fb *fallback) {
	upserts, deletes = map[string][]item{}, map[string][]string{}
	for kind, byID := range p.latest {
		for _, id := range slices.Sorted(maps.Keys(byID)) {
			ev := byID[id]
			if ev.Action() == "deleted" {
				if kind != "districts" { // a district is never archived: one that goes has disconnected
					deletes[kind] = append(deletes[kind], id)
				}
				continue
			}
			it, err := eventItem(kind, ev, now)
			if err != nil {
				return nil, nil, uninterpretable(err)
			}
			upserts[kind] = append(upserts[kind], it)
		}
	}
	return upserts, deletes, nil
}

// applyEvents applies the pending events and moves the cursor, in one transaction (rolled back for a
// dry run). It fills res's counts, held ids and held memberships.
func (e *Engine) applyEvents(ctx context.Context, districtID string, p *pending, upserts map[string][]item, deletes map[string][]string,
	now time.Time, res *Result, opts Options) error {
	tx, err := e.cfg.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// Nothing reads what an events run saw: its deletions are events of their own, and each record
	// comes once (the newest event of each).
	w := &txWriter{Writer: bulk.New(tx, e.cfg.DB.Dialect == dialect.Postgres), now: now, plan: res.Plan, unnoted: true}
	for _, kind := range Kinds {
		out, held, heldRows, err := e.applyKind(ctx, w, districtID, kind, upserts[kind], deletes[kind], res.Held["users"])
		out.Read = p.read[kind]
		res.Counts[kind] = out
		if len(held) > 0 {
			res.Held[kind] = held
		}
		for table, ids := range heldRows {
			res.HeldMemberships[table] = append(res.HeldMemberships[table], ids...)
		}
		if opts.Progress != nil {
			opts.Progress(Progress{DistrictID: districtID, Kind: kind, Read: out.Read, Done: true})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	if err := w.DropTemp(ctx); err != nil {
		return err
	}
	if err := moveCursor(ctx, e.cfg.DB.OnTx(tx), p, now); err != nil {
		return err
	}
	if opts.DryRun {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit events: %w", err)
	}
	return nil
}

// moveCursor moves the district's event cursor past the events read (p), through c (on the events
// run's transaction, or the database for a run that had nothing to apply): the feed was read at now.
func moveCursor(ctx context.Context, c *ent.Client, p *pending, now time.Time) error {
	u := c.EventCursor.UpdateOneID(p.cursor.ID).SetEventID(p.last).SetCheckedAt(now).SetUpdatedAt(now)
	if !p.newestAt.IsZero() {
		u.SetNewestEventAt(p.newestAt.UTC())
	}
	if err := u.Exec(ctx); err != nil {
		return fmt.Errorf("move the event cursor: %w", err)
	}
	return nil
}

// applyKind applies one kind's records and deletions, as syncKind does a full read's: upserts through
// writeBatch, deletions archived through the guard.
func (e *Engine) applyKind(ctx context.Context, w *txWriter, districtID, kind string, upserts []item, deletes []string,
	heldUsers []string) (out syncstats.Outcome, held []string, heldRows syncstats.Held, err error) {
	h := newHolds(heldUsers)
	if len(upserts) == 0 && len(deletes) == 0 {
		return out, nil, nil, nil
	}
	t := tables[kind]
	for start := 0; start < len(upserts); start += e.cfg.BatchSize {
		batch, stale, err := w.dropStale(ctx, kind, upserts[start:min(start+e.cfg.BatchSize, len(upserts))])
		if err != nil {
			return out, nil, nil, err
		}
		o, err := e.writeBatch(ctx, w, districtID, kind, batch, nil, h)
		o.Read += stale
		o.Unchanged += stale
		out.Add(o)
		if err != nil {
			return out, nil, nil, err
		}
	}
	if len(deletes) > 0 {
		gone := "gone_" + kind
		if err := w.TempTable(ctx, gone, "(id TEXT PRIMARY KEY)"); err != nil {
			return out, nil, nil, err
		}
		rows := make([][]any, len(deletes))
		for i, id := range deletes {
			rows[i] = []any{id}
		}
		if err := w.Insert(ctx, gone, []string{"id"}, rows); err != nil {
			return out, nil, nil, fmt.Errorf("note deleted %s: %w", kind, err)
		}
		if w.PG { // a planner that thinks the temporary table large scans the district's records
			if _, err := w.Exec(ctx, "ANALYZE "+gone); err != nil {
				return out, nil, nil, err
			}
		}
		// What the guard weighs deletions against: the type's shared records before the run, counted only
		// for a burst that may be held (a count of the district's records).
		base := func() (int, error) {
			n, err := w.shared(ctx, kind, districtID)
			out.Base = n - out.Created - out.Restored
			return out.Base, err
		}
		deleted := func(alias string) string { return alias + ".clever_id IN (SELECT g.id FROM " + gone + " g)" }
		if held, err = e.archive(ctx, w, districtID, kind, deleted, base, &out); err != nil {
			return out, nil, nil, err
		}
	}
	if kind == "users" {
		if err := h.endContacts(ctx, w, held); err != nil {
			return out, nil, nil, err
		}
	}
	if err := h.mark(ctx, w, t.name); err != nil {
		return out, nil, nil, err
	}
	return out, held, h.held(), nil
}

// dropStale leaves out of items the records whose event is older than what the mirror holds: a
// record whose Clever last_modified is before the stored one (users, sections and schools carry it). A
// full sync can read a record after events the cursor has not passed yet; replaying them must not take
// the record back. (Clever's own recording shows it: its users list of April holds newer states than
// the March events of the same users.) It returns the rest and how many it left out.
func (w *txWriter) dropStale(ctx context.Context, kind string, items []item) ([]item, int, error) {
	t := tables[kind]
	col := slices.Index(t.columns, "clever_last_modified")
	if col < 0 || len(items) == 0 {
		return items, 0, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.rec.id
	}
	cond, args := w.In("clever_id", ids)
	rows, err := w.Tx.QueryContext(ctx, w.Rebind("SELECT clever_id, clever_last_modified FROM "+t.name+
		" WHERE clever_last_modified IS NOT NULL AND "+cond), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s last_modified: %w", kind, err)
	}
	defer rows.Close()
	stored := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, 0, fmt.Errorf("read %s last_modified: %w", kind, err)
		}
		stored[id] = at
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s last_modified: %w", kind, err)
	}
	fresh := items[:0:0]
	for _, it := range items {
		at, ok := it.rec.row[col].(time.Time)
		if have, known := stored[it.rec.id]; ok && known && at.Before(have) {
			continue
		}
		fresh = append(fresh, it)
	}
	return fresh, len(items) - len(fresh), nil
}

// saveCursor records, in a full run's closing transaction, where the district's events resume: the
// newest event id captured before the run read the district (enabled false when it could not be read).
func saveCursor(ctx context.Context, tx *ent.Tx, districtID, eventID string, enabled bool, checked time.Time) error {
	err := tx.EventCursor.Create().SetID(districtID).SetEventID(eventID).SetEnabled(enabled).SetCheckedAt(checked).SetUpdatedAt(checked).
		OnConflictColumns("district_id").UpdateEventID().UpdateEnabled().UpdateCheckedAt().UpdateUpdatedAt().Exec(ctx)
	if err != nil {
		return fmt.Errorf("save the event cursor: %w", err)
	}
	return nil
}

// maxChanges bounds the ids a reconcile keeps to tell what the events missed: a reconcile that changes
// more reports them all as missed (an upper bound), as the events could not have kept up anyway.
const maxChanges = 20_000

// changeSet is the records a full run changed, by kind.
type changeSet struct {
	ids      map[string]map[string]bool
	n        int
	overflow bool
}

func (c *changeSet) add(kind, id string) {
	if c.n >= maxChanges {
		c.overflow = true
		return
	}
	byKind := c.ids[kind]
	if byKind == nil {
		byKind = map[string]bool{}
		c.ids[kind] = byKind
	}
	if !byKind[id] {
		byKind[id] = true
		c.n++
	}
}

// countMissed sets, on a reconcile's counts, how many of the records it changed no event since the
// district's cursor (from) explains: changes the events path had missed. The events read are the
// pending ones (not applied yet, not missed) and those that came while the run read the district.
func (e *Engine) countMissed(ctx context.Context, rd Reader, districtID, from string, changes *changeSet, res *Result) {
	touched := map[string]map[string]bool{}
	for ev, err := range rd.Events(ctx, clever.EventOptions{StartingAfter: from}) {
		if err != nil {
			e.cfg.Logger.WarnContext(ctx, "reconcile: read events to tell what they missed", slog.String(logDistrict, districtID), slog.String("error", err.Error()))
			return
		}
		head, err := headOf(ev)
		if err != nil {
			continue
		}
		kind := ev.RecordType()
		if touched[kind] == nil {
			touched[kind] = map[string]bool{}
		}
		touched[kind][head.ID] = true
	}
	total := 0
	for kind, o := range res.Counts {
		ids := changes.ids[kind]
		for id := range ids {
			if !touched[kind][id] {
				o.Missed++
			}
		}
		if changes.overflow { // the changes not kept are counted as missed: an upper bound
			o.Missed += max(0, o.Created+o.Updated+o.Archived+o.Restored-len(ids))
		}
		res.Counts[kind] = o
	}
	e.excuseDeferred(ctx, districtID, res.Started, res)
	for _, o := range res.Counts {
		total += o.Missed
	}
	if total > 0 {
		e.cfg.Logger.WarnContext(ctx, "reconcile: the full sync changed records no event had reported (see sync_records_total{outcome=\"missed\"})",
			slog.String(logDistrict, districtID), slog.Int("missed", total))
	}
}
