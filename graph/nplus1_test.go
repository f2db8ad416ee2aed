package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// TestNestedQueryStatementsDoNotGrowWithPageSize: schools → sections → students runs the same number of
// SQL statements whatever the page sizes (no N+1).
func TestNestedQueryStatementsDoNotGrowWithPageSize(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var statements atomic.Int64
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ClientOptions: []ent.Option{ent.Debug(), ent.Log(func(...any) { statements.Add(1) })}})
	key := auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}
	srv := httptest.NewServer(authAs(key, h))
	t.Cleanup(srv.Close)
	count := func(n int) (int64, int) {
		statements.Store(0)
		q := fmt.Sprintf(`{ schools(first: %d) { edges { node { name sections(first: %d) { edges { node { name students(first: %d) { edges { node { user { id } } } } } } } } } } }`, n, n*5, n*10)
		body, _ := json.Marshal(map[string]string{"query": q})
		res, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Data   json.RawMessage
			Errors []any
		}
		json.NewDecoder(res.Body).Decode(&out)
		if len(out.Errors) > 0 {
			t.Fatalf("errors: %v", out.Errors)
		}
		return statements.Load(), strings.Count(string(out.Data), `"user"`)
	}
	small, smallRows := count(1)
	large, largeRows := count(4)
	if largeRows <= smallRows {
		t.Fatalf("the larger query returned %d enrollments, the smaller %d: nothing to compare", largeRows, smallRows)
	}
	if small != large || small == 0 {
		t.Errorf("statements: %d for the small query, %d for one %d times as wide; want the same", small, large, largeRows/max(smallRows, 1))
	}
	t.Logf("%d statements for %d and for %d enrollments", small, smallRows, largeRows)
}

// authAs puts a key in every request's context, as the API-key middleware does.
func authAs(k auth.Key, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(auth.WithKey(r.Context(), k)))
	})
}
