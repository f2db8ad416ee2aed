package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

func TestScopes(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	r := a.do(a.keys["read"], `mutation($id: ID!) { syncDistrict(id: $id) { id status } }`, map[string]any{"id": district})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("read key on a mutation: %+v", r.Errors)
	}
	r = a.do(a.keys["sensitiveOnly"], `{ districts { totalCount } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" || len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("a key without read on a query: %s %+v", r.Data, r.Errors)
	}
	r = a.do(a.keys["read"], `{ auditEntries { totalCount } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("read key on the audit log: %+v", r.Errors)
	}
}

func TestMutationsAndAuditLog(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	var started struct {
		SyncDistrict struct{ ID, Status, Kind string }
	}
	a.query(a.keys["admin"], `mutation($id: ID!) { syncDistrict(id: $id) { id status kind } }`, map[string]any{"id": district}, &started)
	if started.SyncDistrict.ID == "" || started.SyncDistrict.Kind != "FULL" {
		t.Fatalf("syncDistrict = %+v, want a full run (the default)", started)
	}
	waitIdle(t, a, district)
	// The API-started run records its outcome just before it releases the district: retry while busy.
	events := `mutation($id: ID!) { syncDistrict(id: $id, mode: EVENTS) { id status kind fallback } }`
	r := a.do(a.keys["admin"], events, map[string]any{"id": district})
	for i := 0; len(r.Errors) > 0 && r.Errors[0].Extensions["code"] == "CONFLICT" && i < 500; i++ {
		sleepBriefly()
		r = a.do(a.keys["admin"], events, map[string]any{"id": district})
	}
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &started) != nil || started.SyncDistrict.Kind != "EVENTS" {
		t.Fatalf("syncDistrict(mode: EVENTS) = %+v %s, want an events run", r.Errors, r.Data)
	}
	// Hold a run: unshare 15 of 60 sections, sync, then approve through the API.
	for i := range 15 {
		var head struct{ ID string }
		json.Unmarshal(a.data.Sections[i], &head)
		if err := a.sim.Unshare(cleversim.KindSections, head.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, a, district)
	// The API-started run records its outcome just before it releases the district: retry while busy.
	held, err := a.engine.SyncDistrict(context.Background(), district, mirror.Options{})
	for i := 0; errors.Is(err, mirror.ErrBusy) && i < 500; i++ {
		sleepBriefly()
		held, err = a.engine.SyncDistrict(context.Background(), district, mirror.Options{})
	}
	if err != nil || held.Status != mirror.StatusHeld {
		t.Fatalf("sync: %v %s", err, held.Status)
	}
	if held.Kind != "EVENTS" { // the engine's default (auto) applied the unshares as events
		t.Errorf("held run kind %s, want EVENTS", held.Kind)
	}
	var approved struct {
		ApproveHeldSync struct {
			Status string
			Counts []struct {
				Kind     string
				Archived int
				Held     int
			}
		}
	}
	a.query(a.keys["admin"], `mutation($id: ID!) { approveHeldSync(id: $id) { status counts { kind archived held } } }`, map[string]any{"id": held.RunID}, &approved)
	if approved.ApproveHeldSync.Status != "APPROVED" {
		t.Errorf("approve = %+v", approved)
	}
	i := slices.IndexFunc(approved.ApproveHeldSync.Counts, func(c struct {
		Kind     string
		Archived int
		Held     int
	}) bool {
		return c.Kind == "sections"
	})
	if i < 0 {
		t.Errorf("approved run has no sections counts: %+v", approved.ApproveHeldSync.Counts)
	} else if c := approved.ApproveHeldSync.Counts[i]; c.Archived != 15 || c.Held != 15 {
		t.Errorf("sections counts after approval = %+v, want 15 archived of 15 held", c)
	}
	r = a.do(a.keys["admin"], `mutation($id: ID!) { rejectHeldSync(id: $id) { status } }`, map[string]any{"id": held.RunID})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FAILED_PRECONDITION" {
		t.Errorf("rejecting a decided run: %+v", r.Errors)
	}
	r = a.do(a.keys["admin"], `mutation { approveHeldSync(id: "nope") { status } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Errorf("approving an unknown run: %+v", r.Errors)
	}
	var log struct {
		AuditEntries struct {
			Edges []struct {
				Node struct{ Actor, Action, Target, Outcome string }
			}
		}
	}
	a.query(a.keys["admin"], `{ auditEntries(orderBy: {field: AT}) { edges { node { actor action target outcome } } } }`, nil, &log)
	var actions []string
	for _, e := range log.AuditEntries.Edges {
		actions = append(actions, e.Node.Action)
		if !strings.HasPrefix(e.Node.Actor, "apikey:admin") {
			t.Errorf("audit actor = %q", e.Node.Actor)
		}
	}
	if strings.Join(actions, ",") != "syncDistrict,syncDistrict,approveHeldSync" {
		t.Errorf("audit log = %v", actions)
	}
}

// waitIdle waits until no run of the district is RUNNING (a sync started through the API).
func waitIdle(t *testing.T, a *api, district string) {
	t.Helper()
	for range 500 {
		n, err := a.db.Client.SyncRun.Query().Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var running int
		a.db.SQL.QueryRow("SELECT count(*) FROM sync_runs WHERE status = 'RUNNING'").Scan(&running)
		if n > 0 && running == 0 {
			return
		}
		sleepBriefly()
	}
	t.Fatal("the API-started sync did not finish")
}

func TestLimitsAnswerWithErrors(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	deep := "{ districts { edges { node { schools { edges { node { sections { edges { node { enrollments { edges { node { user { enrollments { edges { node { section { teacherAssignments { edges { node { id } } } } } } } } } } } } } } } } } } } } }"
	cases := map[string]struct{ query, code string }{
		"depth bomb":       {deep, "QUERY_TOO_DEEP"},
		"huge page":        {`{ users(first: 1000000) { totalCount } }`, "BAD_REQUEST"},
		"negative page":    {`{ users(last: -1) { totalCount } }`, "BAD_REQUEST"},
		"malformed id":     {`{ node(id: "'; DROP TABLE users; --") { id } }`, "NOT_FOUND"},
		"malformed cursor": {`{ users(after: "%%%") { totalCount } }`, "BAD_REQUEST"},
		"syntax error":     {`{ users(first: ) }`, "GRAPHQL_PARSE_FAILED"},
		"unknown field":    {`{ nope }`, "GRAPHQL_VALIDATION_FAILED"},
	}
	for name, c := range cases {
		r := a.do(a.keys["read"], c.query, nil)
		if len(r.Errors) == 0 {
			t.Errorf("%s: no error", name)
			continue
		}
		if r.Errors[0].Extensions["code"] != c.code {
			t.Errorf("%s: code %v, want %s (%s)", name, r.Errors[0].Extensions["code"], c.code, r.Errors[0].Message)
		}
		if strings.Contains(strings.ToLower(r.Errors[0].Message), "sql") {
			t.Errorf("%s: internals in the message: %s", name, r.Errors[0].Message)
		}
	}
	// Page sizes are checked before anything runs, nested ones and ones given in variables too: no
	// partial data, one error.
	for name, c := range map[string]struct {
		query string
		vars  map[string]any
	}{
		"nested":   {`{ schools(first: 2) { edges { node { sections(first: 5000) { totalCount } } } } }`, nil},
		"variable": {`query($n: Int) { users(first: $n) { totalCount } }`, map[string]any{"n": 1001}},
	} {
		r := a.do(a.keys["read"], c.query, c.vars)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_REQUEST" || string(r.Data) != "null" {
			t.Errorf("%s huge page: %s %+v, want no data and one BAD_REQUEST", name, r.Data, r.Errors)
		}
	}
	// Still serving after all that.
	var ok struct{ Districts struct{ TotalCount int } }
	a.query(a.keys["read"], `{ districts { totalCount } }`, nil, &ok)
}

func TestCursorPagingBothWays(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	type page struct {
		Sections struct {
			Edges []struct {
				Cursor string
				Node   struct{ ID string }
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
	}
	var all page
	a.query(a.keys["read"], `{ sections(first: 60, orderBy: {field: NAME}) { edges { cursor node { id } } } }`, nil, &all)
	var fwd []string
	var after *string
	for {
		var p page
		a.query(a.keys["read"], `query($after: Cursor) { sections(first: 7, after: $after, orderBy: {field: NAME}) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after}, &p)
		for _, e := range p.Sections.Edges {
			fwd = append(fwd, e.Node.ID)
		}
		if !p.Sections.PageInfo.HasNextPage {
			break
		}
		after = p.Sections.PageInfo.EndCursor
	}
	var back []string
	var before *string
	for {
		var p page
		a.query(a.keys["read"], `query($before: Cursor) { sections(last: 7, before: $before, orderBy: {field: NAME}) { edges { cursor node { id } } pageInfo { hasPreviousPage startCursor } } }`, map[string]any{"before": before}, &p)
		ids := []string{}
		for _, e := range p.Sections.Edges {
			ids = append(ids, e.Node.ID)
		}
		back = append(ids, back...)
		if !p.Sections.PageInfo.HasPreviousPage {
			break
		}
		before = p.Sections.PageInfo.StartCursor
	}
	if len(fwd) != 60 || fmt.Sprint(fwd) != fmt.Sprint(back) {
		t.Errorf("forward %d and backward %d paging differ", len(fwd), len(back))
	}
	for i, e := range all.Sections.Edges {
		if fwd[i] != e.Node.ID {
			t.Fatalf("paged order differs from one page at %d", i)
		}
	}
}

