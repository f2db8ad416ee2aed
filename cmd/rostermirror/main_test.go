package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// testSecretKey is a usable ROSTERMIRROR_SECRET_KEY.
const testSecretKey = "test-secret-key-0123456789abcdefghijklmnop"

// env is a fake environment for run.
type env map[string]string

func (e env) get(key string) string { return e[key] }

// with returns a copy of e with kv (key, value, key, value, …) set.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line args with environment e and returns its exit code and output.
func runCLI(t *testing.T, ctx context.Context, e env, args ...string) result {
	t.Helper()
	var stdout, stderr testlog.Buffer // the command writes while the test reads
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, e.get)
	t.Logf("rostermirror %s → %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return result{code, stdout.String(), stderr.String()}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.EmptyURL(t)}

	first := runCLI(t, t.Context(), e, "migrate")
	if first.code != exitOK {
		t.Fatalf("first migrate: exit %d, want 0", first.code)
	}
	if !regexp.MustCompile(`^applied [1-9][0-9]* migrations?; database is up to date\n$`).MatchString(first.stdout) {
		t.Errorf("first migrate printed %q, want \"applied N migration(s); database is up to date\"", first.stdout)
	}

	second := runCLI(t, t.Context(), e, "migrate")
	if second.code != exitOK {
		t.Fatalf("second migrate: exit %d, want 0", second.code)
	}
	if want := "applied 0 migrations; database is up to date\n"; second.stdout != want {
		t.Errorf("second migrate printed %q, want %q", second.stdout, want)
	}
}

func TestDatabaseURLFlagOverridesEnv(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: "mysql://nowhere/db"}
	if r := runCLI(t, t.Context(), e, "migrate"); r.code != exitFailure || !strings.Contains(r.stderr, "postgres://") {
		t.Errorf("migrate with a mysql URL: exit %d, stderr %q; want 1 and a hint at postgres://", r.code, r.stderr)
	}
	url := "file:" + filepath.Join(t.TempDir(), "flag.db")
	if r := runCLI(t, t.Context(), e, "migrate", "--database-url", url); r.code != exitOK {
		t.Errorf("migrate --database-url: exit %d, want 0", r.code)
	}
}

func TestRefusesUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"sync"}, {"sync", "--district", "d1"}, {"serve", "--addr", "127.0.0.1:0"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			e := env{envDatabaseURL: dbtest.EmptyURL(t), envSecretKey: testSecretKey}
			r := runCLI(t, t.Context(), e, args...)
			if r.code != exitFailure {
				t.Errorf("exit %d, want %d", r.code, exitFailure)
			}
			if !strings.Contains(r.stderr, "run `rostermirror migrate`") {
				t.Errorf("stderr %q does not say to run `rostermirror migrate`", r.stderr)
			}
		})
	}
}

func TestSecretKeyRequired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{"missing", "", "ROSTERMIRROR_SECRET_KEY is required: generate one with `openssl rand -base64 32`"},
		{"short", "too-short", "ROSTERMIRROR_SECRET_KEY"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"sync", "serve"} {
			t.Run(tt.name+" "+cmd, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "never.db")
				e := env{envDatabaseURL: "file:" + path}
				if tt.key != "" {
					e[envSecretKey] = tt.key
				}
				r := runCLI(t, t.Context(), e, cmd)
				if r.code != exitFailure {
					t.Errorf("exit %d, want %d", r.code, exitFailure)
				}
				if !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr %q does not contain %q", r.stderr, tt.want)
				}
				if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
					t.Errorf("stderr %q: want a one-line error", r.stderr)
				}
				if m, _ := filepath.Glob(path + "*"); len(m) != 0 {
					t.Errorf("a configuration error left database files behind: %v", m)
				}
			})
		}
	}
}

func TestServeBadSchedule(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.URL(t), envSecretKey: testSecretKey, envSyncSchedule: "61 * * * *"}
	r := runCLI(t, t.Context(), e, "serve", "--addr", "127.0.0.1:0")
	if r.code != exitFailure || !strings.Contains(r.stderr, "ROSTERMIRROR_SYNC_SCHEDULE: ") {
		t.Errorf("exit %d, stderr %q; want 1 and an error naming ROSTERMIRROR_SYNC_SCHEDULE", r.code, r.stderr)
	}
}

// TestBadGraphQLSettings: serve and demo refuse a malformed ROSTERMIRROR_GRAPHQL_CONCURRENCY or
// ROSTERMIRROR_COMPILED_QUERIES before they touch the database, naming the variable.
func TestBadGraphQLSettings(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "demo"} {
		for _, bad := range []env{{envConcurrency: "0"}, {envConcurrency: "many"}, {envCompiled: "sometimes"}} {
			dir := t.TempDir()
			e := env{envDatabaseURL: "file:" + dir + "/rm.db", envSecretKey: testSecretKey}
			var name string
			for k, v := range bad {
				e[k], name = v, k
			}
			r := runCLI(t, t.Context(), e, cmd, "--addr", "127.0.0.1:0")
			if r.code != exitFailure || !strings.Contains(r.stderr, name+"=") {
				t.Errorf("%s with %v: exit %d, stderr %q; want 1 and an error naming %s", cmd, bad, r.code, r.stderr, name)
			}
			if _, err := os.Stat(dir + "/rm.db"); err == nil {
				t.Errorf("%s with %v left a database file behind", cmd, bad)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"sync", "--approve-held", "r1", "--district", "d1"}, "--approve-held cannot be combined with --district, --dry-run or --mode"},
		{[]string{"sync", "--reject-held", "r1", "--dry-run"}, "--reject-held cannot be combined with --district, --dry-run or --mode"},
		{[]string{"sync", "--approve-held", "r1", "--mode", "full"}, "--approve-held cannot be combined with --district, --dry-run or --mode"},
		{[]string{"sync", "--mode", "incremental"}, `--mode "incremental": want auto, full, events`},
		{[]string{"sync", "--approve-held", "r1", "--reject-held", "r1"}, "cannot be combined"},
		{[]string{"sync", "--district", ""}, "--district needs a Clever district id"},
		{[]string{"sync", "--district", "d1,,d2"}, "--district needs a Clever district id"},
		{[]string{"sync", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"sync", "stray"}, `unknown command "stray"`},
		{[]string{"serve", "stray"}, `unknown command "stray"`},
		{[]string{"migrate", "--addr", ":1"}, "unknown flag: --addr"},
		{[]string{"no-such-command"}, `unknown command "no-such-command"`},
		{[]string{"--log-level", "loud", "migrate"}, `invalid --log-level "loud"`},
		{[]string{"demo", "extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			e := env{envDatabaseURL: "file:" + filepath.Join(t.TempDir(), "never.db"), envSecretKey: testSecretKey}
			r := runCLI(t, t.Context(), e, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("stderr %q: want %q and a pointer to --help", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	r := runCLI(t, t.Context(), env{}, "--help")
	if r.code != exitOK {
		t.Errorf("exit %d, want 0", r.code)
	}
	for _, want := range append([]string{"migrate", "serve", "sync", "demo", "apikey", "org", "match", "Exit codes"}, envVars...) {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}
