package mirror

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/eventcursor"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// guarded are the record types the mass-archive guard protects (Clever warns of districts unsharing a
// semester of sections, or a school's students, by mistake).
var guarded = map[string]bool{"users": true, "sections": true}

// Log attribute keys.
const (
	logDistrict = "district"
	logRun      = "run"
	logStatus   = "status"
)

// SyncDistrict runs one full sync of districtID. The returned error is for failures to run at all
// (another process is syncing the district, the database is unreachable, ctx was cancelled); a run that
// ran and failed returns a Result with Status StatusFailed and its errors (see Result.Err).
func (e *Engine) SyncDistrict(ctx context.Context, districtID string, opts Options) (Result, error) {
	unlock, session, err := e.lockSession(ctx, districtID)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	opts.session = session
	if !opts.NotIfRanSince.IsZero() {
		kind := syncrun.KindFull
		if opts.Mode == ModeEvents {
			kind = syncrun.KindEvents
		}
		ran, err := e.cfg.DB.Client.SyncRun.Query().Where(syncrun.DistrictID(districtID), syncrun.KindEQ(kind),
			syncrun.DryRun(false), syncrun.StartedAtGTE(opts.NotIfRanSince)).Exist(ctx)
		if err == nil && !ran && opts.Mode == ModeEvents {
			// An events run that found nothing new recorded no run (SkipEmpty), but it read the feed:
			// the cursor says when.
			ran, err = e.cfg.DB.Client.EventCursor.Query().Where(eventcursor.ID(districtID),
				eventcursor.CheckedAtGTE(opts.NotIfRanSince)).Exist(ctx)
		}
		if err != nil {
			return Result{}, fmt.Errorf("sync district %s: %w", districtID, err)
		}
		if ran {
			return Result{DistrictID: districtID}, fmt.Errorf("sync district %s: %w", districtID, ErrAlreadyRan)
		}
	}

	now := e.cfg.Now().UTC()
	res := Result{DistrictID: districtID, Status: StatusRunning, Kind: string(syncrun.KindFull), DryRun: opts.DryRun,
		Counts: syncstats.Counts{}, Held: syncstats.Held{}, HeldMemberships: syncstats.Held{}, Plan: Plan{}, Started: now}
	opts.plan = res.Plan
	fail := func(err error) {
		res.Errors = append(res.Errors, err.Error())
	}

	tok, err := e.cfg.Tokens.Token(ctx, districtID)
	var rd Reader
	if err == nil {
		rd = e.cfg.Reader(tok)
	}
	// An events run: read the pending events, or learn why they cannot be applied.
	var evs *pending
	var upserts map[string][]item
	var deletes map[string][]string
	var cur *ent.EventCursor
	if err == nil {
		var cerr error
		if cur, cerr = e.cfg.DB.Client.EventCursor.Get(ctx, districtID); cerr != nil && !ent.IsNotFound(cerr) {
			return res, fmt.Errorf("sync district %s: read the event cursor: %w", districtID, cerr)
		}
	}
	if err == nil && opts.Mode != ModeFull {
		var fb *fallback
		evs, fb, err = e.readEvents(ctx, rd, districtID, cur, now)
		if evs != nil {
			if upserts, deletes, fb = decodePending(evs, now); fb != nil {
				evs = nil
			}
		}
		switch {
		case err != nil:
			res.Kind = string(syncrun.KindEvents) // it failed reading events
		case fb != nil && opts.SkipWithoutEvents && !fb.repair:
			return Result{DistrictID: districtID}, fmt.Errorf("sync district %s: %w: %s", districtID, ErrEventsUnavailable, fb.reason)
		case fb != nil && (cur != nil || opts.Mode == ModeEvents):
			res.Fallback = fb.reason
		}
		if evs != nil {
			res.Kind = string(syncrun.KindEvents)
		}
	}
	if evs != nil && evs.records == 0 && opts.SkipEmpty && !opts.DryRun && err == nil {
		if err := moveCursor(ctx, e.cfg.DB.Client, evs, now); err != nil {
			return res, fmt.Errorf("sync district %s: %w", districtID, err)
		}
		return Result{DistrictID: districtID, Kind: string(syncrun.KindEvents)}, fmt.Errorf("sync district %s: %w", districtID, ErrNothingNew)
	}
	// A full run: the newest event id before reading the district is where the events resume.
	cursor, enabled := "", false
	if evs != nil {
		cursor = evs.cursor.EventID
	} else if err == nil {
		cursor, enabled, err = e.eventCursor(ctx, rd)
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("sync district %s: %w", districtID, ctx.Err())
		}
		fail(e.classify(ctx, districtID, err))
	}
	if !opts.DryRun {
		if res.RunID, err = e.startRun(ctx, districtID, res.Kind, cursor, res.Fallback, opts.Trigger, now); err != nil {
			return res, err
		}
		if opts.Started != nil {
			opts.Started(res.RunID)
		}
	}
	if len(res.Errors) == 0 {
		if evs != nil {
			if err := e.applyEvents(ctx, districtID, evs, upserts, deletes, now, &res, opts); err != nil {
				fail(e.classify(ctx, districtID, err))
			}
		} else {
			// A full run of a district whose events are applied is a reconcile: it reports what the
			// events had missed. Not a full run that stands in for events it could not apply (a
			// fallback): those events were never applied, and reading them again is what failed.
			if cur != nil && cur.Enabled && res.Fallback == "" && now.Sub(cur.CheckedAt) <= e.cfg.EventRetention {
				opts.changes = &changeSet{ids: map[string]map[string]bool{}}
			}
			e.syncKinds(ctx, rd, districtID, now, &res, opts)
			if opts.changes != nil && len(res.Errors) == 0 {
				e.countMissed(ctx, rd, districtID, cur.EventID, opts.changes, &res)
			}
		}
		if len(res.Errors) == 0 {
			if err := e.cfg.Tokens.Used(ctx, districtID); err != nil {
				e.cfg.Logger.WarnContext(ctx, "record token use", slog.String(logDistrict, districtID), slog.String("error", err.Error()))
			}
		}
	}
	switch {
	case len(res.Errors) > 0:
		res.Status = StatusFailed
	case len(res.Held) > 0: // held memberships come only with held users: they never hold a run alone
		res.Status = StatusHeld
	default:
		res.Status = StatusSucceeded
	}
	res.Finished = e.cfg.Now().UTC()
	if !opts.DryRun {
		// Record the outcome even when ctx was cancelled: the run must not stay running.
		if err := e.finishRun(context.WithoutCancel(ctx), res, cursor, enabled); err != nil {
			return res, err
		}
	}
	e.logRun(ctx, res)
	if ctx.Err() != nil {
		return res, fmt.Errorf("sync district %s: %w", districtID, ctx.Err())
	}
	return res, nil
}

