package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rostermirror/rostermirror/internal/metrics"
	"github.com/rostermirror/rostermirror/internal/syncstats"
)

// scrape GETs /metrics from m's handler and returns the body in the text exposition format.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

// compare checks that the series of the named metrics (histograms: their _bucket, _sum and _count series)
// in a scrape of m's handler are exactly the lines of want, in any order.
//
// (prometheus/testutil.ScrapeAndCompare does the same but needs github.com/kylelemons/godebug, which
// go.mod does not list.)
func compare(t *testing.T, m *metrics.Metrics, want string, names ...string) {
	t.Helper()
	wanted := map[string]bool{}
	for _, n := range names {
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			wanted[n+suffix] = true
		}
	}
	var got []string
	for line := range strings.SplitSeq(scrape(t, m), "\n") {
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if wanted[name] {
			got = append(got, line)
		}
	}
	var exp []string
	for line := range strings.SplitSeq(want, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			exp = append(exp, line)
		}
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("scraped series of %v:\n%s\nwant:\n%s", names, strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
}

func TestObserveSync(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveSync("succeeded", 90*time.Second, syncstats.Counts{
		"users":    {Read: 10, Created: 3, Updated: 2, Unchanged: 4, Archived: 1, Missed: 2}, // a reconcile: 2 the events missed
		"schools":  {Read: 2, Unchanged: 2},
		"sections": {Read: 4, Unchanged: 4, Archived: 6, Rollover: 6, Deferred: 3}, // last term's sections; 3 left in a pause (a test's mix)
	})
	m.ObserveSync("held", 2*time.Hour, syncstats.Counts{
		"users": {Read: 5, Unchanged: 1, Held: 4, Restored: 1, Updated: 1},
	})
	m.ObserveSync("failed", 3*time.Second, nil)

	compare(t, m, `
rostermirror_sync_runs_total{status="failed"} 1
rostermirror_sync_runs_total{status="held"} 1
rostermirror_sync_runs_total{status="succeeded"} 1

rostermirror_sync_records_total{kind="schools",outcome="archived"} 0
rostermirror_sync_records_total{kind="schools",outcome="created"} 0
rostermirror_sync_records_total{kind="schools",outcome="deferred"} 0
rostermirror_sync_records_total{kind="schools",outcome="held"} 0
rostermirror_sync_records_total{kind="schools",outcome="missed"} 0
rostermirror_sync_records_total{kind="schools",outcome="restored"} 0
rostermirror_sync_records_total{kind="schools",outcome="rollover"} 0
rostermirror_sync_records_total{kind="schools",outcome="unchanged"} 2
rostermirror_sync_records_total{kind="schools",outcome="updated"} 0
rostermirror_sync_records_total{kind="sections",outcome="archived"} 6
rostermirror_sync_records_total{kind="sections",outcome="created"} 0
rostermirror_sync_records_total{kind="sections",outcome="deferred"} 3
rostermirror_sync_records_total{kind="sections",outcome="held"} 0
rostermirror_sync_records_total{kind="sections",outcome="missed"} 0
rostermirror_sync_records_total{kind="sections",outcome="restored"} 0
rostermirror_sync_records_total{kind="sections",outcome="rollover"} 6
rostermirror_sync_records_total{kind="sections",outcome="unchanged"} 4
rostermirror_sync_records_total{kind="sections",outcome="updated"} 0
rostermirror_sync_records_total{kind="users",outcome="archived"} 1
rostermirror_sync_records_total{kind="users",outcome="created"} 3
rostermirror_sync_records_total{kind="users",outcome="deferred"} 0
rostermirror_sync_records_total{kind="users",outcome="held"} 4
rostermirror_sync_records_total{kind="users",outcome="missed"} 2
rostermirror_sync_records_total{kind="users",outcome="restored"} 1
rostermirror_sync_records_total{kind="users",outcome="rollover"} 0
rostermirror_sync_records_total{kind="users",outcome="unchanged"} 5
rostermirror_sync_records_total{kind="users",outcome="updated"} 3

rostermirror_sync_run_duration_seconds_bucket{le="1"} 0
rostermirror_sync_run_duration_seconds_bucket{le="5"} 1
rostermirror_sync_run_duration_seconds_bucket{le="15"} 1
rostermirror_sync_run_duration_seconds_bucket{le="30"} 1
rostermirror_sync_run_duration_seconds_bucket{le="60"} 1
rostermirror_sync_run_duration_seconds_bucket{le="120"} 2
rostermirror_sync_run_duration_seconds_bucket{le="300"} 2
rostermirror_sync_run_duration_seconds_bucket{le="600"} 2
rostermirror_sync_run_duration_seconds_bucket{le="1200"} 2
rostermirror_sync_run_duration_seconds_bucket{le="1800"} 2
rostermirror_sync_run_duration_seconds_bucket{le="3600"} 2
rostermirror_sync_run_duration_seconds_bucket{le="7200"} 3
rostermirror_sync_run_duration_seconds_bucket{le="14400"} 3
rostermirror_sync_run_duration_seconds_bucket{le="28800"} 3
rostermirror_sync_run_duration_seconds_bucket{le="+Inf"} 3
rostermirror_sync_run_duration_seconds_sum 7293
rostermirror_sync_run_duration_seconds_count 3
`, "rostermirror_sync_runs_total", "rostermirror_sync_records_total", "rostermirror_sync_run_duration_seconds")
}

