package schedule

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// leaderLockKey is the Postgres advisory lock replicas compete for: "rmsched" in ASCII. Advisory locks
// are per database, so replicas of different mirrors on one server do not compete.
const leaderLockKey int64 = 0x726d_7363_6865_6400

// checkTimeout bounds the queries of one leadership check.
const checkTimeout = 5 * time.Second

// errNotLeader is what the elector answers a replica that is not the leader; gocron then skips the tick.
var errNotLeader = errors.New("not the leader: another replica holds the schedule lock")

// errElectorClosed is answered once the scheduler is stopping.
var errElectorClosed = errors.New("leader election closed: scheduler is stopping")

// elector is a gocron.Elector on a Postgres session advisory lock. The replica whose session holds the
// lock is the leader; it keeps that session on one pinned connection, checked on every call. A dead
// connection loses leadership (Postgres releases the lock with the session): the elector reconnects and
// competes again. A replica that is not the leader holds no connection between calls.
//
// An elector rather than gocron's per-run Locker: with a lock per run, a replica whose clock is a little
// behind can take the lock after the first replica released it and run the same tick again.
type elector struct {
	db  *sql.DB
	key int64
	log *slog.Logger
	// checked, a test hook, is called after each check.
	checked func(leader bool)

	mu     sync.Mutex
	conn   *sql.Conn // the session holding the lock; nil when not the leader
	closed bool
}

// IsLeader implements gocron.Elector: it returns nil when this replica is (or has just become) the
// leader, and an error otherwise.
func (e *elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.check(ctx)
	if e.checked != nil {
		e.checked(err == nil)
	}
	return err
}

func (e *elector) check(ctx context.Context) error {
	if e.closed {
		return errElectorClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check leadership: %w", err)
	}
	// gocron cancels ctx when it shuts down or removes a job; a query interrupted by that would leave the
	// session in doubt (lib/pq marks it bad), so the queries run to completion within their own bound.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
	defer cancel()
	if e.conn != nil {
		_, err := e.conn.ExecContext(qctx, "SELECT 1")
		if err == nil {
			return nil
		}
		e.log.WarnContext(ctx, "sync schedule leadership lost: its database session failed", slog.String(logError, err.Error()))
		discard(e.conn)
		e.conn = nil
	}

	conn, err := e.db.Conn(qctx)
	if err != nil {
		return fmt.Errorf("connect for leader lock: %w", err)
	}
	var locked bool
	if err := conn.QueryRowContext(qctx, "SELECT pg_try_advisory_lock($1)", e.key).Scan(&locked); err != nil {
		// The lock may have been taken before the error: end the session so that it cannot be left held.
		discard(conn)
		return fmt.Errorf("try leader lock: %w", err)
	}
	if !locked {
		conn.Close()
		return errNotLeader
	}
	e.conn = conn
	e.log.InfoContext(ctx, "sync schedule leadership taken: this replica runs the scheduled syncs")
	return nil
}

// close gives up leadership for good: it releases the lock and ends its session.
func (e *elector) close(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.conn == nil {
		return
	}
	conn := e.conn
	e.conn = nil
	// Stop's ctx may be over already; unlocking takes a moment and must happen anyway.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", e.key); err != nil {
		e.log.DebugContext(ctx, "unlock leader lock (ending its session instead)", slog.String(logError, err.Error()))
	}
	// Ending the session releases the lock whether or not the unlock went through, and keeps a session
	// that held it out of the pool.
	discard(conn)
	e.log.InfoContext(ctx, "sync schedule leadership released")
}

// discard closes conn's database session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