// syncKinds reads every record type in turn (a full run), filling res.
func (e *Engine) syncKinds(ctx context.Context, rd Reader, districtID string, now time.Time, res *Result, opts Options) {
	opts.analyzing = &gosync.WaitGroup{}
	defer opts.analyzing.Wait()
	for _, kind := range Kinds {
		// The sections sync holds the memberships of the users whose archive the users sync held.
		out, held, heldRows, err := e.syncKind(ctx, rd, districtID, kind, now, res.Held["users"], opts)
		res.Counts[kind] = out
		if len(held) > 0 {
			res.Held[kind] = held
		}
		for table, ids := range heldRows {
			res.HeldMemberships[table] = append(res.HeldMemberships[table], ids...)
		}
		if err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %w", kind, e.classify(ctx, districtID, err)).Error())
			if errors.Is(err, clever.ErrUnauthorized) || ctx.Err() != nil {
				break // every further read would fail the same way
			}
		}
	}
}

// classify records what a Clever error means for the district's token, and returns the error to report.
// Only a refusal of the token on a read (401) is recorded here: a disconnection that Tokens.Token
// reports (ErrDisconnected) was recorded by the token source itself, with its own reason.
func (e *Engine) classify(ctx context.Context, districtID string, err error) error {
	if !errors.Is(err, clever.ErrUnauthorized) {
		return err
	}
	if rerr := e.cfg.Tokens.Revoked(context.WithoutCancel(ctx), districtID, err); rerr != nil {
		e.cfg.Logger.WarnContext(ctx, "record revoked token", slog.String(logDistrict, districtID), slog.String("error", rerr.Error()))
	}
	if errors.Is(err, ErrDisconnected) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// eventCursor is the newest event id before the run, where the events sync will resume, and whether the
// district's events could be read. A district without the Events API enabled has none; that is not an
// error.
func (e *Engine) eventCursor(ctx context.Context, rd Reader) (string, bool, error) {
	id, err := rd.LatestEventID(ctx)
	switch {
	case err == nil:
		return id, true, nil
	case errors.Is(err, clever.ErrUnauthorized), ctx.Err() != nil:
		return "", false, err
	default:
		e.cfg.Logger.InfoContext(ctx, "no event cursor (events not enabled?)", slog.String("error", err.Error()))
		return "", false, nil
	}
}

// startRun records a new run, after closing the district's runs still marked running: they were
// interrupted (the lock says no one is running them).
func (e *Engine) startRun(ctx context.Context, districtID, kind, cursor, fallback, trigger string, now time.Time) (string, error) {
	c := e.cfg.DB.Client
	if _, err := e.closeRunning(ctx, districtID, now); err != nil {
		return "", err
	}
	run, err := c.SyncRun.Create().SetDistrictID(districtID).SetKind(syncrun.Kind(kind)).SetTrigger(trigger).
		SetEventCursor(cursor).SetFallback(fallback).SetStartedAt(now).Save(ctx)
	if err != nil {
		return "", fmt.Errorf("record sync run: %w", err)
	}
	return run.ID, nil
}

// interruptedError is the error recorded on a run that its process stopped running.
const interruptedError = "interrupted: the process stopped before the run finished"

// closeRunning marks the district's runs still recorded as running as failed, interrupted, at now. Only
// call it under the district's lock: then no one is running them.
func (e *Engine) closeRunning(ctx context.Context, districtID string, now time.Time) (int, error) {
	n, err := e.cfg.DB.Client.SyncRun.Update().
		Where(syncrun.DistrictID(districtID), syncrun.StatusEQ(syncrun.StatusRunning)).
		SetStatus(syncrun.StatusFailed).SetFinishedAt(now).SetErrors([]string{interruptedError}).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("close interrupted runs of district %s: %w", districtID, err)
	}
	return n, nil
}

