// Package metrics defines rostermirror's Prometheus metrics and serves them on /metrics.
//
// Every series lives on the Metrics value's own registry (never the global default one), so tests and
// several servers in one process do not share state. Label values that come from outside the process —
// GraphQL operation names chosen by clients, request paths — are bounded (see the Other and Anonymous
// label values) so that no client can grow the number of series without limit.
//
// A nil *Metrics is valid: its Observe methods do nothing and its Middleware returns the handler it is
// given, so components can take an optional *Metrics without checks.
package metrics

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rostermirror/rostermirror/internal/syncstats"
)

// Namespace prefixes every metric name.
const Namespace = "rostermirror"

// Label values that stand in for values that are not recorded as given.
const (
	// Other replaces a label value that is malformed, too long, unknown or past a label's limit.
	Other = "other"
	// Anonymous is the operation label of a GraphQL request without an operation name.
	Anonymous = "anonymous"
)

// Limits on label values.
const (
	// MaxOperations is how many distinct GraphQL operation names are recorded; later new names are
	// recorded as Other.
	MaxOperations = 200
	// MaxNameLength is the longest operation name (or status, kind, error code) recorded as given.
	MaxNameLength = 64
	// maxInternal bounds the values of labels the program sets itself (sync status, record kind, error
	// code): they are few by design, the bound only guards against a bug.
	maxInternal = 64
)

// Outcomes are the values of the outcome label of rostermirror_sync_records_total, one per field of
// syncstats.Outcome except Read (which counts input, not an outcome) and Base (a denominator). "missed"
// counts what a full reconcile found that the events had not brought (it should stay 0); "rollover" the
// archives (counted in "archived" too) that an ended term explained, which the guard does not hold;
// "deferred" the archives a run left because the district was paused in Clever.
var Outcomes = []string{"created", "updated", "unchanged", "archived", "restored", "held", "missed", "rollover", "deferred"}

// Paths are the request paths recorded as given by Middleware; every other path is recorded as Other.
// A path under /playground/assets/ is recorded as /playground/assets.
var Paths = []string{"/graphql", "/", "/healthz", "/readyz", "/metrics", assetsPath, "/auth/clever/login", "/auth/clever/callback", "/auth/exchange", "/match/export"}

// assetsPath labels every request for a playground asset.
const assetsPath = "/playground/assets"

// Buckets of the duration histograms, in seconds.
var (
	// SyncBuckets span a small district's seconds to a large one's hours.
	SyncBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}
	// GraphQLBuckets span a cached lookup's milliseconds to a large export's tens of seconds.
	GraphQLBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// WaitBuckets span no wait to a request timeout's tens of seconds; most waits under load are below a
	// few milliseconds.
	WaitBuckets = []float64{0, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Gate is what WatchGraphQLGate reads: how many GraphQL operations may execute at once, how many do
// and how many wait for their turn (graph.Gate).
type Gate interface {
	Size() int
	Running() int
	Waiting() int
}

// Metrics holds the collectors of one server and the registry that serves them. Its methods are safe for
// concurrent use. Build it with New.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	syncRuns        *prometheus.CounterVec   // status
	syncDuration    prometheus.Histogram     //
	syncRecords     *prometheus.CounterVec   // kind, outcome
	graphqlDuration *prometheus.HistogramVec // operation
	graphqlErrors   *prometheus.CounterVec   // operation, code
	graphqlCompiled *prometheus.CounterVec   // operation
	graphqlWait     prometheus.Histogram     //
	httpRequests    *prometheus.CounterVec   // path, code

	operations, statuses, kinds, codes *labelSet
}

// New returns Metrics with the Go runtime and process collectors and rostermirror's own metrics
// registered on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		syncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sync_runs_total",
			Help: "Sync runs finished, by final status.",
		}, []string{"status"}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "sync_run_duration_seconds",
			Help:    "Wall time of finished sync runs.",
			Buckets: SyncBuckets,
		}),
		syncRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sync_records_total",
			Help: "Records handled by sync runs, by record kind and what the run did to them.",
		}, []string{"kind", "outcome"}),
		graphqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "graphql_request_duration_seconds",
			Help:    "Time to answer GraphQL operations, by operation name.",
			Buckets: GraphQLBuckets,
		}, []string{"operation"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "graphql_errors_total",
			Help: "Errors returned by GraphQL operations, by operation name and error code.",
		}, []string{"operation", "code"}),
		graphqlCompiled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "graphql_compiled_total",
			Help: "GraphQL operations answered by one compiled SQL statement rather than the resolvers, by operation name.",
		}, []string{"operation"}),
		graphqlWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "graphql_queue_wait_seconds",
			Help:    "Time GraphQL operations waited for their turn to execute (0 when one was free).",
			Buckets: WaitBuckets,
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by path and status code.",
		}, []string{"path", "code"}),
		operations: newLabelSet(MaxOperations),
		statuses:   newLabelSet(maxInternal),
		kinds:      newLabelSet(maxInternal),
		codes:      newLabelSet(maxInternal),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.syncRuns, m.syncDuration, m.syncRecords,
		m.graphqlDuration, m.graphqlErrors, m.graphqlCompiled, m.graphqlWait,
		m.httpRequests,
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg, // counts its own scrape errors
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Handler returns the handler that serves the registry in the Prometheus exposition formats; mount it on
// /metrics.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Register adds collectors the caller builds itself (for example collectors.NewDBStatsCollector for the
// database pool) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// ObserveSync records one finished sync run: its final status (succeeded, failed, held, ...), how long it
// took and, per record kind (districts, schools, ...), what it did to the records.
func (m *Metrics) ObserveSync(status string, d time.Duration, counts syncstats.Counts) {
	if m == nil {
		return
	}
	m.syncRuns.WithLabelValues(m.statuses.value(status, Other)).Inc()
	m.syncDuration.Observe(d.Seconds())
	for kind, o := range counts {
		kind = m.kinds.value(kind, Other)
		for i, n := range [...]int{o.Created, o.Updated, o.Unchanged, o.Archived, o.Restored, o.Held, o.Missed, o.Rollover, o.Deferred} {
			// Add(0) still creates the series, so rate() sees a zero before the first change.
			if n >= 0 {
				m.syncRecords.WithLabelValues(kind, Outcomes[i]).Add(float64(n))
			}
		}
	}
}

