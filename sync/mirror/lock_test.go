package mirror_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// TestFailedUnlockEndsSession: when a district's advisory lock cannot be released, the session holding
// it is ended instead of going back to the pool, where it would keep the district busy for every other
// replica. Postgres only: SQLite has no advisory lock (one process syncs a SQLite file).
func TestFailedUnlockEndsSession(t *testing.T) {
	if !dbtest.Postgres() {
		t.Skipf("advisory locks need Postgres: set %s", dbtest.EnvURL)
	}
	t.Parallel()
	dbURL := dbtest.URL(t)
	// Every unlock fails, on a session that stays alive and keeps the lock: a superuser connection to
	// this test's database takes pg_advisory_unlock away from the test's role (in this database only).
	admin, err := url.Parse(os.Getenv(dbtest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	clone, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	admin.Path = clone.Path
	if _, err := openDB(t, admin.String()).SQL.Exec("REVOKE EXECUTE ON FUNCTION pg_advisory_unlock(bigint) FROM PUBLIC"); err != nil {
		t.Fatal(err)
	}

	h := setup(t, options{dbURL: dbURL})
	h.mustSucceed() // its unlock fails
	other, err := mirror.New(mirror.Config{DB: openDB(t, dbURL), Reader: func(tok clever.Token) mirror.Reader { return h.client.WithToken(tok) }, Tokens: h.tokens})
	if err != nil {
		t.Fatal(err)
	}
	// Another replica can sync the district once Postgres has seen the first session end.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := other.SyncDistrict(context.Background(), h.districtID, mirror.Options{})
		if err == nil {
			if res.Status != mirror.StatusSucceeded {
				t.Errorf("other replica's run: %s %v", res.Status, res.Errors)
			}
			break
		}
		if !errors.Is(err, mirror.ErrBusy) || time.Now().After(deadline) {
			t.Fatalf("other replica after a failed unlock: %v", err)
		}
	}
}