func TestObserveGraphQL(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveGraphQL("Users", 20*time.Millisecond, nil)
	m.ObserveGraphQL("Users", 300*time.Millisecond, []string{"FORBIDDEN"})
	m.ObserveGraphQL("", 2*time.Millisecond, []string{"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED"})
	m.ObserveGraphQL("bad name!", time.Second, []string{"", "not a code"})

	compare(t, m, `
rostermirror_graphql_errors_total{code="FORBIDDEN",operation="Users"} 1
rostermirror_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED",operation="anonymous"} 2
rostermirror_graphql_errors_total{code="other",operation="other"} 2
`, "rostermirror_graphql_errors_total")

	for op, want := range map[string]int{"Users": 2, "anonymous": 1, "other": 1} {
		c := histogramCount(t, m, "rostermirror_graphql_request_duration_seconds", "operation", op)
		if c != want {
			t.Errorf("duration count for operation %q = %d, want %d", op, c, want)
		}
	}
	body := scrape(t, m)
	for _, line := range []string{
		`rostermirror_graphql_request_duration_seconds_bucket{operation="Users",le="0.025"} 1`,
		`rostermirror_graphql_request_duration_seconds_bucket{operation="Users",le="0.5"} 2`,
		`rostermirror_graphql_request_duration_seconds_sum{operation="Users"} 0.32`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
}

func TestObserveCompiledAndQueueWait(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveCompiled("Roster")
	m.ObserveCompiled("Roster")
	m.ObserveCompiled("")
	m.ObserveCompiled("not a name")
	compare(t, m, `
rostermirror_graphql_compiled_total{operation="Roster"} 2
rostermirror_graphql_compiled_total{operation="anonymous"} 1
rostermirror_graphql_compiled_total{operation="other"} 1
`, "rostermirror_graphql_compiled_total")

	m.ObserveQueueWait(0)
	m.ObserveQueueWait(3 * time.Millisecond)
	m.ObserveQueueWait(2 * time.Second)
	body := scrape(t, m)
	for _, line := range []string{
		`rostermirror_graphql_queue_wait_seconds_bucket{le="0"} 1`,
		`rostermirror_graphql_queue_wait_seconds_bucket{le="0.005"} 2`,
		`rostermirror_graphql_queue_wait_seconds_bucket{le="2.5"} 3`,
		`rostermirror_graphql_queue_wait_seconds_count 3`,
		`rostermirror_graphql_queue_wait_seconds_sum 2.003`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
}

// gate is a metrics.Gate whose readings the test sets.
type gate struct{ size, running, waiting int }

func (g *gate) Size() int    { return g.size }
func (g *gate) Running() int { return g.running }
func (g *gate) Waiting() int { return g.waiting }

func TestWatchGraphQLGate(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	g := &gate{size: 4, running: 4, waiting: 9}
	if err := m.WatchGraphQLGate(g); err != nil {
		t.Fatal(err)
	}
	names := []string{"rostermirror_graphql_concurrency_limit", "rostermirror_graphql_operations_running", "rostermirror_graphql_operations_waiting"}
	compare(t, m, `
rostermirror_graphql_concurrency_limit 4
rostermirror_graphql_operations_running 4
rostermirror_graphql_operations_waiting 9
`, names...)
	g.running, g.waiting = 1, 0 // read at each scrape
	compare(t, m, `
rostermirror_graphql_concurrency_limit 4
rostermirror_graphql_operations_running 1
rostermirror_graphql_operations_waiting 0
`, names...)
	if err := m.WatchGraphQLGate(g); err == nil {
		t.Error("watching a second gate: no error")
	}
}

// histogramCount returns the sample count of the histogram series of name with label=value.
func histogramCount(t *testing.T, m *metrics.Metrics, name, label, value string) int {
	t.Helper()
	body := scrape(t, m)
	prefix := fmt.Sprintf(`%s_count{%s=%q} `, name, label, value)
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			var n int
			if _, err := fmt.Sscan(rest, &n); err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}

func TestOperationNameBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want string
	}{
		{"", "anonymous"},
		{"Users", "Users"},
		{"_private2", "_private2"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), "other"},
		{"2fast", "other"},
		{"with space", "other"},
		{"query{users}", "other"},
		{"naïve", "other"},
		{"other", "other"},
		{"anonymous", "other"}, // a client cannot pose as unnamed operations
		{`x"} 1` + "\n", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := metrics.New()
			m.ObserveGraphQL(tt.name, time.Millisecond, []string{"E"})
			compare(t, m, fmt.Sprintf(`rostermirror_graphql_errors_total{code="E",operation=%q} 1`, tt.want),
				"rostermirror_graphql_errors_total")
		})
	}
}

