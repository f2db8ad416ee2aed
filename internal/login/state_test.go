package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/loginstate"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// unused satisfies the interfaces New requires; the tests here never reach them.
type unused struct{}

func (unused) ExchangeCode(context.Context, string, string) (clever.Token, error) { return "", nil }
func (unused) Me(context.Context, clever.Token) (clever.Me, error)                { return clever.Me{}, nil }
func (unused) User(context.Context, clever.Token, string) (clever.User, error) {
	return clever.User{}, nil
}
func (unused) SignedIn(context.Context, link.SignIn) (link.SignInOutcome, error) {
	return link.SignInOutcome{}, nil
}
func (unused) ProvisionUser(context.Context, string, clever.User) (syncstats.Outcome, error) {
	return syncstats.Outcome{}, nil
}

const key32 = "0123456789abcdef0123456789abcdef"

func service(t *testing.T, now time.Time) *Service {
	t.Helper()
	s, err := newService(Config{ClientID: "c", PublicURL: "https://roster.example.test/", SecretKey: key32,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newService is New for the tests of pure functions: its database and Clever are never used.
func newService(cfg Config) (*Service, error) {
	cfg.DB = &store.DB{}
	cfg.Clever, cfg.Linker, cfg.Provisioner = unused{}, unused{}, unused{}
	return New(cfg)
}

// TestStateRoundTripAndTampering: a signed state verifies to what was signed; any change to its payload
// or MAC, a payload of another form, or a state whose INVITE/organization pairing is off is forged; a
// state past its expiry is expired.
func TestStateRoundTripAndTampering(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := service(t, now)
	st := newState(loginstate.PurposeINVITE, "org-1", "https://roster.example.test/auth/clever/link", now.Add(time.Hour))
	signed := s.sign(st)
	got, err := s.verify(signed)
	if err != nil || got.purpose != st.purpose || got.orgID != "org-1" || got.redirect != st.redirect || got.id() != st.id() ||
		!got.expires.Equal(st.expires) {
		t.Fatalf("verify = %+v %v", got, err)
	}
	if strings.Contains(signed, st.id()) {
		t.Error("the state carries its row id")
	}

	body, mac, _ := strings.Cut(signed, ".")
	resign := func(p statePayload) string {
		b, _ := json.Marshal(p)
		enc := base64.RawURLEncoding.EncodeToString(b)
		return enc + "." + base64.RawURLEncoding.EncodeToString(s.mac(enc))
	}
	nonce := base64.RawURLEncoding.EncodeToString(st.nonce)
	binding := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for name, raw := range map[string]string{
		"payload changed":    strings.Replace(body, body[5:6], string(rune(body[5]^1)), 1) + "." + mac,
		"mac changed":        body + "." + strings.Replace(mac, mac[3:4], string(rune(mac[3]^1)), 1),
		"mac of another key": body + "." + base64.RawURLEncoding.EncodeToString(service2(t, now).mac(body)),
		"no mac":             body,
		"empty":              "",
		"version 2":          resign(statePayload{V: 2, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x"}),
		"unknown purpose":    resign(statePayload{V: 1, P: "ADMIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x"}),
		"invite without org": resign(statePayload{V: 1, P: "INVITE", N: nonce, E: now.Add(time.Hour).Unix(), R: "x"}),
		"login with org":     resign(statePayload{V: 1, P: "LOGIN", O: "org", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: binding}),
		"short nonce":        resign(statePayload{V: 1, P: "LOGIN", N: "AAAA", E: now.Add(time.Hour).Unix(), R: "x", B: binding}),
		"no redirect":        resign(statePayload{V: 1, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), B: binding}),
		"login not bound":    resign(statePayload{V: 1, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x"}),
		"login short bind":   resign(statePayload{V: 1, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: "AAAA"}),
		"login bind not b64": resign(statePayload{V: 1, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: "!" + binding[1:]}),
		"invite bound":       resign(statePayload{V: 1, P: "INVITE", O: "org", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: binding}),
		"invite short bind":  resign(statePayload{V: 1, P: "INVITE", O: "org", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: "AAAA"}),
		"payload not JSON":   "bm90IGpzb24." + base64.RawURLEncoding.EncodeToString(s.mac("bm90IGpzb24")),
		"too long":           strings.Repeat("A", maxStateLen) + "." + mac,
		"mac not base64":     body + ".!!!",
	} {
		if _, err := s.verify(raw); !errors.Is(err, errStateForged) {
			t.Errorf("%s: %v, want forged", name, err)
		}
	}
	if _, err := s.verify(resign(statePayload{V: 1, P: "LOGIN", N: nonce, E: now.Add(time.Hour).Unix(), R: "x", B: binding})); err != nil {
		t.Errorf("a well-formed LOGIN payload: %v", err)
	}
	// A LOGIN state carries the hash of its browser secret, never the secret.
	login, secret := newLoginState("https://roster.example.test/auth/clever/callback", now.Add(time.Minute))
	signedLogin := s.sign(login)
	got, err = s.verify(signedLogin)
	if err != nil || got.purpose != loginstate.PurposeLOGIN || string(got.binding) != string(hashBinding(secret)) || strings.Contains(signedLogin, secret) {
		t.Errorf("login state: %+v %v", got, err)
	}
	late := service(t, now.Add(time.Hour))
	if got, err := late.verify(signed); !errors.Is(err, errStateExpired) || got.purpose != loginstate.PurposeINVITE {
		t.Errorf("at expiry: %+v %v, want expired with its purpose", got, err)
	}
}

func service2(t *testing.T, now time.Time) *Service {
	t.Helper()
	s, err := newService(Config{ClientID: "c", PublicURL: "https://roster.example.test", SecretKey: key32 + "-other",
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNewValidates: New names what is missing or wrong.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "Clever, ClientID, DB, Linker, Provisioner, PublicURL, SecretKey required") {
		t.Errorf("empty config: %v", err)
	}
	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"short key":       {Config{ClientID: "c", PublicURL: "https://x.test", SecretKey: "short"}, "at least 32"},
		"relative public": {Config{ClientID: "c", PublicURL: "/roster", SecretKey: key32}, "ROSTERMIRROR_PUBLIC_URL"},
		"bad app URL":     {Config{ClientID: "c", PublicURL: "https://x.test", SecretKey: key32, AppLoginURL: "app"}, "ROSTERMIRROR_APP_LOGIN_URL"},
		"app URL code":    {Config{ClientID: "c", PublicURL: "https://x.test", SecretKey: key32, AppLoginURL: "https://a.test/?code=1"}, "code parameter"},
		"bad link URI":    {Config{ClientID: "c", PublicURL: "https://x.test", SecretKey: key32, LinkRedirectURI: "x"}, "link redirect URI"},
	} {
		if _, err := newService(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestLinkCallbackPath: the link redirect URI is served at its path under PublicURL (without a proxy's
// prefix), and not at all elsewhere.
func TestLinkCallbackPath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		public, link, path string
		ok                 bool
	}{
		{"https://r.test", "", CallbackPath, true},
		{"https://r.test", "https://r.test/auth/clever/link", "/auth/clever/link", true},
		{"https://r.test/roster", "https://r.test/roster/link", "/link", true},
		{"https://r.test", "https://other.test/link", "", false},
		{"https://r.test/roster", "https://r.test/elsewhere", "", false},
	} {
		s, err := newService(Config{ClientID: "c", PublicURL: c.public, SecretKey: key32, LinkRedirectURI: c.link})
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := s.linkCallbackPath(); p != c.path || ok != c.ok {
			t.Errorf("%s, %s: %q %v, want %q %v", c.public, c.link, p, ok, c.path, c.ok)
		}
	}
}

func TestHuman(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10 minutes", 7 * 24 * time.Hour: "7 days", time.Hour: "1 hour", 60 * time.Second: "1 minute",
		90 * time.Second: "90 seconds", 36 * time.Hour: "36 hours",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestSignInCookie: starting a sign-in sets the sign-in cookie for the sign-in paths under PublicURL's
// own path, Secure on https, HttpOnly, SameSite=Lax, living as long as the state; the state carries only
// its hash. An invite sets none, and the start writes nothing to the database (there is none here).
func TestSignInCookie(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		public, path string
		secure       bool
	}{
		{"https://roster.example.test", "/", true}, // __Host-: Path=/, Secure, no Domain
		{"https://r.example.test/roster/", "/", true},
		{"http://localhost:8080", "/auth/clever/", false},
		{"http://r.example.test/roster/", "/roster/auth/clever/", false},
	} {
		s, err := newService(Config{ClientID: "c", PublicURL: c.public, SecretKey: key32, StateTTL: 5 * time.Minute,
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, LoginPath, nil))
		resp := rec.Result()
		var ck *http.Cookie
		want := bindingCookie
		if c.secure {
			want = secureCookie
		}
		for _, k := range resp.Cookies() {
			if k.Name == want {
				ck = k
			}
		}
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusFound || ck == nil || ck.Path != c.path || ck.Secure != c.secure || !ck.HttpOnly ||
			ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 300 {
			t.Fatalf("%s: %d, cookie %+v", c.public, resp.StatusCode, ck)
		}
		st, err := s.verify(loc.Query().Get("state"))
		if err != nil || string(st.binding) != string(hashBinding(ck.Value)) || strings.Contains(loc.String(), ck.Value) {
			t.Errorf("%s: the state is not bound to the cookie: %v", c.public, err)
		}
		// The callback accepts the state with the cookie only.
		req := httptest.NewRequest(http.MethodGet, CallbackPath, nil)
		if err := s.checkBrowser(req, st); !errors.Is(err, errStateBrowser) {
			t.Errorf("without the cookie: %v", err)
		}
		req.AddCookie(&http.Cookie{Name: want, Value: ck.Value})
		if err := s.checkBrowser(req, st); err != nil {
			t.Errorf("with the cookie: %v", err)
		}
		other := httptest.NewRequest(http.MethodGet, CallbackPath, nil)
		other.AddCookie(&http.Cookie{Name: want, Value: ck.Value[:42] + "A"})
		if ck.Value[42] == 'A' {
			other = httptest.NewRequest(http.MethodGet, CallbackPath, nil)
			other.AddCookie(&http.Cookie{Name: want, Value: ck.Value[:42] + "B"})
		}
		if err := s.checkBrowser(other, st); !errors.Is(err, errStateBrowser) {
			t.Errorf("with another cookie: %v", err)
		}
	}
}

// TestClaimOnce: a LOGIN state is used up by inserting its row, already used; the second claim — a
// replay, or the loser of a race that both passed checkUnused — fails on the primary key as errStateUsed,
// on either database. checkUnused sees the row.
func TestClaimOnce(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	s, err := New(Config{DB: dbtest.New(t), Clever: unused{}, Linker: unused{}, Provisioner: unused{}, ClientID: "c",
		PublicURL: "https://roster.example.test", SecretKey: key32, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, _ := newLoginState(s.loginRedirect, now.Add(time.Minute))
	if err := s.checkUnused(ctx, st); err != nil {
		t.Fatalf("a fresh state: %v", err)
	}
	if err := s.claim(ctx, st); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if err := s.claim(ctx, st); !errors.Is(err, errStateUsed) {
		t.Errorf("second claim: %v, want used", err)
	}
	if err := s.checkUnused(ctx, st); !errors.Is(err, errStateUsed) {
		t.Errorf("checkUnused after the claim: %v, want used", err)
	}
	row, err := s.cfg.DB.Client.LoginState.Get(ctx, st.id())
	if err != nil || row.UsedAt == nil || row.Purpose != loginstate.PurposeLOGIN || !row.ExpiresAt.Equal(st.expires) {
		t.Errorf("row %+v %v", row, err)
	}
}
