package progress_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
)

// TestViewReadableByBIRole grants a role SELECT on analytics_student_progress alone, as the README
// tells, and checks that it reads the view — student's current id, section, school and term — and
// nothing else.
func TestViewReadableByBIRole(t *testing.T) {
	t.Parallel()
	if !dbtest.Postgres() {
		t.Skip("the analytics view and database roles are Postgres features; SQLite has neither roles nor the view")
	}
	e := setup(t)
	student, sec, _ := e.enrolled()
	if _, err := e.svc.Record(e.ctx, inputs(student, 2, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var dbName string
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	admin, err := url.Parse(os.Getenv(dbtest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	admin.Path = "/" + dbName
	su, err := sql.Open("postgres", admin.String())
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	role := "bi_" + strings.ToLower(dbName[len(dbName)-8:])
	for _, q := range []string{"DROP ROLE IF EXISTS " + role, "CREATE ROLE " + role + " LOGIN",
		"GRANT SELECT ON analytics_student_progress TO " + role} {
		if _, err := su.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		su.Exec("REVOKE ALL ON analytics_student_progress FROM " + role)
		su.Exec("DROP ROLE IF EXISTS " + role)
	})
	bi := *admin
	bi.User = url.User(role)
	biDB, err := store.Open(ctx, bi.String())
	if err != nil {
		t.Fatal(err)
	}
	defer biDB.Close()
	var n int
	var gotStudent, gotSection string
	err = biDB.SQL.QueryRowContext(ctx, `SELECT COUNT(*), MIN(student_clever_id), MIN(section_id) FROM analytics_student_progress
		WHERE school_id IS NOT NULL AND term_id IS NOT NULL AND section_name IS NOT NULL`).Scan(&n, &gotStudent, &gotSection)
	if err != nil || n != 2 || gotStudent != student || gotSection != sec {
		t.Errorf("the view as %s: %d rows, %s, %s, %v", role, n, gotStudent, gotSection, err)
	}
	for _, table := range []string{"progress_records", "users", "clever_id_aliases", "api_keys"} {
		if _, err := biDB.SQL.ExecContext(ctx, "SELECT 1 FROM "+table+" LIMIT 1"); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s read %s: %v", role, table, err)
		}
	}
}
