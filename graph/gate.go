package graph

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"golang.org/x/sync/semaphore"

	"github.com/rostermirror/rostermirror/internal/store"
)

// Gate bounds how many GraphQL operations execute at once. An operation that finds every turn taken
// waits, in arrival order, until one is free or its request's context ends.
//
// Why: a database does not answer faster when more statements run at once than it has cores; the
// statements then share the CPU with the operating system's time slices and the unlucky ones wait
// several slices. Nor does capping the connection pool alone help: database/sql hands a freed
// connection to a random waiter, not the oldest. A first-come-first-served bound in front of
// execution keeps the tail latency down under load (see the README's figures).
//
// A Gate is safe for concurrent use; several handlers may share one.
type Gate struct {
	size             int
	sem              *semaphore.Weighted // grants in FIFO order
	running, waiting atomic.Int64
}

// DefaultConcurrency is the Gate size used when none is configured: two operations per CPU this process
// may use, at least 4 and at most store.PoolSize (past the pool's size, operations would wait for a
// connection in database/sql's random order instead of the Gate's).
func DefaultConcurrency() int { return min(store.PoolSize, max(4, 2*runtime.GOMAXPROCS(0))) }

// NewGate returns a Gate letting n operations execute at once; n <= 0 means DefaultConcurrency().
func NewGate(n int) *Gate {
	if n <= 0 {
		n = DefaultConcurrency()
	}
	return &Gate{size: n, sem: semaphore.NewWeighted(int64(n))}
}

// Size is how many operations may execute at once.
func (g *Gate) Size() int { return g.size }

// Running is how many operations are executing now.
func (g *Gate) Running() int { return int(g.running.Load()) }

// Waiting is how many operations are waiting for their turn now.
func (g *Gate) Waiting() int { return int(g.waiting.Load()) }

// enter takes a turn, waiting for one if need be, and returns how long it waited. It fails only when ctx
// ends first; the caller then must not leave.
func (g *Gate) enter(ctx context.Context) (time.Duration, error) {
	if g.sem.TryAcquire(1) {
		g.running.Add(1)
		return 0, nil
	}
	start := time.Now()
	g.waiting.Add(1)
	err := g.sem.Acquire(ctx, 1)
	g.waiting.Add(-1)
	if err != nil {
		return time.Since(start), err
	}
	g.running.Add(1)
	return time.Since(start), nil
}

// leave gives back the turn taken by enter.
func (g *Gate) leave() {
	g.running.Add(-1)
	g.sem.Release(1)
}

// gated executes operations through g. An operation whose request ends while it waits is answered as a
// timeout or cancellation by the operation middleware. queued, when set, is told how long each executed
// operation waited.
func gated(g *Gate, queued func(time.Duration)) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if ctx.Value(dispatchedKey{}) == nil {
			return next(ctx) // refused before execution: nothing to run
		}
		wait, err := g.enter(ctx)
		if err != nil {
			return nil
		}
		defer g.leave()
		if queued != nil {
			queued(wait)
		}
		return next(ctx)
	}
}
