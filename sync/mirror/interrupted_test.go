package mirror_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// TestCloseInterrupted: a run left RUNNING by a process that stopped is closed as failed, interrupted;
// a run that is live — its district's lock held, on Postgres by another replica (its own connection
// pool, so only the advisory lock tells), on SQLite by this process — is left running.
func TestCloseInterrupted(t *testing.T) {
	t.Parallel()
	var o options
	if dbtest.Postgres() {
		o.dbURL = dbtest.URL(t)
	}
	h := setup(t, o)
	h.mustSucceed()
	ctx := context.Background()

	// A district whose run a killed process left running.
	dead := "5f00000000000000000000dd"
	c := h.db.Client
	c.District.Create().SetID(dead).SetDistrictID(dead).SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(time.Now()).SaveX(ctx)
	stale := c.SyncRun.Create().SetDistrictID(dead).SetStartedAt(time.Now().Add(-time.Hour)).SaveX(ctx)

	// The harness district is being synced by another replica right now.
	otherDB := h.db // SQLite: the in-process lock
	if dbtest.Postgres() {
		otherDB = openDB(t, o.dbURL) // Postgres: the advisory lock
	}
	other, err := mirror.New(mirror.Config{DB: otherDB, Reader: func(tok clever.Token) mirror.Reader { return h.client.WithToken(tok) }, Tokens: h.tokens})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string)
	release := make(chan struct{})
	done := make(chan mirror.Result)
	go func() {
		// Held once its run is recorded, before any record type's transaction: SQLite has one writer.
		res, _ := other.SyncDistrict(ctx, h.districtID, mirror.Options{Started: func(id string) {
			started <- id
			<-release
		}})
		done <- res
	}()
	var live string
	select {
	case live = <-started:
	case res := <-done:
		t.Fatalf("live run ended before it could be held: %s %v", res.Status, res.Errors)
	}

	n, err := h.engine.CloseInterrupted(ctx)
	if err != nil || n != 1 {
		t.Errorf("CloseInterrupted = %d, %v; want 1 run closed", n, err)
	}
	got := c.SyncRun.GetX(ctx, stale.ID)
	if got.Status != syncrun.StatusFailed || got.FinishedAt == nil ||
		!slices.Equal(got.Errors, []string{"interrupted: the process stopped before the run finished"}) {
		t.Errorf("dead run: %s finished %v errors %q; want failed, finished, interrupted", got.Status, got.FinishedAt, got.Errors)
	}
	if got := c.SyncRun.GetX(ctx, live); got.Status != syncrun.StatusRunning || got.FinishedAt != nil {
		t.Errorf("live run: %s finished %v; want still running", got.Status, got.FinishedAt)
	}

	close(release)
	if res := <-done; res.Status != mirror.StatusSucceeded {
		t.Errorf("live run: %s %v", res.Status, res.Errors)
	}
	if n, err := h.engine.CloseInterrupted(ctx); err != nil || n != 0 {
		t.Errorf("CloseInterrupted with nothing left running = %d, %v; want 0", n, err)
	}
}
