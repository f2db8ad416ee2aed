package tokens_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// secondDistrictID is the id of the small district added next to the demo district.
const secondDistrictID = "5f1e0c0ffee0000000000002"

// pathPrefix mounts the simulator under a path, as a proxy would, so absolute-URL bugs surface.
const pathPrefix = "/clever-proxy"

// bundle is what a test needs around the Store under test.
type bundle struct {
	db    *store.DB
	box   *secret.Box
	sim   *cleversim.Server
	oauth *clever.Client // a client of the simulator with the app's credentials
	base  string         // the simulator's base URL (under pathPrefix)
	clock *clock
	log   *slog.Logger // the store's and the Clever client's
	logs  *testlog.Log
	demo  string // the demo district's id
}

// setup starts a simulator holding the demo district and a small second one, and returns a Store reading
// it through a real clever.Client, with a fresh database, a test clock and captured logs. cfg's DB, Box,
// OAuth, Now and Logger are filled in when unset.
func setup(t *testing.T, cfg tokens.Config) (*tokens.Store, *bundle) {
	t.Helper()
	sim, err := cleversim.New(cleversim.Config{Dataset: synth.Demo()})
	if err != nil {
		t.Fatalf("new simulator: %v", err)
	}
	second := synth.Generate(synth.Config{Seed: 4242, DistrictID: secondDistrictID, Schools: 1, Students: 3,
		Teachers: 1, Staff: -1, DistrictAdmins: -1, Contacts: -1, Sections: 1, Courses: 1, Terms: 1})
	if err := sim.AddDistrict(second); err != nil {
		t.Fatalf("add district: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(pathPrefix+"/", http.StripPrefix(pathPrefix, sim))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := &bundle{
		db:    dbtest.New(t),
		sim:   sim,
		clock: &clock{t: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)},
		demo:  districtID(t, synth.Demo()),
		base:  srv.URL + pathPrefix,
	}
	b.box, err = secret.NewBox("test-secret-key-of-at-least-32-characters")
	if err != nil {
		t.Fatal(err)
	}
	b.log, b.logs = testlog.New(t)
	b.oauth = clever.New(clever.Config{
		OAuthURL:     b.base,
		APIURL:       b.base,
		ClientID:     cleversim.DefaultClientID,
		ClientSecret: cleversim.DefaultClientSecret,
		MaxAttempts:  1,
		Logger:       b.log,
	})
	if cfg.DB == nil {
		cfg.DB = b.db
	}
	if cfg.Box == nil {
		cfg.Box = b.box
	}
	if cfg.OAuth == nil {
		cfg.OAuth = b.oauth
	}
	if cfg.Now == nil {
		cfg.Now = b.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	s, err := tokens.New(cfg)
	if err != nil {
		t.Fatalf("new token store: %v", err)
	}
	return s, b
}

// another returns a second Store on b's database and clock with cfg's differences.
func (b *bundle) another(t *testing.T, cfg tokens.Config) *tokens.Store {
	t.Helper()
	cfg.DB, cfg.Box, cfg.Now = b.db, b.box, b.clock.Now
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	s, err := tokens.New(cfg)
	if err != nil {
		t.Fatalf("new token store: %v", err)
	}
	return s
}

// stored opens the district's stored token, checking that the ciphertext does not hold it in clear.
func (b *bundle) stored(t *testing.T, id string) clever.Token {
	t.Helper()
	row, err := b.db.Client.DistrictToken.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("read stored token of %s: %v", id, err)
	}
	plain, err := b.box.Open(row.Ciphertext, tokens.AAD(id))
	if err != nil {
		t.Fatalf("open stored token of %s: %v", id, err)
	}
	if bytes.Contains(row.Ciphertext, plain) {
		t.Errorf("the stored ciphertext of %s contains the token", id)
	}
	return clever.Token(plain)
}

func (b *bundle) health(t *testing.T, s *tokens.Store, id string) tokens.Health {
	t.Helper()
	h, err := s.Health(context.Background(), id)
	if err != nil {
		t.Fatalf("Health(%s): %v", id, err)
	}
	if h.DistrictID != id {
		t.Errorf("Health(%s).DistrictID = %q", id, h.DistrictID)
	}
	return h
}