// CloseInterrupted closes the sync runs that a process stopped before they finished (killed, crashed,
// the machine lost): such a run stays recorded as RUNNING, and its district shows SYNCING, until the
// district's next run. Call it when a server starts, so that the districts' status is right from the
// start; it is safe at any time, and with other replicas running.
//
// For every district with runs recorded as running it takes the district's sync lock without waiting
// — the lock SyncDistrict holds for a whole run: in this process, and on Postgres the advisory lock
// that also tells whether another process is running the district. When it gets the lock no one can be
// running those runs: they are marked FAILED with the error "interrupted: the process stopped before
// the run finished" and a finished_at, as the district's next run would mark them, and the lock is
// released. A district whose lock is held — a run live here or in another replica or CLI process — is
// left alone. It returns how many runs it closed; errors of single districts are joined, and the other
// districts are still tried. On SQLite (one writer at a time) call it before syncs start: closing runs
// waits for a live run's write transaction.
func (e *Engine) CloseInterrupted(ctx context.Context) (int, error) {
	districts, err := e.cfg.DB.Client.SyncRun.Query().Where(syncrun.StatusEQ(syncrun.StatusRunning)).
		Unique(true).Order(syncrun.ByDistrictID()).Select(syncrun.FieldDistrictID).Strings(ctx)
	if err != nil {
		return 0, fmt.Errorf("close interrupted runs: list running runs: %w", err)
	}
	closed := 0
	var errs []error
	for _, districtID := range districts {
		n, err := e.closeInterrupted(ctx, districtID)
		closed += n
		switch {
		case errors.Is(err, ErrBusy):
		case err != nil && ctx.Err() != nil:
			return closed, fmt.Errorf("close interrupted runs: %w", err)
		case err != nil:
			errs = append(errs, err)
		case n > 0:
			e.cfg.Logger.InfoContext(ctx, "closed interrupted sync runs", slog.String(logDistrict, districtID), slog.Int("runs", n))
		}
	}
	return closed, errors.Join(errs...)
}

