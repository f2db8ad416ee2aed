package playground_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rostermirror/rostermirror/graph/playground"
	"github.com/rostermirror/rostermirror/graph/playground/playgroundtest"
)

// TestBrowser runs the playground in headless Chromium against a stand-in GraphQL endpoint: with a
// saved key the default query returns data; without one the result pane shows the server's 401.
// playgroundtest fails the test on any request to another host or CSP violation.
func TestBrowser(t *testing.T) {
	t.Parallel()
	playgroundtest.RequireChromium(t)

	const key = "rm_test_key_0123456789"
	tests := []struct {
		name string
		key  string
		want string
	}{
		{name: "with key", key: key, want: `"totalCount": 1`},
		{name: "without key", key: "", want: `"message": "missing or invalid API key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint := &standIn{key: key}
			mux := http.NewServeMux()
			mux.Handle("/graphql", endpoint)
			mux.Handle("/", playground.Handler("/graphql"))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			got := playgroundtest.RunInBrowser(t, srv.URL+"/", tt.key)
			if !strings.Contains(got, tt.want) {
				t.Fatalf("result pane = %q, want it to contain %q", got, tt.want)
			}

			// Every request carried exactly the saved key (or none), the query included.
			reqs := endpoint.requests()
			wantAuth := ""
			if tt.key != "" {
				wantAuth = "Bearer " + tt.key
			}
			i := slices.IndexFunc(reqs, func(r standInRequest) bool { return strings.Contains(r.query, "districts") })
			if i < 0 {
				t.Fatalf("the endpoint never saw the districts query; requests: %+v", reqs)
			}
			if got := reqs[i].authorization; got != wantAuth {
				t.Errorf("query sent with Authorization %q, want %q", got, wantAuth)
			}
			for _, r := range reqs {
				if r.authorization != "" && r.authorization != wantAuth {
					t.Errorf("request sent with Authorization %q, want %q or none", r.authorization, wantAuth)
				}
			}
		})
	}
}

// standIn is a tiny GraphQL endpoint: it answers any query with one district when the request
// carries the expected bearer key, and 401 with a GraphQL error otherwise. It declines introspection.
type standIn struct {
	key string

	mu   sync.Mutex
	seen []standInRequest
}

type standInRequest struct {
	authorization string
	query         string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var body struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	auth := r.Header.Get("Authorization")
	s.mu.Lock()
	s.seen = append(s.seen, standInRequest{authorization: auth, query: body.Query})
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case auth != "Bearer "+s.key:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"message":"missing or invalid API key","extensions":{"code":"UNAUTHENTICATED"}}]}`))
	case strings.Contains(body.Query, "__schema"):
		_, _ = w.Write([]byte(`{"errors":[{"message":"the stand-in endpoint has no schema"}]}`))
	default:
		_, _ = w.Write([]byte(`{"data":{"districts":{"totalCount":1,"edges":[{"node":{"id":"RGlzdHJpY3Q6MQ==","name":"Demo ISD"}}]}}}`))
	}
}

func (s *standIn) requests() []standInRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}
