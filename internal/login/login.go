// Package login is signing in with Clever: the "Log in with Clever" link, district invites, the callback
// Clever redirects to, and the one-time code through which the app's backend learns who signed in.
//
// # Flows
//
// Log in with Clever (district SSO, or a teacher-authorized Library login) starts here:
//
//	GET /auth/clever/login[?district_id=D][&app_state=A]
//	  → 302 {CLEVER_OAUTH_URL}/oauth/authorize?response_type=code&client_id=…&redirect_uri=R&state=S[&district_id=D]
//	    Set-Cookie: rostermirror_signin=B; Path=/auth/clever/; Max-Age=StateTTL; HttpOnly; SameSite=Lax
//	    (over https: __Host-rostermirror_signin=B; Path=/; Secure; …, which no sibling subdomain can plant)
//	  → the user signs in at Clever
//	  → GET R?code=C&state=S   (R is PUBLIC_URL/auth/clever/callback)
//
// S is a fresh LOGIN state that expires in Config.StateTTL. district_id, when given, is passed on so that
// Clever skips its district picker. S is bound to the browser that started the sign-in: B is a random
// secret, S carries its SHA-256, and the callback accepts S only with the cookie (compared in constant
// time). Otherwise an attacker could sign in at Clever as themselves, stop at the callback URL and send
// it to a victim, whose browser would be signed in to the app as the attacker (login CSRF: a student's
// work would land in someone else's account). A SameSite=Lax cookie goes with Clever's top-level
// redirect; it is deleted by the callback that uses it. A, the app's own state, is carried in S and
// handed back with the app's code (step 7), so that the app can bind that last step to its own cookie. One browser has one sign-in under way at a time: starting
// another replaces the cookie, and the first is then refused as started elsewhere.
//
// A district invite (the GraphQL mutation createDistrictInvite, see CreateInvite) is a URL
//
//	PUBLIC_URL/auth/clever/login?invite=S
//
// where S is an INVITE state naming the inviting organization, valid for Config.InviteTTL. An admin sends
// it to someone at the district; following it checks S and goes on to Clever with the link redirect URI
// (Config.LinkRedirectURI, which may differ from the login one) and a state of its own — the invite's
// Clever leg, naming S's row and bound to the browser by the sign-in cookie like a login's. The invite
// link is not bound to a browser (it is made to be opened by someone else), but whoever holds it cannot
// finish a sign-in in another browser. The first sign-in whose code Clever accepts uses the invite up,
// and onboarding (internal/link) is told that the district signed in through the organization's invite:
// it proposes the link, or makes it when the organization auto-links invites.
//
// Clever Portal and Instant Login links reach the callback with a code and no state (Clever sends none
// for them). Such a code is never exchanged — nothing shows that this browser signed in at Clever — and
// the browser is sent to Config.AppStartURL when set (the app starts a sign-in bound to its own cookie),
// or else back to Clever as from /auth/clever/login:
//
//	GET R?code=C[&district_id=D]   (no state)
//	  → 302 {CLEVER_OAUTH_URL}/oauth/authorize?…&state=S'[&district_id=D] and a new sign-in cookie
//	  → Clever answers at once for a user signed in there (no page; UNCONFIRMED: Clever's docs do not say,
//	    and if it shows its picker the user picks once more)
//	  → GET R?code=C'&state=S'
//
// The second leg is an ordinary LOGIN sign-in, reported to onboarding as a sign-in without an invite
// (what onboarding counts as an Instant Login). A callback with a state is never sent back to Clever, so
// the round trip cannot loop. A forwarded callback URL without state thus signs its follower in as
// whoever is signed in at Clever in their own browser, or not at all.
//
// # The callback
//
// GET /auth/clever/callback (and the link redirect URI's path):
//
//  1. An error from Clever (?error=) is shown on a page in fixed words (never the URL's description);
//     nothing else happens, and a state is not used up.
//  2. Without a state, the browser is sent back to Clever with a bound LOGIN state (above).
//  3. A state is verified — its MAC (constant-time), its expiry — then checked before anything else
//     happens: it must come with its sign-in cookie, and be unused — a LOGIN state has no row, an
//     invite's leg names an invite still unused (an invite link itself is refused). A forged, malformed, expired, replayed or unknown state, or a LOGIN state from another
//     browser, is refused with a page (400) that says what happened and what to do, and nothing else
//     happens: no code exchange, no provisioning, no onboarding signal.
//  4. The code is exchanged (POST /oauth/tokens) with the redirect URI the state recorded. The state is
//     then used up: a LOGIN state's row is inserted (the primary key refuses a second use), an invite's
//     row is updated in one atomic UPDATE that succeeds only for an unused, unexpired row. /v3.0/me names the
//     user, the district and authorized_by.
//  5. The user's record is read from /v3.0/users/{id} — with the district's token when there is one,
//     with the user's own token otherwise — and written to the mirror (Provisioner): a user of a district
//     that is connected but not synced yet can sign in at once, and every sign-in brings its user up to
//     date.
//  6. Onboarding is told of the sign-in (Linker): district, user, e-mail, authorized_by and the invite's
//     organization. Its answer gives the district's organization.
//  7. With Config.AppLoginURL the user is sent there with a one-time code (?code=…, TTL Config.CodeTTL,
//     and &state=A when the sign-in was started with app_state=A),
//     which the app's backend exchanges at POST /auth/exchange with an admin API key for JSON naming the
//     user, the district, the roles, authorized_by and the organization. Without it a plain page says who
//     signed in and what became of the district's link.
//
// # What is stored
//
// States and codes are stored only as SHA-256 hashes (of the state's nonce, of the code), with what they
// stand for and their expiry; rows are deleted a day after they expire (Cleanup). Starting a sign-in
// writes nothing — its state and cookie carry all it needs — so anonymous requests to /auth/clever/login
// cost no storage: a LOGIN state's row is written, already used, only once Clever has accepted the
// sign-in's code. An INVITE state's row is written when an admin makes the invite. The sign-in cookie's
// secret is stored nowhere but in the browser. Clever's bearer token of
// a sign-in is used for the duration of the callback and never stored or logged (Clever advises against
// keeping Instant Login tokens). Nothing logged names a person: log lines carry Clever ids, never tokens,
// codes, states, names or e-mail addresses.
package login

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// Paths of the endpoints (SPEC "HTTP").
const (
	LoginPath    = "/auth/clever/login"
	CallbackPath = "/auth/clever/callback"
	ExchangePath = "/auth/exchange"
)