func districtID(t *testing.T, d *cleversim.Dataset) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(d.Districts[0], &v); err != nil || v.ID == "" {
		t.Fatalf("read district id: %v", err)
	}
	return v.ID
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func wantHealth(t *testing.T, h tokens.Health, status districttoken.Status, source districttoken.Source, changed time.Time) {
	t.Helper()
	if h.Status != status || h.Source != source || !h.StatusChangedAt.Equal(changed) {
		t.Errorf("health = %s/%s since %s, want %s/%s since %s", h.Status, h.Source, h.StatusChangedAt, status, source, changed)
	}
}

func TestTokenFetchedAndStoredSealed(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()

	tok, err := s.Token(ctx, b.demo)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if want := b.sim.DistrictToken(b.demo); tok.Reveal() != want || want == "" {
		t.Fatalf("Token = %q, want the simulator's token", tok.Reveal())
	}
	if got := b.stored(t, b.demo); got != tok {
		t.Errorf("the stored token opens to another value")
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusOK, tokens.SourceOAuth, b.clock.Now())
	if h.LastError != "" || !h.LastUsedAt.IsZero() || !h.UpdatedAt.Equal(b.clock.Now()) {
		t.Errorf("health = %+v", h)
	}
	// Sealed under the district's id: the ciphertext does not open as another district's.
	row, _ := b.db.Client.DistrictToken.Get(ctx, b.demo)
	if _, err := b.box.Open(row.Ciphertext, tokens.AAD(secondDistrictID)); err == nil {
		t.Error("a district's ciphertext opens as another district's")
	}
}

func TestTokenRotation(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()
	first := b.clock.Now()
	old, err := s.Token(ctx, b.demo)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := b.sim.RotateToken(b.demo)
	if err != nil {
		t.Fatal(err)
	}
	if rotated == old.Reveal() {
		t.Fatal("the simulator did not rotate the token")
	}
	later := b.clock.Advance(time.Hour)
	tok, err := s.Token(ctx, b.demo)
	if err != nil {
		t.Fatalf("Token after rotation: %v", err)
	}
	if tok.Reveal() != rotated {
		t.Errorf("Token after rotation returned the old token")
	}
	if b.stored(t, b.demo).Reveal() != rotated {
		t.Errorf("the stored token was not replaced by the rotated one")
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusOK, tokens.SourceOAuth, first) // still ok: the status did not change
	if !h.UpdatedAt.Equal(later) {
		t.Errorf("UpdatedAt = %s, want %s", h.UpdatedAt, later)
	}
}

func TestTokenDisconnected(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.RemoveDistrict(b.demo); err != nil {
		t.Fatal(err)
	}
	removed := b.clock.Advance(time.Hour)
	_, err := s.Token(ctx, b.demo)
	if !errors.Is(err, mirror.ErrDisconnected) || errors.Is(err, tokens.ErrUnavailable) {
		t.Fatalf("Token of a removed district = %v, want ErrDisconnected", err)
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusRevoked, tokens.SourceOAuth, removed)
	if !strings.Contains(h.LastError, "no longer lists a token") {
		t.Errorf("LastError = %q", h.LastError)
	}
	// Asking again keeps the time the status changed.
	b.clock.Advance(time.Hour)
	if _, err := s.Token(ctx, b.demo); !errors.Is(err, mirror.ErrDisconnected) {
		t.Fatalf("Token again = %v", err)
	}
	wantHealth(t, b.health(t, s, b.demo), tokens.StatusRevoked, tokens.SourceOAuth, removed)

	// A district never seen: disconnected, and nothing recorded.
	if _, err := s.Token(ctx, "000000000000000000000000"); !errors.Is(err, mirror.ErrDisconnected) {
		t.Errorf("Token of an unknown district = %v", err)
	}
	if _, err := s.Health(ctx, "000000000000000000000000"); !errors.Is(err, tokens.ErrUnknownDistrict) {
		t.Errorf("Health of an unknown district = %v, want ErrUnknownDistrict", err)
	}
}

