// Command cleversim serves a Clever API simulator — the Data API (/v3.0/...) and the OAuth endpoints
// (/oauth/...) on one address — over a dataset file, for integrators' own tests:
//
//	cleversim --data FILE --addr 127.0.0.1:PORT [--client-id ID --client-secret SECRET]
//
// Point both CLEVER_API_URL and CLEVER_OAUTH_URL at it. Further flags set the rate limit, event
// retention and fault injection; the change API under /sim/ is documented in package cleversim.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cleversim:", err)
		}
		os.Exit(2)
	}
}

// options are the command-line flags.
type options struct {
	data, addr                    string
	clientID, clientSecret        string
	rateLimit                     int
	eventRetention                time.Duration
	eventsDisabled                bool
	seed                          int64
	errorRate, rateLimitRate, cut float64
	latency                       time.Duration
	synthetic                     string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cleversim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "dataset file (JSON: districts, schools, users, sections, terms, courses, events); empty starts without districts")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8081", "listen address")
	fs.StringVar(&o.clientID, "client-id", cleversim.DefaultClientID, "OAuth client id (Basic auth user for /oauth/tokens)")
	fs.StringVar(&o.clientSecret, "client-secret", cleversim.DefaultClientSecret, "OAuth client secret")
	fs.IntVar(&o.rateLimit, "rate-limit", cleversim.DefaultRateLimit, "requests per minute per bearer token; negative disables the limit")
	fs.BoolVar(&o.eventsDisabled, "events-disabled", false, "serve the app as one without the Events API enabled: /v3.0/events answers 403 and changes emit no events")
	fs.DurationVar(&o.eventRetention, "event-retention", cleversim.DefaultEventRetention, "how long events stay listed, counted back from the district's newest event; negative keeps them forever")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the injected faults")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "share of /v3.0 requests answered 500/502/503")
	fs.Float64Var(&o.rateLimitRate, "rate-limit-rate", 0, "share of /v3.0 requests starting a storm of 429s")
	fs.Float64Var(&o.cut, "cut-rate", 0, "share of /v3.0 responses whose connection is cut mid-body")
	fs.DurationVar(&o.latency, "latency", 0, "delay added to every /v3.0 response")
	fs.StringVar(&o.synthetic, "synthetic", "", "serve a generated district instead of --data, sized by comma-separated key=value pairs from: "+
		"seed students teachers staff district_admins contacts sections courses terms schools, and districts (that many districts of that size, seeds seed, seed+1, …) (e.g. students=100000,teachers=5000,sections=4000)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.data != "" && o.synthetic != "" {
		return o, errors.New("--data and --synthetic are exclusive")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	var ds *cleversim.Dataset
	switch {
	case o.data != "":
		if ds, err = cleversim.LoadDataset(o.data); err != nil {
			return err
		}
	case o.synthetic != "":
		cfg, districts, err := syntheticConfig(o.synthetic)
		if err != nil {
			return err
		}
		ds = synth.GenerateMany(cfg, districts)
	}
	sim, err := cleversim.New(cleversim.Config{
		Dataset:        ds,
		ClientID:       o.clientID,
		ClientSecret:   o.clientSecret,
		RateLimit:      o.rateLimit,
		EventRetention: o.eventRetention,
		EventsDisabled: o.eventsDisabled,
		Faults: cleversim.Faults{
			Seed: o.seed, ErrorRate: o.errorRate, RateLimitRate: o.rateLimitRate, CutRate: o.cut, Latency: o.latency,
		},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("cleversim listening", slog.String("url", base), slog.String("data", o.data), slog.String("synthetic", o.synthetic))
	fmt.Fprintf(stderr, "Clever simulator on %s (CLEVER_API_URL and CLEVER_OAUTH_URL)\nList the district-app tokens:\n  curl -u '%s:%s' '%s/oauth/tokens?owner_type=district'\n",
		base, o.clientID, o.clientSecret, base)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("cleversim shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// syntheticConfig parses --synthetic: "students=100000,teachers=5000,seed=7", and "districts=N" for N
// districts of that size (seeds seed, seed+1, …).
func syntheticConfig(spec string) (cfg synth.Config, districts int, err error) {
	districts = 1
	fields := map[string]*int{
		"students": &cfg.Students, "teachers": &cfg.Teachers, "staff": &cfg.Staff,
		"district_admins": &cfg.DistrictAdmins, "contacts": &cfg.Contacts, "sections": &cfg.Sections,
		"courses": &cfg.Courses, "terms": &cfg.Terms, "schools": &cfg.Schools,
	}
	for _, pair := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		n, err := strconv.ParseInt(value, 10, 64)
		if !ok || err != nil {
			return cfg, 0, fmt.Errorf("--synthetic: %q is not key=number", pair)
		}
		switch key {
		case "seed":
			cfg.Seed = n
			continue
		case "districts":
			if n < 1 || n > 100_000 {
				return cfg, 0, fmt.Errorf("--synthetic: districts=%d is out of range (1 to 100000)", n)
			}
			districts = int(n)
			continue
		}
		field, known := fields[key]
		if !known {
			return cfg, 0, fmt.Errorf("--synthetic: unknown size %q", key)
		}
		if n < 0 || n > 10_000_000 {
			return cfg, 0, fmt.Errorf("--synthetic: %s=%d is out of range (0 to 10000000)", key, n)
		}
		*field = int(n)
	}
	return cfg, districts, nil
}