// closeInterrupted closes one district's running runs if it gets the district's lock (ErrBusy if not).
func (e *Engine) closeInterrupted(ctx context.Context, districtID string) (int, error) {
	unlock, err := e.lock(ctx, districtID)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return e.closeRunning(ctx, districtID, e.cfg.Now().UTC())
}

// finishRun records the run's outcome. A full run that read the district (it succeeded or was held)
// supersedes the district's earlier held runs in the same transaction: it made its own decision; and
// it saves the event cursor it captured before reading (cursor; enabled false when the district's events
// could not be read), where the events resume. A failed run supersedes nothing, so an admin can still
// decide a held run after, say, a token outage; nor does an events run, which did not read the district.
func (e *Engine) finishRun(ctx context.Context, res Result, cursor string, enabled bool) error {
	tx, err := e.cfg.DB.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("record sync run %s: %w", res.RunID, err)
	}
	defer tx.Rollback()
	if (res.Status == StatusSucceeded || res.Status == StatusHeld) && res.Kind == string(syncrun.KindFull) {
		if err := saveCursor(ctx, tx, res.DistrictID, cursor, enabled, res.Started); err != nil {
			return err
		}
		if _, err := tx.SyncRun.Update().
			Where(syncrun.DistrictID(res.DistrictID), syncrun.StatusEQ(syncrun.StatusHeld), syncrun.IDNEQ(res.RunID)).
			SetStatus(syncrun.StatusSuperseded).Save(ctx); err != nil {
			return fmt.Errorf("supersede held runs: %w", err)
		}
	}
	upd := tx.SyncRun.UpdateOneID(res.RunID).
		SetStatus(syncrun.Status(res.Status)).SetFinishedAt(res.Finished).SetCounts(res.Counts).SetErrors(res.Errors)
	if len(res.Held) > 0 {
		upd.SetHeld(res.Held)
	}
	if len(res.HeldMemberships) > 0 {
		upd.SetHeldMemberships(res.HeldMemberships)
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("record sync run %s: %w", res.RunID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record sync run %s: %w", res.RunID, err)
	}
	return nil
}

func (e *Engine) logRun(ctx context.Context, res Result) {
	var total syncstats.Outcome
	for _, o := range res.Counts {
		total.Add(o)
	}
	heldMemberships := 0
	for _, ids := range res.HeldMemberships {
		heldMemberships += len(ids)
	}
	level := slog.LevelInfo
	if res.Status == StatusFailed {
		level = slog.LevelWarn
	}
	e.cfg.Logger.Log(ctx, level, "sync run",
		slog.String(logDistrict, res.DistrictID), slog.String(logRun, res.RunID), slog.String(logStatus, res.Status),
		slog.String("kind", res.Kind), slog.String("fallback", res.Fallback), slog.Bool("dry_run", res.DryRun), slog.Duration("duration", res.Finished.Sub(res.Started)),
		slog.Int("read", total.Read), slog.Int("created", total.Created), slog.Int("updated", total.Updated),
		slog.Int("unchanged", total.Unchanged), slog.Int("archived", total.Archived), slog.Int("restored", total.Restored),
		slog.Int("held", total.Held), slog.Int("held_memberships", heldMemberships), slog.Any("errors", res.Errors))
}

// item is one record read from Clever, with the typed record where memberships are derived from it.
type item struct {
	rec     record
	user    *clever.User
	roles   []userRole // the user's, built by the reader
	section *clever.Section
	created bool // set by writeBatch: the record is new to the mirror, so nothing there refers to it yet
}

