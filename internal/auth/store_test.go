package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is what a test works with besides the store.
type bundle struct {
	db    *store.DB
	clock *clock
	logs  *testlog.Log
	log   *slog.Logger
}

// setup returns a Store over a migrated database of the test's own, with a fake clock and captured logs.
func setup(t *testing.T) (*auth.Store, bundle) {
	t.Helper()
	b := bundle{
		db:    dbtest.New(t),
		clock: &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},
	}
	b.log, b.logs = testlog.New(t)
	return auth.NewStore(b.db, b.clock.Now, auth.WithLogger(b.log)), b
}

// createKey creates a key with the given scopes and fails the test on error.
func createKey(t *testing.T, s *auth.Store, name string, scopes ...auth.Scope) (string, auth.Key) {
	t.Helper()
	key, k, err := s.Create(t.Context(), name, scopes, "test")
	if err != nil {
		t.Fatalf("create key %q: %v", name, err)
	}
	return key, k
}

var keyPattern = regexp.MustCompile(`^rmk_[A-Za-z0-9_-]{43}$`)

func TestCreateThenAuthenticate(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	ctx := t.Context()

	key, created, err := s.Create(ctx, "  nightly export ", []auth.Scope{auth.ScopeSensitive, auth.ScopeRead, auth.ScopeRead}, "cli:alice")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !keyPattern.MatchString(key) {
		t.Errorf("key %q does not look like rmk_ + 43 base64url characters", key)
	}
	if created.Prefix != key[:12] {
		t.Errorf("prefix %q, want the key's first 12 characters %q", created.Prefix, key[:12])
	}
	if created.Name != "nightly export" || created.CreatedBy != "cli:alice" ||
		!slices.Equal(created.Scopes, []auth.Scope{auth.ScopeRead, auth.ScopeSensitive}) ||
		!created.CreatedAt.Equal(b.clock.Now()) || created.LastUsedAt != nil || created.RevokedAt != nil {
		t.Errorf("created %+v: want name trimmed, scopes de-duplicated in order, created now, never used", created)
	}

	got, err := s.Authenticate(ctx, key)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got.ID != created.ID || got.Name != created.Name || !slices.Equal(got.Scopes, created.Scopes) {
		t.Errorf("Authenticate = %+v, want %+v", got, created)
	}
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(b.clock.Now()) {
		t.Errorf("LastUsedAt = %v, want now", got.LastUsedAt)
	}

	key2, _ := createKey(t, s, "second", auth.ScopeRead)
	if key2 == key {
		t.Error("two keys are equal")
	}
	if got, err := s.Authenticate(ctx, key2); err != nil || got.ID == created.ID {
		t.Errorf("Authenticate(second key) = %+v, %v; want the second key", got, err)
	}
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	tests := []struct {
		name    string
		scopes  []auth.Scope
		wantErr string
	}{
		{"x", nil, "create API key: a key needs at least one scope: read, admin, sensitive or metrics"},
		{" ", []auth.Scope{auth.ScopeRead}, "create API key: a key needs a name that says what it is for"},
		{"a\tb", []auth.Scope{auth.ScopeRead}, "create API key: name contains a control character"},
		{strings.Repeat("n", 201), []auth.Scope{auth.ScopeRead}, "create API key: name is longer than 200 characters"},
		{"x", []auth.Scope{"root"}, `create API key: parse scopes: unknown scope "root": want read, admin, sensitive or metrics`},
	}
	for _, tt := range tests {
		if _, _, err := s.Create(t.Context(), tt.name, tt.scopes, "test"); err == nil || err.Error() != tt.wantErr {
			t.Errorf("Create(%q, %q) error = %v, want %q", tt.name, tt.scopes, err, tt.wantErr)
		}
	}
	if keys, err := s.List(t.Context()); err != nil || len(keys) != 0 {
		t.Errorf("List after rejected creates = %d keys, %v; want none", len(keys), err)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	ctx := t.Context()
	key, _ := createKey(t, s, "good", auth.ScopeRead)
	revoked, rk := createKey(t, s, "revoked", auth.ScopeAdmin)
	if _, err := s.Revoke(ctx, rk.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}

	// Flip the last character of the secret to another valid one: well-formed, unknown.
	last := key[len(key)-1]
	other := byte('A')
	if last == 'A' {
		other = 'Q' // keeps the final character's unused bits zero, as canonical base64 wants
	}
	unknown := key[:len(key)-1] + string(other)

	for name, k := range map[string]string{
		"empty":          "",
		"unknown":        unknown,
		"revoked":        revoked,
		"no prefix":      key[4:],
		"other prefix":   "rmx_" + key[4:],
		"truncated":      key[:len(key)-1],
		"extended":       key + "A",
		"not base64url":  key[:20] + "+" + key[21:],
		"with spaces":    " " + key,
		"prefix only":    key[:12],
		"hash of a key":  hashHex(key),
		"upper-cased":    strings.ToUpper(key),
		"non-canonical":  key[:len(key)-1] + "B", // final character with non-zero unused bits
		"just the token": "rmk_",
	} {
		if k == key {
			continue // upper-casing a key that has no lower-case letters; vanishingly unlikely
		}
		got, err := s.Authenticate(ctx, k)
		if !errors.Is(err, auth.ErrInvalidKey) || err.Error() != auth.ErrInvalidKey.Error() {
			t.Errorf("Authenticate(%s) = %+v, %v; want exactly ErrInvalidKey", name, got, err)
		}
		if got.ID != "" {
			t.Errorf("Authenticate(%s) returned key %s alongside the error", name, got.ID)
		}
	}
}

func hashHex(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func TestDatabaseHoldsNoKey(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	key, k := createKey(t, s, "scan me", auth.ScopeAdmin, auth.ScopeSensitive)
	secretPart := key[len("rmk_"):]

	rows, err := b.db.SQL.QueryContext(t.Context(), "SELECT * FROM api_keys")
	if err != nil {
		t.Fatalf("select api_keys: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			text := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				text = string(b)
			}
			if strings.Contains(text, secretPart) || strings.Contains(text, key[:20]) {
				t.Errorf("column %s holds the key: %q", cols[i], text)
			}
			switch cols[i] {
			case "hash":
				if text != hashHex(key) {
					t.Errorf("hash column %q, want the key's sha-256 hex", text)
				}
			case "prefix":
				if text != k.Prefix || len(text) != 12 {
					t.Errorf("prefix column %q, want %q", text, k.Prefix)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("api_keys has %d rows, want 1", n)
	}
}

func TestLastUsedThrottled(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	ctx := t.Context()
	key, k := createKey(t, s, "busy", auth.ScopeRead)
	t0 := b.clock.Now()

	stored := func() *time.Time {
		t.Helper()
		row, err := b.db.Client.APIKey.Get(ctx, k.ID)
		if err != nil {
			t.Fatalf("get key: %v", err)
		}
		return row.LastUsedAt
	}
	authAt := func(offset time.Duration, want time.Time) {
		t.Helper()
		b.clock.Advance(t0.Add(offset).Sub(b.clock.Now()))
		got, err := s.Authenticate(ctx, key)
		if err != nil {
			t.Fatalf("Authenticate at +%s: %v", offset, err)
		}
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
			t.Errorf("at +%s: returned LastUsedAt %v, want %v", offset, got.LastUsedAt, want)
		}
		if db := stored(); db == nil || !db.Equal(want) {
			t.Errorf("at +%s: stored last_used_at %v, want %v", offset, db, want)
		}
	}

	if stored() != nil {
		t.Fatal("a new key has last_used_at set")
	}
	authAt(0, t0)                            // first use: written
	authAt(30*time.Second, t0)               // within the interval: not written
	authAt(59*time.Second, t0)               // still not
	authAt(time.Minute, t0.Add(time.Minute)) // a full interval later: written
	authAt(time.Minute+10*time.Second, t0.Add(time.Minute))
	authAt(5*time.Minute, t0.Add(5*time.Minute))
}

func TestLastUsedConcurrent(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	key, k := createKey(t, s, "concurrent", auth.ScopeRead)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := s.Authenticate(t.Context(), key); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Authenticate: %v", err)
	}
	row, err := b.db.Client.APIKey.Get(t.Context(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.LastUsedAt == nil || !row.LastUsedAt.Equal(b.clock.Now()) {
		t.Errorf("last_used_at %v, want %v", row.LastUsedAt, b.clock.Now())
	}
	if strings.Contains(b.logs.String(), "record API key use") {
		t.Errorf("a last-used write failed:\n%s", b.logs)
	}
}

func TestListAndRevoke(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	ctx := t.Context()
	keyA, a := createKey(t, s, "a", auth.ScopeRead)
	b.clock.Advance(time.Second)
	keyB, kb := createKey(t, s, "b", auth.ScopeAdmin)
	b.clock.Advance(time.Second)
	keyC, c := createKey(t, s, "c", auth.ScopeRead)

	keys, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if want := []string{a.ID, kb.ID, c.ID}; !slices.Equal(ids, want) {
		t.Fatalf("List ids %v, want %v (oldest first)", ids, want)
	}

	// By id.
	b.clock.Advance(time.Minute)
	revokedAt := b.clock.Now()
	got, err := s.Revoke(ctx, a.ID)
	if err != nil || got.ID != a.ID || got.RevokedAt == nil || !got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("Revoke(id) = %+v, %v; want key a revoked now", got, err)
	}
	// By prefix.
	if got, err := s.Revoke(ctx, kb.Prefix); err != nil || got.ID != kb.ID {
		t.Fatalf("Revoke(prefix) = %+v, %v; want key b", got, err)
	}
	// By the key itself; the error of an unknown one does not repeat it.
	if got, err := s.Revoke(ctx, keyC); err != nil || got.ID != c.ID {
		t.Fatalf("Revoke(key) = %+v, %v; want key c", got, err)
	}
	for _, k := range []string{keyA, keyB, keyC} {
		if _, err := s.Authenticate(ctx, k); !errors.Is(err, auth.ErrInvalidKey) {
			t.Errorf("Authenticate(revoked) = %v, want ErrInvalidKey", err)
		}
	}

	// Again: already revoked, RevokedAt unchanged.
	b.clock.Advance(time.Hour)
	got, err = s.Revoke(ctx, a.ID)
	if !errors.Is(err, auth.ErrAlreadyRevoked) || got.ID != a.ID || got.RevokedAt == nil || !got.RevokedAt.Equal(revokedAt) {
		t.Errorf("Revoke(revoked) = %+v, %v; want ErrAlreadyRevoked with the first revocation time", got, err)
	}

	if _, err := s.Revoke(ctx, "rmk_nothere"); !errors.Is(err, auth.ErrKeyNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrKeyNotFound", err)
	}
	unknownKey := "rmk_" + strings.Repeat("A", 43)
	if _, err := s.Revoke(ctx, unknownKey); !errors.Is(err, auth.ErrKeyNotFound) || strings.Contains(err.Error(), unknownKey) {
		t.Errorf("Revoke(unknown key) = %v, want ErrKeyNotFound without the key in the message", err)
	}

	keys, err = s.List(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatalf("List after revoking = %d keys, %v; want all 3, revoked ones included", len(keys), err)
	}
	for _, k := range keys {
		if !k.Revoked() {
			t.Errorf("key %s not revoked in List", k.Name)
		}
	}
}

func TestRevokeAmbiguousPrefix(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	_, a := createKey(t, s, "a", auth.ScopeRead)
	_, c := createKey(t, s, "c", auth.ScopeRead)
	// Prefixes are 48 random bits: force a collision.
	if _, err := b.db.SQL.ExecContext(t.Context(), rebind(b.db, "UPDATE api_keys SET prefix = ? WHERE id = ?"), a.Prefix, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(t.Context(), a.Prefix); !errors.Is(err, auth.ErrAmbiguousPrefix) {
		t.Errorf("Revoke(shared prefix) = %v, want ErrAmbiguousPrefix", err)
	}
	if _, err := s.Revoke(t.Context(), a.ID); err != nil {
		t.Errorf("Revoke(id) with a shared prefix = %v, want nil", err)
	}
}

// rebind turns ? placeholders into $1, $2, … on Postgres.
func rebind(db *store.DB, query string) string {
	if db.Dialect != "postgres" {
		return query
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string {
		n++
		return fmt.Sprintf("$%d", n)
	})
}

// A key whose last_used_at cannot be written (its row is locked by a long transaction) still
// authenticates, within touchTimeout; the failure is logged by id and prefix, never with the key.
func TestTouchFailureDoesNotFailAuthentication(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	key, k := createKey(t, s, "locked out", auth.ScopeRead)

	tx, err := b.db.SQL.BeginTx(t.Context(), nil) // SQLite: takes the write lock (_txlock=immediate)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), rebind(b.db, "UPDATE api_keys SET name = name WHERE id = ?"), k.ID); err != nil {
		t.Fatal(err) // Postgres: locks the row
	}

	start := time.Now()
	got, err := s.Authenticate(t.Context(), key)
	if err != nil {
		t.Fatalf("Authenticate with the row locked = %v, want the key", err)
	}
	// Postgres waits for the row lock up to touchTimeout (2s); SQLite does not wait for the write lock.
	limit, msg := 5*time.Second, `"level":"WARN","msg":"record API key use"`
	if !dbtest.Postgres() {
		limit, msg = time.Second, `"level":"DEBUG","msg":"API key use not recorded: database busy"`
	}
	if elapsed := time.Since(start); elapsed > limit {
		t.Errorf("Authenticate took %s with the row locked, want under %s", elapsed, limit)
	}
	if got.ID != k.ID || got.LastUsedAt != nil {
		t.Errorf("Authenticate = %+v, want key %s with LastUsedAt still unset", got, k.ID)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, msg) || !strings.Contains(logs, k.ID) || !strings.Contains(logs, k.Prefix) {
		t.Errorf("logs do not report the skipped write (%s) by key id and prefix:\n%s", msg, logs)
	}
	if strings.Contains(logs, key[len(k.Prefix):]) {
		t.Errorf("logs hold the key:\n%s", logs)
	}
}

// On SQLite the last-used write runs with busy_timeout 0; the connection goes back to the pool with
// the store's busy timeout.
func TestSQLiteBusyTimeoutRestored(t *testing.T) {
	t.Parallel()
	if dbtest.Postgres() {
		t.Skip("SQLite only")
	}
	s, b := setup(t)
	b.db.SQL.SetMaxOpenConns(1) // one connection: the one the write used
	key, _ := createKey(t, s, "x", auth.ScopeRead)
	var before int
	if err := b.db.SQL.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(t.Context(), key); err != nil || got.LastUsedAt == nil {
		t.Fatalf("Authenticate = %+v, %v; want the use recorded", got, err)
	}
	var after int
	if err := b.db.SQL.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before == 0 || after != before {
		t.Errorf("busy_timeout %d after the write, want %d as before", after, before)
	}
}

// TestRevokeThroughTheStoreIsImmediate: the store that revokes a key forgets its cached acceptance.
func TestRevokeThroughTheStoreIsImmediate(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	s := auth.NewStore(db, nil)
	ctx := t.Context()
	key, k, err := s.Create(ctx, "cached", []auth.Scope{auth.ScopeRead}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key); err != nil { // now cached
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key); !errors.Is(err, auth.ErrInvalidKey) {
		t.Errorf("authenticate after revoke = %v, want ErrInvalidKey", err)
	}
}

// A key revoked by another Store (the CLI, another replica) stops working on a Store that keeps using it
// within CacheTTL of the revocation: using a cached key does not extend how long it is trusted.
func TestRevokeElsewhereTakesEffectWithinCacheTTL(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	other := auth.NewStore(b.db, b.clock.Now)
	ctx := t.Context()
	key, k := createKey(t, s, "busy", auth.ScopeRead)

	// Steady use for three times CacheTTL, in steps shorter than CacheTTL: the cached key is never idle
	// long enough to expire.
	const step = 3 * time.Second
	for range 10 {
		if _, err := s.Authenticate(ctx, key); err != nil {
			t.Fatalf("Authenticate before the revocation: %v", err)
		}
		b.clock.Advance(step)
	}
	if _, err := other.Revoke(ctx, k.ID); err != nil {
		t.Fatalf("Revoke through the other store: %v", err)
	}
	refused := false
	for elapsed := time.Duration(0); elapsed <= auth.CacheTTL+step; elapsed += step {
		_, err := s.Authenticate(ctx, key)
		switch {
		case errors.Is(err, auth.ErrInvalidKey):
			refused = true
		case err != nil:
			t.Fatalf("Authenticate %s after the revocation: %v", elapsed, err)
		case refused:
			t.Fatalf("Authenticate %s after the revocation accepted the key it had refused before", elapsed)
		case elapsed >= auth.CacheTTL:
			t.Fatalf("Authenticate %s after another store revoked the key still accepts it; want it refused within CacheTTL (%s)",
				elapsed, auth.CacheTTL)
		}
		b.clock.Advance(step)
	}
}

// When another Store (another replica) recorded a key's use within LastUsedInterval, a Store whose cached
// LastUsedAt is older finds that its write changes nothing, and does not write again until the interval
// has passed.
func TestLastUsedRecordedElsewhere(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	other := auth.NewStore(b.db, b.clock.Now)
	ctx := t.Context()
	key, k := createKey(t, s, "two replicas", auth.ScopeRead)
	t0 := b.clock.Now()

	authAt := func(s *auth.Store, offset time.Duration) auth.Key {
		t.Helper()
		b.clock.Advance(t0.Add(offset).Sub(b.clock.Now()))
		got, err := s.Authenticate(ctx, key)
		if err != nil {
			t.Fatalf("Authenticate at +%s: %v", offset, err)
		}
		return got
	}
	stored := func() *time.Time {
		t.Helper()
		row, err := b.db.Client.APIKey.Get(ctx, k.ID)
		if err != nil {
			t.Fatalf("get key: %v", err)
		}
		return row.LastUsedAt
	}

	// s records the first use, at t0. At +55s its cached key is older than CacheTTL: it reads the key
	// again, last used within the interval, and caches it until +55s+CacheTTL. At +60s other records a
	// use. At +61s s's cached LastUsedAt is a full interval old: s writes, and its write changes nothing.
	authAt(s, 0)
	readAt := 55 * time.Second
	authAt(s, readAt)
	authAt(other, time.Minute)
	got := authAt(s, 61*time.Second)
	if want := t0.Add(61 * time.Second); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt %v after another store recorded the use, want %v (now: the use is recorded)", got.LastUsedAt, want)
	}
	if db := stored(); db == nil || !db.Equal(t0.Add(time.Minute)) {
		t.Fatalf("stored last_used_at %v, want the other store's %v", db, t0.Add(time.Minute))
	}

	// Set the stored time back by a full interval, so that a further write from s would change it.
	if _, err := b.db.SQL.ExecContext(ctx, rebind(b.db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?"), t0, k.ID); err != nil {
		t.Fatal(err)
	}
	// Uses while s still trusts its cached key: no write, though the stored time would let one through.
	for offset := 62 * time.Second; offset < readAt+auth.CacheTTL; offset += time.Second {
		got := authAt(s, offset)
		if want := t0.Add(61 * time.Second); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
			t.Errorf("at +%s: LastUsedAt %v, want %v", offset, got.LastUsedAt, want)
		}
	}
	if db := stored(); db == nil || !db.Equal(t0) {
		t.Errorf("stored last_used_at %v, want %v: the store wrote it again within LastUsedInterval", db, t0)
	}
}