func TestOperationNameLimit(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	// Concurrent first sightings: the limit holds under races (run with -race).
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			for i := range 50 {
				m.ObserveGraphQL(fmt.Sprintf("Op%d", g*50+i), time.Millisecond, nil)
			}
		})
	}
	wg.Wait()
	// Names seen before the limit keep their own series; anonymous does not count against it.
	m.ObserveGraphQL("", time.Millisecond, nil)

	series := map[string]int{}
	for line := range strings.SplitSeq(scrape(t, m), "\n") {
		rest, ok := strings.CutPrefix(line, `rostermirror_graphql_request_duration_seconds_count{operation="`)
		if !ok {
			continue
		}
		op, count, _ := strings.Cut(rest, `"} `)
		var n int
		fmt.Sscan(count, &n)
		series[op] = n
	}
	if got, want := len(series), metrics.MaxOperations+2; got != want { // + other + anonymous
		t.Errorf("%d operation series, want %d", got, want)
	}
	if got, want := series["other"], 500-metrics.MaxOperations; got != want {
		t.Errorf("other count = %d, want %d", got, want)
	}
	if series["anonymous"] != 1 {
		t.Errorf("anonymous count = %d, want 1", series["anonymous"])
	}
	// A name admitted before the limit is still recorded as itself.
	var admitted string
	for op := range series {
		if strings.HasPrefix(op, "Op") {
			admitted = op
			break
		}
	}
	m.ObserveGraphQL(admitted, time.Millisecond, nil)
	if got := histogramCount(t, m, "rostermirror_graphql_request_duration_seconds", "operation", admitted); got != 2 {
		t.Errorf("count of admitted %s = %d, want 2", admitted, got)
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		io.WriteString(w, `{"data":{}}`)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {}) // writes nothing: 200
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/playground/assets/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "js") })
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // the wrapper must still be a Flusher
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	for _, req := range []struct{ method, path string }{
		{"POST", "/graphql"}, {"POST", "/graphql"}, {"GET", "/graphql"},
		{"GET", "/healthz"}, {"GET", "/readyz"},
		{"GET", "/playground/assets/graphiql.js"}, {"GET", "/playground/assets/style.css"},
		{"GET", "/nope"}, {"GET", "/graphql/x"}, {"GET", "/users/1234"},
		{"GET", "/flush"}, {"GET", "/panic"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			if req.path == "/panic" {
				continue // the server drops the connection
			}
			t.Fatalf("%s %s: %v", req.method, req.path, err)
		}
		resp.Body.Close()
	}

	compare(t, m, `
rostermirror_http_requests_total{code="200",path="/graphql"} 2
rostermirror_http_requests_total{code="200",path="/healthz"} 1
rostermirror_http_requests_total{code="200",path="/playground/assets"} 2
rostermirror_http_requests_total{code="200",path="other"} 1
rostermirror_http_requests_total{code="404",path="other"} 3
rostermirror_http_requests_total{code="405",path="/graphql"} 1
rostermirror_http_requests_total{code="500",path="other"} 1
rostermirror_http_requests_total{code="503",path="/readyz"} 1
`, "rostermirror_http_requests_total")
}

func TestHandlerServesRuntimeMetrics(t *testing.T) {
	t.Parallel()
	body := scrape(t, metrics.New())
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "promhttp_metric_handler_errors_total"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	// Two instances do not share series: a fresh one has no sync runs.
	a, b := metrics.New(), metrics.New()
	a.ObserveSync("succeeded", time.Second, nil)
	if strings.Contains(scrape(t, b), "rostermirror_sync_runs_total{") {
		t.Error("second Metrics sees the first's sync run")
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "rostermirror_test_gauge", Help: "test"})
	g.Set(7)
	if err := m.Register(g); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scrape(t, m), "\nrostermirror_test_gauge 7\n") {
		t.Error("registered gauge not served")
	}
	if err := m.Register(g); err == nil {
		t.Error("registering twice: no error")
	}
}

func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObserveSync("succeeded", time.Second, syncstats.Counts{"users": {Created: 1}})
	m.ObserveGraphQL("Users", time.Second, []string{"X"})
	m.ObserveCompiled("Users")
	m.ObserveQueueWait(time.Second)
	if err := m.WatchGraphQLGate(&gate{}); err != nil {
		t.Errorf("nil WatchGraphQLGate: %v", err)
	}
	h := http.RedirectHandler("/", http.StatusFound) // a comparable handler
	if got := m.Middleware(h); got != h {
		t.Error("nil Middleware wraps the handler")
	}
}
