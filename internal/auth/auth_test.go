package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/auth"
)

func TestParseScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      []string
		want    []auth.Scope
		wantErr string
	}{
		{in: nil, want: nil},
		{in: []string{"read"}, want: []auth.Scope{auth.ScopeRead}},
		{in: []string{"admin", "read"}, want: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin}},
		{in: []string{"sensitive,read", " ADMIN "}, want: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin, auth.ScopeSensitive}},
		{in: []string{"read", "read,read"}, want: []auth.Scope{auth.ScopeRead}},
		{in: []string{"read", "wirte"}, wantErr: `parse scopes: unknown scope "wirte": want read, admin, sensitive or metrics`},
		{in: []string{"read,"}, wantErr: `parse scopes: empty scope in "read,": want read, admin, sensitive or metrics`},
		{in: []string{""}, wantErr: `parse scopes: empty scope in "": want read, admin, sensitive or metrics`},
	}
	for _, tt := range tests {
		got, err := auth.ParseScopes(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseScopes(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseScopes(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestHas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes []auth.Scope
		has    []auth.Scope
		hasNot []auth.Scope
	}{
		{scopes: nil, hasNot: auth.Scopes},
		{scopes: []auth.Scope{auth.ScopeRead}, has: []auth.Scope{auth.ScopeRead}, hasNot: []auth.Scope{auth.ScopeAdmin, auth.ScopeSensitive, auth.ScopeMetrics}},
		{scopes: []auth.Scope{auth.ScopeAdmin}, has: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin, auth.ScopeMetrics}, hasNot: []auth.Scope{auth.ScopeSensitive}},
		{scopes: []auth.Scope{auth.ScopeSensitive}, has: []auth.Scope{auth.ScopeSensitive}, hasNot: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin, auth.ScopeMetrics}},
		{scopes: []auth.Scope{auth.ScopeMetrics}, has: []auth.Scope{auth.ScopeMetrics}, hasNot: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin, auth.ScopeSensitive}},
		{scopes: []auth.Scope{"future"}, hasNot: auth.Scopes},
	}
	for _, tt := range tests {
		k := auth.Key{Scopes: tt.scopes}
		for _, s := range tt.has {
			if !k.Has(s) {
				t.Errorf("key with %q: Has(%q) = false, want true", tt.scopes, s)
			}
		}
		for _, s := range tt.hasNot {
			if k.Has(s) {
				t.Errorf("key with %q: Has(%q) = true, want false", tt.scopes, s)
			}
		}
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	ctx := auth.WithKey(context.Background(), auth.Key{ID: "k1", Name: "reports", Scopes: []auth.Scope{auth.ScopeAdmin}})

	for _, s := range []auth.Scope{auth.ScopeRead, auth.ScopeAdmin} {
		if err := auth.Require(ctx, s); err != nil {
			t.Errorf("Require(admin key, %s) = %v, want nil", s, err)
		}
	}

	err := auth.Require(ctx, auth.ScopeSensitive)
	if !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("Require(admin key, sensitive) = %v, want ErrForbidden", err)
	}
	var se *auth.ScopeError
	if !errors.As(err, &se) || se.Missing != auth.ScopeSensitive {
		t.Errorf("Require(admin key, sensitive) = %#v, want a *ScopeError naming sensitive", err)
	}
	if want := `forbidden: the API key lacks the "sensitive" scope`; err.Error() != want {
		t.Errorf("error message %q, want %q", err, want)
	}

	err = auth.Require(context.Background(), auth.ScopeRead)
	if !errors.Is(err, auth.ErrInvalidKey) || errors.Is(err, auth.ErrForbidden) {
		t.Errorf("Require without key = %v, want ErrInvalidKey (not ErrForbidden)", err)
	}
}

func TestContextAndActor(t *testing.T) {
	t.Parallel()
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Error("FromContext(empty) found a key")
	}
	if got := auth.Actor(context.Background()); got != "anonymous" {
		t.Errorf("Actor(empty) = %q, want anonymous", got)
	}
	k := auth.Key{ID: "0192ab", Name: "nightly export", Prefix: "rmk_abcdefgh", CreatedAt: time.Unix(0, 0)}
	ctx := auth.WithKey(context.Background(), k)
	got, ok := auth.FromContext(ctx)
	if !ok || got.ID != k.ID || got.Name != k.Name {
		t.Errorf("FromContext = %+v, %v; want %+v", got, ok, k)
	}
	if got, want := auth.Actor(ctx), "apikey:nightly export (0192ab)"; got != want {
		t.Errorf("Actor = %q, want %q", got, want)
	}
}
