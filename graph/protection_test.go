package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
)

func post(t *testing.T, url string, body map[string]any) response {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r response
	json.NewDecoder(res.Body).Decode(&r)
	r.status = res.StatusCode
	return r
}

// TestAutomaticPersistedQueries: a hash the server has not seen asks for the query; sent once with it,
// the hash alone runs the query afterwards.
func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, graph.NewHandler(graph.HandlerConfig{DB: a.db})))
	t.Cleanup(srv.Close)
	query := `{ districts { totalCount } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	if r := post(t, srv.URL, map[string]any{"extensions": ext}); len(r.Errors) == 0 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v", r.Errors)
	}
	if r := post(t, srv.URL, map[string]any{"query": query, "extensions": ext}); len(r.Errors) > 0 {
		t.Fatalf("register: %+v", r.Errors)
	}
	r := post(t, srv.URL, map[string]any{"extensions": ext})
	if len(r.Errors) > 0 || string(r.Data) != `{"districts":{"totalCount":1}}` {
		t.Errorf("hash alone: %s %+v", r.Data, r.Errors)
	}
}

// TestRequestTimeout: a request that outlives the timeout ends with a TIMEOUT error, not a hang.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}},
		graph.NewHandler(graph.HandlerConfig{DB: a.db, Timeout: time.Nanosecond})))
	t.Cleanup(srv.Close)
	r := post(t, srv.URL, map[string]any{"query": `{ users { totalCount edges { node { roles { role } } } } }`})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "TIMEOUT" {
		t.Errorf("%d %s errors = %+v, want TIMEOUT", r.status, r.Data, r.Errors)
	}
}
