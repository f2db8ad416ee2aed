// Package progress is students' progress in the app — lessons completed, scores, attempts, time spent
// and a free JSON payload — keyed by the student's Clever id, written in bulk (recordProgress,
// `rostermirror progress import`), read by student, section, school, term and district, summarised in
// the database, and exported.
//
// Progress is the app's data: sync never writes or deletes it. Where the work was done (section,
// school, term, grade) is resolved when a record is written, from the roster at the record's
// completedAt, and stored with it, so that later roster changes (a section move, a school move,
// rollover, an archive) leave it with the class it was earned in. A student Clever re-IDed keeps
// their progress through aliases (CleverIDAlias): reads follow them; rows are never rewritten.
package progress

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Errors of the mutations and commands, matched with errors.Is.
var (
	// ErrInvalid is a request that cannot be carried out as asked (a record that does not validate, an
	// alias across districts or in a cycle).
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound names a student, section, district or alias that does not exist.
	ErrNotFound = errors.New("not found")
)

// Service writes and reads progress. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
	// pipeline is the one write at a time (an import) that reads the mirror on a second connection
	// while it writes: every other write holds one connection only, so writes cannot wait on each
	// other for the pool.
	pipeline chan struct{}
}

// Option configures a Service.
type Option func(*Service)

// WithLogger logs through l (counts only: never a student's id or a record's values).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a Service over db.
func New(db *store.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now, pipeline: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	s.log = cmp.Or(s.log, slog.New(slog.DiscardHandler))
	return s
}

func (s *Service) pg() bool { return s.db.Dialect == dialect.Postgres }

// txn is a transaction: an ent client on it, and its bulk writer.
type txn struct {
	*ent.Client
	bulk *bulk.Writer
}

// inTx runs fn in a transaction; it is rolled back when fn fails or panics.
func (s *Service) inTx(ctx context.Context, fn func(tx *txn) error) (err error) {
	stx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
	}()
	tx := &txn{Client: s.db.OnTx(stx), bulk: bulk.New(stx, s.pg())}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.bulk.DropTemp(ctx), stx.Rollback())
	}
	if err := tx.bulk.DropTemp(ctx); err != nil {
		return errors.Join(err, stx.Rollback())
	}
	return stx.Commit()
}
