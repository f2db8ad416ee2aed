package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/testlog"
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

// TestPanicsAreRecoveredAndLogged: a resolver that panics (District.status on a handler built
// without its admin service dereferences nil) gives that field an INTERNAL error without internals,
// the panic is logged with its stack, and the server goes on answering.
func TestPanicsAreRecoveredAndLogged(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	logger, logs := testlog.New(t)
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, Logger: logger})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)

	r := post(t, srv.URL, map[string]any{"query": `{ districts { edges { node { name status { state } } } } }`})
	if r.status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeInternal ||
		r.Errors[0].Message != "internal error" {
		t.Fatalf("answer: %d %+v, want one INTERNAL \"internal error\"", r.status, r.Errors)
	}
	if !strings.Contains(logs.String(), `"msg":"graphql resolver panic"`) || !strings.Contains(logs.String(), "nil pointer") ||
		!strings.Contains(logs.String(), "DistrictStatus") {
		t.Errorf("the panic is not logged with its cause and stack:\n%s", logs.String())
	}
	var ok struct{ Districts struct{ TotalCount int } }
	if r := post(t, srv.URL, map[string]any{"query": `{ districts { totalCount } }`}); len(r.Errors) > 0 ||
		json.Unmarshal(r.Data, &ok) != nil || ok.Districts.TotalCount != 1 {
		t.Errorf("after the panic: %+v %s", r.Errors, r.Data)
	}
}

// introspectionQuery is GraphiQL's schema query (graphql-js getIntrospectionQuery): type references
// nest nine levels deep under __schema.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

// TestPlaygroundIntrospectionPassesTheLimits: the playground loads the schema with the introspection
// query above; the depth limit (12) must not refuse it (a depth bomb over the mirror still is: see
// TestLimitsAnswerWithErrors).
func TestPlaygroundIntrospectionPassesTheLimits(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	r := a.do(a.keys["read"], introspectionQuery, nil)
	var got struct {
		Schema struct {
			QueryType struct{ Name string }
			Types     []struct{ Name string }
		} `json:"__schema"`
	}
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &got) != nil || got.Schema.QueryType.Name != "Query" || len(got.Schema.Types) < 50 {
		t.Fatalf("introspection: %d %+v, %d types", r.status, r.Errors, len(got.Schema.Types))
	}
}
