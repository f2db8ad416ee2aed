// Package mirror is the sync engine: it reads one district's roster from Clever and brings the mirror in
// line with it — creating and updating records keyed by their Clever ids, archiving what the district no
// longer shares and restoring what comes back, keeping the history of every membership — without ever
// deleting a record or moving the mirror backwards.
//
// The unit of work is SyncDistrict. Each record type is synced in its own transaction: it commits only
// when Clever's list was read to the end, so a read that fails part-way changes nothing of that type
// (and archives nothing), while the types read completely move forward. Rows whose content did not
// change are not rewritten. A user is archived with its roles and their school memberships, and restored
// with them. A mass-archive guard holds archives that would remove more than a set share of a
// district's users or sections until an admin approves them — and with held users, the memberships whose
// ending follows from their archive (enrollments, section teacher places, contact links).
package mirror

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// Reader is what the engine reads from Clever with one district's token. *clever.TokenClient
// implements it.
type Reader interface {
	Districts(ctx context.Context) iter.Seq2[clever.District, error]
	Schools(ctx context.Context) iter.Seq2[clever.School, error]
	Terms(ctx context.Context) iter.Seq2[clever.Term, error]
	Courses(ctx context.Context) iter.Seq2[clever.Course, error]
	Users(ctx context.Context, roles ...clever.Role) iter.Seq2[clever.User, error]
	Sections(ctx context.Context) iter.Seq2[clever.Section, error]
	LatestEventID(ctx context.Context) (string, error)
	Event(ctx context.Context, id string) (clever.Event, error)
	Events(ctx context.Context, opts clever.EventOptions) iter.Seq2[clever.Event, error]
}

// Tokens finds and keeps the health of districts' Clever tokens.
type Tokens interface {
	// Token returns the district's current token, fetched again on every run because Clever rotates
	// them. It returns an error matching ErrDisconnected when Clever no longer lists a token for the
	// district, and records that disconnection itself: the engine does not call Revoked for it.
	Token(ctx context.Context, districtID string) (clever.Token, error)
	// Used records that the token worked.
	Used(ctx context.Context, districtID string) error
	// Revoked records that Clever refused the token (401) on a read.
	Revoked(ctx context.Context, districtID string, cause error) error
}

// ErrDisconnected: the district disconnected the app (its token is gone or refused). Its records are
// left as they are until an admin decides; nothing is archived.
var ErrDisconnected = errors.New("district disconnected: Clever no longer grants a token for it")

// Errors of the held-run actions.
var (
	ErrRunNotFound   = errors.New("sync run not found")
	ErrRunNotHeld    = errors.New("sync run is not held")
	ErrRunSuperseded = errors.New("sync run was superseded by a later run of its district")
)

// Config configures an Engine. DB, Reader and Tokens are required.
type Config struct {
	// DB is the mirror's database.
	DB *store.DB
	// Reader gives a Clever reader for a district token, e.g.
	// func(t clever.Token) mirror.Reader { return client.WithToken(t) }.
	Reader func(clever.Token) Reader
	// EventRetention is how long Clever keeps events: a cursor whose events were last read longer ago
	// than this is lost, and an events run falls back to a full sync. Default 30 days (Clever's).
	EventRetention time.Duration
	// MaxPendingEvents is the number of changed records beyond which an events run falls back to a full
	// sync (a full read is cheaper, and the events of that many records are held in memory). Default
	// 50,000.
	MaxPendingEvents int
	// Tokens supplies districts' tokens.
	Tokens Tokens
	// Logger receives one summary line per run (and warnings). Never a token or a person's data.
	// Default: discard.
	Logger *slog.Logger
	// BatchSize is how many records are written per statement batch. Default 2000.
	BatchSize int
	// GuardShare is the share of a district's users or sections that one run may archive before the
	// mass-archive guard holds the archives for approval. Default 0.2; 1 or more disables the guard.
	GuardShare float64
	// GuardMinimum is the number of archives below which the guard never holds, so that small districts
	// are not held for a handful of records. Default 10.
	GuardMinimum int
	// RolloverWindow is how long after a term's end date its sections' archives (and those of the users
	// whose only sections they were) count as a rollover, which the guard does not weigh: at the school
	// year's end Clever unshares last year's sections within weeks or months. A term that ended longer
	// ago explains nothing — its sections, still shared, are likely in use under stale term data. Default
	// 180 days.
	RolloverWindow time.Duration
	// ProvisionWait is how long ProvisionUser waits for the district's sync lock before it leaves the
	// user to the sync that holds it (ErrBusy). Default 2s.
	ProvisionWait time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Engine syncs districts into the mirror. It is safe for concurrent use on different districts; the
// scheduler keeps one district from being synced twice at once.
type Engine struct {
	cfg Config
}

// New validates cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.DB == nil || cfg.Reader == nil || cfg.Tokens == nil {
		return nil, errors.New("new mirror engine: DB, Reader and Tokens are required")
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 2000)
	cfg.GuardShare = cmp.Or(cfg.GuardShare, 0.2)
	cfg.GuardMinimum = cmp.Or(cfg.GuardMinimum, 10)
	cfg.ProvisionWait = cmp.Or(cfg.ProvisionWait, 2*time.Second)
	cfg.RolloverWindow = cmp.Or(cfg.RolloverWindow, 180*24*time.Hour)
	cfg.EventRetention = cmp.Or(cfg.EventRetention, 30*24*time.Hour) // Clever's
	cfg.MaxPendingEvents = cmp.Or(cfg.MaxPendingEvents, 50_000)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GuardShare < 0 || cfg.BatchSize < 1 {
		return nil, fmt.Errorf("new mirror engine: GuardShare %v and BatchSize %d must be positive", cfg.GuardShare, cfg.BatchSize)
	}
	return &Engine{cfg: cfg}, nil
}

