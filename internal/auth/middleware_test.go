package auth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/auth"
)

// protected starts a server whose handler, behind the middleware, echoes the actor of the request's key.
func protected(t *testing.T, s *auth.Store, b bundle) *httptest.Server {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, ok := auth.FromContext(r.Context())
		if !ok {
			http.Error(w, "no key in context", http.StatusTeapot)
			return
		}
		io.WriteString(w, auth.Actor(r.Context())+" "+strings.Join(scopeStrings(k.Scopes), ","))
	})
	mux := http.NewServeMux()
	mux.Handle("/graphql", auth.Middleware(s, b.log)(next))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func scopeStrings(scopes []auth.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

// post sends a GraphQL request with the given Authorization header (none when empty).
func post(t *testing.T, srv *httptest.Server, authorization string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{__typename}"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	srv := protected(t, s, b)
	key, k := createKey(t, s, "dashboard", auth.ScopeAdmin)
	revoked, rk := createKey(t, s, "old", auth.ScopeRead)
	if _, err := s.Revoke(t.Context(), rk.ID); err != nil {
		t.Fatal(err)
	}

	t.Run("ok", func(t *testing.T) {
		for _, h := range []string{"Bearer " + key, "bearer " + key, "  Bearer   " + key + " "} {
			resp, body := post(t, srv, h)
			if want := "apikey:dashboard (" + k.ID + ") admin"; resp.StatusCode != http.StatusOK || body != want {
				t.Errorf("Authorization %q: %d %q, want 200 %q", h, resp.StatusCode, body, want)
			}
		}
	})

	tests := []struct {
		name, authorization, message, challenge string
	}{
		{"missing", "", `missing API key: send "Authorization: Bearer <key>"`, `Bearer realm="rostermirror"`},
		{"basic", "Basic dXNlcjpwYXNz", "invalid API key", `Bearer realm="rostermirror", error="invalid_token"`},
		{"bearer without key", "Bearer", "invalid API key", `Bearer realm="rostermirror", error="invalid_token"`},
		{"key without scheme", key, "invalid API key", `Bearer realm="rostermirror", error="invalid_token"`},
		{"malformed", "Bearer nope", "invalid API key", `Bearer realm="rostermirror", error="invalid_token"`},
		{"revoked", "Bearer " + revoked, "invalid API key", `Bearer realm="rostermirror", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, srv, tt.authorization)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			var got struct {
				Data   *json.RawMessage `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if got.Data != nil || len(got.Errors) != 1 || got.Errors[0].Message != tt.message ||
				len(got.Errors[0].Extensions) != 1 || got.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
				t.Errorf("body %s, want one error %q with extensions.code UNAUTHENTICATED", body, tt.message)
			}
		})
	}

	t.Run("logs", func(t *testing.T) {
		logs := b.logs.String()
		for _, secret := range []string{key[len(k.Prefix):], revoked[len(rk.Prefix):], "dXNlcjpwYXNz", rk.Prefix} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs hold a presented credential %q:\n%s", secret, logs)
			}
		}
		if !strings.Contains(logs, `"msg":"API request rejected"`) || !strings.Contains(logs, `"api_key_id":"`+k.ID+`"`) {
			t.Errorf("logs lack the rejections or the accepted key's id:\n%s", logs)
		}
	})
}

// A database that cannot be asked gives 500, not 401: the key may well be valid.
func TestMiddlewareDatabaseDown(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	key, _ := createKey(t, s, "x", auth.ScopeRead)
	srv := protected(t, s, b)
	b.db.Close()

	resp, body := post(t, srv, "Bearer "+key)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, `"code":"INTERNAL"`) {
		t.Errorf("with the database closed: %d %s, want 500 INTERNAL", resp.StatusCode, body)
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Error("a 500 carries a WWW-Authenticate challenge")
	}
	if logs := b.logs.String(); !strings.Contains(logs, `"msg":"check API key"`) || strings.Contains(logs, key[4:]) {
		t.Errorf("logs should report the failure without the key:\n%s", logs)
	}
}
