package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apikey"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Key format.
const (
	// KeyPrefix starts every API key, so that keys are recognisable (for example by secret scanners).
	KeyPrefix = "rmk_"
	// PrefixLen is how many of a key's first characters are stored in clear, to tell keys apart.
	PrefixLen = 12
	// secretBytes is how many random bytes a key carries.
	secretBytes = 32
	// keyLen is the length of a key: KeyPrefix and 43 base64url characters.
	keyLen = len(KeyPrefix) + (secretBytes*8+5)/6
	// maxNameLen is the longest name a key may have, in characters.
	maxNameLen = 200
)

// LastUsedInterval is how stale a key's LastUsedAt may get: Authenticate writes it at most once per
// interval per key, not once per request.
const LastUsedInterval = time.Minute

// touchTimeout bounds the write of LastUsedAt on Postgres, so that a busy database delays a request by
// at most this much; a failed write does not fail the request.
const touchTimeout = 2 * time.Second

var (
	// ErrKeyNotFound is returned by Revoke when no key has the given id or prefix.
	ErrKeyNotFound = errors.New("no such API key")
	// ErrAmbiguousPrefix is returned by Revoke when several keys share the given prefix: use the id.
	ErrAmbiguousPrefix = errors.New("several API keys have this prefix: use the id")
	// ErrAlreadyRevoked is returned by Revoke, together with the key, when the key was revoked before.
	ErrAlreadyRevoked = errors.New("API key was already revoked")
)

// Log attribute keys, defined once.
const (
	logKeyID  = "api_key_id"
	logPrefix = "api_key_prefix"
	logError  = "error"
	logReason = "reason"
)

// Store creates, checks, lists and revokes API keys in the api_keys table.
type Store struct {
	db  *store.DB
	now func() time.Time
	log *slog.Logger
	// accepted caches keys that authenticated, by hash, for CacheTTL from when they were read from the
	// database (using a cached key does not extend it): a busy API does not look every key up on every
	// request. Revoke purges it; a key revoked by another process stops working within CacheTTL.
	accepted *expirable.LRU[string, *acceptedKey]
}

// CacheTTL is how long an accepted key is trusted without looking it up again.
const CacheTTL = 10 * time.Second

// acceptedKey is a key in the accepted cache.
type acceptedKey struct {
	key      Key                       // as read from the database, but for LastUsedAt
	read     time.Time                 // when key was read: it is trusted until CacheTTL later
	lastUsed atomic.Pointer[time.Time] // the key's LastUsedAt as last known here; nil if never used
}

// Option configures a Store.
type Option func(*Store)

// WithLogger makes the Store log to l; the default discards. The Store logs only a failure to record
// when a key was last used (which does not fail the request), naming the key by id and prefix.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// NewStore returns a Store over db. now is the clock (time.Now when nil); tests inject their own.
func NewStore(db *store.DB, now func() time.Time, opts ...Option) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, now: now, log: slog.New(slog.DiscardHandler), accepted: expirable.NewLRU[string, *acceptedKey](10_000, nil, CacheTTL)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Create makes a new key with the given name (what it is for), scopes (at least one) and creator, and
// returns the key itself — the only time it is available: only its hash is stored — and its stored
// record.
func (s *Store) Create(ctx context.Context, name string, scopes []Scope, createdBy string) (string, Key, error) {
	name = strings.TrimSpace(name)
	if err := validateName(name); err != nil {
		return "", Key{}, fmt.Errorf("create API key: %w", err)
	}
	scopes, err := ParseScopes(scopeStrings(scopes)) // checks, de-duplicates and orders them
	if err != nil {
		return "", Key{}, fmt.Errorf("create API key: %w", err)
	}
	if len(scopes) == 0 {
		return "", Key{}, fmt.Errorf("create API key: a key needs at least one scope: %s", scopeNames())
	}
	key := newKey()
	row, err := s.db.Client.APIKey.Create().
		SetName(name).
		SetPrefix(key[:PrefixLen]).
		SetHash(hashKey(key)).
		SetScopes(scopeStrings(scopes)).
		SetCreatedBy(createdBy).
		SetCreatedAt(s.now().UTC()).
		Save(ctx)
	if err != nil {
		return "", Key{}, fmt.Errorf("create API key: %w", err)
	}
	return key, toKey(row), nil
}