// Modes of a run (Options.Mode).
const (
	// ModeAuto applies the district's new events from its stored cursor when the cursor is still valid,
	// and runs a full sync otherwise (never synced, cursor lost, events not enabled). The default.
	ModeAuto = "auto"
	// ModeFull reads the whole district (and saves the newest event id as the cursor).
	ModeFull = "full"
	// ModeEvents applies the district's new events. When they cannot be applied (the cursor is lost, the
	// events are not enabled for the app, an event the events path cannot interpret) it falls back to a
	// full sync, and the run records why (Result.Fallback) — unless SkipWithoutEvents is set.
	ModeEvents = "events"
)

// Modes lists the modes, for flags and validation.
var Modes = []string{ModeAuto, ModeFull, ModeEvents}

// ErrEventsUnavailable: an events run with Options.SkipWithoutEvents found that the district's events
// cannot be applied (Result.Fallback says why) and ran nothing.
var ErrEventsUnavailable = errors.New("the district's events cannot be applied")

// ErrAlreadyRan: a run with Options.NotIfRanSince found that another run of the district (in this
// process or another replica) has run since then.
var ErrAlreadyRan = errors.New("the district was synced since the scheduled time")

// ErrNothingNew: an events run with Options.SkipEmpty found no new change to apply; it moved the cursor
// (the feed was read) and recorded no run.
var ErrNothingNew = errors.New("no new events")

// Options are the choices of one run.
type Options struct {
	// Mode is ModeAuto (""), ModeFull or ModeEvents.
	Mode string
	// SkipWithoutEvents makes an events run (ModeEvents or ModeAuto) whose district has no events to
	// apply from (events not enabled for the app, never fully synced) return ErrEventsUnavailable and
	// record no run, instead of falling back to a full sync: the scheduler's events interval sets it and
	// leaves full syncs to the daily schedule. A lost window (a cursor past Clever's retention) still
	// falls back: only a full sync repairs it.
	SkipWithoutEvents bool
	// SkipEmpty makes an events run that finds no new change to a record move the district's cursor (the
	// feed was read: District.status's eventsCheckedAt) and return ErrNothingNew, recording no run. The
	// scheduler's events interval sets it, so that a quiet district does not add a run every few minutes
	// (288 a day at the default interval); runs asked for by hand are always recorded.
	SkipEmpty bool
	// DryRun reads Clever and works out every change, then rolls all of it back and records no run.
	DryRun bool
	// NotIfRanSince, when set, makes the run return ErrAlreadyRan, recording nothing, if a run of the
	// same kind (full, or events) of the district started at or after it — checked under the district's
	// lock, so that of several replicas that fire the same scheduled tick exactly one runs it.
	NotIfRanSince time.Time
	// Trigger says what started the run (schedule, cli, api, demo); it is stored on the run.
	Trigger string
	// Progress, when set, is called as records are read and when each record type is done.
	Progress func(Progress)
	// Started, when set, is called with the run's id once the run is recorded (not for dry runs), so a
	// caller that runs the sync in the background can answer with the run at once.
	Started func(runID string)

	plan    Plan       // Result.Plan, which the run fills
	changes *changeSet // a reconcile's changed records (Outcome.Missed)
	// analyzing, when set, takes the statistics refreshes of the run's types (analyze): they then run
	// on a connection of their own while the next type syncs, and the run waits for them at its end.
	analyzing *gosync.WaitGroup
	// session is the connection holding the run's district lock (Postgres): the full sync's reader looks
	// up through it what the mirror holds of each batch (readBatches).
	session *sql.Conn
}