// read streams one record type from Clever as items, with the rows a write at now would write.
func read(ctx context.Context, rd Reader, kind string, now time.Time) iter.Seq2[item, error] {
	switch kind {
	case "districts":
		return mapSeq(rd.Districts(ctx), func(d clever.District) item { return item{rec: districtRecord(d, now)} })
	case "schools":
		return mapSeq(rd.Schools(ctx), func(s clever.School) item { return item{rec: schoolRecord(s, now)} })
	case "terms":
		return mapSeq(rd.Terms(ctx), func(t clever.Term) item { return item{rec: termRecord(t, now)} })
	case "courses":
		return mapSeq(rd.Courses(ctx), func(c clever.Course) item { return item{rec: courseRecord(c, now)} })
	case "users":
		return mapSeq(rd.Users(ctx), func(u clever.User) item { return userItem(&u, now) })
	case "sections":
		return mapSeq(rd.Sections(ctx), func(s clever.Section) item { return item{rec: sectionRecord(&s, now), section: &s} })
	}
	return func(yield func(item, error) bool) { yield(item{}, fmt.Errorf("unknown record type %q", kind)) }
}

func mapSeq[T any](seq iter.Seq2[T, error], f func(T) item) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(item{}, err)
				return
			}
			if !yield(f(v), nil) {
				return
			}
		}
	}
}

// syncKind syncs one record type in one transaction: it commits only if Clever's list was read to the
// end (a dry run never commits). It returns what it did, the ids whose archiving the guard held, and the
// membership rows it kept open because their ending follows from held user archives (see holds):
// heldUsers are the run's, which the users sync itself works out.
func (e *Engine) syncKind(ctx context.Context, rd Reader, districtID, kind string, now time.Time, heldUsers []string,
	opts Options) (out syncstats.Outcome, held []string, heldRows syncstats.Held, err error) {
	progress := func(done bool) {
		if opts.Progress != nil {
			opts.Progress(Progress{DistrictID: districtID, Kind: kind, Read: out.Read, Done: done})
		}
	}
	defer progress(true)
	tx, err := e.cfg.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		return out, nil, nil, fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	w := &txWriter{Writer: bulk.New(tx, e.cfg.DB.Dialect == dialect.Postgres), now: now, plan: opts.plan, changes: opts.changes}
	t := tables[kind]
	base, err := w.shared(ctx, kind, districtID)
	if err != nil {
		return out, nil, nil, err
	}
	// Only records that were shared can be archived: a type the district shares none of yet (its first
	// sync, say) is read without noting what was seen.
	w.unnoted = base == 0
	if !w.unnoted {
		if err := w.TempTable(ctx, "seen_"+kind, "(id TEXT PRIMARY KEY)"); err != nil {
			return out, nil, nil, err
		}
	}

	h := newHolds(heldUsers)
	// Clever's list is read in a goroutine while the batch before is written (readBatches); an error on
	// either side stops both, and the transaction rolls back.
	var lookup func(context.Context, []string) (map[string]state, error)
	if opts.session != nil {
		lookup = func(ctx context.Context, ids []string) (map[string]state, error) {
			return w.states(ctx, opts.session, t.name, ids)
		}
	}
	batches := readBatches(ctx, rd, districtID, kind, now, e.cfg.BatchSize, lookup)
	defer batches.stop()
	for batch := range batches.c {
		o, err := e.writeBatch(ctx, w, districtID, kind, batch.items, batch.have, h)
		out.Add(o)
		progress(false)
		if err != nil {
			return out, nil, nil, err
		}
	}
	if batches.err != nil {
		return out, nil, nil, batches.err
	}
	if kind != "districts" && !w.unnoted { // a district that stops being listed has disconnected: that is not an archive
		if held, err = e.archiveUnseen(ctx, w, districtID, kind, base, &out); err != nil {
			return out, nil, nil, err
		}
	}
	if kind == "users" { // the run's held users are known now
		if err := h.endContacts(ctx, w, held); err != nil {
			return out, nil, nil, err
		}
	}
	if err := h.mark(ctx, w, t.name); err != nil {
		return out, nil, nil, err
	}
	if err := w.DropTemp(ctx); err != nil {
		return out, nil, nil, err
	}
	if opts.DryRun {
		return out, held, h.held(), nil
	}
	if err := tx.Commit(); err != nil {
		return out, nil, nil, fmt.Errorf("commit %s: %w", kind, err)
	}
	committed = true
	if w.PG && out.Created+out.Restored >= analyzeAfter {
		if opts.analyzing != nil {
			opts.analyzing.Go(func() { e.analyze(ctx, kind) })
		} else {
			e.analyze(ctx, kind)
		}
	}
	return out, held, h.held(), nil
}

