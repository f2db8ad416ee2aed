package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
)

// keyStore opens the database at url for the test, as the server would, and returns its key store.
func keyStore(t *testing.T, url string) *auth.Store {
	t.Helper()
	db, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return auth.NewStore(db, nil)
}

func TestAPIKeyCreateListRevoke(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	e := env{envDatabaseURL: url, "USER": "tester"} // no ROSTERMIRROR_SECRET_KEY: apikey does not need it
	ctx := t.Context()

	// create prints the key alone on stdout, advice on stderr.
	created := runCLI(t, ctx, e, "apikey", "create", "--name", "nightly reports", "--scope", "read", "--scope", "sensitive,admin")
	if created.code != exitOK {
		t.Fatalf("apikey create: exit %d, want 0", created.code)
	}
	if !regexp.MustCompile(`^rmk_[A-Za-z0-9_-]{43}\n$`).MatchString(created.stdout) {
		t.Fatalf("apikey create printed %q, want the key alone on one line", created.stdout)
	}
	key := strings.TrimSuffix(created.stdout, "\n")
	if lines := strings.Split(strings.TrimSuffix(created.stderr, "\n"), "\n"); len(lines) != 1 ||
		!strings.Contains(lines[0], "not shown again") || !strings.Contains(lines[0], key[:12]) {
		t.Errorf("apikey create stderr %q, want one line of advice naming the prefix", created.stderr)
	}
	if strings.Contains(created.stderr, key[12:]) {
		t.Error("apikey create repeats the key on stderr")
	}

	// The key authenticates against the same database.
	keys := keyStore(t, url)
	k, err := keys.Authenticate(ctx, key)
	if err != nil {
		t.Fatalf("authenticate the printed key: %v", err)
	}
	if want := []auth.Scope{auth.ScopeRead, auth.ScopeAdmin, auth.ScopeSensitive}; k.Name != "nightly reports" ||
		!slices.Equal(k.Scopes, want) || k.CreatedBy != "cli:tester" {
		t.Errorf("created key %+v, want name \"nightly reports\", scopes %v, created by cli:tester", k, want)
	}

	// list shows it, never the secret.
	list := runCLI(t, ctx, e, "apikey", "list")
	if list.code != exitOK {
		t.Fatalf("apikey list: exit %d, want 0", list.code)
	}
	rows := strings.Split(strings.TrimSuffix(list.stdout, "\n"), "\n")
	if len(rows) != 2 || !regexp.MustCompile(`^ID +NAME +PREFIX +SCOPES +CREATED +LAST USED +REVOKED$`).MatchString(rows[0]) {
		t.Fatalf("apikey list printed %q, want a header and one row", list.stdout)
	}
	row := regexp.MustCompile(`^` + k.ID + ` +nightly reports +` + regexp.QuoteMeta(k.Prefix) +
		` +read,admin,sensitive +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +-$`)
	if !row.MatchString(rows[1]) {
		t.Errorf("apikey list row %q, want id, name, prefix, scopes, created, last used and no revocation", rows[1])
	}
	sum := sha256.Sum256([]byte(key))
	for _, secret := range []string{key[12:], hex.EncodeToString(sum[:])} {
		if strings.Contains(list.stdout+list.stderr, secret) {
			t.Errorf("apikey list shows the key or its hash")
		}
	}

	// revoke by prefix; the key stops working.
	revoked := runCLI(t, ctx, e, "apikey", "revoke", k.Prefix)
	if want := "revoked API key " + k.ID + " (nightly reports, " + k.Prefix + ")\n"; revoked.code != exitOK || revoked.stdout != want {
		t.Fatalf("apikey revoke: exit %d, %q; want 0, %q", revoked.code, revoked.stdout, want)
	}
	// A server that did not revoke it itself trusts a key it accepted for up to auth.CacheTTL; one that
	// looks the key up (a fresh store here) refuses it at once.
	if _, err := keyStore(t, e[envDatabaseURL]).Authenticate(ctx, key); !errors.Is(err, auth.ErrInvalidKey) {
		t.Errorf("authenticate a revoked key = %v, want ErrInvalidKey", err)
	}
	list = runCLI(t, ctx, e, "apikey", "list")
	if !regexp.MustCompile(`\d\dZ\n$`).MatchString(list.stdout) {
		t.Errorf("apikey list after revoke %q, want the revocation time in the last column", list.stdout)
	}

	// Again, by id: nothing changes, and it says so.
	again := runCLI(t, ctx, e, "apikey", "revoke", k.ID)
	if again.code != exitOK || !strings.Contains(again.stdout, "was already revoked at ") {
		t.Errorf("apikey revoke of a revoked key: exit %d, %q; want 0 and \"was already revoked\"", again.code, again.stdout)
	}

	unknown := runCLI(t, ctx, e, "apikey", "revoke", "rmk_nothere")
	if unknown.code != exitFailure || !strings.Contains(unknown.stderr, "error: revoke API key rmk_nothere: no such API key") {
		t.Errorf("apikey revoke of an unknown key: exit %d, stderr %q; want 1 and \"no such API key\"", unknown.code, unknown.stderr)
	}
}

func TestAPIKeyUsageErrors(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.URL(t)}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"apikey", "create", "--name", "x"}, "--scope is required"},
		{[]string{"apikey", "create", "--name", "x", "--scope", "read,root"}, `unknown scope "root": want read, admin, sensitive or metrics`},
		{[]string{"apikey", "create", "--name", "x", "--scope", ""}, "empty scope"},
		{[]string{"apikey", "create", "--scope", "read"}, "--name is required"},
		{[]string{"apikey", "create", "--name", "x", "--scope", "read", "extra"}, "unknown command"},
		{[]string{"apikey", "revoke"}, "accepts 1 arg(s), received 0"},
		{[]string{"apikey", "revoke", "a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"apikey"}, "apikey needs a subcommand"},
		{[]string{"apikey", "frob"}, `unknown command "frob"`},
	}
	for _, tt := range tests {
		r := runCLI(t, t.Context(), e, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, stderr naming %q",
				strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.want)
		}
	}
	// None of them created a key.
	list := runCLI(t, t.Context(), e, "apikey", "list")
	if list.code != exitOK || strings.Count(list.stdout, "\n") != 1 {
		t.Errorf("apikey list after usage errors: exit %d, %q; want the header only", list.code, list.stdout)
	}
}

func TestAPIKeyRefusesUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.EmptyURL(t)}
	for _, args := range [][]string{
		{"apikey", "create", "--name", "x", "--scope", "read"},
		{"apikey", "list"},
		{"apikey", "revoke", "abc"},
	} {
		r := runCLI(t, t.Context(), e, args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "database is not migrated: run `rostermirror migrate`") || r.stdout != "" {
			t.Errorf("%s on an unmigrated database: exit %d, stdout %q, stderr %q; want exit 1 and the migrate hint",
				strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}
