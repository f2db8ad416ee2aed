package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
)

func TestMigrateThenServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, dbtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckMigrated(ctx); !errors.Is(err, store.ErrNotMigrated) || !strings.Contains(err.Error(), "rostermirror migrate") {
		t.Fatalf("unmigrated: err = %v, want ErrNotMigrated naming the command", err)
	}
	n, err := db.Migrate(ctx)
	if err != nil || n == 0 {
		t.Fatalf("migrate: %d, %v", n, err)
	}
	if err := db.CheckMigrated(ctx); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate applied %d, %v; want 0", n, err)
	}
	// The schema works through ent.
	if _, err := db.Client.District.Query().Where(district.ArchivedAtIsNil()).Count(ctx); err != nil {
		t.Fatalf("query: %v", err)
	}
}

func TestURLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, bad := range []string{"mysql://root@localhost/db", "http://x"} {
		if _, err := store.Open(ctx, bad); err == nil || !strings.Contains(err.Error(), "want postgres://") {
			t.Errorf("Open(%q) = %v, want a clear error", bad, err)
		}
	}
	if got := store.Redact("postgres://app:s3cret@db:5432/roster?sslmode=disable"); strings.Contains(got, "s3cret") || !strings.Contains(got, "app:xxxxx@db") {
		t.Errorf("Redact = %q", got)
	}
	// A plain path and file: URL both open SQLite with the default pragmas.
	dir := t.TempDir()
	for _, u := range []string{dir + "/a.db", "file:" + dir + "/b.db", "file:" + dir + "/c.db?_pragma=busy_timeout(1)"} {
		db, err := store.Open(ctx, u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		var mode string
		if err := db.SQL.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s: journal_mode = %q, %v; want wal", u, mode, err)
		}
		// A pragma the URL sets is kept, not overridden by the default.
		wantTimeout := 10000
		if strings.Contains(u, "busy_timeout(1)") {
			wantTimeout = 1
		}
		var timeout int
		if err := db.SQL.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != wantTimeout {
			t.Errorf("%s: busy_timeout = %d, %v; want %d", u, timeout, err, wantTimeout)
		}
		db.Close()
	}
}

// TestGenericPlans: on Postgres the second pool's sessions plan prepared statements generically, the
// main pool's keep Postgres' default; elsewhere it is the main pool.
func TestGenericPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, dbtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pool, err := db.GenericPlans()
	if err != nil {
		t.Fatal(err)
	}
	if !dbtest.Postgres() {
		if pool != db.SQL {
			t.Error("on SQLite GenericPlans is not the main pool")
		}
		return
	}
	var generic, main string
	if err := pool.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&generic); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&main); err != nil {
		t.Fatal(err)
	}
	if generic != "force_generic_plan" || main != "auto" {
		t.Errorf("plan_cache_mode: %q in the generic pool, %q in the main one", generic, main)
	}
	// JIT compilation is off in both (a statement cannot be cancelled while it compiles).
	for name, p := range map[string]interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}{"main": db.SQL, "generic": pool} {
		var jit string
		if err := p.QueryRowContext(ctx, "SHOW jit").Scan(&jit); err != nil || jit != "off" {
			t.Errorf("%s pool: jit = %q, %v; want off", name, jit, err)
		}
	}
	// Unless the URL sets it.
	on, err := store.Open(ctx, dbtest.EmptyURL(t)+"&jit=on")
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	var jit string
	if err := on.SQL.QueryRowContext(ctx, "SHOW jit").Scan(&jit); err != nil || jit != "on" {
		t.Errorf("with jit=on in the URL: jit = %q, %v", jit, err)
	}
}
