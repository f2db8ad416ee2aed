package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/metrics"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// demoQuery is the first query the demo suggests.
const demoQuery = `{ sections(first: 1) { edges { node { name school { name } teachers { edges { position node { firstName lastName } } } students(first: 5) { totalCount edges { node { firstName lastName roles { role grade } } } } } } } }`

func newDemoCommand(a *app) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Zero-setup demo: a SQLite file, a built-in Clever simulator with the demo district, the API and playground",
		Long: `Start everything on this machine with nothing installed: the embedded SQLite database
(ROSTERMIRROR_DATABASE_URL, default file:rostermirror.db), migrated; a Clever simulator serving the
bundled demo district (four schools, 300 students) on a loopback port; an initial sync; the scheduler;
and the GraphQL API with its playground on ROSTERMIRROR_ADDR (default :8080). It prints the playground
URL, an admin API key and a first query to paste. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr != "" {
				a.cfg.Addr = addr
			}
			return a.demo(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "HTTP listen address (overrides $"+envAddr+", default "+defaultAddr+")")
	return cmd
}

func (a *app) demo(ctx context.Context) error {
	if a.cfg.SecretKey == "" { // SPEC: generated for the demo
		key, err := secret.GenerateKey()
		if err != nil {
			return err
		}
		a.cfg.SecretKey = key
	}
	box, err := a.cfg.secretBox()
	if err != nil {
		return err
	}
	gq, err := a.cfg.graphqlOptions()
	if err != nil {
		return err
	}
	so, err := a.cfg.scheduleOptions()
	if err != nil {
		return err
	}
	sim, err := cleversim.New(cleversim.Config{Dataset: synth.Onboarding(), Logger: a.logger})
	if err != nil {
		return err
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the Clever simulator: %w", err)
	}
	simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go simSrv.Serve(simLn)
	defer simSrv.Close()
	simURL := "http://" + simLn.Addr().String()
	a.cfg.CleverAPIURL, a.cfg.CleverOAuthURL = simURL, simURL
	a.cfg.ClientID, a.cfg.ClientSecret = cleversim.DefaultClientID, cleversim.DefaultClientSecret

	db, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return err
	}
	s, err := a.buildSyncer(ctx, db, box, nil)
	if err != nil {
		db.Close()
		return err
	}
	defer s.Close()

	districts, err := s.tokens.Connected(ctx)
	if err != nil {
		return err
	}
	m := metrics.New()
	// The database file outlives a demo: app records an earlier session imported are matched again.
	engine := s.afterSync(observedEngine{Engine: s.engine, metrics: m})
	for _, d := range districts {
		res, err := engine.SyncDistrict(ctx, d, mirror.Options{Trigger: "demo"})
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return fmt.Errorf("initial sync: %w", err)
		}
		fmt.Fprintf(a.stderr, "synced district %s: %d records\n", d, total(res))
	}
	keys := auth.NewStore(db, nil, auth.WithLogger(a.logger))
	key, _, err := keys.Create(ctx, "demo", []auth.Scope{auth.ScopeAdmin, auth.ScopeSensitive}, a.decidedBy())
	if err != nil {
		return err
	}

	return a.runServer(ctx, s, m, keys, gq, so, func(addr net.Addr) {
		url := browserURL(addr)
		fmt.Fprintf(a.stdout, `rostermirror demo is running.

  Playground:  %s/
  API key:     %s   (admin + sensitive; paste it into the playground's "API key" bar)
  First query: %s

  Or with curl:
    curl -s %s/graphql -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
      -d '{"query":"{ districts { edges { node { name schools { totalCount } users { totalCount } } } } }"}'

  Onboarding: the simulator serves seven districts, all DISCOVERED. Load the customers that go with them
    go run ./cmd/rostermirror org import testdata/onboarding-organizations.csv
  then link each district (README, "Onboarding"); sign-ins start at %s/auth/clever/login

Stop with Ctrl-C.
`, url, key, demoQuery, url, key, url)
	})
}

// browserURL turns a listen address into a URL a browser on this machine can open.
func browserURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("http://localhost:%d", tcp.Port)
	}
	return "http://" + addr.String()
}

func total(r mirror.Result) int {
	n := 0
	for _, o := range r.Counts {
		n += o.Read
	}
	return n
}
