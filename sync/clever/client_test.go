package clever

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rostermirror/rostermirror/internal/testlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secretToken Token = "0123456789abcdef0123456789abcdef01234567"

// fakeClock is Config.Now and Config.Sleep for tests: sleeping advances the clock instantly and records
// how long the client asked to wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// setup mounts handler under /prefix (so a client that drops the base path fails) and returns a
// client for it, the fake clock and a buffer collecting the client's logs.
func setup(t *testing.T, handler http.Handler) (*TokenClient, *fakeClock, *testlog.Log) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/prefix/", http.StripPrefix("/prefix", handler))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s", r.URL)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	logger, logs := testlog.New(t)
	c := New(Config{
		APIURL:       srv.URL + "/prefix",
		OAuthURL:     srv.URL + "/prefix",
		ClientID:     "app-id",
		ClientSecret: "app-secret",
		PageLimit:    2,
		Now:          clock.Now,
		Sleep:        clock.Sleep,
		Logger:       logger,
	})
	return c.WithToken(secretToken), clock, logs
}

// pagedUsers serves n users two per page with Clever's envelope and relative links, checking the token.
func pagedUsers(t *testing.T, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+secretToken.Reveal() {
			t.Errorf("Authorization = %q", got)
		}
		if r.URL.Path != "/v3.0/users" {
			http.NotFound(w, r)
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(after, "u"))
		}
		var items []string
		end := min(start+limit, n)
		for i := start + 1; i <= end; i++ {
			items = append(items, fmt.Sprintf(`{"data":{"id":"u%d","district":"d1","name":{"first":"F%d","last":"L"},"roles":{"student":{"school":"s1","dob":"6/18/1998","grade":"Kindergarten","future_key":{"x":1}}},"new_top_level":true},"uri":"/v3.0/users/u%d"}`, i, i, i))
		}
		links := fmt.Sprintf(`{"rel":"self","uri":%q}`, r.URL.RequestURI())
		if end < n {
			links += fmt.Sprintf(`,{"rel":"next","uri":"/v3.0/users?limit=%d&starting_after=u%d"}`, limit, end)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"data":[%s],"links":[%s]}`, strings.Join(items, ","), links)
	}
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) ([]T, error) {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestListFollowsNextLinksUnderBasePath(t *testing.T) {
	t.Parallel()
	tc, _, _ := setup(t, pagedUsers(t, 5))
	users, err := collect(t, tc.Users(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 5 {
		t.Fatalf("got %d users, want 5", len(users))
	}
	for i, u := range users {
		if want := fmt.Sprintf("u%d", i+1); u.ID != want {
			t.Errorf("user %d id = %q, want %q", i, u.ID, want)
		}
		if u.Roles.Student == nil || u.Roles.Student.School != "s1" || u.Roles.Student.Grade != "Kindergarten" {
			t.Errorf("user %s student role = %+v", u.ID, u.Roles.Student)
		}
		if dob, ok := u.Roles.Student.DOB.Time(); !ok || dob.Year() != 1998 {
			t.Errorf("dob = %v %v", dob, ok)
		}
		// Unknown keys survive in the raw JSON.
		if !bytes.Contains(u.Raw, []byte(`"future_key":{"x":1}`)) || !bytes.Contains(u.Raw, []byte(`"new_top_level":true`)) {
			t.Errorf("raw JSON lost unknown keys: %s", u.Raw)
		}
	}
}

func TestListStopsWhenConsumerStops(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	h := pagedUsers(t, 100)
	tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h(w, r)
	}))
	n := 0
	for _, err := range tc.Users(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	// Pages 1 and 2 hold the 3 records; page 3 may have been prefetched before the consumer stopped.
	// Nothing after that.
	if got := requests.Load(); got < 2 || got > 3 {
		t.Errorf("made %d requests for 3 records at 2 a page, want 2 or 3", got)
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ok := pagedUsers(t, 3)
	tc, clock, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"message":"internal error"}`)
		case 3: // a connection cut mid-body
			w.Header().Set("Content-Length", "5000")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"data":[{"data":{"id":"u1"`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case 5:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			ok(w, r)
		}
	}))
	users, err := collect(t, tc.Users(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 || users[0].ID != "u1" || users[2].ID != "u3" {
		t.Fatalf("got %d users: %+v", len(users), users)
	}
	if got := calls.Load(); got != 6 {
		t.Errorf("made %d calls, want 6 (3 failures, page 1, 1 failure, page 2)", got)
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 4 {
		t.Fatalf("slept %d times, want 4: %v (calls %d)", len(sleeps), sleeps, calls.Load())
	}
	// Full-jitter backoff: a wait in [0, base·2^attempt). Sleeps 0–2 follow attempts 1–3 of page 1; sleep 3
	// follows attempt 1 of page 2.
	for i, attempt := range []int{1, 2, 3, 1} {
		if ceiling := 250 * time.Millisecond << attempt; sleeps[i] < 0 || sleeps[i] >= ceiling {
			t.Errorf("backoff %d = %v, want in [0, %v)", i, sleeps[i], ceiling)
		}
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	_, err := tc.School(t.Context(), "s1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want a 503 *APIError", err)
	}
	if got := calls.Load(); got != 8 {
		t.Errorf("made %d calls, want MaxAttempts = 8", got)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status      int
		contentType string
		body        string
		sentinel    error
		message     string
	}{
		{400, "application/json", `{"message":"bad limit"}`, nil, "bad limit"},
		{401, "application/json", `{"message":"invalid auth"}`, ErrUnauthorized, "invalid auth"},
		{404, "text/html; charset=utf-8", "<!DOCTYPE html>\n<html><body><pre>Cannot GET /v3.0/resources</pre></body></html>", ErrNotFound, "Cannot GET /v3.0/resources"},
		{404, "application/json", `{"message":"Resource not found"}`, ErrNotFound, "Resource not found"},
		{413, "text/plain", "Request entity too large", nil, "Request entity too large"},
		{501, "application/json", `{"message":"not implemented"}`, nil, "not implemented"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			_, err := collect(t, tc.Sections(t.Context()))
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Message != tt.message {
				t.Fatalf("err = %#v (%v), want status %d message %q", apiErr, err, tt.status, tt.message)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if errors.Is(err, ErrRateLimited) {
				t.Errorf("%d matched ErrRateLimited", tt.status)
			}
			if calls.Load() != 1 {
				t.Errorf("made %d calls for a %d, want 1", calls.Load(), tt.status)
			}
		})
	}
}

func TestRateLimitWaitsUntilReset(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var clock *fakeClock
	ok := pagedUsers(t, 1)
	tc, clock, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reset := clock.Now().Add(30 * time.Second).Unix()
		w.Header().Set("X-RateLimit-Limit", "1200")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		if calls.Add(1) <= 2 {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Too Many Requests"}`)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "1199")
		ok(w, r)
	}))
	users, err := collect(t, tc.Users(t.Context()))
	if err != nil || len(users) != 1 {
		t.Fatalf("users = %v, err = %v", users, err)
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 2 {
		t.Fatalf("sleeps = %v, want two waits for the reset", sleeps)
	}
	for _, d := range sleeps {
		if d < 29*time.Second || d > 31*time.Second { // the reset header has whole seconds
			t.Errorf("waited %v, want the 30s to the reset (plus jitter)", d)
		}
	}
	if rem, _, ok := tc.RateLimit(); !ok || rem != 1199 {
		t.Errorf("RateLimit() remaining = %d, %v", rem, ok)
	}
}