// Authenticate returns the stored record of key. A key that is malformed, unknown or revoked gives
// ErrInvalidKey, whichever it was; any other error is the database's.
//
// The key is looked up by its hash, at most once a CacheTTL per key: a key revoked by another process
// is accepted for up to CacheTTL after. When the key's LastUsedAt is older than LastUsedInterval it is
// set to now (once, even when several requests race); a failure to write it is logged, not returned.
func (s *Store) Authenticate(ctx context.Context, key string) (Key, error) {
	if !wellFormed(key) {
		return Key{}, ErrInvalidKey
	}
	hash := hashKey(key)
	now := s.now().UTC()
	if a, ok := s.accepted.Get(hash); ok && now.Sub(a.read) < CacheTTL {
		return s.used(ctx, a, now), nil
	}
	row, err := s.db.Client.APIKey.Query().Where(apikey.Hash(hash)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return Key{}, ErrInvalidKey
	case err != nil:
		return Key{}, fmt.Errorf("authenticate API key: %w", err)
	case row.RevokedAt != nil:
		return Key{}, ErrInvalidKey
	}
	a := &acceptedKey{key: toKey(row), read: now}
	a.lastUsed.Store(row.LastUsedAt)
	k := s.used(ctx, a, now)
	s.accepted.Add(hash, a)
	return k, nil
}

// used records that a's key was used now (at most once a LastUsedInterval) and returns the key.
func (s *Store) used(ctx context.Context, a *acceptedKey, now time.Time) Key {
	k := a.key
	k.LastUsedAt = a.lastUsed.Load()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= LastUsedInterval {
		if s.touch(ctx, k, now) {
			k.LastUsedAt = &now
			a.lastUsed.Store(&now)
		}
	}
	return k
}

// touch sets k's last_used_at to now unless another request (here or in another process) did within
// LastUsedInterval, and reports whether the use is recorded: false only when the write failed. A
// failure is logged, not returned: it must not fail the request.
func (s *Store) touch(ctx context.Context, k Key, now time.Time) bool {
	var err error
	if s.db.Dialect == dialect.SQLite {
		err = s.touchSQLite(ctx, k.ID, now)
	} else {
		ctx, cancel := context.WithTimeout(ctx, touchTimeout)
		defer cancel()
		_, err = s.db.Client.APIKey.Update().
			Where(
				apikey.ID(k.ID),
				apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLTE(now.Add(-LastUsedInterval))),
			).
			SetLastUsedAt(now).
			Save(ctx)
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, context.Canceled):
	case isSQLiteBusy(err):
		// A sync holds the write lock; the next request after it will record the use.
		s.log.DebugContext(ctx, "API key use not recorded: database busy", slog.String(logKeyID, k.ID),
			slog.String(logPrefix, k.Prefix))
	default:
		s.log.WarnContext(ctx, "record API key use", slog.String(logKeyID, k.ID),
			slog.String(logPrefix, k.Prefix), slog.String(logError, err.Error()))
	}
	return false
}

// touchSQLite is touch on SQLite, where one writer at a time holds the database's write lock — a sync
// holds it for as long as it reads a record type from Clever, and the busy timeout would make the
// request wait for it. The write is therefore tried once, without waiting (busy_timeout 0 on the
// connection it uses, restored after), and skipped while the database is busy.
func (s *Store) touchSQLite(ctx context.Context, id string, now time.Time) error {
	conn, err := s.db.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return fmt.Errorf("read busy_timeout: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return fmt.Errorf("set busy_timeout: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", timeout)); err != nil {
			// Do not hand a connection that never waits back to the pool: discard it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	_, err = conn.ExecContext(ctx,
		"UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
		now, id, now.Add(-LastUsedInterval))
	return err
}

