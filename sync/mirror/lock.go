package mirror

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"entgo.io/ent/dialect"
)

// ErrBusy: another run (here or in another process) is syncing the district right now.
var ErrBusy = errors.New("district is being synced by another run")

// lock takes the district's sync lock without waiting: the database's in-process lock (all SQLite needs:
// one process syncs a SQLite file), and on Postgres a session advisory lock on a pinned connection as
// well, so that replicas and a CLI run never sync one district at once. It returns the unlock function.
func (e *Engine) lock(ctx context.Context, districtID string) (func(), error) {
	unlock, ok := e.cfg.DB.TryLock("sync district " + districtID)
	if !ok {
		return nil, fmt.Errorf("sync district %s: %w", districtID, ErrBusy)
	}
	if e.cfg.DB.Dialect != dialect.Postgres {
		return unlock, nil
	}
	conn, err := e.cfg.DB.SQL.Conn(ctx)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("lock district %s: %w", districtID, err)
	}
	key := advisoryKey(districtID)
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil || !got {
		conn.Close()
		unlock()
		if err != nil {
			return nil, fmt.Errorf("lock district %s: %w", districtID, err)
		}
		return nil, fmt.Errorf("sync district %s: %w", districtID, ErrBusy)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
		unlock()
	}, nil
}

// advisoryKey maps a district to a 64-bit advisory lock key in rostermirror's own key space.
func advisoryKey(districtID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("rostermirror sync district " + districtID))
	return int64(h.Sum64())
}
