package clever

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Sentinel errors that callers test with errors.Is. An *APIError matches the sentinel of its status.
var (
	// ErrUnauthorized: the token is invalid or revoked (401), for instance because the district
	// disconnected the app. Not retried.
	ErrUnauthorized = errors.New("clever: invalid or revoked token")
	// ErrNotFound: the record does not exist, was unshared, or the token may not read that path (404).
	ErrNotFound = errors.New("clever: not found")
	// ErrRateLimited: the token's rate limit was exceeded and the wait until its reset was longer than
	// Config.MaxRateLimitWait, or the retries ran out.
	ErrRateLimited = errors.New("clever: rate limited")
	// ErrInvalidGrant: a login code was unknown, expired or already used (400 on POST /oauth/tokens).
	ErrInvalidGrant = errors.New("clever: invalid grant")
	// ErrMalformed: Clever answered 2xx with a body that is not what the API returns.
	ErrMalformed = errors.New("clever: malformed response")
)

// APIError is a non-2xx answer from Clever. It never holds a token: Path is the request path and query
// (which carry only ids and paging parameters), and Message is taken from the body.
type APIError struct {
	Method  string
	Path    string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("clever: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps the status to the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrInvalidGrant:
		msg := strings.ReplaceAll(strings.ToLower(e.Message), "_", " ")
		return e.Status == http.StatusBadRequest && strings.Contains(msg, "invalid grant")
	}
	return false
}

// RateLimitError is returned when a 429 could not be waited out. Reset is when the window ends.
type RateLimitError struct {
	APIError
	Reset time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s (resets %s)", e.APIError.Error(), e.Reset.UTC().Format(time.RFC3339))
}

// Unwrap lets errors.Is(err, ErrRateLimited) match.
func (e *RateLimitError) Unwrap() error { return &e.APIError }

var tagPattern = regexp.MustCompile(`<[^>]*>`)

// errorMessage extracts a short human message from an error body: Clever's JSON {"message"}, the OAuth
// {"error","error_description"}, or the text of an HTML page (Clever's Express 404s are HTML).
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var j struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if body[0] == '{' && json.Unmarshal(body, &j) == nil {
		switch {
		case j.ErrorDescription != "":
			return j.ErrorDescription
		case j.Message != "":
			return j.Message
		case j.Error != "":
			return j.Error
		}
	}
	text := html.UnescapeString(tagPattern.ReplaceAllString(string(body), " "))
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return text
}