// ObserveGraphQL records one GraphQL operation: its name as the client sent it (empty for an anonymous
// operation), how long it took and the code of each error it returned (one count per element, so the
// same code may appear several times; an empty code is recorded as Other). Names are bounded: see
// Other, Anonymous and MaxOperations.
func (m *Metrics) ObserveGraphQL(operation string, d time.Duration, errorCodes []string) {
	if m == nil {
		return
	}
	op := m.operations.value(operation, Anonymous)
	m.graphqlDuration.WithLabelValues(op).Observe(d.Seconds())
	for _, code := range errorCodes {
		m.graphqlErrors.WithLabelValues(op, m.codes.value(code, Other)).Inc()
	}
}

// ObserveCompiled records that a GraphQL operation (its name as the client sent it) was answered by one
// compiled SQL statement. Names are bounded as in ObserveGraphQL.
func (m *Metrics) ObserveCompiled(operation string) {
	if m == nil {
		return
	}
	m.graphqlCompiled.WithLabelValues(m.operations.value(operation, Anonymous)).Inc()
}

// ObserveQueueWait records how long a GraphQL operation waited for its turn to execute.
func (m *Metrics) ObserveQueueWait(d time.Duration) {
	if m == nil {
		return
	}
	m.graphqlWait.Observe(d.Seconds())
}

// WatchGraphQLGate serves g's size, running and waiting operations as the gauges
// rostermirror_graphql_concurrency_limit, rostermirror_graphql_operations_running and
// rostermirror_graphql_operations_waiting, read at each scrape. Call it once per Metrics.
func (m *Metrics) WatchGraphQLGate(g Gate) error {
	if m == nil {
		return nil
	}
	return m.Register(
		gauge("graphql_concurrency_limit", "How many GraphQL operations may execute at once (ROSTERMIRROR_GRAPHQL_CONCURRENCY).", g.Size),
		gauge("graphql_operations_running", "GraphQL operations executing now.", g.Running),
		gauge("graphql_operations_waiting", "GraphQL operations waiting for their turn to execute now.", g.Waiting),
	)
}

// gauge is a gauge read at each scrape from read.
func gauge(name, help string, read func() int) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help},
		func() float64 { return float64(read()) })
}

// Schedule is what the sync scheduler tells of its runs (*schedule.Scheduler).
type Schedule interface {
	Concurrency() int
	Running() int
	PeakRunning() int
	Waiting() int
}

// WatchSchedule serves the scheduler's bound, runs in progress, the most at once since the process
// started and the ticks waiting for a slot as the gauges rostermirror_sync_concurrency_limit,
// rostermirror_sync_runs_running, rostermirror_sync_runs_running_max and rostermirror_sync_runs_waiting,
// read at each scrape. Call it once per Metrics.
func (m *Metrics) WatchSchedule(s Schedule) error {
	if m == nil {
		return nil
	}
	return m.Register(
		gauge("sync_concurrency_limit", "How many scheduled syncs this process runs at once at most (ROSTERMIRROR_SYNC_CONCURRENCY).", s.Concurrency),
		gauge("sync_runs_running", "Scheduled syncs this process is running now.", s.Running),
		gauge("sync_runs_running_max", "The most scheduled syncs this process ran at once since it started.", s.PeakRunning),
		gauge("sync_runs_waiting", "Districts whose scheduled sync waits for a free slot in this process now.", s.Waiting),
	)
}

// Onboarding reads onboarding's counts at a scrape: districts by link state, open link proposals, and
// those in conflict (internal/link's Service.Stats, adapted).
type Onboarding func(ctx context.Context) (districts map[string]int, open, conflicting int, err error)

