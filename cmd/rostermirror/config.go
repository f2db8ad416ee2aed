package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/schedule"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// Environment variables read by the commands (SPEC "Configuration"). They are read in loadConfig and
// nowhere else.
const (
	envDatabaseURL    = "ROSTERMIRROR_DATABASE_URL"
	envAddr           = "ROSTERMIRROR_ADDR"
	envCleverAPIURL   = "CLEVER_API_URL"
	envCleverOAuthURL = "CLEVER_OAUTH_URL"
	envClientID       = "CLEVER_CLIENT_ID"
	envClientSecret   = "CLEVER_CLIENT_SECRET"
	envDistrictTokens = "CLEVER_DISTRICT_TOKENS"
	envSyncSchedule   = "ROSTERMIRROR_SYNC_SCHEDULE"
	envSecretKey      = "ROSTERMIRROR_SECRET_KEY"
	envConcurrency    = "ROSTERMIRROR_GRAPHQL_CONCURRENCY"
	envCompiled       = "ROSTERMIRROR_COMPILED_QUERIES"
	envPublicURL      = "ROSTERMIRROR_PUBLIC_URL"
	envAppLoginURL    = "ROSTERMIRROR_APP_LOGIN_URL"
	envAppStartURL    = "ROSTERMIRROR_APP_START_URL"
	envLinkRedirect   = "CLEVER_LINK_REDIRECT_URI"
	envMatchOrder     = "ROSTERMIRROR_MATCH_ORDER"
	envEventsInterval = "ROSTERMIRROR_EVENTS_INTERVAL"
	envSyncConcurrent = "ROSTERMIRROR_SYNC_CONCURRENCY"
	envSyncSpread     = "ROSTERMIRROR_SYNC_SPREAD"
)

// envVars lists every variable above, for the help text's test.
var envVars = []string{
	envDatabaseURL, envAddr, envCleverAPIURL, envCleverOAuthURL, envClientID, envClientSecret,
	envDistrictTokens, envSyncSchedule, envSecretKey, envConcurrency, envCompiled, envPublicURL, envAppLoginURL,
	envAppStartURL, envLinkRedirect, envMatchOrder, envEventsInterval, envSyncConcurrent, envSyncSpread,
}

// Defaults of config.
const (
	defaultAddr           = ":8080"
	defaultCleverAPIURL   = "https://api.clever.com"
	defaultCleverOAuthURL = "https://clever.com"
	// defaultEventsInterval is ROSTERMIRROR_EVENTS_INTERVAL's default (SPEC).
	defaultEventsInterval = 5 * time.Minute
	// defaultSyncSpread is ROSTERMIRROR_SYNC_SPREAD's default: a daily reconcile's runs over its first hour.
	defaultSyncSpread = time.Hour
	// maxSyncConcurrency bounds ROSTERMIRROR_SYNC_CONCURRENCY: each run holds a database connection for
	// its lock and one for its writes, out of store.PoolSize.
	maxSyncConcurrency = store.PoolSize / 2
)