func TestRateLimitTooLongIsAnError(t *testing.T) {
	t.Parallel()
	var clock *fakeClock
	tc, clock, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(clock.Now().Add(10*time.Minute).Unix(), 10))
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	_, err := tc.Term(t.Context(), "t1")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want *RateLimitError matching ErrRateLimited", err)
	}
	if want := clock.Now().Add(10 * time.Minute); rl.Reset.Unix() != want.Unix() {
		t.Errorf("Reset = %v, want %v", rl.Reset, want)
	}
}

func TestThrottlesBeforeExhaustingTheWindow(t *testing.T) {
	t.Parallel()
	var clock *fakeClock
	h := pagedUsers(t, 4)
	tc, clock, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(clock.Now().Add(20*time.Second).Unix(), 10))
		w.Header().Set("X-RateLimit-Remaining", "0") // this was the window's last request
		h(w, r)
	}))
	users, err := collect(t, tc.Users(t.Context()))
	if err != nil || len(users) != 4 {
		t.Fatalf("users = %d, err = %v", len(users), err)
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 1 || sleeps[0] != 20*time.Second {
		t.Errorf("sleeps = %v, want one 20s wait before page 2", sleeps)
	}
}

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"html with 200":        "<html><body>Maintenance</body></html>",
		"no data":              `{"links":[]}`,
		"record not an object": `{"data":[{"data":"u1","uri":"/v3.0/users/u1"}],"links":[]}`,
		"wrong field type":     `{"data":[{"data":{"id":"u1","roles":{"student":{"schools":"s1"}}},"uri":"/v3.0/users/u1"}],"links":[]}`,
		"truncated json":       `{"data":[{"data":{"id":"u1"}`,
		"absolute next link":   `{"data":[{"data":{"id":"u1"}}],"links":[{"rel":"next","uri":"ftp:x"}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				fmt.Fprint(w, body)
			}))
			_, err := collect(t, tc.Users(t.Context()))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), "list /users: page 1") {
				t.Errorf("error %q does not say where", err)
			}
			if calls.Load() != 1 {
				t.Errorf("a malformed 200 was retried (%d calls)", calls.Load())
			}
		})
	}
}

func TestResourcesWithoutEnvelope(t *testing.T) {
	t.Parallel()
	tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"resources": []}`)
	}))
	got, err := collect(t, List[Course](t.Context(), tc, "/courses/c1/resources", ListOptions{}))
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want no records and no error", got, err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	secret := secretToken.Reveal()
	for _, s := range []string{
		fmt.Sprint(secretToken), fmt.Sprintf("%v %s %q %x %X %d %+v %#v", secretToken, secretToken, secretToken, secretToken, secretToken, secretToken, secretToken, secretToken),
		fmt.Sprintf("%+v", struct{ T Token }{secretToken}), fmt.Sprintf("%#v", DistrictToken{AccessToken: secretToken}),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("token printed: %s", s)
		}
	}
	b, _ := json.Marshal(DistrictToken{AccessToken: secretToken})
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", secretToken, "tok", DistrictToken{AccessToken: secretToken})
	if bytes.Contains(b, []byte(secret)) || bytes.Contains(buf.Bytes(), []byte(secret)) {
		t.Errorf("token in JSON or slog: %s %s", b, buf.Bytes())
	}

	// Nor in the errors and logs of failing requests.
	var calls atomic.Int32
	tc, _, logs := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"invalid auth"}`)
	}))
	_, err := tc.User(t.Context(), "u1")
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%#v", err), secret) {
		t.Errorf("error reveals the token or is nil: %v", err)
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), secret) {
		t.Errorf("logs empty or reveal the token: %s", logs)
	}
}

func TestCancellationStopsPagingPromptly(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	first := pagedUsers(t, 10)
	var calls atomic.Int32
	tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			first(w, r)
			return
		}
		select { // a page that never comes
		case <-r.Context().Done():
		case <-release:
		}
	}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		n := 0
		for _, err := range tc.Users(ctx) {
			if err != nil {
				done <- err
				return
			}
			if n++; n == 2 {
				cancel() // cancel while the next page is in flight
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("paging did not stop after cancellation")
	}
}

func TestDistrictTokensAndCodeExchange(t *testing.T) {
	t.Parallel()
	tc, _, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "app-id" || secret != "app-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/oauth/tokens":
			if r.URL.Query().Get("owner_type") != "district" {
				t.Errorf("owner_type = %q", r.URL.Query().Get("owner_type"))
			}
			d := r.URL.Query().Get("district")
			fmt.Fprintf(w, `{"data":[{"id":"tok1","created":"2022-06-23T21:56:32.335Z","owner":{"type":"district","id":"%s"},"access_token":"%s","scopes":["read:students"]}],"links":[{"rel":"self","uri":"/oauth/tokens?owner_type=district&district=%s"}]}`, d, secretToken.Reveal(), d)
		case r.Method == http.MethodPost && r.URL.Path == "/oauth/tokens":
			var body map[string]string
			json.NewDecoder(r.Body).Decode(&body)
			if body["code"] != "good" || body["grant_type"] != "authorization_code" || body["redirect_uri"] != "https://app/cb" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid grant: invalid code"}`)
				return
			}
			fmt.Fprint(w, `{"access_token":"user-token","token_type":"bearer"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	c := tc.c
	toks, err := c.DistrictTokens(t.Context(), "d1")
	if err != nil || len(toks) != 1 || toks[0].Owner.ID != "d1" || toks[0].AccessToken != secretToken || toks[0].Scopes[0] != "read:students" {
		t.Fatalf("tokens = %+v, %v", toks, err)
	}
	tok, err := c.ExchangeCode(t.Context(), "good", "https://app/cb")
	if err != nil || tok.Reveal() != "user-token" {
		t.Fatalf("exchange = %v", err)
	}
	_, err = c.ExchangeCode(t.Context(), "reused", "https://app/cb")
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("err = %v, want ErrInvalidGrant", err)
	}
	bad := New(Config{OAuthURL: c.cfg.OAuthURL, ClientID: "app-id", ClientSecret: "wrong"})
	if _, err := bad.DistrictTokens(t.Context(), ""); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong secret: err = %v, want ErrUnauthorized", err)
	}
}