// bindingCookie is the sign-in cookie: the browser secret of the LOGIN state it started (see state).
// It is sent only to PublicURL's path + cookiePathSuffix, where the login and callback paths are.
const (
	bindingCookie = "rostermirror_signin"
	// secureCookie is the sign-in cookie's name over https: the __Host- prefix makes browsers refuse it
	// from a sibling subdomain or with another Path, so that nobody else can plant one ("cookie
	// tossing"); it requires Path=/ and Secure.
	secureCookie     = "__Host-rostermirror_signin"
	cookiePathSuffix = "/auth/clever/"
)

// Defaults of Config.
const (
	DefaultStateTTL      = 10 * time.Minute
	DefaultInviteTTL     = 7 * 24 * time.Hour
	DefaultCodeTTL       = 60 * time.Second
	DefaultRetention     = 24 * time.Hour
	DefaultTokenCacheTTL = 5 * time.Minute
	defaultOAuthURL      = "https://clever.com"
)

// Clever is what sign-ins need of Clever. CleverClient adapts a *clever.Client to it.
type Clever interface {
	// ExchangeCode trades a login code for the user's bearer token (POST /oauth/tokens).
	ExchangeCode(ctx context.Context, code, redirectURI string) (clever.Token, error)
	// Me reads /v3.0/me with a user's token.
	Me(ctx context.Context, tok clever.Token) (clever.Me, error)
	// User reads /v3.0/users/{id} with a district's or the user's own token.
	User(ctx context.Context, tok clever.Token, id string) (clever.User, error)
}

// Linker is told of every sign-in (internal/link's *Service).
type Linker interface {
	SignedIn(ctx context.Context, in link.SignIn) (link.SignInOutcome, error)
}

// Provisioner writes a signed-in user's record to the mirror (sync/mirror's *Engine). An error matching
// mirror.ErrBusy means a running sync writes the user instead.
type Provisioner interface {
	ProvisionUser(ctx context.Context, districtID string, user clever.User) (syncstats.Outcome, error)
}

// DistrictTokens gives a district's current Clever token (sync/tokens' *Store).
type DistrictTokens interface {
	Token(ctx context.Context, districtID string) (clever.Token, error)
}

