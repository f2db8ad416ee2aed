package graph_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// holdingDriver is the ent driver of a handler under test: it records which operation ran each query,
// in order, and holds every query of the operation named hold until release is closed.
type holdingDriver struct {
	dialect.Driver
	hold    string
	held    chan struct{} // closed when the held operation first reaches the database
	release chan struct{}

	once, letOnce sync.Once
	mu            sync.Mutex
	ops           []string
}

func newHoldingDriver(a *api, hold string) *holdingDriver {
	return &holdingDriver{
		Driver: entsql.OpenDB(a.db.Dialect, a.db.SQL),
		hold:   hold, held: make(chan struct{}), release: make(chan struct{}),
	}
}

func (d *holdingDriver) Query(ctx context.Context, query string, args, v any) error {
	op := ""
	if graphql.HasOperationContext(ctx) {
		op = graphql.GetOperationContext(ctx).Operation.Name // the name in the document
	}
	d.mu.Lock()
	d.ops = append(d.ops, op)
	d.mu.Unlock()
	if op == d.hold {
		d.once.Do(func() { close(d.held) })
		<-d.release // not ctx: the held operation keeps its turn until the test lets it go
	}
	return d.Driver.Query(ctx, query, args, v)
}

// let releases the held operation (once; later calls do nothing).
func (d *holdingDriver) let() { d.letOnce.Do(func() { close(d.release) }) }

// seen returns the operations that reached the database so far, each once, in order of first query.
func (d *holdingDriver) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Compact(slices.Clone(d.ops))
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// heldQuery is an operation the compiler leaves to the resolvers (it filters), so that it reaches the
// ent driver on either database.
const heldQuery = `query Held { districts(where: {idNEQ: "x"}) { totalCount } }`

// TestGateBoundsOperationsAndServesThemInOrder: with a gate of one, operations that arrive while one
// executes wait (compiled ones too), run one at a time in arrival order once it is done, and report their
// wait; operations refused before execution do not wait for a turn.
func TestGateBoundsOperationsAndServesThemInOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	drv := newHoldingDriver(a, "Held")
	gate := graph.NewGate(1)
	var mu sync.Mutex
	var waits []time.Duration
	h := graph.NewHandler(graph.HandlerConfig{
		DB: a.db, Gate: gate, ClientOptions: []ent.Option{ent.Driver(drv)},
		Queued: func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() },
	})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	t.Cleanup(drv.let) // first, should the test stop early: srv.Close waits for the held request

	var wg sync.WaitGroup
	answers := make([]response, 4)
	send := func(i int, query string) {
		wg.Go(func() { answers[i] = post(t, srv.URL, map[string]any{"query": query}) })
	}
	send(0, heldQuery)
	<-drv.held
	if gate.Running() != 1 || gate.Waiting() != 0 {
		t.Fatalf("with one operation held: running %d, waiting %d; want 1, 0", gate.Running(), gate.Waiting())
	}
	// Three in line; the middle one is answered by one compiled statement on Postgres (and must wait all
	// the same), the others reach the driver on either database.
	queued := []string{
		`query First { schools(where: {idNEQ: "x"}) { totalCount } }`,
		`query Compiled { districts { totalCount } }`,
		`query Second { terms(where: {idNEQ: "x"}) { totalCount } }`,
	}
	for i, q := range queued {
		send(1+i, q)
		waitFor(t, "query "+strconv.Itoa(i)+" to wait", func() bool { return gate.Waiting() == i+1 })
	}

	// Refused operations are answered at once, without a turn.
	refused := make(chan response, 1)
	go func() { refused <- post(t, srv.URL, map[string]any{"query": `{ nope }`}) }()
	select {
	case r := <-refused:
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("invalid query while the gate is full: %+v", r.Errors)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an invalid query waits for a turn")
	}
	if got := drv.seen(); !slices.Equal(got, []string{"Held"}) {
		t.Fatalf("operations that reached the database while one held the gate: %q", got)
	}

	drv.let()
	wg.Wait()
	for i, r := range answers {
		if len(r.Errors) > 0 || len(r.Data) == 0 {
			t.Errorf("answer %d: %s %+v", i, r.Data, r.Errors)
		}
	}
	if gate.Running() != 0 || gate.Waiting() != 0 {
		t.Errorf("after all answered: running %d, waiting %d", gate.Running(), gate.Waiting())
	}
	// One at a time, in arrival order (on Postgres Compiled never reaches the driver).
	want := []string{"Held", "First", "Compiled", "Second"}
	if a.db.Dialect == dialect.Postgres {
		want = slices.DeleteFunc(want, func(op string) bool { return op == "Compiled" })
	}
	if got := drv.seen(); !slices.Equal(got, want) {
		t.Errorf("operations in the order they reached the database: %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 4 || waits[0] != 0 || slices.Min(waits[1:]) <= 0 {
		t.Errorf("reported waits %v: want 0 for the held query, more for each one in line", waits)
	}
}

// TestGateWaitEndsWithTheRequest: an operation still waiting for its turn when its request's time is up
// is answered with TIMEOUT and never runs.
func TestGateWaitEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	drv := newHoldingDriver(a, "Held")
	gate := graph.NewGate(1)
	h := graph.NewHandler(graph.HandlerConfig{
		DB: a.db, Gate: gate, ClientOptions: []ent.Option{ent.Driver(drv)}, Timeout: 200 * time.Millisecond,
	})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	t.Cleanup(drv.let) // first, should the test stop early: srv.Close waits for the held request

	var wg sync.WaitGroup
	wg.Go(func() { post(t, srv.URL, map[string]any{"query": heldQuery}) })
	<-drv.held
	r := post(t, srv.URL, map[string]any{"query": `query Late { schools(where: {idNEQ: "x"}) { totalCount } }`})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "TIMEOUT" || r.Errors[0].Message != "the request took too long" {
		t.Errorf("waiting past the timeout: %d %s %+v, want one TIMEOUT error", r.status, r.Data, r.Errors)
	}
	if gate.Waiting() != 0 {
		t.Errorf("waiting after the timeout: %d", gate.Waiting())
	}
	drv.let()
	wg.Wait()
	if got := drv.seen(); slices.Contains(got, "Late") {
		t.Errorf("the operation that timed out waiting reached the database: %q", got)
	}
	if gate.Running() != 0 {
		t.Errorf("running after all answered: %d", gate.Running())
	}
}
