// Package auth issues and checks the API keys that callers of the GraphQL API present as
// "Authorization: Bearer <key>", and says what a key may do.
//
// A key is "rmk_" followed by 43 base64url characters (32 random bytes). It is shown once, when it is
// created; the database keeps only its SHA-256 (hex) and its first PrefixLen characters, which tell keys
// apart in lists and logs without revealing them. A key is looked up by its hash, so checking one does not
// compare secrets byte by byte and leaks nothing through timing.
//
// A key holds scopes: read (query the mirror), admin (domain actions; implies read and metrics),
// sensitive (students' ELL, FRL and IEP status and home language; separate from the others, so an admin
// key does not see them unless it is given sensitive too) and metrics (scrape /metrics, nothing else).
//
// Neither keys nor their hashes reach a log line or an error message: they name a key by its id or
// prefix.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/internal/audit"
)

// Scope is a permission held by an API key.
type Scope string

// The scopes a key can hold.
const (
	// ScopeRead allows querying the mirrored rosters.
	ScopeRead Scope = "read"
	// ScopeAdmin allows the API's domain actions (link, match, sync); it implies ScopeRead.
	ScopeAdmin Scope = "admin"
	// ScopeSensitive unlocks students' ELL, FRL and IEP status and home language. It is separate from
	// the others: admin does not imply it, and it does not imply read.
	ScopeSensitive Scope = "sensitive"
	// ScopeMetrics allows scraping /metrics (roster sizes, sync outcomes) and nothing else; admin
	// implies it.
	ScopeMetrics Scope = "metrics"
)

// Scopes lists every scope in canonical order.
var Scopes = []Scope{ScopeRead, ScopeAdmin, ScopeSensitive, ScopeMetrics}

var (
	// ErrInvalidKey is the one error for an API key that is missing, malformed, unknown or revoked: which
	// of these it was is not told, so the error is no oracle for guessing keys.
	ErrInvalidKey = errors.New("invalid API key")
	// ErrForbidden is matched by the error of Require when the key lacks the scope.
	ErrForbidden = errors.New("forbidden")
)

// ScopeError is the error of Require when the request's key lacks a scope. It matches ErrForbidden.
type ScopeError struct {
	// Missing is the scope the key lacks.
	Missing Scope
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("forbidden: the API key lacks the %q scope", e.Missing)
}

// Is makes a ScopeError match ErrForbidden.
func (e *ScopeError) Is(target error) bool { return target == ErrForbidden }

// ParseScopes reads scope names as given on a command line: each entry may hold several names separated
// by commas; names are trimmed and case-insensitive. The result is de-duplicated and in canonical order
// (see Scopes). An unknown or empty name is an error. No names at all give an empty result and no error:
// whether a key may have no scope is the caller's rule (Store.Create refuses it).
func ParseScopes(ss []string) ([]Scope, error) {
	seen := map[Scope]bool{}
	for _, s := range ss {
		for name := range strings.SplitSeq(s, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				return nil, fmt.Errorf("parse scopes: empty scope in %q: want %s", s, scopeNames())
			}
			sc := Scope(name)
			if !slices.Contains(Scopes, sc) {
				return nil, fmt.Errorf("parse scopes: unknown scope %q: want %s", name, scopeNames())
			}
			seen[sc] = true
		}
	}
	var out []Scope
	for _, sc := range Scopes {
		if seen[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// scopeNames lists the scopes for messages: "read, admin, sensitive or metrics".
func scopeNames() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Key is an API key as stored: everything but the secret and its hash.
type Key struct {
	// ID is the key's stable identifier (32 hex characters).
	ID string
	// Name says what the key is for, as chosen by whoever created it.
	Name string
	// Prefix is the key's first PrefixLen characters, to tell keys apart without revealing them.
	Prefix string
	// Scopes are the scopes the key was given, in canonical order. Use Has to check one: it knows which
	// scopes imply others.
	Scopes []Scope
	// CreatedAt is when the key was created.
	CreatedAt time.Time
	// LastUsedAt is when the key last authenticated a request, to within LastUsedInterval; nil if never.
	LastUsedAt *time.Time
	// RevokedAt is when the key was revoked; nil while it is valid.
	RevokedAt *time.Time
	// CreatedBy names who created the key (for example "cli:alice").
	CreatedBy string
}

// Has reports whether k grants scope s: it holds s, or s is read or metrics and it holds admin.
func (k Key) Has(s Scope) bool {
	if slices.Contains(k.Scopes, s) {
		return true
	}
	return (s == ScopeRead || s == ScopeMetrics) && slices.Contains(k.Scopes, ScopeAdmin)
}

// Revoked reports whether k was revoked.
func (k Key) Revoked() bool { return k.RevokedAt != nil }

// ctxKey is the context key of the request's API key.
type ctxKey struct{}

// WithKey returns a copy of ctx carrying k as the request's API key.
func WithKey(ctx context.Context, k Key) context.Context {
	return context.WithValue(ctx, ctxKey{}, k)
}

// FromContext returns the request's API key, put there by Middleware (or WithKey).
func FromContext(ctx context.Context) (Key, bool) {
	k, ok := ctx.Value(ctxKey{}).(Key)
	return k, ok
}

// Require returns nil when the request's API key grants s. When it does not, the error is a *ScopeError
// naming s, which matches ErrForbidden; when ctx carries no key at all, the error matches ErrInvalidKey.
func Require(ctx context.Context, s Scope) error {
	k, ok := FromContext(ctx)
	if !ok {
		return fmt.Errorf("require scope %s: no API key in the request: %w", s, ErrInvalidKey)
	}
	if !k.Has(s) {
		return &ScopeError{Missing: s}
	}
	return nil
}

// Actor names the request's API key for audit entries (audit.APIKey), or audit.Anonymous when ctx
// carries no key.
func Actor(ctx context.Context) string {
	k, ok := FromContext(ctx)
	if !ok {
		return audit.Anonymous
	}
	return audit.APIKey(k.Name, k.ID)
}
