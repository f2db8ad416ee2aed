package mirror_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/tokens"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
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
	sameSnapshot(t, snapshot(t, h.db), before)
	if got := h.rows("SELECT status FROM sync_runs ORDER BY started_at DESC LIMIT 1"); got[0] != "FAILED" {
		t.Errorf("last run = %v, want failed", got)
	}
}
