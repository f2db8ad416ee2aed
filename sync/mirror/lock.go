package mirror

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
)

// ErrBusy: another run (here or in another process) is syncing the district right now.
var ErrBusy = errors.New("district is being synced by another run")

// unlockTimeout bounds releasing a district's advisory lock.
const unlockTimeout = 5 * time.Second

// lock takes the district's sync lock without waiting: the database's in-process lock (all SQLite needs:
// one process syncs a SQLite file), and on Postgres a session advisory lock on a pinned connection as
// well, so that replicas and a CLI run never sync one district at once. It returns the unlock function.
//
// A session whose lock or unlock call failed may still hold the advisory lock: it is ended rather than
// returned to the pool, where it would keep the district busy for every replica.
func (e *Engine) lock(ctx context.Context, districtID string) (func(), error) {
	unlock, _, err := e.lockSession(ctx, districtID)
	return unlock, err
}

// lockSession is lock, and also returns the pinned connection that holds the advisory lock (nil on
// SQLite): until unlock, the run may read through it — never inside a transaction of its own.
func (e *Engine) lockSession(ctx context.Context, districtID string) (func(), *sql.Conn, error) {
	unlock, ok := e.cfg.DB.TryLock("sync district " + districtID)
	if !ok {
		return nil, nil, fmt.Errorf("sync district %s: %w", districtID, ErrBusy)
	}
	if e.cfg.DB.Dialect != dialect.Postgres {
		return unlock, nil, nil
	}
	conn, err := e.cfg.DB.SQL.Conn(ctx)
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("lock district %s: %w", districtID, err)
	}
	key := advisoryKey(districtID)
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		discard(conn) // the lock may have been taken before the error (a cancelled ctx, say)
		unlock()
		return nil, nil, fmt.Errorf("lock district %s: %w", districtID, err)
	}
	if !got {
		conn.Close()
		unlock()
		return nil, nil, fmt.Errorf("sync district %s: %w", districtID, ErrBusy)
	}
	return func() {
		// The run's ctx may be cancelled already; the unlock must happen anyway, within a bound.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		var released bool
		if err := conn.QueryRowContext(uctx, "SELECT pg_advisory_unlock($1)", key).Scan(&released); err != nil || !released {
			msg := "the session did not hold it"
			if err != nil {
				msg = err.Error()
			}
			e.cfg.Logger.WarnContext(ctx, "unlock district (ending its database session instead)",
				slog.String(logDistrict, districtID), slog.String("error", msg))
			discard(conn) // ending the session releases the lock
		} else {
			conn.Close()
		}
		unlock()
	}, conn, nil
}

// discard closes conn's database session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// advisoryKey maps a district to a 64-bit advisory lock key in rostermirror's own key space.
func advisoryKey(districtID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("rostermirror sync district " + districtID))
	return int64(h.Sum64())
}
