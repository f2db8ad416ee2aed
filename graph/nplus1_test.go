package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/store"
)

// TestNestedQueryStatementsDoNotGrowWithPageSize: schools → sections → enrollments runs the same number
// of SQL statements whatever the page sizes (no N+1): a handful through the resolvers (eager loading,
// one statement per level), and on Postgres exactly one, compiled.
func TestNestedQueryStatementsDoNotGrowWithPageSize(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var statements, compiled atomic.Int64
	serve := func(resolveAll bool) string {
		h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: resolveAll,
			ClientOptions: []ent.Option{ent.Debug(), ent.Log(func(...any) { statements.Add(1) })},
			Compiled:      func(string) { statements.Add(1); compiled.Add(1) }})
		key := auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}
		srv := httptest.NewServer(authAs(key, h))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	resolvers, compiler := serve(true), serve(false)
	count := func(url string, n int) (int64, int) {
		statements.Store(0)
		data := dataOf(t, url, fmt.Sprintf(`{ schools(first: %d) { edges { node { name sections(first: %d) { edges { node { name enrollments(first: %d) { edges { node { user { id } } } } } } } } } } }`, n, n*5, n*10))
		return statements.Load(), strings.Count(string(data), `"user"`)
	}
	for _, c := range []struct {
		name, url string
		want      func(int64) bool
	}{
		{"resolvers", resolvers, func(n int64) bool { return n > 0 && n <= 4 }},
		{"compiled", compiler, func(n int64) bool { return n == 1 || a.db.Dialect != dialect.Postgres && n > 0 && n <= 4 }},
	} {
		small, smallRows := count(c.url, 1)
		large, largeRows := count(c.url, 4)
		if largeRows <= smallRows {
			t.Fatalf("%s: the larger query returned %d enrollments, the smaller %d: nothing to compare", c.name, largeRows, smallRows)
		}
		if small != large || !c.want(small) {
			t.Errorf("%s: statements: %d for the small query, %d for one %d times as wide; want the same, and few", c.name, small, large, largeRows/max(smallRows, 1))
		}
		t.Logf("%s: %d statements for %d and for %d enrollments", c.name, small, smallRows, largeRows)
	}
	if got := compiled.Load(); (got == 2) != (a.db.Dialect == dialect.Postgres) {
		t.Errorf("%d queries compiled, want 2 on Postgres, none on SQLite", got)
	}
}

// dataOf posts query to url and returns the answer's data, failing the test on an error.
func dataOf(t *testing.T, url, query string) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	res, err := http.Post(url, "application/json", strings.NewReader(string(body)))
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
		t.Fatalf("%s: errors: %v", query, out.Errors)
	}
	return out.Data
}

// authAs puts a key in every request's context, as the API-key middleware does.
func authAs(k auth.Key, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(auth.WithKey(r.Context(), k)))
	})
}

// TestRosterFieldsLoadByList: the hand-written roster fields — a section's primaryTeacher, teachers and
// students (with the students' roles and schools), a user's schools and sections, a school's users —
// run the same number of statements for a small page of parents as for a large one: each loads the
// values of the whole list at once. (A field under a list nested in the page — users { roles { schools
// } } — loads once per user: its @cost weight says so.)
func TestRosterFieldsLoadByList(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var statements atomic.Int64
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true,
		ClientOptions: []ent.Option{ent.Debug(), ent.Log(func(...any) { statements.Add(1) })}})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	for name, c := range map[string]struct {
		q            string
		small, large int
	}{
		"sections": {`{ sections(first: %d) { edges { node { name primaryTeacher { lastName }
			teachers(first: 5) { totalCount edges { position node { lastName roles { role } } } }
			students(first: 30) { totalCount edges { startedAt node { firstName roles { role grade school { name } } } } } } } } }`, 10, 50},
		"users": {`{ users(first: %d) { edges { node { lastName schools { name } roles { role }
			sections(first: 5) { totalCount edges { node { name } } } } } } }`, 10, 50},
		"schools": {`{ schools(first: %d) { edges { node { name users(first: 5) { totalCount edges { node { lastName } } } } } } }`, 1, 4},
	} {
		q := c.q
		count := func(n int) (int64, int) {
			statements.Store(0)
			data := dataOf(t, srv.URL, fmt.Sprintf(q, n))
			return statements.Load(), len(data)
		}
		small, smallBytes := count(c.small)
		large, largeBytes := count(c.large)
		if largeBytes < 2*smallBytes {
			t.Fatalf("%s: %d parents answered %d bytes, %d answered %d: nothing to compare", name, c.large, largeBytes, c.small, smallBytes)
		}
		// 14 for sections: students and teachers each look up the page's hand additions (localdata) once.
		if small != large || small > 14 {
			t.Errorf("%s: %d statements for %d parents, %d for %d; want the same, and few", name, small, c.small, large, c.large)
		}
		t.Logf("%s: %d statements for %d and for %d parents", name, small, c.small, c.large)
	}
}

// TestOnboardingFieldsLoadByList: a frontend's "whose data is each district?" over many districts, and an
// admin's review queue, run as many statements for seven records as for two (District.linkState,
// District.organization and LinkProposal.conflict load by list).
func TestOnboardingFieldsLoadByList(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ctx := t.Context()
	o := a.db.Client.Organization.Create().SetExternalID("o").SetName("O").SaveX(ctx)
	other := a.db.Client.Organization.Create().SetExternalID("p").SetName("P").SaveX(ctx)
	for i := range 6 {
		id := fmt.Sprintf("d%d", i)
		a.db.Client.District.Create().SetID(id).SetDistrictID(id).SetName("District " + id).SetRaw([]byte(`{}`)).
			SetContentHash("h").SetLastSyncedAt(time.Now()).ExecX(ctx)
		a.db.Client.DistrictLink.Create().SetDistrictID(id).SetOrganizationID(o.ID).SetState("LINKED").ExecX(ctx)
		a.db.Client.LinkProposal.Create().SetDistrictID(id).SetOrganizationID(other.ID).SetSignal("NAME").
			SetEvidenceKey("k").SetScore(0.4).ExecX(ctx)
	}
	var statements atomic.Int64
	db := store.FromSQL(a.db.SQL, a.db.Dialect)
	db.Client = db.NewClient(ent.Debug(), ent.Log(func(...any) { statements.Add(1) }))
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true, Link: link.New(link.Config{DB: db})})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeAdmin}}, h))
	t.Cleanup(srv.Close)
	for name, q := range map[string]string{
		"districts": `{ districts(first: %d) { edges { node { name linkState organization { name } } } } }`,
		"proposals": `{ linkProposals(first: %d) { edges { node { score conflict } } } }`,
	} {
		count := func(n int) (int64, string) {
			statements.Store(0)
			data := dataOf(t, srv.URL, fmt.Sprintf(q, n))
			return statements.Load(), string(data)
		}
		one, oneData := count(2) // the demo district (unlinked) and one linked: every statement is needed
		all, allData := count(7)
		if strings.Count(allData, `"node"`) < 6 || !strings.Contains(allData, `"LINKED"`) && !strings.Contains(allData, `"conflict":true`) {
			t.Fatalf("%s: %s", name, allData)
		}
		if one != all || one == 0 {
			t.Errorf("%s: %d onboarding statements for two records, %d for seven; want the same (%s)", name, one, all, oneData)
		}
	}
}
