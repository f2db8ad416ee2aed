package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/graph/playground"
	"github.com/rostermirror/rostermirror/internal/admin"
	"github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/login"
	"github.com/rostermirror/rostermirror/internal/metrics"
	"github.com/rostermirror/rostermirror/internal/org"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/schedule"
)

// Timeouts of serve.
const (
	// shutdownTimeout bounds the graceful stop: in-flight requests, then the scheduler's running syncs.
	shutdownTimeout = 30 * time.Second
	// readyTimeout bounds the database checks of one /readyz request.
	readyTimeout = 2 * time.Second
)

// newServeCommand builds `rostermirror serve`.
func newServeCommand(a *app) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the scheduler and the HTTP server until SIGINT or SIGTERM",
		Long: `Run the production server: every connected district's new events applied every
ROSTERMIRROR_EVENTS_INTERVAL, its full sync on ROSTERMIRROR_SYNC_SCHEDULE spread over
ROSTERMIRROR_SYNC_SPREAD, at most ROSTERMIRROR_SYNC_CONCURRENCY syncs at once per process (replicas on
one Postgres share the runs, each run by one of them), and the HTTP server on ROSTERMIRROR_ADDR: /graphql (API key required), the playground at /, /metrics
(API key with the metrics or admin scope), /match/export (API key with the admin scope), /healthz and
/readyz. After each sync the district's app records are matched again (see match). The database must
be migrated first (rostermirror migrate). Runs left running by a process that died are marked
interrupted at start. SIGINT or SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr != "" {
				a.cfg.Addr = addr
			}
			return a.serve(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "HTTP listen address (overrides $"+envAddr+", default "+defaultAddr+")")
	return cmd
}

// serve runs until ctx is cancelled, then stops gracefully: it stops accepting requests and waits for
// those in flight, stops the scheduler (waiting for running syncs up to a deadline) and closes the
// database.
func (a *app) serve(ctx context.Context) error {
	so, err := a.cfg.scheduleOptions()
	if err != nil {
		return err
	}
	gq, err := a.cfg.graphqlOptions()
	if err != nil {
		return err
	}
	s, err := a.openSyncer(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	// A run left RUNNING by a process that died (killed mid-sync) would show its district SYNCING until
	// the district's next run: close it now, unless a live process (another replica, a CLI run) holds the
	// district's lock.
	if n, err := s.engine.CloseInterrupted(ctx); err != nil {
		a.logger.Warn("close interrupted sync runs", "error", err)
	} else if n > 0 {
		a.logger.Info("closed sync runs interrupted by a process that stopped", "runs", n)
	}

	m := metrics.New()
	return a.runServer(ctx, s, m, auth.NewStore(s.db, nil, auth.WithLogger(a.logger)), gq, so, nil)
}

// runServer runs the scheduler and the HTTP server (API, playground, metrics, health) over s until ctx is
// cancelled, then stops them gracefully. announce, when set, is called once the server listens.
func (a *app) runServer(ctx context.Context, s *syncer, m *metrics.Metrics, keys *auth.Store, gq graphqlOptions,
	so scheduleOptions, announce func(net.Addr)) error {
	var sched *schedule.Scheduler
	links := link.New(link.Config{DB: s.db, Logger: a.logger, Refresh: func(ctx context.Context) error {
		return sched.Refresh(ctx) // pausing a district drops its job at once
	}})
	if err := m.WatchOnboarding(func(ctx context.Context) (map[string]int, int, int, error) {
		st, err := links.Stats(ctx)
		districts := map[string]int{}
		for state, n := range st.Districts {
			districts[string(state)] = n
		}
		return districts, st.Open, st.Conflicting, err
	}); err != nil {
		a.logger.Warn("onboarding gauges not registered", "err", err)
	}
	if err := m.WatchMatching(s.matches.Stats); err != nil {
		a.logger.Warn("matching gauges not registered", "err", err)
	}
	engine := onboardedEngine{observedEngine: observedEngine{Engine: s.engine, metrics: m}, approved: s.afterApproval}
	engine.sync = links.Syncer(s.afterSync(engine.observedEngine))
	svc := admin.New(s.db, engine, a.logger, 0)
	discovery := links.Discovery(s.tokens, s.engine)
	// A newly discovered district's first sync waits for a slot like every scheduled run.
	discovery.StartSync = func(districtID string) { sched.SyncNow(districtID, triggerDiscovery) }
	sched, err := schedule.New(schedule.Config{
		Syncer:         engine,
		Districts:      discovery,
		Schedule:       so.Schedule,
		Spread:         so.Spread,
		EventsInterval: so.EventsInterval,
		Concurrency:    so.Concurrency,
		Logger:         a.logger,
	})
	if err != nil {
		return err // "new scheduler: …"
	}
	if err := m.WatchSchedule(sched); err != nil {
		a.logger.Warn("schedule gauges not registered", "err", err)
	}

	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	if a.cfg.PublicURL == "" { // the address as bound (":0" picks a port)
		a.cfg.PublicURL = browserURL(ln.Addr())
	}
	logins, err := a.logins(s, links)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler: newHTTPHandler(handlerDeps{
			DB: s.db, Logger: a.logger, Admin: svc, Metrics: m, NextRun: sched.NextRun, Keys: keys, GraphQL: gq,
			Link: links, Orgs: org.New(s.db, links), Login: logins, Matches: s.matches,
		}),
		// A client that sends its request slowly, reads its answer slowly, or keeps an idle connection
		// open holds a goroutine and a socket: bound each (the GraphQL handler bounds the rest of a
		// request to 30 s).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.logger.Info("serving", "addr", ln.Addr().String(), "database_url", store.Redact(a.cfg.DatabaseURL))

	if err := sched.Start(ctx); err != nil { // "start scheduler: …"
		return errors.Join(err, a.shutdown(srv, nil, svc))
	}
	if announce != nil {
		announce(ln.Addr())
	}

	select {
	case <-ctx.Done():
		a.logger.Info("shutting down")
		return a.shutdown(srv, sched, svc)
	case err := <-serveErr:
		err = fmt.Errorf("serve HTTP: %w", err)
		return errors.Join(err, a.shutdown(srv, sched, svc))
	}
}

// shutdown stops the HTTP server, then the scheduler (when not nil) and the syncs started from the API,
// each within shutdownTimeout.
func (a *app) shutdown(srv *http.Server, sched *schedule.Scheduler, svc *admin.Service) error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop HTTP server: %w", err))
	}
	if sched != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := sched.Stop(ctx); err != nil {
			errs = append(errs, err) // "stop scheduler: …"
		}
	}
	if svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		a.logger.Info("stopped")
	}
	return errors.Join(errs...)
}

// handlerDeps are what the HTTP handler serves from.
type handlerDeps struct {
	// DB is the mirror's database; /readyz checks it.
	DB *store.DB
	// Logger receives request errors.
	Logger *slog.Logger
	// Admin carries out the GraphQL mutations.
	Admin *admin.Service
	// Keys authenticates /graphql requests.
	Keys *auth.Store
	// Metrics counts requests and serves /metrics.
	Metrics *metrics.Metrics
	// NextRun tells when the scheduler next syncs a district.
	NextRun admin.NextRun
	// Link carries out onboarding; Orgs keeps the organizations.
	Link *link.Service
	Orgs *org.Service
	// Login serves the Clever sign-in endpoints and makes invites; nil without Clever app credentials.
	Login *login.Service
	// Matches carries out record matching, for GraphQL and /match/export. Default: a service over DB.
	Matches *apprecord.Service
	// GraphQL are the API's settings from the configuration; zero values mean the defaults.
	GraphQL graphqlOptions
}

// newHTTPHandler builds the HTTP routes of serve and demo:
//
//	/graphql      the GraphQL API (POST, and GET for queries); needs "Authorization: Bearer <api key>"
//	/             the GraphiQL playground, assets embedded (works offline)
//	GET /metrics  Prometheus metrics; needs an API key with the metrics (or admin) scope
//	GET /match/export?district=ID&type=TYPE
//	              the Matchmaker-format CSV of a district's records of one type; needs the admin scope
//	GET /healthz  200 "ok" while the process runs
//	GET /readyz   200 "ok" when the database answers and is migrated, 503 with the reason otherwise
func newHTTPHandler(d handlerDeps) http.Handler {
	gate := graph.NewGate(d.GraphQL.Concurrency)
	if err := d.Metrics.WatchGraphQLGate(gate); err != nil {
		d.Logger.Warn("graphql concurrency gauges not registered", "err", err)
	}
	if d.Matches == nil {
		d.Matches = apprecord.New(d.DB, apprecord.WithLogger(d.Logger))
	}
	mux := http.NewServeMux()
	hc := graph.HandlerConfig{
		DB: d.DB, Admin: d.Admin, NextRun: d.NextRun, Logger: d.Logger, Link: d.Link, Orgs: d.Orgs, Matches: d.Matches,
		Gate: gate, ResolveAll: d.GraphQL.ResolveAll,
		Observe: d.Metrics.ObserveGraphQL, Compiled: d.Metrics.ObserveCompiled, Queued: d.Metrics.ObserveQueueWait,
	}
	if d.Login != nil { // a nil *login.Service must not reach the Inviter interface
		hc.Invites = d.Login
		d.Login.Routes(mux, d.Keys)
	}
	mux.Handle("/graphql", auth.Middleware(d.Keys, d.Logger)(graph.NewHandler(hc)))
	// Metrics tell roster sizes and sync outcomes per district: a key with the metrics (or admin) scope.
	mux.Handle("GET /metrics", auth.Middleware(d.Keys, d.Logger)(auth.RequireScope(auth.ScopeMetrics, d.Metrics.Handler())))
	// The app's own records, students' among them: an admin key.
	mux.Handle("GET /match/export", auth.Middleware(d.Keys, d.Logger)(auth.RequireScope(auth.ScopeAdmin, matchExportHandler(d.Matches, d.Logger))))
	pg := playground.Handler("/graphql")
	mux.Handle("GET /{$}", pg)
	mux.Handle("GET "+playground.AssetsPath, pg)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := d.DB.SQL.PingContext(ctx); err != nil {
			d.Logger.Warn("not ready: database unreachable", "err", err)
			writeText(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		if err := d.DB.CheckMigrated(ctx); err != nil {
			writeText(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	return d.Metrics.Middleware(mux)
}

// observedEngine is the sync engine with every run counted in the metrics.
type observedEngine struct {
	*mirror.Engine
	metrics *metrics.Metrics
}

// SyncDistrict runs the sync and records its outcome.
func (e observedEngine) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	res, err := e.Engine.SyncDistrict(ctx, districtID, opts)
	if err == nil && !res.DryRun {
		e.metrics.ObserveSync(res.Status, res.Finished.Sub(res.Started), res.Counts)
	}
	return res, err
}

// logins builds the Clever sign-in endpoints (/auth/clever/login, /auth/clever/callback, /auth/exchange)
// when the app's Clever credentials are configured; nil otherwise.
func (a *app) logins(s *syncer, links *link.Service) (*login.Service, error) {
	if a.cfg.ClientID == "" || a.cfg.ClientSecret == "" {
		return nil, nil
	}
	l, err := login.New(login.Config{
		DB: s.db, Clever: login.CleverClient(s.client), ClientID: a.cfg.ClientID, OAuthURL: a.cfg.CleverOAuthURL,
		PublicURL: a.cfg.publicURL(), AppLoginURL: a.cfg.AppLoginURL, AppStartURL: a.cfg.AppStartURL, LinkRedirectURI: a.cfg.LinkRedirectURI,
		SecretKey: a.cfg.SecretKey, Linker: links, Provisioner: s.engine, Tokens: s.tokens, Logger: a.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("set up the Clever sign-in endpoints: %w", err)
	}
	return l, nil
}

// triggerDiscovery is the SyncRun.trigger of a newly discovered district's first sync.
const triggerDiscovery = "discovery"

// onboardedEngine is the observed engine as onboarding and matching see it run: scheduled runs of paused
// districts skipped, the district's app records matched again and link signals evaluated after each run
// (link.Service.Syncer around syncer.afterSync).
type onboardedEngine struct {
	observedEngine
	sync link.Syncer
	// approved follows an approved held run (syncer.afterApproval).
	approved func(context.Context, mirror.Result)
}

// ApproveHeld applies a held run's archives, then what a sync is followed by.
func (e onboardedEngine) ApproveHeld(ctx context.Context, runID, decidedBy string) (mirror.Result, error) {
	res, err := e.observedEngine.ApproveHeld(ctx, runID, decidedBy)
	if err == nil && e.approved != nil {
		e.approved(ctx, res)
	}
	return res, err
}

// SyncDistrict runs the sync through onboarding.
func (e onboardedEngine) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	return e.sync.SyncDistrict(ctx, districtID, opts)
}

// writeText writes a plain-text response.
func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, body)
}
