package schedule

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
)

// replicaDBs opens n connection pools to one fresh Postgres database, as n replicas of the server
// would. It skips the test without Postgres: on SQLite there is one process, so nothing to elect.
func replicaDBs(t *testing.T, n int) []*store.DB {
	t.Helper()
	if !dbtest.Postgres() {
		t.Skipf("leader election needs Postgres: set %s (SQLite is single-process, see TestNoElectionWithoutPostgres)", dbtest.EnvURL)
	}
	url := dbtest.URL(t)
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs
}

// TestReplicasSyncEachDistrictOncePerTick: two replicas on one database, each with its own Syncer: at
// every tick each district is synced exactly once in total, by the leader.
func TestReplicasSyncEachDistrictOncePerTick(t *testing.T) {
	t.Parallel()
	dbs := replicaDBs(t, 2)
	c := newCluster()
	r1, r2 := c.add(t, dbs[0], nil), c.add(t, dbs[1], nil)
	c.start(t, r1)
	c.start(t, r2)

	c.round(t, "a", "b", "c", "d", "e", "f", "g", "h")
	c.round(t, "i", "j", "k")
	c.round(t, "l", "m", "n", "o", "p")
	calls1, calls2 := r1.syncer.snapshot(), r2.syncer.snapshot()
	if len(calls1)+len(calls2) != 16 {
		t.Fatalf("syncers called %v and %v, want 16 districts in total", calls1, calls2)
	}
	if len(calls1) > 0 && len(calls2) > 0 {
		t.Fatalf("both replicas synced (%v, %v): want the leader alone", calls1, calls2)
	}
}

// TestLeaderStopTakeover: when the leader stops, the other replica runs the next tick.
func TestLeaderStopTakeover(t *testing.T) {
	t.Parallel()
	dbs := replicaDBs(t, 2)
	c := newCluster()
	r1, r2 := c.add(t, dbs[0], nil), c.add(t, dbs[1], nil)
	c.start(t, r1)
	c.start(t, r2)

	c.round(t, "a", "b")
	leader, follower := r1, r2
	if len(r1.syncer.snapshot()) == 0 {
		leader, follower = r2, r1
	}
	if err := leader.s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	c.round(t, "c", "d")
	if got := follower.syncer.snapshot(); !maps.Equal(got, map[string]int{"c": 1, "d": 1}) {
		t.Fatalf("the other replica synced %v, want c and d once", got)
	}
}

// TestElectorSurvivesDeadSession: a leader whose session dies loses leadership; electors reconnect and
// compete again.
func TestElectorSurvivesDeadSession(t *testing.T) {
	t.Parallel()
	dbs := replicaDBs(t, 3)
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	e1 := &elector{db: dbs[0].SQL, key: leaderLockKey, log: log}
	e2 := &elector{db: dbs[1].SQL, key: leaderLockKey, log: log}
	defer e1.close(ctx)
	defer e2.close(ctx)

	if err := e1.IsLeader(ctx); err != nil {
		t.Fatalf("first elector: %v, want leader", err)
	}
	if err := e1.IsLeader(ctx); err != nil {
		t.Fatalf("first elector again: %v, want still leader", err)
	}
	if err := e2.IsLeader(ctx); !errors.Is(err, errNotLeader) {
		t.Fatalf("second elector: %v, want not leader", err)
	}

	// Kill the leader's session, as a failover or an idle timeout would.
	var killed int
	err := dbs[2].SQL.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the leader's session: killed %d, %v", killed, err)
	}
	if err := e2.IsLeader(ctx); err != nil {
		t.Fatalf("second elector after the leader's session died: %v, want leader", err)
	}
	if err := e1.IsLeader(ctx); !errors.Is(err, errNotLeader) {
		t.Fatalf("first elector after its session died: %v, want not leader", err)
	}

	// Releasing hands leadership back at once.
	e2.close(ctx)
	if err := e2.IsLeader(ctx); !errors.Is(err, errElectorClosed) {
		t.Fatalf("closed elector: %v, want closed", err)
	}
	if err := e1.IsLeader(ctx); err != nil {
		t.Fatalf("first elector after the second released: %v, want leader", err)
	}
	e1.close(ctx)
	var held int
	if err := dbs[2].SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held); err != nil || held != 0 {
		t.Fatalf("advisory locks left: %d, %v", held, err)
	}
}

// TestElectorContextCanceled: a canceled check does not lose a held leadership.
func TestElectorContextCanceled(t *testing.T) {
	t.Parallel()
	dbs := replicaDBs(t, 1)
	e := &elector{db: dbs[0].SQL, key: leaderLockKey, log: slog.New(slog.DiscardHandler)}
	defer e.close(t.Context())
	if err := e.IsLeader(t.Context()); err != nil {
		t.Fatalf("IsLeader: %v", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := e.IsLeader(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("IsLeader with a canceled context: %v", err)
	}
	if e.conn == nil {
		t.Fatal("a canceled check gave up the leader session")
	}
	if err := e.IsLeader(t.Context()); err != nil {
		t.Fatalf("IsLeader after a canceled check: %v, want still leader", err)
	}
}
