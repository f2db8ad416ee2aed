package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// TestDisconnectedThroughTokenStore: with the real token store, a district that disconnects the app
// disappears from GET /oauth/tokens; the next run fails as disconnected, the token is marked revoked,
// and not one record is archived.
func TestDisconnectedThroughTokenStore(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	box, err := secret.NewBox("a-test-secret-key-of-at-least-32-characters")
	if err != nil {
		t.Fatal(err)
	}
	oauth := clever.New(clever.Config{OAuthURL: h.url, ClientID: cleversim.DefaultClientID, ClientSecret: cleversim.DefaultClientSecret})
	store, err := tokens.New(tokens.Config{DB: h.db, Box: box, OAuth: oauth})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := mirror.New(mirror.Config{DB: h.db, Reader: func(tok clever.Token) mirror.Reader { return h.client.WithToken(tok) }, Tokens: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, err := engine.SyncDistrict(ctx, h.districtID, mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("first sync: %v %v", err, res.Errors)
	}
	before := snapshot(t, h.db)
	h.change(h.sim.RemoveDistrict(h.districtID))
	res, err := engine.SyncDistrict(ctx, h.districtID, mirror.Options{})
	if err != nil || res.Status != mirror.StatusFailed {
		t.Fatalf("sync after disconnect: %v %s", err, res.Status)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "disconnected") || res.Err() == nil {
		t.Errorf("errors = %v, want one saying the district disconnected", res.Errors)
	}
	health, err := store.Health(ctx, h.districtID)
	if err != nil || health.Status != tokens.StatusRevoked {
		t.Errorf("token health = %+v, %v; want revoked", health, err)
	}
	// The token store recorded why; the engine does not overwrite it with a refusal that never happened.
	if !strings.Contains(health.LastError, "no longer lists a token") || strings.Contains(health.LastError, "refused") {
		t.Errorf("token last error = %q, want the token store's own reason", health.LastError)
	}
	sameSnapshot(t, snapshot(t, h.db), before)
	if got := h.rows("SELECT status FROM sync_runs ORDER BY started_at DESC LIMIT 1"); got[0] != "FAILED" {
		t.Errorf("last run = %v, want failed", got)
	}
}

// TestRevokedOnlyWhenTokenRefused: Tokens.Revoked is for a token Clever refused on a read (401). A
// disconnection reported by Tokens.Token was recorded by the token source itself: the engine does not
// record it again.
func TestRevokedOnlyWhenTokenRefused(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	h.tokens.err = fmt.Errorf("get token of district %s: %w", h.districtID, mirror.ErrDisconnected)
	res := h.sync(mirror.Options{})
	if res.Status != mirror.StatusFailed || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "disconnected") {
		t.Fatalf("status %s errors %v, want failed as disconnected", res.Status, res.Errors)
	}
	if len(h.tokens.revoked) != 0 {
		t.Errorf("Revoked called for a disconnection the token source reported: %v", h.tokens.revoked)
	}
	h.tokens.err = nil
	h.change(h.sim.RemoveDistrict(h.districtID)) // the token Token returns now answers 401
	res = h.sync(mirror.Options{})
	if res.Status != mirror.StatusFailed || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "disconnected") {
		t.Fatalf("status %s errors %v, want failed as disconnected", res.Status, res.Errors)
	}
	if !errors.Is(h.tokens.revoked[h.districtID], clever.ErrUnauthorized) {
		t.Errorf("Revoked not called with the 401: %v", h.tokens.revoked)
	}
}
