package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// compiledAPI serves one database twice: with compiled queries (the default) and with every query
// resolved, and remembers which operations the first answered with a compiled statement.
type compiledAPI struct {
	*api
	compiledURL, resolvedURL string
	mu                       sync.Mutex
	compiled                 map[string]bool // operation name → answered compiled
}

func newCompiledAPI(t *testing.T, a *api) *compiledAPI {
	c := &compiledAPI{api: a, compiled: map[string]bool{}}
	serve := func(cfg graph.HandlerConfig) string {
		keys := auth.NewStore(a.db, nil)
		srv := httptest.NewServer(auth.Middleware(keys, nil)(graph.NewHandler(cfg)))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	c.compiledURL = serve(graph.HandlerConfig{DB: a.db, Compiled: func(op string) {
		c.mu.Lock()
		c.compiled[op] = true
		c.mu.Unlock()
	}})
	c.resolvedURL = serve(graph.HandlerConfig{DB: a.db, ResolveAll: true})
	return c
}

func (c *compiledAPI) post(url, key, query string, vars map[string]any) []byte {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %d %v %s", url, res.StatusCode, err, out)
	}
	return out
}

// same runs the named query both ways and fails unless the two answers are the same bytes. It
// reports whether the compiled server answered it with a compiled statement.
func (c *compiledAPI) same(name, key, query string, vars map[string]any) bool {
	c.t.Helper()
	query = "query " + name + strings.TrimPrefix(query, "query")
	resolved := c.post(c.resolvedURL, key, query, vars)
	compiled := c.post(c.compiledURL, key, query, vars)
	if !bytes.Equal(compiled, resolved) {
		c.t.Errorf("%s: the compiled answer differs from the resolvers'\ncompiled: %s\nresolved: %s", name, clip(compiled), clip(resolved))
	}
	if bytes.HasPrefix(resolved, []byte(`{"errors"`)) && !strings.HasPrefix(name, "Fails") {
		c.t.Errorf("%s: %s", name, clip(resolved))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compiled[name]
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

// TestCompiledQueriesAnswerAsTheResolvers: on Postgres, the queries sqljson compiles answer exactly
// what the resolvers answer (archived records hidden or shown, sensitive fields with and without the
// scope, times, empty and missing edges, paging flags), and the queries it does not compile — or whose
// answer holds an error — are answered by the resolvers. On SQLite nothing is compiled.
func TestCompiledQueriesAnswerAsTheResolvers(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ids := archiveSome(t, a)
	c := newCompiledAPI(t, a)
	pg := a.db.Dialect == dialect.Postgres

	type query struct {
		name, q string
		vars    map[string]any
		// compiled: answered by one statement (on Postgres).
		compiled bool
	}
	roster := `query($id: ID!) { node(id: $id) { ... on Section { name students(first: 50) { edges { node { firstName lastName roles { role grade school { name } } } } } } } }`
	queries := []query{
		{"Roster", roster, map[string]any{"id": ids.section}, true},
		{"RosterWithArchivedStudent", roster, map[string]any{"id": ids.sectionWithArchived}, true},
		{"Members", `query($id: ID!) { node(id: $id) { ... on Section { teachers(first: 5) { __typename totalCount pageInfo { hasNextPage hasPreviousPage }
			edges { __typename position startedAt node { cleverId lastName } } } students(first: 3) { totalCount pageInfo { hasNextPage }
			edges { startedAt position node { id firstName roles { role } } } } } } }`, map[string]any{"id": ids.section}, true},
		{"MembersOfEverySection", `query { sections(first: 100) { edges { node { teachers(first: 3) { totalCount edges { node { id } } }
			students(first: 100) { totalCount edges { node { id } } } } } } }`, nil, true},
		{"MembersIncludingArchived", `query($id: ID!) { sections(first: 100, includeArchived: true, where: {id: $id}) { edges { node { students(first: 100) { totalCount edges { node { id archivedAt } } } } } } }`, map[string]any{"id": ids.sectionWithArchived}, false},
		{"MembersAsOf", `query($id: ID!, $at: Time) { node(id: $id) { ... on Section { before: students(first: 100, asOf: "2000-01-01T00:00:00Z") { totalCount }
			now: students(first: 100, asOf: $at) { totalCount edges { node { id } } } } } }`, map[string]any{"id": ids.sectionWithEnded, "at": time.Now().Add(time.Hour).Format(time.RFC3339Nano)}, true},
		{"MembersWithCursors", `query($id: ID!) { node(id: $id) { ... on Section { students(first: 2) { pageInfo { endCursor } edges { cursor node { id } } } } } }`, map[string]any{"id": ids.section}, false},
		{"Nested", `query { schools(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { id cleverId __typename name
			district { name } sections(first: 2) { totalCount pageInfo { hasNextPage } edges { node { name subject term { name startDate endDate }
			course { name } teacherAssignments { edges { node { user { email } } } } enrollments(first: 3) { edges { node { startedAt endedAt
			user { id roles { id role grade dob graduationYear schoolID } } } } } } } } } } } }`, nil, true},
		{"RolesAndSchools", `query { users(first: 40) { edges { node { roles { role grade school { name district { name } } } } } } }`, nil, true},
		{"WholeLists", `query { terms { totalCount edges { node { name startDate sections { totalCount } } } } districts { edges { node { name } } } }`, nil, true},
		{"ArchivedHidden", `query { users(first: 1000) { totalCount edges { node { id archivedAt lastSyncedAt } } } schools { edges { node { id archivedAt } } } }`, nil, true},
		{"ArchivedShown", `query { users(first: 1000, includeArchived: true) { totalCount edges { node { id archivedAt } } } schools(includeArchived: true) { edges { node { id archivedAt } } } }`, nil, true},
		{"ArchivedBelowIncluded", `query($all: Boolean) { sections(includeArchived: $all, first: 100) { edges { node { enrollments { edges { node { user { id } } } } } } } }`, map[string]any{"all": true}, true},
		{"HistoryWithArchivedStudent", `query($id: ID!) { node(id: $id) { ... on Section { enrollments(first: 100) { edges { node { userID endedAt user { id } } } } } } }`, map[string]any{"id": ids.sectionWithArchived}, true},
		{"ArchivedNodeItself", `query($id: ID!) { node(id: $id) { id ... on User { archivedAt roles { role archivedAt } enrollments { totalCount edges { node { endedAt section { name } } } } } } }`, map[string]any{"id": ids.archivedStudent}, true},
		{"SchoolOfRoleArchived", `query($id: ID!) { node(id: $id) { ... on User { roles { school { name } schoolID } } } }`, map[string]any{"id": ids.studentAtArchivedSchool}, true},
		{"EndedEnrollments", `query($id: ID!) { node(id: $id) { ... on Section { enrollments { totalCount edges { node { endedAt userID } } } } } }`, map[string]any{"id": ids.sectionWithEnded}, true},
		{"Fragments", `query($skip: Boolean!) { first: schools(first: 1) { edges { node { ...S } } } second: schools(first: 2) { edges { node { ...S n: name @skip(if: $skip) } } } }
			fragment S on School { name city ... on Node { id } }`, map[string]any{"skip": false}, true},
		{"PageInfoOfAll", `query { courses(first: 1000) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } } sections(first: 1) { pageInfo { hasNextPage } edges { node { id } } } }`, nil, true},
		{"PageInfoWithoutEdges", `query { courses(first: 1000) { pageInfo { hasNextPage } } }`, nil, false},
		{"Typenames", `query { __typename schools(first: 1) { __typename pageInfo { __typename } edges { __typename node { __typename } } } }`, nil, true},
		{"Cursors", `query { schools(first: 2) { pageInfo { endCursor } edges { cursor node { id } } } }`, nil, false},
		{"Filtered", `query { users(first: 5, where: {firstNameHasPrefix: "A"}) { edges { node { id } } } }`, nil, false},
		{"Ordered", `query { sections(first: 5, orderBy: {field: NAME, direction: DESC}) { edges { node { name } } } }`, nil, false},
		{"HandWritten", `query { sections(first: 3) { edges { node { primaryTeacher { id } } } } }`, nil, false},
		{"HandWrittenLinkState", `query { districts { edges { node { name linkState organization { name } } } } }`, nil, false},
		{"SchoolsOfUsers", `query { users(first: 5) { edges { node { schools { name } } } } }`, nil, false},
		{"ByIDs", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{ids.section, ids.archivedStudent}}, false},
		{"Introspection", `query { __schema { queryType { name } } }`, nil, false},
	}
	// Every field of every record type, through node(id).
	for typ, id := range ids.ofType {
		queries = append(queries, query{"Every" + typ + "Field", `query($id: ID!) { node(id: $id) { ... on ` + typ + ` { ` + scalarFields(t, typ) + ` } } }`, map[string]any{"id": id}, true})
	}
	for _, key := range []string{"read", "sensitive"} {
		for _, q := range queries {
			name := q.name + strings.ToUpper(key[:1]) + key[1:]
			if got := c.same(name, a.keys[key], q.q, q.vars); got != (q.compiled && pg) {
				t.Errorf("%s: compiled = %v, want %v", name, got, q.compiled && pg)
			}
		}
	}
	if len(ids.ofType) < 10 {
		t.Errorf("every field of %d record types, want all 10+", len(ids.ofType))
	}
}

// scalarFields is every field of typ without arguments and of a scalar or enum type that the compiler
// covers: those of the ent schema (graph/ent.graphql), and cleverId. Hand-written ones (District.linkState)
// have resolvers of their own (see the HandWritten queries).
func scalarFields(t *testing.T, typ string) string {
	t.Helper()
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	var out []string
	for _, f := range schema.Types[typ].Fields {
		named := schema.Types[f.Type.Name()]
		fromEnt := f.Name == "cleverId" || f.Position != nil && f.Position.Src != nil && strings.HasSuffix(f.Position.Src.Name, "ent.graphql")
		if len(f.Arguments) == 0 && (named.Kind == ast.Scalar || named.Kind == ast.Enum) && fromEnt {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, " ")
}

// archived are the ids the compiled-query tests use, after archiveSome.
type archived struct {
	section, sectionWithArchived, sectionWithEnded string
	archivedStudent, studentAtArchivedSchool       string
	ofType                                         map[string]string // type → an id of that type
}

// archiveSome unshares a student (in a section), a school, and moves another student out of a
// section, then syncs, so that the mirror holds archived records, ended enrollments and roles at an
// archived school.
func archiveSome(t *testing.T, a *api) archived {
	t.Helper()
	ctx := context.Background()
	client := a.db.NewClient()
	var ids archived
	sections := client.Section.Query().Order(ent.Asc("clever_id")).WithEnrollments().AllX(ctx)
	slices.SortFunc(sections, func(x, y *ent.Section) int { return len(y.Edges.Enrollments) - len(x.Edges.Enrollments) })
	ids.section = sections[0].ID
	ids.sectionWithArchived = sections[1].ID
	ids.archivedStudent = sections[1].Edges.Enrollments[0].UserID
	ids.sectionWithEnded = sections[2].ID
	moved := sections[2].Edges.Enrollments[0].UserID
	school := client.School.Query().Order(ent.Asc("clever_id")).FirstX(ctx)
	for _, r := range client.UserRole.Query().AllX(ctx) {
		if r.SchoolID != nil && *r.SchoolID == school.ID && r.UserID != ids.archivedStudent {
			ids.studentAtArchivedSchool = r.UserID
			break
		}
	}
	must(t, a.sim.Unshare(cleversim.KindUsers, ids.archivedStudent))
	must(t, a.sim.Unshare(cleversim.KindSchools, school.ID))
	must(t, a.sim.Modify(cleversim.KindSections, ids.sectionWithEnded, json.RawMessage(fmt.Sprintf(`{"students": %s}`, studentsWithout(sections[2], moved)))))
	if res, err := a.engine.SyncDistrict(ctx, districtOf(a.data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %+v", err, res)
	}
	ids.ofType = map[string]string{}
	for typ, id := range map[string]func() (string, error){
		"District":            func() (string, error) { return client.District.Query().FirstID(ctx) },
		"School":              func() (string, error) { return school.ID, nil },
		"Term":                func() (string, error) { return client.Term.Query().FirstID(ctx) },
		"Course":              func() (string, error) { return client.Course.Query().FirstID(ctx) },
		"User":                func() (string, error) { return ids.studentAtArchivedSchool, nil },
		"UserRole":            func() (string, error) { return client.UserRole.Query().FirstID(ctx) },
		"Section":             func() (string, error) { return ids.section, nil },
		"SectionStudent":      func() (string, error) { return client.SectionStudent.Query().FirstID(ctx) },
		"SectionTeacher":      func() (string, error) { return client.SectionTeacher.Query().FirstID(ctx) },
		"RoleSchool":          func() (string, error) { return client.RoleSchool.Query().FirstID(ctx) },
		"ContactRelationship": func() (string, error) { return client.ContactRelationship.Query().FirstID(ctx) },
		"SyncRun":             func() (string, error) { return client.SyncRun.Query().FirstID(ctx) },
	} {
		v, err := id()
		if err != nil {
			t.Fatalf("an id of %s: %v", typ, err)
		}
		ids.ofType[typ] = v
	}
	return ids
}

func studentsWithout(s *ent.Section, user string) string {
	var out []string
	for _, e := range s.Edges.Enrollments {
		if e.UserID != user && e.EndedAt == nil {
			out = append(out, e.UserID)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNodesFindArchivedRecords: node(id) and nodes(ids) return the records they name even when
// archived, in the order asked, while the edges below them hide archived records; nodes(ids) runs as
// many statements for ten users as for two.
func TestNodesFindArchivedRecords(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ids := archiveSome(t, a)
	var statements atomic.Int64
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true,
		ClientOptions: []ent.Option{ent.Debug(), ent.Log(func(...any) { statements.Add(1) })}})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	a.url = srv.URL

	district := ids.ofType["District"]
	var one struct {
		Node struct{ ArchivedAt *string }
		D    struct {
			Schools struct{ TotalCount int }
		}
	}
	a.query("", `query($id: ID!, $d: ID!) { node(id: $id) { ... on User { archivedAt } } d: node(id: $d) { ... on District { schools { totalCount } } } }`,
		map[string]any{"id": ids.archivedStudent, "d": district}, &one)
	if one.Node.ArchivedAt == nil {
		t.Error("node(id) of an archived student: not archived, or not found")
	}

	users := a.db.NewClient().User.Query().Order(ent.Asc("clever_id")).Limit(10).IDsX(context.Background())
	var many struct {
		Nodes []struct {
			ID         string
			ArchivedAt *string
			Schools    *struct{ TotalCount int }
		}
	}
	count := func(userIDs []string) int64 {
		statements.Store(0)
		list := append([]string{ids.archivedStudent, district}, userIDs...)
		a.query("", `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { archivedAt } ... on District { schools { totalCount } } } }`,
			map[string]any{"ids": list}, &many)
		if len(many.Nodes) != len(list) {
			t.Fatalf("nodes: %d answers for %d ids", len(many.Nodes), len(list))
		}
		for i, n := range many.Nodes {
			if n.ID != list[i] {
				t.Errorf("nodes[%d] = %s, want %s", i, n.ID, list[i])
			}
		}
		return statements.Load()
	}
	few, lots := count(users[:2]), count(users)
	if many.Nodes[0].ArchivedAt == nil {
		t.Error("nodes(ids): the archived student is not shown archived")
	}
	// The archived school is hidden below the district, whichever way the district is fetched.
	var all struct{ Schools struct{ TotalCount int } }
	a.query("", `{ schools(includeArchived: true) { totalCount } }`, nil, &all)
	if got := many.Nodes[1].Schools; got == nil || got.TotalCount != all.Schools.TotalCount-1 || one.D.Schools.TotalCount != got.TotalCount {
		t.Errorf("district schools below node/nodes: %+v and %d, want %d (one archived)", got, one.D.Schools.TotalCount, all.Schools.TotalCount-1)
	}
	if few != lots || few == 0 {
		t.Errorf("nodes(ids): %d statements for 4 ids, %d for 12; want the same", few, lots)
	}
}
