// Package dbtest gives each test its own migrated database: a clone of a migrated template on the
// Postgres named by TEST_DATABASE_URL (github.com/peterldowns/pgtestdb, ~20 ms a clone), or a fresh SQLite
// file when TEST_DATABASE_URL is unset. Tests using it can run in parallel.
package dbtest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/peterldowns/pgtestdb"

	"github.com/rostermirror/rostermirror/internal/store"
)

// EnvURL is the environment variable naming the Postgres server tests use.
const EnvURL = "TEST_DATABASE_URL"

// New returns a migrated database of its own for t, closed when t ends.
func New(t testing.TB) *store.DB {
	t.Helper()
	if raw := os.Getenv(EnvURL); raw != "" {
		sqlDB := pgtestdb.New(t, pgConfig(t, raw), migrator{})
		db := store.FromSQL(sqlDB, dialect.Postgres)
		return db
	}
	db, err := store.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// URL returns a database URL for t's own database, for code under test that opens its own connection
// (a command, a second replica). On Postgres it is a fresh clone; on SQLite a fresh migrated file.
func URL(t testing.TB) string {
	t.Helper()
	if raw := os.Getenv(EnvURL); raw != "" {
		cfg := pgtestdb.Custom(t, pgConfig(t, raw), migrator{})
		return cfg.URL()
	}
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := store.Open(context.Background(), "file:"+path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return "file:" + path
}

// EmptyURL returns a database URL for t's own database with no migrations applied.
func EmptyURL(t testing.TB) string {
	t.Helper()
	if raw := os.Getenv(EnvURL); raw != "" {
		return pgtestdb.Custom(t, pgConfig(t, raw), pgtestdb.NoopMigrator{}).URL()
	}
	return "file:" + filepath.Join(t.TempDir(), "empty.db")
}

// Postgres reports whether tests run on Postgres.
func Postgres() bool { return os.Getenv(EnvURL) != "" }

func pgConfig(t testing.TB, raw string) pgtestdb.Config {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	password, _ := u.User.Password()
	cfg := pgtestdb.Config{
		DriverName: "postgres",
		Host:       u.Hostname(),
		Port:       u.Port(),
		User:       u.User.Username(),
		Password:   password,
		Database:   u.Path[1:],
		Options:    u.RawQuery,
	}
	if cfg.Port == "" {
		cfg.Port = "5432"
	}
	return cfg
}

// migrator applies the store's own migrations to pgtestdb's template.
type migrator struct{}

func (migrator) Hash() (string, error) { return store.MigrationsHash(dialect.Postgres) }

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	_, err := store.FromSQL(db, dialect.Postgres).Migrate(ctx)
	return err
}
