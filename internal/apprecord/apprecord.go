// Package apprecord is record matching as the app runs it: the app's own records (students, teachers,
// staff, schools, sections it had before Clever) loaded from its CSV, matched to its district's Clever
// records in the mirror by internal/match, kept with their status, score and explanation, reviewed and
// corrected by an admin, and written back out in Clever Matchmaker's format.
//
// Decisions are sticky. A record an admin matched or unmatched (decided_by set), and a suggestion an
// admin rejected, are never changed by a later import, a sync or a rematch; a record matched
// automatically keeps its match when its Clever record is archived (shown as archived) and is matched
// again only while its Clever record is shared. Everything here is the app's data: sync never writes
// it, it only asks for a rematch after each run (Syncer).
package apprecord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Errors of the mutations and commands, matched with errors.Is.
var (
	// ErrInvalid is a request that cannot be carried out as asked (a suggestion already decided, a
	// Clever record another decision holds, a type that does not exist, a map naming no field).
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound names an app record, suggestion, district or Clever record that does not exist (a
	// Clever record of another district, or not of the record's kind, is not found either).
	ErrNotFound = errors.New("not found")
)

// Service imports, matches, reviews and exports app records. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
	cfg map[match.Type]match.Config
}

// Option configures a Service.
type Option func(*Service)

// WithLogger logs through l (counts and ids only: never a record's values).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithConfig sets how records of one type are matched (the field order; match.Config).
func WithConfig(typ match.Type, cfg match.Config) Option {
	return func(s *Service) { s.cfg[typ] = cfg }
}

// New returns a Service over db.
func New(db *store.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now, cfg: map[match.Type]match.Config{}}
	for _, o := range opts {
		o(s)
	}
	s.log = cmp.Or(s.log, slog.New(slog.DiscardHandler))
	return s
}

// Types are the record types, in the order they are matched (schools first, then people, then sections).
var Types = []match.Type{match.School, match.Student, match.Teacher, match.Staff, match.Section}

// ParseType reads a record type as the command line and SPEC.md write it (student, teacher, staff,
// school, section), or as GraphQL does (STUDENT, …).
func ParseType(s string) (match.Type, error) {
	t := match.Type(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Types {
		if k == t {
			return t, nil
		}
	}
	return "", fmt.Errorf("%w: unknown record type %q: want student, teacher, staff, school or section", ErrInvalid, s)
}

// entType is the ent enum value of a record type.
func entType(t match.Type) apprecord.Type { return apprecord.Type(strings.ToUpper(string(t))) }

// matchType is the record type of an ent enum value.
func matchType(t apprecord.Type) match.Type { return match.Type(strings.ToLower(string(t))) }

func (s *Service) nowUTC() time.Time { return s.now().UTC() }

// txn is a transaction: an ent client on it, and its bulk writer for the large writes.
type txn struct {
	*ent.Client
	bulk *bulk.Writer
}

// inTx runs fn in a transaction; it is rolled back when fn fails or panics.
func (s *Service) inTx(ctx context.Context, fn func(tx *txn) error) (err error) {
	stx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
	}()
	tx := &txn{Client: s.db.OnTx(stx), bulk: bulk.New(stx, s.db.Dialect == dialect.Postgres)}
	if err := fn(tx); err != nil {
		return errors.Join(err, stx.Rollback())
	}
	if err := tx.bulk.DropTemp(ctx); err != nil {
		return errors.Join(err, stx.Rollback())
	}
	return stx.Commit()
}

// lockType serialises the writers of one district's records of one type (an import, a rematch, a
// decision) on Postgres for the rest of the transaction; SQLite serialises writers by itself.
func (s *Service) lockType(ctx context.Context, tx *txn, districtID string, typ match.Type) error {
	if s.db.Dialect != dialect.Postgres {
		return nil
	}
	rows, err := tx.bulk.Tx.QueryContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "apprecord:"+districtID+":"+string(typ))
	if err != nil {
		return fmt.Errorf("lock %s records of district %s: %w", typ, districtID, err)
	}
	return rows.Close()
}