// Progress reports how far a run has got.
type Progress struct {
	DistrictID string
	Kind       string // "districts", "schools", "terms", "courses", "users", "sections"
	Read       int    // records read so far for Kind
	Done       bool   // Kind is finished (committed, rolled back or failed)
}

// Kinds are the record types in the order a run syncs them.
var Kinds = []string{"districts", "schools", "terms", "courses", "users", "sections"}

// Run statuses as stored on SyncRun (and shown in GraphQL) and returned in Result.
const (
	StatusRunning    = string(syncrun.StatusRunning)
	StatusSucceeded  = string(syncrun.StatusSucceeded)
	StatusFailed     = string(syncrun.StatusFailed)
	StatusHeld       = string(syncrun.StatusHeld)
	StatusApproved   = string(syncrun.StatusApproved)
	StatusRejected   = string(syncrun.StatusRejected)
	StatusSuperseded = string(syncrun.StatusSuperseded)
)

// Result is what a run did.
type Result struct {
	RunID      string // empty for a dry run
	DistrictID string
	Status     string
	// Kind is the kind of run that ran: "FULL" or "EVENTS" (syncrun.Kind).
	Kind   string
	DryRun bool
	// Fallback says why a run asked to apply events (ModeEvents, or ModeAuto with a stored cursor) ran a
	// full sync instead; "" when it did not fall back.
	Fallback string
	Counts   syncstats.Counts
	// Held lists, per record type ("users", "sections"), the Clever ids whose archiving the mass-archive
	// guard held.
	Held syncstats.Held
	// HeldMemberships lists, per membership table ("section_students", "section_teachers",
	// "contact_relationships"), the ids of the rows the run kept open because their ending follows from
	// the user archives the guard held (Held["users"]): the enrollments, section teacher places and
	// contact links of those users, gone from Clever's data with them. Approving the run ends them;
	// rejecting it keeps them open. They never hold a run by themselves.
	HeldMemberships syncstats.Held
	// Plan holds, per record type and action ("created", "updated", "restored", "archived", "held"), up
	// to PlanSamples Clever ids of the records the run acted on: what a dry run prints.
	Plan     Plan
	Errors   []string
	Started  time.Time
	Finished time.Time
}

// Plan is Result.Plan: record type → action → sample Clever ids.
type Plan map[string]map[string][]string

// PlanSamples is how many ids Plan keeps per record type and action.
const PlanSamples = 5

// Err returns an error summarising a failed run, or nil.
func (r Result) Err() error {
	if r.Status != StatusFailed {
		return nil
	}
	return fmt.Errorf("sync district %s failed: %v", r.DistrictID, r.Errors)
}

// ApproveHeld applies the archives a held run kept back (a user's with its roles and their schools),
// ends the memberships held with them (Result.HeldMemberships), marks the run approved and records who
// decided — on the run and in the audit log, in the same transaction. A held run cannot be decided once a later
// run of its district has read the district (succeeded or was held): that run made its own decision
// (ErrRunSuperseded). Later runs that failed do not stand in the way.
func (e *Engine) ApproveHeld(ctx context.Context, runID, decidedBy string) (Result, error) {
	return e.decideHeld(ctx, runID, decidedBy, true)
}

// RejectHeld discards the archives a held run kept back: the records stay as they are, and so do the
// memberships held with them. The decision is recorded like ApproveHeld's.
func (e *Engine) RejectHeld(ctx context.Context, runID, decidedBy string) (Result, error) {
	return e.decideHeld(ctx, runID, decidedBy, false)
}
