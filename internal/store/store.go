// Package store opens rostermirror's database — Postgres through lib/pq in production and CI, SQLite
// (modernc, no cgo) as the embedded default — and applies its versioned migrations.
//
// The migrations in migrations/<dialect> are generated from the ent schema by Atlas (go generate runs
// ./migrategen) in goose's format, reviewed like code, and embedded in the binary.
package store

//go:generate go run ./migrategen

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // the "postgres" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
)

// DefaultURL is the embedded default database: a SQLite file in the working directory.
const DefaultURL = "file:rostermirror.db"

// sqlitePragmas are added to a SQLite URL that does not set them: foreign keys on (ent expects it), WAL
// so readers do not block the sync, a busy timeout instead of SQLITE_BUSY errors, write transactions
// that take the lock up front, and times stored in SQLite's own format.
var sqlitePragmas = []string{
	"_pragma=foreign_keys(1)",
	"_pragma=journal_mode(WAL)",
	"_pragma=busy_timeout(10000)",
	"_pragma=synchronous(NORMAL)",
	"_txlock=immediate",
	"_time_format=sqlite",
}

// ErrNotMigrated is returned by CheckMigrated when migrations are pending.
var ErrNotMigrated = errors.New("database is not migrated: run `rostermirror migrate`")

// DB is an open database: the ent client, the *sql.DB under it, and which dialect it speaks.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.Postgres or dialect.SQLite

	locks sync.Map // key → *sync.Mutex, for TryLock

	url         string // the Postgres URL Open was given ("" from FromSQL)
	genericOnce sync.Once
	generic     *sql.DB
	genericErr  error
}

// Open connects to databaseURL: postgres:// or postgresql:// selects Postgres; file: (or a plain path)
// selects SQLite. It does not migrate.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	driver, dsn, d, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if d == dialect.Postgres {
		sizePool(sqlDB)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database %s: %w", Redact(databaseURL), err)
	}
	db := FromSQL(sqlDB, d)
	if d == dialect.Postgres {
		db.url = dsn
	}
	return db, nil
}

