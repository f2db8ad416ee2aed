package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// quickly is the bound on a refusal: each attack below is refused before it costs anything, in
// milliseconds; a second is loose enough for a loaded CI machine and far below what the attacks cost
// before (minutes of CPU, gigabytes of memory).
const quickly = time.Second

// raw posts body as it is and returns the status, the answer and how long it took.
func raw(t *testing.T, url, key string, body io.Reader, length int64) (int, response, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = length
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	took := time.Since(start)
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("answer %d is not JSON: %q", res.StatusCode, clip(b))
	}
	return res.StatusCode, r, took
}

func postQuery(t *testing.T, a *api, key, query string) (int, response, time.Duration) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	return raw(t, a.url, key, bytes.NewReader(body), int64(len(body)))
}

// refusedWith fails the test unless the answer is one error with code, no data, in good time.
func refusedWith(t *testing.T, name string, status int, r response, took time.Duration, code string) {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != code || len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("%s: %d %s %+v, want one %s error and no data", name, status, clip(r.Data), r.Errors, code)
	}
	if took > quickly {
		t.Errorf("%s: refused after %v, want well under %v", name, took, quickly)
	}
	t.Logf("%s: %d %s in %v: %s", name, status, code, took.Round(time.Microsecond), firstMessage(r))
}

func firstMessage(r response) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// fanOut is fragments that each spread the previous one twice, levels deep: 2^levels fields once
// expanded, in a request of about 40 bytes a level.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F" + fmt.Sprint(levels) + " }\nfragment F0 on Query { districts { totalCount } }\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

func repeated(field string, n int) string {
	return "{ users(first: 1) { edges { node { " + strings.Repeat(field+" ", n) + "} } } }"
}

func aliased(n int, selection string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, selection)
	}
	b.WriteString("}")
	return b.String()
}

// TestAttacksAreRefused: each request that took the server down before (issue 14) is refused with its
// code, before it costs anything, by a key that may read — and the cheapest ones by a key that may not.
func TestAttacksAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	read, noRead := a.keys["read"], a.keys["sensitiveOnly"]

	// A 1.2 KB request whose fragments double at each of 30 levels: 2^30 fields. A key that may not read
	// is refused before its document is parsed (an invalid one too).
	bomb := fanOut(30)
	status, r, took := postQuery(t, a, read, bomb)
	refusedWith(t, "fragment fan-out, read key", status, r, took, graph.CodeQueryTooLarge)
	for name, q := range map[string]string{"fragment fan-out": bomb, "an invalid document": "{ nope }"} {
		status, r, took := postQuery(t, a, noRead, q)
		refusedWith(t, name+", key without read", status, r, took, graph.CodeForbidden)
	}
	// A field repeated: 10,000 times (90 KB) is refused by the budget, 16,000 (144 KB) and 600,000
	// (5.4 MB) by the body limit, unread.
	status, r, took = postQuery(t, a, read, repeated("cleverId", 10_000))
	refusedWith(t, "field repeated 10,000 times", status, r, took, graph.CodeQueryTooLarge)
	for _, n := range []int{16_000, 600_000} {
		status, r, took := postQuery(t, a, read, repeated("cleverId", n))
		refusedWith(t, fmt.Sprintf("field repeated %d times", n), status, r, took, graph.CodePayloadTooLarge)
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("field repeated %d times: status %d, want 413", n, status)
		}
	}
	// Aliases of a whole list: 249 are refused by the budget; 99 of pages of 1000 by the cost.
	status, r, took = postQuery(t, a, read, aliased(249, "users { edges { node { cleverId } } }"))
	refusedWith(t, "249 aliases of users", status, r, took, graph.CodeQueryTooLarge)
	status, r, took = postQuery(t, a, read, aliased(99, "users(first: 1000) { edges { node { cleverId } } }"))
	refusedWith(t, "99 aliases of users(first: 1000)", status, r, took, graph.CodeQueryTooComplex)
	// Aliases of the schema: 800 (70 KB) and even two are refused; one is the playground's query.
	full := "__schema { types { ...FullType } }"
	status, r, took = postQuery(t, a, read, aliased(800, full)+introspectionFragments)
	refusedWith(t, "800 aliases of __schema", status, r, took, graph.CodeQueryTooLarge)
	status, r, took = postQuery(t, a, read, aliased(2, full)+introspectionFragments)
	refusedWith(t, "2 aliases of __schema", status, r, took, graph.CodeQueryTooLarge)

	// Still serving, and the 99 aliases without first are answered — a page of 100 each.
	var pages map[string]struct {
		Edges    []struct{ Node struct{ CleverID string } }
		PageInfo struct{ HasNextPage bool }
	}
	a.query(read, aliased(99, "users { pageInfo { hasNextPage } edges { node { cleverId } } }"), nil, &pages)
	if len(pages) != 99 || len(pages["a0"].Edges) != 100 || !pages["a98"].PageInfo.HasNextPage {
		t.Errorf("99 aliases of users: %d answers, %d edges in the first", len(pages), len(pages["a0"].Edges))
	}
}