// Config configures a Service. DB, Clever, ClientID, PublicURL, SecretKey, Linker and Provisioner are
// required.
type Config struct {
	// DB holds login_states and login_codes, and the mirror read for names and fallbacks.
	DB *store.DB
	// Clever exchanges codes and reads /me and users: CleverClient(client), with the client built with
	// the app's CLEVER_CLIENT_ID and CLEVER_CLIENT_SECRET.
	Clever Clever
	// ClientID is the app's Clever client id (CLEVER_CLIENT_ID), sent to /oauth/authorize.
	ClientID string
	// OAuthURL is the base of Clever's OAuth pages (CLEVER_OAUTH_URL). Default https://clever.com.
	OAuthURL string
	// PublicURL is this server's external base URL (ROSTERMIRROR_PUBLIC_URL), absolute http(s). The login
	// redirect URI is PublicURL + "/auth/clever/callback"; invite links start with it.
	PublicURL string
	// AppLoginURL is where a signed-in user is sent with ?code= (ROSTERMIRROR_APP_LOGIN_URL); its own
	// query parameters are kept. Empty: the callback shows a page instead and issues no code.
	AppLoginURL string
	// AppStartURL is where a sign-in that arrives from Clever without a state (the Clever Portal, Instant
	// Login) is sent, so that the app starts a sign-in of its own, bound to its own cookie
	// (/auth/clever/login?app_state=…). Empty: the callback sends the browser back to Clever itself.
	AppStartURL string
	// LinkRedirectURI is the redirect URI of invite (district link) sign-ins, registered with Clever like
	// the login one. Default: the login redirect URI. A different one must lead to this handler too
	// (Routes mounts the callback at its path when it is under PublicURL).
	LinkRedirectURI string
	// SecretKey is ROSTERMIRROR_SECRET_KEY; the key that signs states is derived from it (HKDF, an info
	// string of its own).
	SecretKey string
	// Linker is told of every sign-in.
	Linker Linker
	// Provisioner writes signed-in users to the mirror.
	Provisioner Provisioner
	// Tokens gives districts' tokens for reading a signed-in user's record. Nil: the user's own token is
	// used.
	Tokens DistrictTokens
	// Logger receives a line per sign-in and per refusal: Clever ids and outcomes only. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// StateTTL is how long a login started at /auth/clever/login may take. Default 10 minutes.
	StateTTL time.Duration
	// InviteTTL is how long an invite link works. Default 7 days.
	InviteTTL time.Duration
	// CodeTTL is how long the app has to exchange a login code. Default 60 seconds.
	CodeTTL time.Duration
	// Retention is how long expired states and codes are kept before Cleanup deletes them. Default 1 day.
	Retention time.Duration
	// TokenCacheTTL is how long a district's token is reused between sign-ins before Tokens is asked
	// again. Default 5 minutes; negative asks every time.
	TokenCacheTTL time.Duration
}

// Service runs the sign-in endpoints and makes invites. It is safe for concurrent use.
type Service struct {
	cfg           Config
	key           []byte   // signs states
	loginRedirect string   // PublicURL + CallbackPath
	linkRedirect  string   // Config.LinkRedirectURI
	appURL        *url.URL // nil without AppLoginURL
	cookiePath    string   // the sign-in cookie's Path: PublicURL's path + "/auth/clever/"
	cookieSecure  bool     // PublicURL is https
	cookieName    string   // bindingCookie, or secureCookie over https
	log           *slog.Logger

	lastCleanup atomic.Int64 // unix seconds of the last opportunistic cleanup

	tokensMu sync.Mutex
	tokens   map[string]cachedToken
}

// cachedToken is a district token kept between sign-ins.
type cachedToken struct {
	tok     clever.Token
	fetched time.Time
}