// config is the process configuration, built once from the environment by loadConfig and then
// overridden by flags. It holds secrets (ClientSecret, DistrictTokens, SecretKey): never log it whole.
type config struct {
	// DatabaseURL selects the database: postgres://… or a SQLite file: URL. Default store.DefaultURL.
	DatabaseURL string
	// Addr is the HTTP listen address of serve. Default ":8080".
	Addr string
	// CleverAPIURL is the base of Clever's Data API. Default https://api.clever.com.
	CleverAPIURL string
	// CleverOAuthURL is the base of Clever's OAuth endpoints. Default https://clever.com.
	CleverOAuthURL string
	// ClientID and ClientSecret are the Clever app's credentials; without them districts' tokens are
	// not listed from Clever and only DistrictTokens (and tokens already stored) are used.
	ClientID, ClientSecret string
	// DistrictTokens is the raw "districtID=token,…" list of tokens copied by hand.
	DistrictTokens string
	// SyncSchedule is the cron expression of full syncs; empty means the scheduler's default (daily).
	SyncSchedule string
	// EventsInterval, SyncConcurrency and SyncSpread are ROSTERMIRROR_EVENTS_INTERVAL,
	// ROSTERMIRROR_SYNC_CONCURRENCY and ROSTERMIRROR_SYNC_SPREAD as given; empty means the defaults.
	// Read with scheduleOptions.
	EventsInterval, SyncConcurrency, SyncSpread string
	// SecretKey encrypts tokens at rest; required by every command that touches tokens.
	SecretKey string
	// GraphQLConcurrency is how many GraphQL operations execute at once, as given (a positive integer);
	// empty means graph.DefaultConcurrency. Read with graphqlOptions.
	GraphQLConcurrency string
	// CompiledQueries says whether queries over the mirror's tables may be answered by one compiled
	// statement on Postgres, as given (on/off, true/false, 1/0); empty means on. Read with graphqlOptions.
	CompiledQueries string
	// PublicURL is the server's external base URL (OAuth redirect URIs, invite links); empty means
	// http://<Addr> (see publicURL).
	PublicURL string
	// AppLoginURL is where /auth/clever/callback sends a signed-in user with a one-time code; empty shows
	// a page instead.
	AppLoginURL string
	// AppStartURL is where a sign-in arriving without a state (Clever Portal, Instant Login) is sent so
	// that the app starts one bound to its own cookie; empty: straight back to Clever.
	AppStartURL string
	// LinkRedirectURI is the redirect URI of invite sign-ins when it differs from the login one
	// (PublicURL/auth/clever/callback); it must be registered with Clever and lead to this server.
	LinkRedirectURI string
	// MatchOrder overrides matching's field order per record type ("student=state_id,sis_id,dob,name;…",
	// match.ParseOrders); empty keeps Clever's. Read with matchOptions.
	MatchOrder string
}

// matchOptions are the options of every apprecord.Service the process makes: the log, and the field
// orders of MatchOrder.
func (c config) matchOptions(logger *slog.Logger) ([]apprecord.Option, error) {
	orders, err := match.ParseOrders(c.MatchOrder)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envMatchOrder, err)
	}
	opts := []apprecord.Option{apprecord.WithLogger(logger)}
	for typ, cfg := range orders {
		opts = append(opts, apprecord.WithConfig(typ, cfg))
	}
	return opts, nil
}

// publicURL is PublicURL, or http://<Addr> with localhost for an address without a host.
func (c config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host := c.Addr
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	return "http://" + host
}

// loadConfig reads the environment through getenv and fills in the defaults. It does not validate:
// each command checks what it needs (see secretBox, staticTokens, validateClever), so that migrate
// does not demand a secret key.
func loadConfig(getenv func(string) string) config {
	or := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	return config{
		DatabaseURL:    or(envDatabaseURL, store.DefaultURL),
		Addr:           or(envAddr, defaultAddr),
		CleverAPIURL:   or(envCleverAPIURL, defaultCleverAPIURL),
		CleverOAuthURL: or(envCleverOAuthURL, defaultCleverOAuthURL),
		ClientID:       or(envClientID, ""),
		ClientSecret:   or(envClientSecret, ""),
		DistrictTokens: or(envDistrictTokens, ""),
		SyncSchedule:   or(envSyncSchedule, ""),
		EventsInterval: or(envEventsInterval, ""),
		SyncSpread:     or(envSyncSpread, ""),

		SyncConcurrency: or(envSyncConcurrent, ""),
		SecretKey:       getenv(envSecretKey), // a key is taken as given, spaces included

		GraphQLConcurrency: or(envConcurrency, ""),
		CompiledQueries:    or(envCompiled, ""),
		PublicURL:          or(envPublicURL, ""),
		AppLoginURL:        or(envAppLoginURL, ""),
		AppStartURL:        or(envAppStartURL, ""),
		LinkRedirectURI:    or(envLinkRedirect, ""),
		MatchOrder:         or(envMatchOrder, ""),
	}
}

// errSecretKeyMissing is the error of a command that needs ROSTERMIRROR_SECRET_KEY when it is unset.
var errSecretKeyMissing = errors.New(envSecretKey + " is required: generate one with `openssl rand -base64 32`")

// secretBox returns the box that encrypts tokens at rest, built from SecretKey.
func (c config) secretBox() (*secret.Box, error) {
	if c.SecretKey == "" {
		return nil, errSecretKeyMissing
	}
	return secret.NewBox(c.SecretKey) // its errors name the variable and how to make a key
}