// introspectionFragments are the fragments of GraphiQL's introspection query.
var introspectionFragments = introspectionQuery[strings.Index(introspectionQuery, "fragment FullType"):]

// TestRequestBodiesAreBounded: a body over the limit is refused with 413 before it is read whole (with
// a Content-Length, at once; without one, as soon as the limit is passed); a GET query string as long
// gets 414; a body that is not a GraphQL request is refused without being echoed back.
func TestRequestBodiesAreBounded(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	big := strings.Repeat("x", 200<<10)
	status, r, took := raw(t, a.url, a.keys["read"], strings.NewReader(`{"query": "`+big+`"}`), -1) // chunked
	refusedWith(t, "chunked body over the limit", status, r, took, graph.CodePayloadTooLarge)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the limit: status %d", status)
	}
	// A 50 MB body announced by its Content-Length is refused before it is sent.
	status, r, took = raw(t, a.url, a.keys["read"], io.LimitReader(zeros{}, 50<<20), 50<<20)
	refusedWith(t, "50 MB body", status, r, took, graph.CodePayloadTooLarge)

	req, _ := http.NewRequest(http.MethodGet, a.url+"?query="+url.QueryEscape("{ "+big+" }"), nil)
	req.Header.Set("Authorization", "Bearer "+a.keys["read"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("GET with a 200 KB query: %d, want 414", res.StatusCode)
	}

	const secret = "4111-1111-1111-1111 Jane Doe 2015-04-01"
	for name, body := range map[string]string{
		"not JSON":       `{"query": "{ districts { totalCount } }", "variables": ` + secret,
		"wrong types":    `{"query": ["` + secret + `"]}`,
		"variables list": `{"query": "{ districts { totalCount } }", "variables": ["` + secret + `"]}`,
		"cut short":      `{"query": "` + secret,
	} {
		status, r, took := raw(t, a.url, a.keys["read"], strings.NewReader(body), int64(len(body)))
		refusedWith(t, name, status, r, took, graph.CodeBadRequest)
		if msg := firstMessage(r); strings.Contains(msg, "4111") || strings.Contains(msg, "Jane") {
			t.Errorf("%s: the body is echoed back: %q", name, msg)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestAdminOnlyTypes: the audit log needs the admin scope on every path: its root connection (no count
// leaks), node(id) and nodes(ids) on either way of answering; an admin key reads it.
func TestAdminOnlyTypes(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	var started struct{ SyncDistrict struct{ ID string } }
	a.query(a.keys["admin"], `mutation($id: ID!) { syncDistrict(id: $id) { id } }`, map[string]any{"id": districtOf(a.data)}, &started)
	waitIdle(t, a, districtOf(a.data))
	var log struct {
		AuditEntries struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Action string } }
		}
	}
	a.query(a.keys["admin"], `{ auditEntries { totalCount edges { node { id action } } } }`, nil, &log)
	if log.AuditEntries.TotalCount == 0 {
		t.Fatal("no audit entry after a mutation")
	}
	entry := log.AuditEntries.Edges[0].Node.ID
	var user struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["read"], `{ users(first: 1) { edges { node { id } } } }`, nil, &user)

	for hname, u := range map[string]string{"resolvers": c.resolvedURL, "compiled": c.compiledURL} {
		for _, q := range []string{
			`{ auditEntries { totalCount } }`,
			`{ auditEntries { edges { node { actor } } } }`,
		} {
			if r := ask(t, u, a.keys["read"], q, nil); !forbidden(r) {
				t.Errorf("%s, read key: %s: %s", hname, q, r.body)
			}
		}
		n := ask(t, u, a.keys["read"], `query($id: ID!) { node(id: $id) { id ... on AuditEntry { actor action } } }`, map[string]any{"id": entry})
		if len(n.r.Errors) != 1 || n.r.Errors[0].Extensions["code"] != "FORBIDDEN" || strings.Contains(string(n.body), "apikey:") {
			t.Errorf("%s, read key: node(audit entry): %s", hname, n.body)
		}
		ns := ask(t, u, a.keys["read"], `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{user.Users.Edges[0].Node.ID, entry}})
		if len(ns.r.Errors) != 1 || ns.r.Errors[0].Extensions["code"] != "FORBIDDEN" || !strings.Contains(string(ns.r.Data), user.Users.Edges[0].Node.ID) ||
			!strings.HasSuffix(strings.TrimSpace(string(ns.r.Data)), "null]}") {
			t.Errorf("%s, read key: nodes(user, audit entry): %s", hname, ns.body)
		}
		// A fragment on the guarded type under node(id) of a readable record is fine.
		if r := ask(t, u, a.keys["read"], `query($id: ID!) { node(id: $id) { id ... on AuditEntry { actor } } }`, map[string]any{"id": user.Users.Edges[0].Node.ID}); len(r.r.Errors) > 0 {
			t.Errorf("%s: node(user) with a fragment on AuditEntry: %s", hname, r.body)
		}
		r := ask(t, u, a.keys["admin"], `query($id: ID!) { node(id: $id) { ... on AuditEntry { action } } }`, map[string]any{"id": entry})
		if len(r.r.Errors) > 0 || !strings.Contains(string(r.body), "syncDistrict") {
			t.Errorf("%s, admin key: node(audit entry): %s", hname, r.body)
		}
	}
}

// TestDefaultPageSize: a connection asked for without first or last (or with first: null) gets a page
// of 100 — at the root and nested, on either way of answering — with hasNextPage telling there is more;
// first and last both null through variables is refused.
func TestDefaultPageSize(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	var total int
	a.db.SQL.QueryRow("SELECT count(*) FROM users WHERE archived_at IS NULL").Scan(&total)
	if total <= 100 {
		t.Fatalf("the demo district has %d users: too few to see the default page", total)
	}
	for _, q := range []string{
		`query DefaultRoot { users { totalCount pageInfo { hasNextPage } edges { node { id } } } }`,
		`query DefaultNull { users(first: null) { totalCount pageInfo { hasNextPage } edges { node { id } } } }`,
		`query DefaultNested { districts { edges { node { users { totalCount pageInfo { hasNextPage } edges { node { id } } } } } } }`,
	} {
		name := q[len("query "):strings.Index(q, " {")]
		compiled := c.same(name, a.keys["read"], strings.TrimPrefix(q, "query "+name), nil)
		if compiled != (a.db.Dialect == dialect.Postgres) {
			t.Errorf("%s: compiled %v", name, compiled)
		}
		got := ask(t, c.resolvedURL, a.keys["read"], q, nil)
		edges := strings.Count(string(got.body), `{"node":{"id"`)
		if edges != 100 || !strings.Contains(string(got.body), `"hasNextPage":true`) || !strings.Contains(string(got.body), fmt.Sprintf(`"totalCount":%d`, total)) {
			t.Errorf("%s: %d edges, want 100 of %d with a next page: %s", name, edges, total, clip(got.body))
		}
	}
	r := a.do(a.keys["read"], `query($f: Int, $l: Int) { users(first: $f, last: $l) { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_REQUEST" {
		t.Errorf("first and last both null: %+v", r.Errors)
	}
	// A page of a given size is kept as it is.
	var five struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["read"], `query($n: Int) { users(first: $n) { edges { node { id } } } }`, map[string]any{"n": 5}, &five)
	if len(five.Users.Edges) != 5 {
		t.Errorf("first: $n = 5: %d edges", len(five.Users.Edges))
	}
}

// TestNodesByIDsAreBounded: nodes(ids) takes at most a page of ids (more is refused before any lookup),
// and a full page of them — found, unknown and of several types — is answered in order.
func TestNodesByIDsAreBounded(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var users struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["read"], `{ users(first: 1000) { edges { node { id } } } }`, nil, &users)
	ids := []string{}
	for _, e := range users.Users.Edges {
		ids = append(ids, e.Node.ID)
	}
	for len(ids) < 1000 {
		ids = append(ids, fmt.Sprintf("%024x", len(ids))) // unknown
	}
	start := time.Now()
	r := a.do(a.keys["read"], `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
	var got struct{ Nodes []*struct{ ID string } }
	json.Unmarshal(r.Data, &got)
	if len(got.Nodes) != 1000 || got.Nodes[0] == nil || got.Nodes[0].ID != ids[0] || got.Nodes[999] != nil {
		t.Errorf("nodes(1000 ids): %d nodes", len(got.Nodes))
	}
	if unknown := 1000 - len(users.Users.Edges); len(r.Errors) != unknown {
		t.Errorf("nodes(1000 ids): %d errors, want one per unknown id (%d)", len(r.Errors), unknown)
	}
	t.Logf("nodes(1000 ids) answered in %v", time.Since(start))
	status, resp, took := postQuery(t, a, a.keys["read"], `{ nodes(ids: [`+strings.Repeat(`"x",`, 1001)+`]) { id } }`)
	refusedWith(t, "nodes(1001 ids)", status, resp, took, graph.CodeBadRequest)
	status, resp, took = postQuery(t, a, a.keys["read"], `{ users(where: {idIn: [`+strings.Repeat(`"x",`, 5000)+`]}) { totalCount } }`)
	refusedWith(t, "idIn with 5000 ids", status, resp, took, graph.CodeBadRequest)
}

// TestDatabaseErrorsAreNotShown: an error of the database reaches the client as INTERNAL "internal
// error", without the driver's text, and is logged with it.
func TestDatabaseErrorsAreNotShown(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	logger, logs := testlog.New(t)
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true, Logger: logger})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	drop := "DROP TABLE terms"
	if dbtest.Postgres() {
		drop += " CASCADE" // the analytics view reads terms
	}
	if _, err := a.db.SQL.Exec(drop); err != nil {
		t.Fatal(err)
	}
	r := post(t, srv.URL, map[string]any{"query": `{ terms { totalCount } }`})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeInternal || r.Errors[0].Message != "internal error" {
		t.Errorf("a database error: %+v", r.Errors)
	}
	if !strings.Contains(logs.String(), "terms") {
		t.Errorf("the database error is not logged: %s", logs.String())
	}
}

// TestUserRoleConnectionsCount: a connection of user roles below a list (a school's primaryRoles) counts
// its records on either way of answering (its totalCount once failed on Postgres, ordered inside a
// GROUP BY).
func TestUserRoleConnectionsCount(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	q := `query { schools(first: 10) { edges { node { primaryRoles { totalCount } roleSchools { totalCount } filtered: primaryRoles(where: {role: STUDENT}) { totalCount } } } } }`
	c.same("RoleCounts", a.keys["read"], q, nil)
	var got struct {
		Schools struct {
			Edges []struct {
				Node struct{ PrimaryRoles struct{ TotalCount int } }
			}
		}
	}
	a.query(a.keys["read"], q, nil, &got)
	sum := 0
	for _, e := range got.Schools.Edges {
		sum += e.Node.PrimaryRoles.TotalCount
	}
	var want int
	a.db.SQL.QueryRow("SELECT count(*) FROM user_roles WHERE school_id IS NOT NULL AND archived_at IS NULL").Scan(&want)
	if sum != want || want == 0 {
		t.Errorf("primary roles counted %d, the database has %d", sum, want)
	}
}

// TestClientLeavingCancelsTheOperation: an operation whose client disconnects while it waits for its
// turn is dropped: it never reaches the database, and leaves the line.
func TestClientLeavingCancelsTheOperation(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	drv := newHoldingDriver(a, "Held")
	gate := graph.NewGate(1)
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, Gate: gate, ClientOptions: []ent.Option{ent.Driver(drv)}})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	t.Cleanup(drv.let)

	var wg sync.WaitGroup
	wg.Go(func() { post(t, srv.URL, map[string]any{"query": heldQuery}) })
	<-drv.held
	ctx, cancel := context.WithCancel(context.Background())
	body, _ := json.Marshal(map[string]any{"query": `query Left { schools(where: {idNEQ: "x"}) { totalCount } }`})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	waitFor(t, "the second operation to wait", func() bool { return gate.Waiting() == 1 })
	cancel()
	<-done
	waitFor(t, "the operation to leave the line", func() bool { return gate.Waiting() == 0 })
	drv.let()
	wg.Wait()
	if got := drv.seen(); slices.Contains(got, "Left") {
		t.Errorf("the operation whose client left reached the database: %q", got)
	}
}

// TestWorstDocumentsWithinTheBudgetAreCheap: documents that cost validation most — fields asked for
// again and again at one place of the answer (the overlapping-fields rule compares every pair; four sets
// of 490 such fields took 250 ms to validate), many fragment spreads, the most tokens, the deepest
// nesting — are refused, or parsed and validated, in good time. A document the bounds admit also asks
// for a filter the key may not use, so that it is refused right after validation (FORBIDDEN) and the
// time measured is its parse and validation, not its execution.
func TestWorstDocumentsWithinTheBudgetAreCheap(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	const tooLarge, admitted = graph.CodeQueryTooLarge, "FORBIDDEN"
	const guarded = ` guarded: users(first: 1, where: {hasRolesWith: {iepStatus: "Y"}}) { totalCount } }`
	cases := []struct{ name, query, code string }{
		{"four merged sets of 490 fields", "{ " + strings.Repeat("users(first: 1) { edges { node { "+strings.Repeat("cleverId ", 490)+"} } } ", 4) + "}", tooLarge},
		{"19 merged sets of 20 × 5 fields", "{ " + strings.Repeat("users(first: 1) { edges { node { "+strings.Repeat("cleverId firstName lastName email middleName ", 20)+"} } } ", 19) + "}", tooLarge},
		{"490 spreads of one fragment", "{ users(first: 1) { edges { node { " + strings.Repeat("...U ", 490) + "} } } } fragment U on User { cleverId }", tooLarge},
		{"141 fields at one place (9,870 pairs)", "{ users(first: 1) { edges { node { " + strings.Repeat("cleverId ", 141) + "} } }" + guarded, admitted},
		{"1,995 fields under 95 aliases", strings.TrimSuffix(aliased(95, "users(first: 1) { edges { node { cleverId firstName middleName lastName email "+
			"createdAt lastSyncedAt archivedAt districtID roles { id role grade sisID schoolID dob gender race } } } }"), "}") + guarded, admitted},
		{"14,990 unknown fields", "{ " + strings.Repeat("a ", 14_990) + " }", tooLarge},
		{"15,001 tokens", "{ " + strings.Repeat("a ", 14_999) + " }", tooLarge},
		{"7,000 levels of nesting", strings.Repeat("{ a ", 7000) + strings.Repeat("}", 7000), "GRAPHQL_PARSE_FAILED"},
	}
	for _, c := range cases {
		status, r, took := postQuery(t, a, a.keys["read"], c.query)
		code := ""
		if len(r.Errors) > 0 {
			code, _ = r.Errors[0].Extensions["code"].(string)
		}
		t.Logf("%s (%d KB): %d %s in %v: %s", c.name, len(c.query)>>10, status, code, took.Round(time.Microsecond), firstMessage(r))
		if code != c.code {
			t.Errorf("%s: code %q, want %q (%s)", c.name, code, c.code, firstMessage(r))
		}
		if took > quickly {
			t.Errorf("%s: answered after %v, want well under %v", c.name, took, quickly)
		}
	}
}

// TestResponseCeiling: an answer larger than MaxResponseBytes is replaced by one RESPONSE_TOO_LARGE
// error, on either way of answering; smaller ones pass.
func TestResponseCeiling(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	for _, resolveAll := range []bool{true, false} {
		h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: resolveAll, MaxResponseBytes: 2000})
		srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
		t.Cleanup(srv.Close)
		r := post(t, srv.URL, map[string]any{"query": `{ users(first: 100) { edges { node { cleverId firstName lastName } } } }`})
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeResponseTooLarge || len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("resolveAll=%v: a 100-user answer under a 2000-byte ceiling: %s %+v", resolveAll, clip(r.Data), r.Errors)
		}
		if r := post(t, srv.URL, map[string]any{"query": `{ users(first: 2) { edges { node { cleverId } } } }`}); len(r.Errors) > 0 {
			t.Errorf("resolveAll=%v: a small answer: %+v", resolveAll, r.Errors)
		}
	}
}

// TestArchivedStudentIsHiddenEverywhere: once a student is unshared and archived, its roles (date of
// birth, race, SIS id, grade) and school memberships are not readable through the school — primaryRoles
// and roleSchools, their counts and their filters — on either way of answering, unless the query
// includes archived records.
func TestArchivedStudentIsHiddenEverywhere(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	ctx := context.Background()
	client := a.db.NewClient()
	role := client.UserRole.Query().Where(userrole.RoleEQ(userrole.RoleStudent), userrole.SchoolIDNotNil()).
		Order(ent.Asc(userrole.FieldID)).FirstX(ctx)
	must(t, a.sim.Unshare(cleversim.KindUsers, role.UserID))
	if res, err := a.engine.SyncDistrict(ctx, districtOf(a.data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %+v", err, res)
	}
	q := `query($school: ID!, $all: Boolean) { schools(where: {id: $school}, includeArchived: $all) { edges { node {
		primaryRoles(first: 1000) { totalCount edges { node { userID dob race sisID grade } } }
		students: primaryRoles(first: 1000, where: {role: STUDENT}) { totalCount }
		roleSchools(first: 1000) { totalCount edges { node { roleID } } } } } } }`
	for _, all := range []bool{false, true} {
		vars := map[string]any{"school": *role.SchoolID, "all": all}
		name := "ArchivedStudentAtSchool"
		if all {
			name += "Included"
		}
		c.same(name, a.keys["read"], q, vars)
		r := ask(t, c.resolvedURL, a.keys["read"], q, vars)
		if shown := strings.Contains(string(r.body), role.UserID); shown != all || len(r.r.Errors) > 0 {
			t.Errorf("includeArchived=%v: the archived student shown %v: %s", all, shown, clip(r.body))
		}
	}
	// The student itself is still found by id, archived, with its roles hidden below it unless included.
	var n struct {
		Node struct {
			ArchivedAt *string
			Roles      []struct{ ID string }
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User { archivedAt roles { id } } } }`, map[string]any{"id": role.UserID}, &n)
	if n.Node.ArchivedAt == nil || len(n.Node.Roles) != 0 {
		t.Errorf("node(archived student): %+v, want archived with no visible role", n.Node)
	}
}

// TestCraftedArgumentsAreRefused: arguments built to get past the limits are refused before anything
// runs — a cursor announcing nested maps of two billion entries (its decoder reserved gigabytes per 7
// bytes), a cursor given as a number (gqlparser panicked reading it), a page size given as a string,
// filters that cost Postgres minutes to plan (hundreds of edge predicates, or one nested 50 deep), a
// guarded filter hidden in a variable's default value, an empty idIn that made a connection cost
// nothing, and resolvers that query once per parent called thousands of times.
func TestCraftedArgumentsAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	read := a.keys["read"]
	bomb := []byte{0x81, 0xa1, 'v'}
	for range 60 {
		bomb = append(bomb, 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'a')
	}
	bomb = append(bomb, 0xc0)
	cursorBomb := base64.RawStdEncoding.EncodeToString(bomb)
	shortBomb := base64.RawStdEncoding.EncodeToString(append(bomb[:3+7*10:3+7*10], 0xc0)) // 99 characters: 800 MB before
	chain := func(depth int) string {
		return strings.Repeat("{hasRolesWith: {hasUserWith: ", depth) + `{firstName: "x"}` + strings.Repeat("}}", depth)
	}
	var ors []string
	for i := range 700 {
		ors = append(ors, fmt.Sprintf(`{hasRolesWith: {hasSchoolMembershipsWith: {hasSchoolWith: {nameContainsFold: "q%d"}}}}`, i))
	}
	var district struct {
		Districts struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(read, `{ districts { edges { node { id } } } }`, nil, &district)
	thousand := make([]string, 1000)
	for i := range thousand {
		thousand[i] = district.Districts.Edges[0].Node.ID
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		code        string
	}{
		{"a cursor announcing nested maps", `query($c: Cursor) { users(after: $c) { totalCount } }`, map[string]any{"c": shortBomb}, graph.CodeBadRequest},
		{"a longer one", `query($c: Cursor) { users(after: $c) { totalCount } }`, map[string]any{"c": cursorBomb}, graph.CodeBadRequest},
		{"the same cursor inline, nested", `{ schools(first: 1) { edges { node { users(first: 1, after: "` + cursorBomb + `") { totalCount } } } } }`, nil, graph.CodeBadRequest},
		{"a cursor over 512 characters", `query($c: Cursor) { users(before: $c) { totalCount } }`, map[string]any{"c": strings.Repeat("A", 600)}, graph.CodeBadRequest},
		{"a cursor given as a huge number", `{ users(after: 99999999999999999999) { totalCount } }`, nil, graph.CodeBadRequest},
		{"a page size given as a string", `query($f: Int) { users(first: $f) { edges { node { id } } } }`, map[string]any{"f": "100000"}, graph.CodeBadRequest},
		{"700 edge predicates", `{ users(first: 1, where: {or: [` + strings.Join(ors, ", ") + `]}) { totalCount } }`, nil, graph.CodeBadRequest},
		{"edge predicates nested 50 deep", `{ users(first: 1, where: ` + chain(25) + `) { totalCount } }`, nil, graph.CodeBadRequest},
		{"a guarded filter in a variable's default", `query($w: UserWhereInput = {hasRolesWith: {ellStatus: "Y"}}) { users(where: $w) { totalCount } }`, nil, graph.CodeForbidden},
		{"a guarded filter in a variable coerced to a list", `query($r: [UserRoleWhereInput!]) { users(where: {hasRolesWith: $r}) { totalCount } }`, map[string]any{"r": map[string]any{"ellStatus": "Y"}}, graph.CodeForbidden},
		{"empty idIn all the way down", `{ users(first: 1000, where: {idIn: []}) { edges { node { enrollments(first: 1000, where: {idIn: []}) { edges { node { section { enrollments(first: 1000, where: {idIn: []}) { edges { node { user { id } } } } } } } } } } } }`, nil, graph.CodeQueryTooComplex},
		{"resolvers once per parent, 4 × 1000 users", `{ schools(first: 4) { edges { node { users(first: 1000) { edges { node { schools { users(first: 0) { totalCount } } sections(first: 0) { totalCount } } } } } } } }`, nil, graph.CodeQueryTooComplex},
		{"District.status 1000 times", `query($ids: [ID!]!) { nodes(ids: $ids) { ... on District { status { state } } } }`, map[string]any{"ids": thousand}, graph.CodeQueryTooComplex},
	} {
		start := time.Now()
		r := a.do(read, c.query, c.vars)
		took := time.Since(start)
		refusedWith(t, c.name, r.status, r, took, c.code)
		if len(r.Errors) == 1 && len(r.Errors[0].Path) > 0 {
			t.Errorf("%s: refused during execution (path %v), not before it runs", c.name, r.Errors[0].Path)
		}
	}
	// Filters within the bounds still work: three levels of edges, ten alternatives of them.
	var ok struct{ Users struct{ TotalCount int } }
	a.query(read, `{ users(where: {or: [`+strings.Join(ors[:10], ", ")+`]}) { totalCount } }`, nil, &ok)
	a.query(read, `{ users(where: {hasRolesWith: {hasSchoolMembershipsWith: {hasSchoolWith: {nameNEQ: ""}}}}) { totalCount } }`, nil, &ok)
	if ok.Users.TotalCount == 0 {
		t.Error("a filter through three edges found no user")
	}
	// Cursors this API writes pass, whatever they are ordered by: a time, a number, a string.
	for _, q := range []string{
		`syncRuns(first: 1, orderBy: {field: STARTED_AT}) { edges { cursor } }`,
		`sections(first: 1) { edges { node { teacherAssignments(first: 1, orderBy: {field: POSITION}) { edges { cursor } } } } }`,
		`sections(first: 1) { edges { node { students(first: 1) { edges { cursor } } } } }`,
		`users(first: 1, orderBy: {field: LAST_NAME}) { edges { cursor } }`,
	} {
		r := a.do(read, "{ "+q+" }", nil)
		var cursor string
		if i := strings.Index(string(r.Data), `"cursor":"`); i >= 0 {
			cursor = string(r.Data)[i+len(`"cursor":"`):]
			cursor = cursor[:strings.Index(cursor, `"`)]
		}
		if cursor == "" || len(r.Errors) > 0 {
			t.Fatalf("%s: %s %+v", q, r.Data, r.Errors)
		}
		next := strings.Replace(q, "first: 1", `first: 1, after: "`+cursor+`"`, 1)
		for _, nested := range []string{"teacherAssignments", "students"} {
			if strings.Contains(q, nested) {
				next = strings.Replace(q, nested+"(first: 1", nested+`(first: 1, after: "`+cursor+`"`, 1)
			}
		}
		if r := a.do(read, "{ "+next+" }", nil); len(r.Errors) > 0 {
			t.Errorf("paging after a cursor the API wrote (%s): %+v", q, r.Errors)
		}
	}
}

// TestErrorsEchoNothing: a variable holding a value the schema refuses, and an id that names nothing,
// are reported without repeating them.
func TestErrorsEchoNothing(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	const secret = "4111-1111-1111-1111 Jane Doe"
	for _, c := range []struct {
		query string
		vars  map[string]any
	}{
		{`query($r: UserRoleRole) { users(where: {hasRolesWith: {role: $r}}) { totalCount } }`, map[string]any{"r": secret}},
		{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": secret}},
		{`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{secret}}},
	} {
		r := a.do(a.keys["read"], c.query, c.vars)
		if len(r.Errors) == 0 {
			t.Errorf("%s: no error", c.query)
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "4111") || strings.Contains(e.Message, "Jane") {
				t.Errorf("%s: the error repeats the request: %q", c.query, e.Message)
			}
		}
	}
}

// TestDatabaseCancellationIsATimeout: a statement Postgres cancelled (statement_timeout, or the
// cancellation sent when the request's time is up; SQLSTATE 57014) is answered TIMEOUT, not INTERNAL.
func TestDatabaseCancellationIsATimeout(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	drv := cancelledDriver{Driver: entsql.OpenDB(a.db.Dialect, a.db.SQL)}
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true, ClientOptions: []ent.Option{ent.Driver(drv)}})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	r := post(t, srv.URL, map[string]any{"query": `{ users(where: {idNEQ: "x"}) { totalCount } }`})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != graph.CodeTimeout {
		t.Errorf("a cancelled statement: %+v, want one TIMEOUT", r.Errors)
	}
}

// cancelledDriver answers every query as Postgres answers a cancelled statement.
type cancelledDriver struct{ dialect.Driver }

func (cancelledDriver) Query(context.Context, string, any, any) error {
	return &pq.Error{Code: "57014", Message: "canceling statement due to statement timeout"}
}

// TestDecidedByNeedsAdmin: who decided a held run (an API key's name and id) is the audit log's
// business: null to a read key, shown to an admin.
func TestDecidedByNeedsAdmin(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ctx := context.Background()
	if _, err := a.db.SQL.ExecContext(ctx, "UPDATE sync_runs SET decided_by = 'apikey:ops (42)'"); err != nil {
		t.Fatal(err)
	}
	q := `{ syncRuns { edges { node { decidedBy } } } }`
	for key, want := range map[string]string{"read": `"decidedBy":null`, "admin": `"decidedBy":"apikey:ops (42)"`} {
		r := a.do(a.keys[key], q, nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), want) {
			t.Errorf("%s key: %s %+v, want %s", key, r.Data, r.Errors, want)
		}
	}
}