func TestConnected(t *testing.T) {
	t.Parallel()
	static := map[string]clever.Token{
		"5f1e0c0ffee00000000000aa": "static-token-aa",
		secondDistrictID:           "static-token-for-second", // wins over Clever's
	}
	s, b := setup(t, tokens.Config{Static: static})
	ctx := context.Background()
	first := b.clock.Now()

	ids, err := s.Connected(ctx)
	if err != nil {
		t.Fatalf("Connected: %v", err)
	}
	want := []string{b.demo, secondDistrictID, "5f1e0c0ffee00000000000aa"}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("Connected = %v, want %v", ids, want)
	}
	if b.stored(t, b.demo).Reveal() != b.sim.DistrictToken(b.demo) {
		t.Error("Connected did not store Clever's token")
	}
	if b.stored(t, secondDistrictID) != static[secondDistrictID] {
		t.Error("the static token did not win over Clever's")
	}
	wantHealth(t, b.health(t, s, secondDistrictID), tokens.StatusOK, tokens.SourceEnv, first)
	wantHealth(t, b.health(t, s, "5f1e0c0ffee00000000000aa"), tokens.StatusOK, tokens.SourceEnv, first)
	if tok, err := s.Token(ctx, secondDistrictID); err != nil || tok != static[secondDistrictID] {
		t.Errorf("Token of a static district = %v, %v", tok, err)
	}

	// The demo district disconnects the app.
	if err := b.sim.RemoveDistrict(b.demo); err != nil {
		t.Fatal(err)
	}
	removed := b.clock.Advance(time.Hour)
	if ids, err = s.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{secondDistrictID, "5f1e0c0ffee00000000000aa"}; !slices.Equal(ids, want) {
		t.Errorf("Connected after removal = %v, want %v", ids, want)
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusRevoked, tokens.SourceOAuth, removed)
	if !strings.Contains(h.LastError, "no longer lists a token") {
		t.Errorf("LastError = %q", h.LastError)
	}

	// Restarted without the static tokens: the second district is Clever's again, the other static one
	// is revoked.
	restarted := b.clock.Advance(time.Hour)
	s2 := b.another(t, tokens.Config{OAuth: b.oauth})
	if ids, err = s2.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{secondDistrictID}; !slices.Equal(ids, want) {
		t.Errorf("Connected without static tokens = %v, want %v", ids, want)
	}
	wantHealth(t, b.health(t, s2, secondDistrictID), tokens.StatusOK, tokens.SourceOAuth, first)
	if b.stored(t, secondDistrictID).Reveal() != b.sim.DistrictToken(secondDistrictID) {
		t.Error("Connected did not store Clever's token for a district no longer static")
	}
	h = b.health(t, s2, "5f1e0c0ffee00000000000aa")
	wantHealth(t, h, tokens.StatusRevoked, tokens.SourceEnv, restarted)
	if !strings.Contains(h.LastError, "CLEVER_DISTRICT_TOKENS") {
		t.Errorf("LastError = %q", h.LastError)
	}
	wantHealth(t, b.health(t, s2, b.demo), tokens.StatusRevoked, tokens.SourceOAuth, removed)
}