// validateClever checks that the Clever app credentials come as a pair.
func (c config) validateClever() error {
	switch {
	case c.ClientID != "" && c.ClientSecret == "":
		return errors.New(envClientSecret + " is required when " + envClientID + " is set")
	case c.ClientID == "" && c.ClientSecret != "":
		return errors.New(envClientID + " is required when " + envClientSecret + " is set")
	}
	return nil
}

// staticTokens parses DistrictTokens.
func (c config) staticTokens() (map[string]clever.Token, error) {
	if c.DistrictTokens == "" {
		return nil, nil
	}
	return tokens.ParseStatic(c.DistrictTokens) // its errors name the variable, never a token
}

// scheduleOptions are the scheduler's settings from the configuration.
type scheduleOptions struct {
	Schedule       string
	EventsInterval time.Duration // 0: events sync off
	Concurrency    int
	Spread         time.Duration
}

// scheduleOptions reads SyncSchedule, EventsInterval, SyncConcurrency and SyncSpread, checking each the
// way the scheduler will use it.
func (c config) scheduleOptions() (scheduleOptions, error) {
	o := scheduleOptions{Schedule: c.SyncSchedule, EventsInterval: defaultEventsInterval,
		Concurrency: schedule.DefaultConcurrency, Spread: defaultSyncSpread}
	if _, _, err := schedule.ParseSchedule(c.SyncSchedule); err != nil {
		return o, fmt.Errorf("%s: %w", envSyncSchedule, err)
	}
	duration := func(env, value string, min time.Duration, want string) (time.Duration, error) {
		d, err := time.ParseDuration(value)
		if value == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 || (d > 0 && d < min) {
			return 0, fmt.Errorf("%s=%q: want %s", env, value, want)
		}
		return d, nil
	}
	var err error
	if c.EventsInterval != "" {
		if o.EventsInterval, err = duration(envEventsInterval, c.EventsInterval, time.Second,
			`a duration of at least 1s such as "5m", or 0 to turn the events sync off`); err != nil {
			return o, err
		}
	}
	if c.SyncSpread != "" {
		if o.Spread, err = duration(envSyncSpread, c.SyncSpread, 0,
			`a duration such as "1h" or "90s", or 0 to start every district's full sync at the scheduled time`); err != nil {
			return o, err
		}
	}
	if c.SyncConcurrency != "" {
		if o.Concurrency, err = count(envSyncConcurrent, c.SyncConcurrency, maxSyncConcurrency,
			fmt.Sprint(schedule.DefaultConcurrency)); err != nil {
			return o, err
		}
	}
	return o, nil
}

// graphqlOptions are the settings of the GraphQL handler that come from the configuration.
type graphqlOptions struct {
	// Concurrency is how many operations execute at once; 0 means graph.DefaultConcurrency.
	Concurrency int
	// ResolveAll turns compiled queries off.
	ResolveAll bool
}

// graphqlOptions reads GraphQLConcurrency and CompiledQueries.
func (c config) graphqlOptions() (graphqlOptions, error) {
	var o graphqlOptions
	if c.GraphQLConcurrency != "" {
		var err error
		if o.Concurrency, err = count(envConcurrency, c.GraphQLConcurrency, maxConcurrency,
			fmt.Sprintf("%d here: two per CPU, at least 4", graph.DefaultConcurrency())); err != nil {
			return o, err
		}
	}
	switch strings.ToLower(c.CompiledQueries) {
	case "", "on", "true", "1":
	case "off", "false", "0":
		o.ResolveAll = true
	default:
		return o, fmt.Errorf("%s=%q: want on or off", envCompiled, c.CompiledQueries)
	}
	return o, nil
}

// count reads a variable that is a whole number from 1 to max; its error names the variable, the range
// and the default (def).
func count(env, value string, max int, def string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s=%q: want a whole number from 1 to %d (default %s)", env, value, max, def)
	}
	return n, nil
}

// maxConcurrency bounds ROSTERMIRROR_GRAPHQL_CONCURRENCY: past the size of the connection pool,
// operations would wait for a connection in database/sql's random order instead of taking turns.
const maxConcurrency = store.PoolSize

// parseLogLevel reads a --log-level value: debug, info, warn or error (slog's names, any case).
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