// WatchOnboarding serves onboarding's counts, read at each scrape (bounded to 5 s), as
// rostermirror_districts{link_state}, rostermirror_link_proposals_open and
// rostermirror_link_proposals_conflicting. A failed read leaves the metrics out of that scrape. Call it
// once per Metrics.
func (m *Metrics) WatchOnboarding(read Onboarding) error {
	if m == nil {
		return nil
	}
	return m.Register(&onboardingCollector{read: read,
		districts:   prometheus.NewDesc(Namespace+"_districts", "Districts by onboarding link state (DISCOVERED, PROPOSED, LINKED, PAUSED, DISCONNECTED).", []string{"link_state"}, nil),
		open:        prometheus.NewDesc(Namespace+"_link_proposals_open", "Link proposals waiting for an admin's decision.", nil, nil),
		conflicting: prometheus.NewDesc(Namespace+"_link_proposals_conflicting", "Open link proposals that point their district at another organization than another proposal or its link does.", nil, nil),
	})
}

type onboardingCollector struct {
	read                         Onboarding
	districts, open, conflicting *prometheus.Desc
}

func (c *onboardingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.districts
	ch <- c.open
	ch <- c.conflicting
}

func (c *onboardingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	districts, open, conflicting, err := c.read(ctx)
	if err != nil {
		return
	}
	for _, state := range slices.Sorted(maps.Keys(districts)) {
		ch <- prometheus.MustNewConstMetric(c.districts, prometheus.GaugeValue, float64(districts[state]), state)
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(c.conflicting, prometheus.GaugeValue, float64(conflicting))
}

// Matching reads matching's counts at a scrape: the app's records by type and status (keys
// "student/MATCHED"), and the open suggestions of the review queue (internal/apprecord's Service.Stats,
// adapted).
type Matching func(ctx context.Context) (records map[[2]string]int, open int, err error)

// WatchMatching serves matching's counts, read at each scrape (bounded to 5 s), as
// rostermirror_app_records{type,status} and rostermirror_match_suggestions_open.
func (m *Metrics) WatchMatching(read Matching) error {
	if m == nil {
		return nil
	}
	return m.Register(&matchingCollector{read: read,
		records: prometheus.NewDesc(Namespace+"_app_records", "The app's records by type (student, teacher, staff, school, section) and match status (MATCHED, SUGGESTED, UNMATCHED, DUPLICATE).", []string{"type", "status"}, nil),
		open:    prometheus.NewDesc(Namespace+"_match_suggestions_open", "Match suggestions waiting for an admin's decision.", nil, nil),
	})
}

type matchingCollector struct {
	read          Matching
	records, open *prometheus.Desc
}

func (c *matchingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.records
	ch <- c.open
}

func (c *matchingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	records, open, err := c.read(ctx)
	if err != nil {
		return
	}
	keys := slices.SortedFunc(maps.Keys(records), func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(records[k]), k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open))
}

// Middleware counts the requests next answers in rostermirror_http_requests_total by path (one of Paths,
// else Other) and status code.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		defer func() {
			// Also counted when next panics: net/http then answers 500 unless a response was started.
			code := sw.code
			if code == 0 {
				code = http.StatusOK
				if !returned {
					code = http.StatusInternalServerError
				}
			}
			m.httpRequests.WithLabelValues(pathLabel(r.URL.Path), strconv.Itoa(code)).Inc()
		}()
		next.ServeHTTP(sw, r)
		returned = true
	})
}

// pathLabel bounds a request path to Paths and Other.
func pathLabel(p string) string {
	if strings.HasPrefix(p, assetsPath+"/") {
		return assetsPath
	}
	if slices.Contains(Paths, p) {
		return p
	}
	return Other
}

// statusWriter remembers the status code of the response it wraps.
type statusWriter struct {
	http.ResponseWriter
	code int // 0 until the final status is sent
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx informational headers precede the final code
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers that assert http.Flusher flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// labelSet bounds the values of one label: a value is recorded as given if it is a well-formed name no
// longer than MaxNameLength and is one of the first max distinct values seen; else as Other.
type labelSet struct {
	mu   sync.RWMutex
	max  int
	seen map[string]struct{}
}

func newLabelSet(max int) *labelSet {
	return &labelSet{max: max, seen: make(map[string]struct{})}
}

// value returns the label value for name, or empty when name is empty.
func (s *labelSet) value(name, empty string) string {
	if name == "" {
		return empty
	}
	if !validName(name) {
		return Other
	}
	s.mu.RLock()
	_, ok := s.seen[name]
	s.mu.RUnlock()
	if ok {
		return name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[name]; ok {
		return name
	}
	if len(s.seen) >= s.max {
		return Other
	}
	s.seen[name] = struct{}{}
	return name
}

// validName reports whether name is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*) of at most MaxNameLength
// bytes. Other and Anonymous are not valid names: a client cannot pass one off as the other.
func validName(name string) bool {
	if len(name) > MaxNameLength || name == Other || name == Anonymous {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
