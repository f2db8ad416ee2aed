// Package clever is a thin client for the Clever Data API v3.0 and Clever's OAuth endpoints.
//
// It is hand-written on purpose: Clever's generated Go SDK is unmaintained and drops data (the
// district_admin role, nested previous_attributes, dates in the forms real districts send). Records are
// decoded leniently and keep their raw JSON; lists are streaming iterators that follow links[rel=next];
// rate limits are respected and 5xx and network errors retried with capped, jittered backoff. Tokens are
// of type Token, which never prints.
package clever

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Client. The zero value talks to the real Clever.
type Config struct {
	// APIURL is the base of the Data API; "/v3.0/..." is appended. Default https://api.clever.com.
	// It may carry a path prefix (a proxy); Clever's relative paging links are resolved under it.
	APIURL string
	// OAuthURL is the base of the OAuth endpoints; "/oauth/..." is appended. Default https://clever.com.
	OAuthURL string
	// ClientID and ClientSecret are the app's credentials, used with Basic auth for GET /oauth/tokens
	// and the login code exchange. Data API calls do not need them.
	ClientID, ClientSecret string
	// HTTPClient sends the requests. Default: a client with a 2-minute timeout per request.
	HTTPClient *http.Client
	// PageLimit is the limit= sent on list requests. Default 10000, Clever's maximum.
	PageLimit int
	// MaxAttempts bounds the tries of one request that fails with a 5xx or a network error. Default 8.
	MaxAttempts int
	// MaxRateLimitRetries bounds how many 429s one request waits out before giving up. Default 30.
	MaxRateLimitRetries int
	// BackoffBase and BackoffMax shape the full-jitter exponential backoff between retries.
	// Defaults 250ms and 30s.
	BackoffBase, BackoffMax time.Duration
	// MaxRateLimitWait is the longest the client waits for a rate-limit window to reset before returning
	// a *RateLimitError. Default 65s (Clever's windows are one minute).
	MaxRateLimitWait time.Duration
	// Logger receives retry and rate-limit notices at debug and warn level. Never a token. Default: discard.
	Logger *slog.Logger
	// Now and Sleep are the clock; tests replace them to run retries without waiting.
	// Defaults time.Now and a context-aware timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client reads Clever. It is safe for concurrent use; one Client serves any number of tokens.
type Client struct {
	cfg Config
}

// New returns a client with cfg's defaults filled in.
func New(cfg Config) *Client {
	cfg.APIURL = strings.TrimRight(cmp.Or(cfg.APIURL, "https://api.clever.com"), "/")
	cfg.OAuthURL = strings.TrimRight(cmp.Or(cfg.OAuthURL, "https://clever.com"), "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	cfg.PageLimit = cmp.Or(cfg.PageLimit, 10000)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 8)
	cfg.MaxRateLimitRetries = cmp.Or(cfg.MaxRateLimitRetries, 30)
	cfg.BackoffBase = cmp.Or(cfg.BackoffBase, 250*time.Millisecond)
	cfg.BackoffMax = cmp.Or(cfg.BackoffMax, 30*time.Second)
	cfg.MaxRateLimitWait = cmp.Or(cfg.MaxRateLimitWait, 65*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Client{cfg: cfg}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithToken returns a reader of the Data API that authenticates with tok. The returned value tracks the
// token's rate-limit window, so keep one per token rather than making one per call.
func (c *Client) WithToken(tok Token) *TokenClient {
	return &TokenClient{c: c, token: tok}
}

// TokenClient reads the Data API with one bearer token. It is safe for concurrent use.
type TokenClient struct {
	c     *Client
	token Token

	mu        sync.Mutex
	remaining int // -1 until a response told us
	reset     time.Time
	seen      bool
}

// RateLimit reports the token's rate-limit state from the last response: requests remaining in the
// window and when it resets. ok is false before any response carried the headers.
func (tc *TokenClient) RateLimit() (remaining int, reset time.Time, ok bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.remaining, tc.reset, tc.seen
}

// observe records the X-RateLimit-* headers of a response.
func (tc *TokenClient) observe(h http.Header) {
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	tc.mu.Lock()
	tc.remaining, tc.reset, tc.seen = rem, time.Unix(reset, 0), true
	tc.mu.Unlock()
}

// throttle waits for the window to reset when the last response said none are left, so that a long read
// slows down instead of collecting 429s.
func (tc *TokenClient) throttle(ctx context.Context) error {
	tc.mu.Lock()
	wait := time.Duration(0)
	if tc.seen && tc.remaining <= 0 {
		wait = tc.reset.Sub(tc.c.cfg.Now())
		tc.seen = false // one wait per exhausted window
	}
	tc.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	if wait > tc.c.cfg.MaxRateLimitWait {
		wait = tc.c.cfg.MaxRateLimitWait
	}
	tc.c.cfg.Logger.DebugContext(ctx, "clever rate limit reached, waiting for reset", slog.Duration("wait", wait))
	return tc.c.cfg.Sleep(ctx, wait)
}

// request describes one HTTP call; build makes a fresh *http.Request per attempt.
type request struct {
	method string
	url    string // absolute
	path   string // for errors and logs: path and query, never a token
	body   []byte
	header http.Header
	// retryable says whether the request may be sent again after a 5xx or a network error. The login
	// code exchange is not: a code is spent once, so a lost response must not be followed by a replay.
	retryable bool
	// rate is the token client whose rate-limit window the request counts against (nil for /oauth).
	rate *TokenClient
}

// maxBody bounds a response body: 10,000 records of a few KB each, with a wide margin.
const maxBody = 512 << 20

// do sends r, waiting out rate limits and retrying transient failures, and returns the body of a 2xx
// answer. Any other answer is an *APIError (or *RateLimitError).
func (c *Client) do(ctx context.Context, r request) ([]byte, http.Header, error) {
	attempts, limited := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if r.rate != nil {
			if err := r.rate.throttle(ctx); err != nil {
				return nil, nil, err
			}
		}
		attempts++
		body, header, status, err := c.roundTrip(ctx, r)
		if r.rate != nil && header != nil {
			r.rate.observe(header)
		}
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if !r.retryable || attempts >= c.cfg.MaxAttempts {
				return nil, nil, fmt.Errorf("clever: %s %s: %w", r.method, r.path, err)
			}
			c.cfg.Logger.WarnContext(ctx, "clever request failed, retrying",
				slog.String("path", r.path), slog.Int("attempt", attempts), slog.String("error", err.Error()))
		case status >= 200 && status < 300:
			return body, header, nil
		case status == http.StatusTooManyRequests:
			limited++
			attempts-- // a 429 is not a failure of the request; it has its own budget
			reset := rateLimitReset(header, c.cfg.Now())
			wait := reset.Sub(c.cfg.Now())
			apiErr := APIError{Method: r.method, Path: r.path, Status: status, Message: errorMessage(body)}
			if limited > c.cfg.MaxRateLimitRetries || wait > c.cfg.MaxRateLimitWait {
				return nil, nil, &RateLimitError{APIError: apiErr, Reset: reset}
			}
			if reset.IsZero() {
				wait = c.backoff(limited)
			}
			c.cfg.Logger.WarnContext(ctx, "clever rate limited, waiting for reset",
				slog.String("path", r.path), slog.Duration("wait", wait))
			if err := c.cfg.Sleep(ctx, max(wait, 0)+time.Duration(rand.Int64N(int64(50*time.Millisecond)))); err != nil {
				return nil, nil, err
			}
			continue
		case retryableStatus(status) && r.retryable && attempts < c.cfg.MaxAttempts:
			c.cfg.Logger.WarnContext(ctx, "clever server error, retrying",
				slog.String("path", r.path), slog.Int("status", status), slog.Int("attempt", attempts))
		default:
			return nil, nil, &APIError{Method: r.method, Path: r.path, Status: status, Message: errorMessage(body)}
		}
		if err := c.cfg.Sleep(ctx, c.backoff(attempts)); err != nil {
			return nil, nil, err
		}
	}
}

// roundTrip sends one attempt and reads the whole body. A body cut short is an error (and retried).
func (c *Client) roundTrip(ctx context.Context, r request) ([]byte, http.Header, int, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("build request: %w", err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, 0, scrubURLError(err)
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		return nil, resp.Header, 0, err
	}
	return b, resp.Header, resp.StatusCode, nil
}

// readBody reads a whole body, into one allocation when the length is announced (a 10,000-record page
// is megabytes; growing a buffer to it costs more than decoding it).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > maxBody {
		return nil, fmt.Errorf("read body: %d bytes is larger than %d", n, maxBody)
	} else if n >= 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("read body: larger than %d bytes", maxBody)
	}
	return b, nil
}

// scrubURLError drops the URL from a transport error: it holds no token, but errors should name the
// request once, in the form do() gives them.
func scrubURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func retryableStatus(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented
}

func rateLimitReset(h http.Header, now time.Time) time.Time {
	if h == nil {
		return time.Time{}
	}
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		return time.Unix(s, 0)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil {
		return now.Add(time.Duration(s) * time.Second)
	}
	return time.Time{}
}

// backoff is full-jitter exponential backoff: a random wait in [0, min(max, base·2^attempt)).
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.cfg.BackoffMax
	if attempt < 30 {
		ceiling = min(c.cfg.BackoffMax, c.cfg.BackoffBase<<attempt)
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}
