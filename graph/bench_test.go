package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// BenchmarkRosterQuery is the roster query of .ci/bench-graphql/run — one section with its students,
// their roles and schools — through the handler (no network), answered by one compiled statement and
// by the resolvers, in the same run over the demo district. On Postgres (TEST_DATABASE_URL) the two
// sub-benchmarks give the compiled path's speed-up; on SQLite only the resolvers run.
//
//	TEST_DATABASE_URL=postgres://… go test ./graph -run '^$' -bench RosterQuery -benchtime 3s
func BenchmarkRosterQuery(b *testing.B) {
	a := newAPI(b)
	ctx := b.Context()
	section := a.db.NewClient().Section.Query().Order(ent.Asc("clever_id")).FirstIDX(ctx)
	body, _ := json.Marshal(map[string]any{
		"query":     `query Roster($id: ID!) { node(id: $id) { ... on Section { name students(first: 50) { edges { node { firstName lastName roles { role grade school { name } } } } } } } }`,
		"variables": map[string]any{"id": section},
	})
	key := auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}
	for _, mode := range []struct {
		name    string
		resolve bool
	}{{"compiled", false}, {"resolved", true}} {
		if !mode.resolve && a.db.Dialect != dialect.Postgres {
			continue // compiled queries are Postgres-only
		}
		compiled := 0
		h := authAs(key, graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: mode.resolve, Compiled: func(string) { compiled++ }}))
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"roles"`)) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
		if (compiled > 0) == mode.resolve {
			b.Fatalf("%s: %d requests answered compiled", mode.name, compiled)
		}
	}
}