// withoutJIT turns Postgres' JIT compilation off for rostermirror's sessions unless the URL sets jit
// itself. The mirror's statements are short; JIT only pays off for long analytical ones, and while it
// compiles a statement (seconds for a query with many subqueries, such as a large GraphQL filter) the
// statement cannot be cancelled — a request that timed out kept its connection busy for minutes.
func withoutJIT(url string) string {
	if strings.Contains(url, "jit=") {
		return url
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "jit=off"
}

// PoolSize is how many connections each Postgres pool opens at most (the main pool and GenericPlans).
const PoolSize = 20

// sizePool sizes a Postgres pool: at most PoolSize connections, and as many kept idle (Go's default of 2
// makes a busy API open and close a Postgres session per request).
func sizePool(p *sql.DB) {
	p.SetMaxOpenConns(PoolSize)
	p.SetMaxIdleConns(PoolSize)
	p.SetConnMaxIdleTime(5 * time.Minute)
}

// GenericPlans returns a second pool to the same Postgres database whose sessions plan prepared
// statements once, with plan_cache_mode=force_generic_plan. It is for statements that are prepared and
// run many times with ids as their only parameters (graph's compiled queries): Postgres' own choice
// between generic and per-execution plans keeps re-planning some of them, which costs more than
// running them. The pool opens on first use and closes with db. A DB made by FromSQL (or on SQLite)
// has no URL to open another pool from: GenericPlans returns db.SQL itself.
func (db *DB) GenericPlans() (*sql.DB, error) {
	if db.url == "" {
		return db.SQL, nil
	}
	db.genericOnce.Do(func() {
		sep := "?"
		if strings.Contains(db.url, "?") {
			sep = "&"
		}
		db.generic, db.genericErr = sql.Open("postgres", db.url+sep+"plan_cache_mode=force_generic_plan")
		if db.genericErr == nil {
			sizePool(db.generic)
		}
	})
	return db.generic, db.genericErr
}

// FromSQL wraps an open *sql.DB of the given dialect; a Postgres pool is sized as Open sizes it.
func FromSQL(sqlDB *sql.DB, d string) *DB {
	if d == dialect.Postgres {
		sizePool(sqlDB)
	}
	return &DB{Client: ent.NewClient(ent.Driver(entsql.OpenDB(d, sqlDB))), SQL: sqlDB, Dialect: d}
}

// TryLock takes the in-process lock named key without waiting, for work that must not run twice at once
// on this database (a district's sync). It returns the unlock function, or ok=false when the lock is
// held. It excludes users of this *DB only; across processes use a database lock as well (on Postgres,
// an advisory lock).
func (db *DB) TryLock(key string) (unlock func(), ok bool) {
	m, _ := db.locks.LoadOrStore(key, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	if !mu.TryLock() {
		return nil, false
	}
	return mu.Unlock, true
}

// NewClient returns another ent client over the same connections, for a component that installs its
// own hooks or interceptors (the GraphQL API hides archived records) without affecting other users.
func (db *DB) NewClient(opts ...ent.Option) *ent.Client {
	return ent.NewClient(append([]ent.Option{ent.Driver(entsql.OpenDB(db.Dialect, db.SQL))}, opts...)...)
}

// OnTx returns an ent client whose statements run in tx, a transaction begun on db.SQL: code writing
// its own SQL can write through ent in the same transaction. What ent runs in a transaction of its own
// (an update of one record) runs in tx; the client cannot begin or end transactions.
func (db *DB) OnTx(tx *sql.Tx) *ent.Client {
	return ent.NewClient(ent.Driver(onTx{entsql.NewDriver(db.Dialect, entsql.Conn{ExecQuerier: tx})}))
}

// onTx is an ent driver on a transaction that the caller ends: ent's own transactions are tx itself.
type onTx struct{ *entsql.Driver }

func (d onTx) Tx(context.Context) (dialect.Tx, error) { return dialect.NopTx(d.Driver), nil }

// Close closes the database.
func (db *DB) Close() error {
	err := db.Client.Close()
	if db.generic != nil {
		err = errors.Join(err, db.generic.Close())
	}
	return err
}

// parseURL picks the driver for a database URL and completes a SQLite DSN with the default pragmas.
func parseURL(databaseURL string) (driver, dsn, d string, err error) {
	switch {
	case databaseURL == "":
		return parseURL(DefaultURL)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return "postgres", withoutJIT(databaseURL), dialect.Postgres, nil
	case strings.Contains(databaseURL, "://"):
		return "", "", "", fmt.Errorf("database URL %s: want postgres://… or a SQLite file: URL", Redact(databaseURL))
	}
	dsn = databaseURL
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for _, p := range sqlitePragmas {
		key, _, _ := strings.Cut(p, "=")
		name := p
		if key == "_pragma" {
			name = strings.SplitN(p, "(", 2)[0] // "_pragma=foreign_keys"
		}
		if !strings.Contains(dsn, name) {
			dsn += sep + p
			sep = "&"
		}
	}
	return "sqlite", dsn, dialect.SQLite, nil
}

// Redact hides the password of a database URL for messages and logs.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		return databaseURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// migrationDir is the embedded folder of a dialect's migrations.
func migrationDir(d string) (fs.FS, goose.Dialect, error) {
	switch d {
	case dialect.Postgres:
		sub, err := fs.Sub(migrations, "migrations/postgres")
		return sub, goose.DialectPostgres, err
	case dialect.SQLite:
		sub, err := fs.Sub(migrations, "migrations/sqlite")
		return sub, goose.DialectSQLite3, err
	}
	return nil, "", fmt.Errorf("no migrations for dialect %q", d)
}

func (db *DB) provider() (*goose.Provider, error) {
	dir, gd, err := migrationDir(db.Dialect)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(gd, db.SQL, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Migrate applies the pending migrations and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// CheckMigrated returns ErrNotMigrated when migrations are pending (or none was ever applied).
func (db *DB) CheckMigrated(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return ErrNotMigrated
	}
	return nil
}

// MigrationsHash identifies the migrations of a dialect, so that a test database template built from
// them is rebuilt when they change.
func MigrationsHash(d string) (string, error) {
	dir, _, err := migrationDir(d)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = fs.WalkDir(dir, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dir, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
