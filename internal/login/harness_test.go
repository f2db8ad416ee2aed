package login_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/login"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

const (
	testSecretKey = "test secret key: thirty-two characters or more"
	appLoginURL   = "https://app.example.test/signed-in?from=clever"
	linkPath      = "/auth/clever/link"
)

// recordingLinker is onboarding as login sees it: it records every sign-in it is told of and answers
// with outcome (unlinked by default).
type recordingLinker struct {
	mu      sync.Mutex
	calls   []link.SignIn
	outcome func(link.SignIn) link.SignInOutcome
}

func (l *recordingLinker) SignedIn(_ context.Context, in link.SignIn) (link.SignInOutcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, in)
	if l.outcome != nil {
		return l.outcome(in), nil
	}
	return link.SignInOutcome{}, nil
}

func (l *recordingLinker) signIns() []link.SignIn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]link.SignIn(nil), l.calls...)
}

// clock is the login service's clock: real time moved by an offset.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// harness is the whole sign-in path over real parts: a database, the Clever simulator over HTTP, the
// sync engine as provisioner, the token store, the API keys, and the login endpoints on an HTTP server
// of their own. Only onboarding is a recording stand-in (internal/link is tested on its own).
type harness struct {
	t          *testing.T
	db         *store.DB
	sim        *cleversim.Server
	simURL     string
	publicURL  string
	svc        *login.Service
	engine     *mirror.Engine
	cc         *clever.Client
	linker     *recordingLinker
	clock      *clock
	logs       *testlog.Log
	http       *http.Client
	adminKey   string
	readKey    string
	data       *cleversim.Dataset
	districtID string
}

type options struct {
	appURL   string // "" for none
	noTokens bool   // no district tokens: users are read with their own token
	linkPath string // the link redirect URI's path ("" for the login one)
	appStart string // the app's start URL for sign-ins without a state ("" for none)
	// provisionWait is the engine's ProvisionWait (default its own).
	provisionWait time.Duration
}