// analyzeAfter is the number of rows a type's sync must add before the engine refreshes Postgres's
// statistics of the tables it wrote: a first sync fills empty tables, and until autovacuum gets to
// them the planner takes them for empty — the next runs' lookups by user or section (an events run's
// too) would scan them whole.
const analyzeAfter = 10_000

// analyzedTypes are the ent types a kind's sync writes.
var analyzedTypes = map[string][]string{
	"districts": {"District"},
	"schools":   {"School"},
	"terms":     {"Term"},
	"courses":   {"Course"},
	"users":     {"User", "UserRole", "RoleSchool", "ContactRelationship"},
	"sections":  {"Section", "SectionTeacher", "SectionStudent"},
}

// analyzed is, per kind, the ANALYZE target list of the tables its sync writes, each narrowed to the
// columns the engine's lookups filter on: the key, the foreign keys, archived_at and ended_at. (The
// statistics of the other columns — a raw Clever payload above all — cost most of the time and serve
// no query of a sync.)
var analyzed = func() map[string]string {
	out := map[string]string{}
	for kind, types := range analyzedTypes {
		var targets []string
		for _, name := range types {
			st := storage(name)
			cols := []string{st.ID}
			for _, e := range st.Edges {
				if e.OwnFK && !slices.Contains(cols, e.Column) {
					cols = append(cols, e.Column)
				}
			}
			if st.Archivable {
				cols = append(cols, "archived_at")
			}
			if st.Membership != nil {
				cols = append(cols, "ended_at")
			}
			slices.Sort(cols[1:])
			targets = append(targets, st.Table+" ("+strings.Join(cols, ", ")+")")
		}
		out[kind] = strings.Join(targets, ", ")
	}
	return out
}()

// analyze refreshes the statistics of the tables kind's sync wrote (Postgres). A failure only costs
// speed: it is logged.
func (e *Engine) analyze(ctx context.Context, kind string) {
	if _, err := e.cfg.DB.SQL.ExecContext(ctx, "ANALYZE "+analyzed[kind]); err != nil && ctx.Err() == nil {
		e.cfg.Logger.WarnContext(ctx, "analyze synced tables", slog.String("kind", kind), slog.String("error", err.Error()))
	}
}

// archiveUnseen archives the district's records of kind that the complete read did not return (a user
// with its roles and their schools) — unless the mass-archive guard holds them, in which case it returns
// their ids.
func (e *Engine) archiveUnseen(ctx context.Context, w *txWriter, districtID, kind string, base int, out *syncstats.Outcome) ([]string, error) {
	unseen := func(alias string) string {
		return "NOT EXISTS (SELECT 1 FROM seen_" + kind + " s WHERE s.id = " + alias + ".clever_id)"
	}
	return e.archive(ctx, w, districtID, kind, unseen, func() (int, error) { return base, nil }, out)
}