func TestNodeForEveryType(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var ids struct {
		Districts struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Users struct {
			Edges []struct {
				Node struct {
					ID    string
					Roles []struct{ ID string }
				}
			}
		}
		Sections struct {
			Edges []struct {
				Node struct {
					ID       string
					Teachers struct {
						Edges []struct{ Node struct{ ID string } }
					}
					Students struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
		}
		Schools struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Terms struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Courses struct {
			Edges []struct{ Node struct{ ID string } }
		}
		SyncRuns struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["read"], `{ districts(first:1){edges{node{id}}} users(first:1){edges{node{id roles{id}}}}
	  sections(first:1){edges{node{id teachers: teacherAssignments(first:1){edges{node{id}}} students: enrollments(first:1){edges{node{id}}}}}}
	  schools(first:1){edges{node{id}}} terms(first:1){edges{node{id}}} courses(first:1){edges{node{id}}} syncRuns(first:1){edges{node{id}}} }`, nil, &ids)
	want := map[string]string{
		ids.Districts.Edges[0].Node.ID:                       "District",
		ids.Users.Edges[0].Node.ID:                           "User",
		ids.Users.Edges[0].Node.Roles[0].ID:                  "UserRole",
		ids.Sections.Edges[0].Node.ID:                        "Section",
		ids.Sections.Edges[0].Node.Teachers.Edges[0].Node.ID: "SectionTeacher",
		ids.Sections.Edges[0].Node.Students.Edges[0].Node.ID: "SectionStudent",
		ids.Schools.Edges[0].Node.ID:                         "School",
		ids.Terms.Edges[0].Node.ID:                           "Term",
		ids.Courses.Edges[0].Node.ID:                         "Course",
		ids.SyncRuns.Edges[0].Node.ID:                        "SyncRun",
	}
	for id, typ := range want {
		var n struct {
			Node struct {
				Typename string `json:"__typename"`
				ID       string
			}
		}
		a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id}, &n)
		if n.Node.Typename != typ || n.Node.ID != id {
			t.Errorf("node(%s) = %+v, want a %s", id, n.Node, typ)
		}
	}
	var none struct{ Node *struct{ ID string } }
	r := a.do(a.keys["read"], `{ node(id: "000000000000000000000000") { id } }`, nil)
	json.Unmarshal(r.Data, &none)
	if none.Node != nil || len(r.Errors) == 0 {
		t.Errorf("unknown node: %+v %+v", none, r.Errors)
	}
}

// TestReadmeQueriesRun: every GraphQL query in the README's graphql blocks answers without an error on
// the demo district (with a read and sensitive key: some examples show the sensitive fields), so that
// the examples a newcomer copies stay valid and within the limits.
func TestReadmeQueriesRun(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, block := range strings.Split(string(readme), "```graphql\n")[1:] {
		block = block[:strings.Index(block, "```")]
		depth, start := 0, -1
		for i, r := range block {
			switch r {
			case '#':
				if depth == 0 {
					start = -1
				}
			case '{':
				if depth == 0 {
					start = i
				}
				depth++
			case '}':
				depth--
				if depth == 0 && start >= 0 {
					queries = append(queries, block[start:i+1])
				}
			}
		}
	}
	if len(queries) < 3 {
		t.Fatalf("found %d queries in the README", len(queries))
	}
	a := newAPI(t)
	for _, q := range queries {
		if r := a.do(a.keys["sensitive"], q, nil); len(r.Errors) > 0 || len(r.Data) < 20 {
			t.Errorf("README query failed: %+v\n%s", r.Errors, q)
		}
	}
}
