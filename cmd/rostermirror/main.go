// Command rostermirror mirrors Clever school rosters into Postgres or SQLite and serves them.
//
//	rostermirror migrate                      apply schema migrations and exit
//	rostermirror sync [--district ID]... [--dry-run]
//	                                          sync now: progress on stderr, summary table on stdout
//	rostermirror sync --approve-held RUN      apply the archives a held run kept back
//	rostermirror sync --reject-held RUN       discard them
//	rostermirror serve                        scheduler and HTTP server until SIGINT/SIGTERM
//	rostermirror apikey create --name NAME --scope SCOPE...
//	                                          print a new API key once
//	rostermirror apikey list | revoke ID|PREFIX
//	rostermirror org import [--dry-run] FILE.csv
//	                                          create/update organizations from a CSV file, all or nothing
//	rostermirror match import --district ID --type TYPE [--id-column COL] [--map FIELD=COL,...] FILE.csv
//	                                          load the app's records of one type and match them to Clever's
//	rostermirror match export --district ID --type TYPE [--out FILE]
//	                                          the Matchmaker-format CSV of that type
//	rostermirror match rematch --district ID [--type TYPE]
//	                                          match the district's undecided app records again
//
// Configuration comes from the environment (ROSTERMIRROR_DATABASE_URL, ROSTERMIRROR_ADDR, CLEVER_API_URL,
// CLEVER_OAUTH_URL, CLEVER_CLIENT_ID, CLEVER_CLIENT_SECRET, CLEVER_DISTRICT_TOKENS,
// ROSTERMIRROR_SYNC_SCHEDULE, ROSTERMIRROR_SYNC_SPREAD, ROSTERMIRROR_EVENTS_INTERVAL,
// ROSTERMIRROR_SYNC_CONCURRENCY, ROSTERMIRROR_SECRET_KEY, ROSTERMIRROR_GRAPHQL_CONCURRENCY,
// ROSTERMIRROR_COMPILED_QUERIES, …); --database-url and --addr override it.
//
// Exit codes: 0 success (a sync held for approval included), 1 failure, 2 usage error.
//
// This package is the composition root: the only place that reads the environment and flags, builds the
// logger, the database, the Clever client, the engine, the scheduler and the HTTP server, and handles
// signals.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rostermirror/rostermirror/internal/logging"
)

// Exit codes of run.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful stop, a second one kills the process as usual.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run executes the command line args and returns the process exit code. Everything the commands touch
// of the outside world comes in as arguments, so tests drive it without a terminal or real environment;
// cancelling ctx is how a signal stops a command.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, stderrTerminal: isTerminal(stderr)}
	root := newRootCommand(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var usage usageError
	if !a.started || errors.As(err, &usage) {
		fmt.Fprintf(stderr, "error: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return exitFailure
}

// app is what every command shares: the process's writers and environment, and the configuration and
// logger built from them before the command runs.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrTerminal says whether stderr is a terminal: progress is drawn as spinners, else plain lines.
	stderrTerminal bool

	// started is set once flags and arguments were parsed and a command began to run; an error before
	// that is a usage error.
	started bool
	cfg     config
	logger  *slog.Logger
}

// usageError is a mistake in the command line: run prints it with a pointer to --help and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// rootFlags are the flags every command accepts.
type rootFlags struct {
	databaseURL string
	logLevel    string
}

// newRootCommand builds the command tree.
func newRootCommand(a *app) *cobra.Command {
	var f rootFlags
	root := &cobra.Command{
		Use:   "rostermirror",
		Short: "Mirror Clever school rosters into Postgres or SQLite and serve them",
		Long: `rostermirror mirrors Clever rostering data (districts, schools, users, sections, terms, courses)
into Postgres or SQLite, and links each district to the app's customer (organization).

Configuration comes from the environment; flags override it:
  ROSTERMIRROR_DATABASE_URL   database (default file:rostermirror.db; postgres://… selects Postgres)
  ROSTERMIRROR_ADDR           HTTP listen address of serve (default :8080)
  CLEVER_API_URL              Clever Data API base (default https://api.clever.com)
  CLEVER_OAUTH_URL            Clever OAuth base (default https://clever.com)
  CLEVER_CLIENT_ID            Clever app credentials, to list districts' tokens
  CLEVER_CLIENT_SECRET
  CLEVER_DISTRICT_TOKENS      optional districtID=token,… copied from the Clever dashboard
  ROSTERMIRROR_SYNC_SCHEDULE  cron expression of full syncs (default daily: 03:00 UTC)
  ROSTERMIRROR_SYNC_SPREAD    each district's full sync starts at a fixed offset within this window after
                              the scheduled time (default 1h; 0: all at the scheduled time)
  ROSTERMIRROR_EVENTS_INTERVAL
                              how often serve applies each district's new events (default 5m; 0: off)
  ROSTERMIRROR_SYNC_CONCURRENCY
                              scheduled syncs one serve process runs at once, 1-10 (default 4)
  ROSTERMIRROR_SECRET_KEY     encrypts tokens at rest and signs sign-in states; required by sync and serve
  ROSTERMIRROR_PUBLIC_URL     the server's external base URL, for Clever redirect URIs and invite
                              links (default http://<ROSTERMIRROR_ADDR>)
  ROSTERMIRROR_APP_LOGIN_URL  where /auth/clever/callback sends a signed-in user with a one-time code
  ROSTERMIRROR_APP_START_URL  where a sign-in without state (Clever Portal) is sent for the app to start
                              one bound to its own cookie (default: straight back to Clever)
  CLEVER_LINK_REDIRECT_URI    redirect URI of invite sign-ins, when not the login one
                              (<ROSTERMIRROR_PUBLIC_URL>/auth/clever/callback)
  ROSTERMIRROR_MATCH_ORDER    matching's field order per record type, strongest first, overriding
                              Clever's: "student=state_id,sis_id,dob,name;staff=staff_id,email,name"
  ROSTERMIRROR_GRAPHQL_CONCURRENCY
                              GraphQL operations executing at once, 1-20 (default 2 per CPU, at
                              least 4); the others wait their turn
  ROSTERMIRROR_COMPILED_QUERIES
                              on (default) or off: answer plain queries with one SQL statement
                              on Postgres

Exit codes: 0 success (a sync held for approval included), 1 failure, 2 usage error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			return a.configure(cmd, f)
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&f.databaseURL, "database-url", "", "database URL (overrides $"+envDatabaseURL+")")
	pf.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn or error (default info; warn for sync and match, whose output already says it)")
	root.AddCommand(newMigrateCommand(a), newSyncCommand(a), newServeCommand(a), newAPIKeyCommand(a), newDemoCommand(a), newOrgCommand(a), newMatchCommand(a), newProgressCommand(a))
	return root
}

// configure builds the configuration and the logger before a command runs.
func (a *app) configure(cmd *cobra.Command, f rootFlags) error {
	a.cfg = loadConfig(a.getenv)
	if f.databaseURL != "" {
		a.cfg.DatabaseURL = f.databaseURL
	}
	level := slog.LevelInfo
	if cmd.Name() == "sync" || (cmd.HasParent() && cmd.Parent().Name() == "match") {
		level = slog.LevelWarn
	}
	if f.logLevel != "" {
		l, err := parseLogLevel(f.logLevel)
		if err != nil {
			return usageError{err}
		}
		level = l
	}
	a.logger = logging.New(a.stderr, level) // JSON, with tokens and student PII redacted
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