// stateKeyInfo is the HKDF info string of the state-signing key. Changing it invalidates every state and
// invite link issued.
const stateKeyInfo = "rostermirror v1 login state: HMAC-SHA256 key for OAuth state and invite links"

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	var missing []string
	for name, ok := range map[string]bool{
		"DB": cfg.DB != nil, "Clever": cfg.Clever != nil, "ClientID": cfg.ClientID != "", "PublicURL": cfg.PublicURL != "",
		"SecretKey": cfg.SecretKey != "", "Linker": cfg.Linker != nil, "Provisioner": cfg.Provisioner != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("new login service: %s required", strings.Join(missing, ", "))
	}
	key, err := secret.DeriveKey(cfg.SecretKey, stateKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("new login service: %w", err)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if err := checkAbsolute("ROSTERMIRROR_PUBLIC_URL", cfg.PublicURL); err != nil {
		return nil, fmt.Errorf("new login service: %w", err)
	}
	cfg.OAuthURL = strings.TrimRight(cmp.Or(cfg.OAuthURL, defaultOAuthURL), "/")
	if err := checkAbsolute("CLEVER_OAUTH_URL", cfg.OAuthURL); err != nil {
		return nil, fmt.Errorf("new login service: %w", err)
	}
	s := &Service{cfg: cfg, key: key, loginRedirect: cfg.PublicURL + CallbackPath, tokens: map[string]cachedToken{}}
	pub, _ := url.Parse(cfg.PublicURL)
	s.cookiePath, s.cookieSecure, s.cookieName = pub.Path+cookiePathSuffix, pub.Scheme == "https", bindingCookie
	if s.cookieSecure {
		s.cookiePath, s.cookieName = "/", secureCookie
	}
	s.linkRedirect = cmp.Or(cfg.LinkRedirectURI, s.loginRedirect)
	if err := checkAbsolute("the link redirect URI", s.linkRedirect); err != nil {
		return nil, fmt.Errorf("new login service: %w", err)
	}
	if cfg.AppStartURL != "" {
		if err := checkAbsolute("ROSTERMIRROR_APP_START_URL", cfg.AppStartURL); err != nil {
			return nil, fmt.Errorf("new login service: %w", err)
		}
	}
	if cfg.AppLoginURL != "" {
		if err := checkAbsolute("ROSTERMIRROR_APP_LOGIN_URL", cfg.AppLoginURL); err != nil {
			return nil, fmt.Errorf("new login service: %w", err)
		}
		s.appURL, _ = url.Parse(cfg.AppLoginURL)
		if s.appURL.Query().Has("code") {
			return nil, errors.New("new login service: ROSTERMIRROR_APP_LOGIN_URL must not have a code parameter of its own")
		}
	}
	s.cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	s.log = s.cfg.Logger
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	s.cfg.StateTTL = cmp.Or(cfg.StateTTL, DefaultStateTTL)
	s.cfg.InviteTTL = cmp.Or(cfg.InviteTTL, DefaultInviteTTL)
	s.cfg.CodeTTL = cmp.Or(cfg.CodeTTL, DefaultCodeTTL)
	s.cfg.Retention = cmp.Or(cfg.Retention, DefaultRetention)
	s.cfg.TokenCacheTTL = cmp.Or(cfg.TokenCacheTTL, DefaultTokenCacheTTL)
	if s.cfg.StateTTL < 0 || s.cfg.InviteTTL < 0 || s.cfg.CodeTTL < 0 || s.cfg.Retention < 0 {
		return nil, errors.New("new login service: StateTTL, InviteTTL, CodeTTL and Retention must be positive")
	}
	return s, nil
}

// checkAbsolute refuses a URL that is not absolute http(s).
func checkAbsolute(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", name, raw)
	}
	return nil
}

// now is the clock in UTC (times are compared as stored, and SQLite compares them as text).
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Routes mounts the endpoints on mux:
//
//	GET  /auth/clever/login     start a sign-in, or follow an invite (?invite=)
//	GET  /auth/clever/callback  Clever's redirect; also at the link redirect URI's path when it differs
//	POST /auth/exchange         a login code → who signed in; needs an API key with the admin scope
//
// keys authenticates /auth/exchange; a request without a valid key gets the API's 401, a key without
// admin its 403.
func (s *Service) Routes(mux *http.ServeMux, keys *auth.Store) {
	mux.Handle("GET "+LoginPath, s.LoginHandler())
	mux.Handle("GET "+CallbackPath, s.CallbackHandler())
	if p, ok := s.linkCallbackPath(); ok && p != CallbackPath {
		mux.Handle("GET "+p, s.CallbackHandler())
	}
	mux.Handle("POST "+ExchangePath, auth.Middleware(keys, s.log)(auth.RequireScope(auth.ScopeAdmin, s.ExchangeHandler())))
}

// linkCallbackPath is the path of the link redirect URI as this handler sees it, when it is served here:
// under PublicURL, whose own path (a proxy's prefix) requests arrive without, like the login paths.
func (s *Service) linkCallbackPath() (string, bool) {
	pub, _ := url.Parse(s.cfg.PublicURL)
	u, err := url.Parse(s.linkRedirect)
	if err != nil || u.Scheme != pub.Scheme || u.Host != pub.Host || !strings.HasPrefix(u.Path, pub.Path+"/") {
		return "", false
	}
	return strings.TrimPrefix(u.Path, pub.Path), true
}

// Log attribute keys, defined once.
const (
	logUser         = "user"
	logDistrict     = "district"
	logOrganization = "organization"
	logPurpose      = "purpose"
	logReason       = "reason"
	logError        = "error"
	logAuthorizedBy = "authorized_by"
	logOutcome      = "outcome"
	logDeleted      = "deleted"
)