func setup(t *testing.T, o options) *harness {
	t.Helper()
	logger, logs := testlog.New(t)
	h := &harness{t: t, db: dbtest.New(t), linker: &recordingLinker{}, clock: &clock{}, logs: logs, data: synth.Demo()}
	var head struct{ ID string }
	json.Unmarshal(h.data.Districts[0], &head)
	h.districtID = head.ID

	mux := http.NewServeMux()
	ours := httptest.NewServer(mux)
	t.Cleanup(ours.Close)
	h.publicURL = ours.URL
	redirects := []string{ours.URL + login.CallbackPath}
	if o.linkPath != "" {
		redirects = append(redirects, ours.URL+o.linkPath)
	}
	sim, err := cleversim.New(cleversim.Config{Dataset: h.data, RedirectURIs: redirects, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	h.sim, h.simURL = sim, simSrv.URL

	h.cc = clever.New(clever.Config{APIURL: simSrv.URL, OAuthURL: simSrv.URL, ClientID: cleversim.DefaultClientID,
		ClientSecret: cleversim.DefaultClientSecret, Logger: logger,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	box, err := secret.NewBox(testSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := tokens.New(tokens.Config{DB: h.db, Box: box, OAuth: h.cc, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h.engine, err = mirror.New(mirror.Config{DB: h.db, Reader: func(tok clever.Token) mirror.Reader { return h.cc.WithToken(tok) },
		Tokens: ts, Logger: logger, ProvisionWait: o.provisionWait})
	if err != nil {
		t.Fatal(err)
	}
	cfg := login.Config{DB: h.db, Clever: login.CleverClient(h.cc), ClientID: cleversim.DefaultClientID, OAuthURL: simSrv.URL,
		PublicURL: ours.URL, AppLoginURL: o.appURL, AppStartURL: o.appStart, SecretKey: testSecretKey, Linker: h.linker, Provisioner: h.engine,
		Logger: logger, Now: h.clock.now}
	if !o.noTokens {
		cfg.Tokens = ts
	}
	if o.linkPath != "" {
		cfg.LinkRedirectURI = ours.URL + o.linkPath
	}
	h.svc, err = login.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewStore(h.db, nil)
	h.svc.Routes(mux, keys)
	if h.adminKey, _, err = keys.Create(context.Background(), "app-backend", []auth.Scope{auth.ScopeAdmin}, "test"); err != nil {
		t.Fatal(err)
	}
	if h.readKey, _, err = keys.Create(context.Background(), "reader", []auth.Scope{auth.ScopeRead}, "test"); err != nil {
		t.Fatal(err)
	}
	h.http = h.browser()
	return h
}

// browser is a new browser: a cookie jar of its own (for the app's sign-in cookie and the simulator's
// session), redirects shown rather than followed. The harness's own requests use one (h.http).
func (h *harness) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get sends GET to u from the harness's browser without following redirects and returns the response
// with its body read.
func (h *harness) get(u string) (*http.Response, string) {
	h.t.Helper()
	return h.getIn(h.http, u)
}

// getIn is get in browser c.
func (h *harness) getIn(c *http.Client, u string) (*http.Response, string) {
	h.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// cookie returns the cookie named name that resp sets, or nil.
func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// location returns the Location of a 302, failing the test for anything else.
func (h *harness) location(resp *http.Response, body string) *url.URL {
	h.t.Helper()
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("%s: %d, want 302: %s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// start opens /auth/clever/login (with query) and returns Clever's authorize URL it redirects to.
func (h *harness) start(query string) *url.URL {
	h.t.Helper()
	u := h.publicURL + login.LoginPath
	if query != "" {
		u += "?" + query
	}
	return h.location(h.get(u))
}

// authorize signs userID in at the simulator's authorize URL (the simulator-only user_id=, and extra
// such as authorized_by=teacher) and returns the callback URL Clever redirects to.
func (h *harness) authorize(authorizeURL *url.URL, userID string, extra url.Values) *url.URL {
	h.t.Helper()
	q := authorizeURL.Query()
	q.Set("user_id", userID)
	for k, v := range extra {
		q[k] = v
	}
	u := *authorizeURL
	u.RawQuery = q.Encode()
	return h.location(h.get(u.String()))
}

// signIn goes the whole way from /auth/clever/login to the app's URL and returns the login code.
func (h *harness) signIn(userID string, extra url.Values) (code string, callback *url.URL) {
	h.t.Helper()
	callback = h.authorize(h.start(""), userID, extra)
	app := h.location(h.get(callback.String()))
	if got := app.Query().Get("code"); got == "" || !strings.HasPrefix(app.String(), "https://app.example.test/signed-in?") {
		h.t.Fatalf("callback redirected to %s", app)
	}
	return app.Query().Get("code"), callback
}

// exchange posts a code to /auth/exchange with key and returns the status and the JSON answer.
func (h *harness) exchange(key, body, contentType string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.publicURL+login.ExchangePath, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Fatalf("exchange answer %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func codeBody(code string) string {
	b, _ := json.Marshal(map[string]string{"code": code})
	return string(b)
}

// count returns the number of rows a COUNT query finds.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	if h.db.Dialect == "postgres" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int
	if err := h.db.SQL.QueryRow(query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// user returns a dataset user for which keep is true.
func (h *harness) user(keep func(roles map[string]any) bool) map[string]any {
	h.t.Helper()
	for _, raw := range h.data.Users {
		var u map[string]any
		json.Unmarshal(raw, &u)
		if r, _ := u["roles"].(map[string]any); keep(r) {
			return u
		}
	}
	h.t.Fatal("no such user")
	return nil
}

func only(role string) func(map[string]any) bool {
	return func(r map[string]any) bool { _, ok := r[role]; return ok && len(r) == 1 }
}

// simCode signs userID in at the simulator directly (with state, when given) from the harness's browser
// and returns Clever's code and the callback URL, without calling the callback.
func (h *harness) simCode(userID, state string) (string, *url.URL) {
	h.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {cleversim.DefaultClientID},
		"redirect_uri": {h.publicURL + login.CallbackPath}, "user_id": {userID}}
	if state != "" {
		q.Set("state", state)
	}
	cb := h.location(h.get(h.simURL + "/oauth/authorize?" + q.Encode()))
	return cb.Query().Get("code"), cb
}

// codeStillValid reports whether Clever's code was not exchanged: exchanging it now works.
func (h *harness) codeStillValid(code string) bool {
	h.t.Helper()
	_, err := h.cc.ExchangeCode(context.Background(), code, h.publicURL+login.CallbackPath)
	return err == nil
}

// noChange checks that a refused callback changed nothing: onboarding was not told, no code issued,
// nobody provisioned, and Clever's code not exchanged.
func (h *harness) noChange(signInsBefore int, cleverCode string) {
	h.t.Helper()
	if n := len(h.linker.signIns()); n != signInsBefore {
		h.t.Errorf("onboarding told of %d sign-ins, want %d", n, signInsBefore)
	}
	if n := h.count("SELECT count(*) FROM login_codes"); n != 0 {
		h.t.Errorf("%d login codes issued", n)
	}
	if n := h.count("SELECT count(*) FROM users"); n != 0 {
		h.t.Errorf("%d users provisioned", n)
	}
	if cleverCode != "" && !h.codeStillValid(cleverCode) {
		h.t.Error("Clever's code was exchanged")
	}
}

// page checks an HTML answer's status and that its text says want.
func page(t *testing.T, resp *http.Response, body string, status int, want ...string) {
	t.Helper()
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("%s: %d %s, want %d HTML", resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not say %q:\n%s", w, body)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("page headers: %v", resp.Header)
	}
}