// failing returns the URL of a server answering every request with 503 at once.
func failing(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"service unavailable"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOAuthOutage(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	down := clever.New(clever.Config{OAuthURL: failing(t), ClientID: "id", ClientSecret: "secret",
		MaxAttempts: 1, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	outage := b.another(t, tokens.Config{OAuth: down})
	failed := b.clock.Advance(time.Hour)

	_, err := outage.Token(ctx, b.demo)
	if err == nil || errors.Is(err, mirror.ErrDisconnected) || !errors.Is(err, tokens.ErrUnavailable) {
		t.Fatalf("Token during an outage = %v, want ErrUnavailable and not ErrDisconnected", err)
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusError, tokens.SourceOAuth, failed)
	if !strings.Contains(h.LastError, "503") {
		t.Errorf("LastError = %q, want the 503", h.LastError)
	}
	if b.stored(t, b.demo).Reveal() != b.sim.DistrictToken(b.demo) {
		t.Error("an outage changed the stored token")
	}

	// Connected during the outage fails and revokes nothing.
	if _, err := outage.Connected(ctx); !errors.Is(err, tokens.ErrUnavailable) || errors.Is(err, mirror.ErrDisconnected) {
		t.Errorf("Connected during an outage = %v, want ErrUnavailable", err)
	}
	wantHealth(t, b.health(t, s, b.demo), tokens.StatusError, tokens.SourceOAuth, failed)

	// Clever is back.
	back := b.clock.Advance(time.Hour)
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	h = b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusOK, tokens.SourceOAuth, back)
	if h.LastError != "" {
		t.Errorf("LastError after recovery = %q", h.LastError)
	}
}

func TestOAuthBadCredentials(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	wrong := clever.New(clever.Config{OAuthURL: b.base, ClientID: cleversim.DefaultClientID,
		ClientSecret: "not-the-secret", MaxAttempts: 1})
	bad := b.another(t, tokens.Config{OAuth: wrong})
	_, err := bad.Token(ctx, b.demo)
	// A refused app is not a refused district token: it must not look like a revocation.
	if !errors.Is(err, tokens.ErrUnavailable) || errors.Is(err, mirror.ErrDisconnected) || errors.Is(err, clever.ErrUnauthorized) {
		t.Fatalf("Token with wrong app credentials = %v", err)
	}
	if !strings.Contains(err.Error(), "CLEVER_CLIENT_SECRET") {
		t.Errorf("error does not point at the app's credentials: %v", err)
	}
	if h := b.health(t, s, b.demo); h.Status != tokens.StatusError {
		t.Errorf("status = %s, want error", h.Status)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error reveals the client secret: %v", err)
	}
}

func TestStaticOnly(t *testing.T) {
	t.Parallel()
	_, b := setup(t, tokens.Config{})
	ctx := context.Background()
	static := map[string]clever.Token{"d-static": "tok-static-1"}
	s := b.another(t, tokens.Config{Static: static}) // no OAuth: no CLEVER_CLIENT_ID

	tok, err := s.Token(ctx, "d-static")
	if err != nil || tok != static["d-static"] {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	wantHealth(t, b.health(t, s, "d-static"), tokens.StatusOK, tokens.SourceEnv, b.clock.Now())
	if b.stored(t, "d-static") != static["d-static"] {
		t.Error("the static token was not stored")
	}
	if _, err := s.Token(ctx, b.demo); !errors.Is(err, mirror.ErrDisconnected) {
		t.Errorf("Token of a district without a static token and without OAuth = %v, want ErrDisconnected", err)
	}
	ids, err := s.Connected(ctx)
	if err != nil || !slices.Equal(ids, []string{"d-static"}) {
		t.Errorf("Connected = %v, %v", ids, err)
	}
}

func TestUsedAndRevoked(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{})
	ctx := context.Background()
	first := b.clock.Now()
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	used := b.clock.Advance(time.Minute)
	if err := s.Used(ctx, b.demo); err != nil {
		t.Fatalf("Used: %v", err)
	}
	h := b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusOK, tokens.SourceOAuth, first)
	if !h.LastUsedAt.Equal(used) {
		t.Errorf("LastUsedAt = %s, want %s", h.LastUsedAt, used)
	}

	revoked := b.clock.Advance(time.Minute)
	cause := errors.New("clever: GET /v3.0/users: 401 Unauthorized: invalid auth")
	if err := s.Revoked(ctx, b.demo, cause); err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	h = b.health(t, s, b.demo)
	wantHealth(t, h, tokens.StatusRevoked, tokens.SourceOAuth, revoked)
	if !strings.Contains(h.LastError, "401 Unauthorized") || !h.LastUsedAt.Equal(used) {
		t.Errorf("health after Revoked = %+v", h)
	}
	b.clock.Advance(time.Minute)
	if err := s.Revoked(ctx, b.demo, nil); err != nil {
		t.Fatal(err)
	}
	wantHealth(t, b.health(t, s, b.demo), tokens.StatusRevoked, tokens.SourceOAuth, revoked)

	// Clever still lists a token: the next Token marks it ok again.
	again := b.clock.Advance(time.Minute)
	if _, err := s.Token(ctx, b.demo); err != nil {
		t.Fatal(err)
	}
	wantHealth(t, b.health(t, s, b.demo), tokens.StatusOK, tokens.SourceOAuth, again)

	if err := s.Used(ctx, "unknown"); !errors.Is(err, tokens.ErrUnknownDistrict) {
		t.Errorf("Used(unknown) = %v, want ErrUnknownDistrict", err)
	}
	if err := s.Revoked(ctx, "unknown", cause); !errors.Is(err, tokens.ErrUnknownDistrict) {
		t.Errorf("Revoked(unknown) = %v, want ErrUnknownDistrict", err)
	}
}

func TestTokenConcurrent(t *testing.T) {
	t.Parallel()
	s, b := setup(t, tokens.Config{Static: map[string]clever.Token{"d-static": "tok-static"}})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		id := []string{b.demo, secondDistrictID, "d-static"}[i%3]
		wg.Go(func() {
			if _, err := s.Token(ctx, id); err != nil {
				errs <- err
			}
			if err := s.Used(ctx, id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := b.db.Client.DistrictToken.Query().CountX(ctx); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := tokens.New(tokens.Config{}); err == nil {
		t.Error("New without DB and Box succeeded")
	}
}