// archive archives the district's active records of kind that cond selects (SQL on a table alias,
// without parameters; cond("t") selects the records to archive) — a user with its roles and their
// schools. While the district is paused in Clever (see Paused) it archives nothing and counts them in
// out.Deferred. Otherwise the records an ended term explains (explainedBy: a rollover) are archived in
// any number and counted in out.Rollover, and the mass-archive guard weighs the rest: when they are at
// least GuardMinimum and more than GuardShare of base (the type's active records before the run; asked
// for only when the guard may hold) minus the explained ones, it archives none of them and returns their
// ids.
func (e *Engine) archive(ctx context.Context, w *txWriter, districtID, kind string, cond func(alias string) string, base func() (int, error), out *syncstats.Outcome) ([]string, error) {
	table := tables[kind].name
	from := " FROM " + table + " t WHERE t.district_id = ? AND t.archived_at IS NULL AND " + cond("t")
	args := []any{districtID}
	n, err := w.count(ctx, "SELECT count(*)"+from, args)
	if err != nil || n == 0 {
		return nil, err
	}
	paused, err := w.pausedAt(ctx, districtID)
	if err != nil {
		return nil, err
	}
	if paused {
		out.Deferred = n
		if w.plan != nil {
			if err := w.noteAll(ctx, kind, "deferred", "SELECT t.clever_id"+from, args, PlanSamples); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	// The archives an ended term explains, and the rest, which the guard weighs.
	explained, eargs := explainedBy(kind, rolloverSpan(w.now, e.cfg.RolloverWindow), cond)
	ex := 0
	if explained == "" { // a type the rollover rule does not concern: nothing is explained
		explained = "1 = 0"
	} else {
		if ex, err = w.count(ctx, "SELECT count(*)"+from+" AND "+explained, append(slices.Clone(args), eargs...)); err != nil {
			return nil, err
		}
	}
	out.Rollover = ex
	hold := false
	if rest := n - ex; guarded[kind] && rest >= e.cfg.GuardMinimum {
		b, err := base()
		if err != nil {
			return nil, err
		}
		hold = float64(rest) > e.cfg.GuardShare*float64(b-ex)
	}
	if hold { // the explained ones are archived; the rest are held
		eargs := append(slices.Clone(args), eargs...)
		ids, err := w.ids(ctx, kind, "SELECT t.clever_id"+from+" AND NOT "+explained, eargs, 0)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			w.note(kind, "held", id)
		}
		out.Held = len(ids)
		if ex > 0 {
			if err := e.archiveWhere(ctx, w, kind, from+" AND "+explained, eargs, out); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}
	return nil, e.archiveWhere(ctx, w, kind, from, args, out)
}

// archiveWhere archives the records of kind that "SELECT t.clever_id"+from selects (a user with its roles
// and their schools first), noting them for the plan and the reconcile, and counts them in out.Archived.
func (e *Engine) archiveWhere(ctx context.Context, w *txWriter, kind, from string, args []any, out *syncstats.Outcome) error {
	sel := "SELECT t.clever_id" + from
	if w.plan != nil || w.changes != nil {
		limit := PlanSamples
		if w.changes != nil {
			limit = maxChanges + 1
		}
		if err := w.noteAll(ctx, kind, "archived", sel, args, limit); err != nil {
			return err
		}
	}
	if kind == "users" { // their roles and the roles' schools first, while sel still names the users
		if err := w.archiveRolesOf(ctx, sel, args...); err != nil {
			return err
		}
	}
	archived, err := w.Exec(ctx, "UPDATE "+tables[kind].name+" SET archived_at = ?, last_synced_at = ? WHERE clever_id IN ("+sel+")",
		append([]any{w.now, w.now}, args...)...)
	out.Archived = int(archived)
	return err
}

// count runs a count query.
func (w *txWriter) count(ctx context.Context, query string, args []any) (int, error) {
	var n int
	if err := w.Tx.QueryRowContext(ctx, w.Rebind(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count unshared: %w", err)
	}
	return n, nil
}

// noteAll notes, as action, up to limit of the ids query selects.
func (w *txWriter) noteAll(ctx context.Context, kind, action, query string, args []any, limit int) error {
	ids, err := w.ids(ctx, kind, query, args, limit)
	for _, id := range ids {
		w.note(kind, action, id)
	}
	return err
}

// ids lists the ids query selects, in order; at most limit of them unless limit is 0.
func (w *txWriter) ids(ctx context.Context, kind, query string, args []any, limit int) ([]string, error) {
	query += " ORDER BY t.clever_id"
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := w.Tx.QueryContext(ctx, w.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list unshared %s: %w", kind, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list unshared %s: %w", kind, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list unshared %s: %w", kind, err)
	}
	return ids, nil
}

// state is what the mirror holds of a record: enough to tell whether Clever's copy changed.
type state struct {
	hash     string
	archived bool
}

// writeBatch writes one batch: records that are new, changed or back from the archive are upserted (with
// their memberships); unchanged ones are only noted as seen — but those an earlier run marked as owning
// held memberships (heldMark) have their memberships reconciled again. have is what the mirror held of
// the batch's records when the run began (batchReader); nil has writeBatch read it in w's transaction.
func (e *Engine) writeBatch(ctx context.Context, w *txWriter, districtID, kind string, batch []item, have map[string]state, h *holds) (syncstats.Outcome, error) {
	out := syncstats.Outcome{Read: len(batch)}
	t := tables[kind]
	ids := make([]string, len(batch))
	seenRows := make([][]any, len(batch))
	for i, it := range batch {
		ids[i] = it.rec.id
		seenRows[i] = []any{it.rec.id}
	}
	var err error
	if have == nil {
		if have, err = w.states(ctx, w.Tx, t.name, ids); err != nil {
			return out, err
		}
	}
	var rows, created [][]any
	var changed, rechecked []item
	for _, it := range batch {
		st, ok := have[it.rec.id]
		switch {
		case !ok:
			out.Created++
			w.note(kind, "created", it.rec.id)
			it.created = true
			created = append(created, it.rec.row)
			changed = append(changed, it)
			continue
		case st.archived:
			out.Restored++
			w.note(kind, "restored", it.rec.id)
		case st.hash == it.rec.hash:
			out.Unchanged++
			continue
		case st.hash == heldMark(it.rec.hash):
			out.Unchanged++
			rechecked = append(rechecked, it)
			h.rechecked = append(h.rechecked, it.rec.id)
			continue
		default:
			out.Updated++
			w.note(kind, "updated", it.rec.id)
		}
		rows = append(rows, it.rec.row)
		changed = append(changed, it)
	}
	// A record can come twice in one read only if Clever's paging misbehaves; the primary key makes the
	// second a conflict, which is the right failure. It is noted before it is written: its second copy
	// may have been looked up before the first was written. (When the run does not note what it saw, the
	// second is created twice: the mirror's primary key fails it.)
	if !w.unnoted {
		if err := w.Insert(ctx, "seen_"+kind, []string{"id"}, seenRows); err != nil {
			return out, fmt.Errorf("note seen %s: %w", kind, err)
		}
	}
	// New records go straight in (on Postgres without staging); the district's lock keeps anyone else
	// from writing them meanwhile.
	if err := w.Insert(ctx, t.name, t.columns, created); err != nil {
		return out, err
	}
	if err := w.Upsert(ctx, t.name, t.columns, "clever_id", rows); err != nil {
		return out, err
	}
	switch kind {
	case "users":
		err = e.syncUserMembers(ctx, w, districtID, changed, rechecked, h)
	case "sections":
		err = e.syncSectionMembers(ctx, w, districtID, slices.Concat(changed, rechecked), h)
	}
	return out, err
}

// states reads, through q, the mirror's hash and archive state of the given records.
func (w *txWriter) states(ctx context.Context, q querier, table string, ids []string) (map[string]state, error) {
	cond, args := w.In("clever_id", ids)
	rows, err := q.QueryContext(ctx, w.Rebind("SELECT clever_id, content_hash, archived_at IS NOT NULL FROM "+table+" WHERE "+cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s state: %w", table, err)
	}
	defer rows.Close()
	out := make(map[string]state, len(ids))
	for rows.Next() {
		var id string
		var st state
		if err := rows.Scan(&id, &st.hash, &st.archived); err != nil {
			return nil, fmt.Errorf("read %s state: %w", table, err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

// runByID loads a run or returns ErrRunNotFound.
func (e *Engine) runByID(ctx context.Context, runID string) (*ent.SyncRun, error) {
	run, err := e.cfg.DB.Client.SyncRun.Get(ctx, runID)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %s", ErrRunNotFound, runID)
	}
	return run, err
}