// isSQLiteBusy reports whether err is SQLite's "database is locked".
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// List returns every key, revoked ones included, oldest first.
func (s *Store) List(ctx context.Context) ([]Key, error) {
	rows, err := s.db.Client.APIKey.Query().
		Order(apikey.ByCreatedAt(), apikey.ByID()).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	keys := make([]Key, len(rows))
	for i, r := range rows {
		keys[i] = toKey(r)
	}
	return keys, nil
}

// Revoke revokes the key named by its id or its prefix — or by the key itself, for when a leaked key is
// all one has — and returns its record. Errors: ErrKeyNotFound, ErrAmbiguousPrefix, and
// ErrAlreadyRevoked together with the record of a key revoked before (its RevokedAt unchanged). Error
// messages never repeat a full key.
func (s *Store) Revoke(ctx context.Context, idOrPrefix string) (Key, error) {
	ref := strings.TrimSpace(idOrPrefix)
	where := apikey.Or(apikey.ID(ref), apikey.Prefix(ref))
	if wellFormed(ref) {
		where = apikey.Hash(hashKey(ref))
		ref = ref[:PrefixLen] + "…"
	}
	rows, err := s.db.Client.APIKey.Query().Where(where).Limit(2).All(ctx)
	switch {
	case err != nil:
		return Key{}, fmt.Errorf("revoke API key %s: %w", ref, err)
	case len(rows) == 0:
		return Key{}, fmt.Errorf("revoke API key %s: %w", ref, ErrKeyNotFound)
	case len(rows) > 1:
		return Key{}, fmt.Errorf("revoke API key %s: %w", ref, ErrAmbiguousPrefix)
	}
	id := rows[0].ID
	now := s.now().UTC()
	n, err := s.db.Client.APIKey.Update().
		Where(apikey.ID(id), apikey.RevokedAtIsNil()).
		SetRevokedAt(now).
		Save(ctx)
	s.accepted.Purge() // revocations are rare: forget every accepted key rather than track which
	if err != nil {
		return Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	if n == 0 {
		// Revoked before, perhaps a moment ago by someone else: report when it was.
		row, err := s.db.Client.APIKey.Get(ctx, id)
		if err != nil {
			return Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
		}
		return toKey(row), fmt.Errorf("revoke API key %s: %w", id, ErrAlreadyRevoked)
	}
	k := toKey(rows[0])
	k.RevokedAt = &now
	return k, nil
}

// newKey returns a new random key.
func newKey() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails: it crashes the program first
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed reports whether key has the shape of a key: KeyPrefix, then the canonical base64url
// encoding of secretBytes bytes.
func wellFormed(key string) bool {
	if len(key) != keyLen || !strings.HasPrefix(key, KeyPrefix) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(key[len(KeyPrefix):])
	return err == nil && len(b) == secretBytes
}

// hashKey returns what is stored of a key: its SHA-256, hex. A plain hash suffices (no salt, no slow
// KDF): the key carries 256 random bits, so there is nothing to brute-force.
func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// validateName checks a key's name (already trimmed): not empty, not too long, no control characters
// (it is printed in tables and logs).
func validateName(name string) error {
	switch {
	case name == "":
		return errors.New("a key needs a name that says what it is for")
	case utf8.RuneCountInString(name) > maxNameLen:
		return fmt.Errorf("name is longer than %d characters", maxNameLen)
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	case strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("name contains a control character")
	}
	return nil
}

// scopeStrings returns scopes as stored.
func scopeStrings(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = string(sc)
	}
	return out
}

// toKey converts a stored row; scopes unknown to this version are kept (Has ignores them).
func toKey(r *ent.APIKey) Key {
	scopes := make([]Scope, len(r.Scopes))
	for i, sc := range r.Scopes {
		scopes[i] = Scope(sc)
	}
	return Key{
		ID:         r.ID,
		Name:       r.Name,
		Prefix:     r.Prefix,
		Scopes:     scopes,
		CreatedAt:  r.CreatedAt,
		LastUsedAt: r.LastUsedAt,
		RevokedAt:  r.RevokedAt,
		CreatedBy:  r.CreatedBy,
	}
}
