package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// rosterSection is a section of the demo dataset as Clever sends it.
type rosterSection struct {
	ID       string
	Teacher  string
	Teachers []string
	Students []string
}

// twoTeacherSections are the demo district's sections with a primary teacher and co-teachers, and at
// least three students, all of them users the district shares.
func twoTeacherSections(t *testing.T, a *api) []rosterSection {
	t.Helper()
	shared := map[string]bool{}
	for _, raw := range a.data.Users {
		var u struct{ ID string }
		must(t, json.Unmarshal(raw, &u))
		shared[u.ID] = true
	}
	var out []rosterSection
	for _, raw := range a.data.Sections {
		var s rosterSection
		must(t, json.Unmarshal(raw, &s))
		all := append(slices.Clone(s.Teachers), s.Students...)
		if len(s.Teachers) >= 2 && s.Teachers[0] == s.Teacher && len(s.Students) >= 3 &&
			!slices.ContainsFunc(all, func(id string) bool { return !shared[id] }) && len(slices.Compact(slices.Sorted(slices.Values(s.Teachers)))) == len(s.Teachers) {
			out = append(out, s)
		}
	}
	if len(out) < 2 {
		t.Fatalf("%d sections with two teachers and three students in the demo district, want 2", len(out))
	}
	return out
}

func (a *api) sync(t *testing.T) {
	t.Helper()
	if res, err := a.engine.SyncDistrict(context.Background(), districtOf(a.data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %+v", err, res)
	}
}

func patchSection(t *testing.T, a *api, id string, fields map[string]any) {
	t.Helper()
	b, _ := json.Marshal(fields)
	must(t, a.sim.Modify(cleversim.KindSections, id, b))
}

// members is a members connection as the tests read it.
type members struct {
	TotalCount int
	Edges      []struct {
		Position  *int
		StartedAt time.Time
		Node      struct{ CleverID string }
	}
}

func (m members) ids() []string {
	var out []string
	for _, e := range m.Edges {
		out = append(out, e.Node.CleverID)
	}
	return out
}

// TestRosters: a section's students and teachers are its current members as a frontend reads them —
// users, not memberships; a student who moved out is gone (and there again asOf a date before the
// move); a teacher who left and came back appears once; the primary teacher first without asking; a
// student the app cannot see (not shared yet) and a co-teacher who was unshared are left out, with the
// right counts and no error anywhere in the list, and come back with includeArchived (the archived
// teacher); the history connections keep everyone, their user null when it cannot be seen. On Postgres
// the compiled statements answer the same bytes.
func TestRosters(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	secs := twoTeacherSections(t, a)
	s1 := secs[0]
	var s2 rosterSection // a section sharing no member with s1
	for _, s := range secs[1:] {
		members := append(slices.Clone(s.Teachers), s.Students...)
		if !slices.ContainsFunc(members, func(id string) bool { return slices.Contains(s1.Teachers, id) || slices.Contains(s1.Students, id) }) {
			s2 = s
			break
		}
	}
	if s2.ID == "" {
		t.Fatal("no two sections without common members")
	}
	moved, coTeacher := s1.Students[0], s1.Teachers[1]

	// Sync 1: a student moves out of s1, its co-teacher leaves it. Sync 2: the co-teacher comes back.
	beforeMove := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	patchSection(t, a, s1.ID, map[string]any{"students": s1.Students[1:], "teachers": slices.Delete(slices.Clone(s1.Teachers), 1, 2)})
	a.sync(t)
	time.Sleep(20 * time.Millisecond)
	whileAway := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	patchSection(t, a, s1.ID, map[string]any{"teachers": s1.Teachers})
	// s2: its co-teacher is unshared (and Clever keeps naming them in the section), and it names a
	// student the app cannot see.
	unshared, dangling := s2.Teachers[1], "0000000000000000000000aa"
	must(t, a.sim.Unshare(cleversim.KindUsers, unshared))
	patchSection(t, a, s2.ID, map[string]any{"teachers": s2.Teachers, "students": append(slices.Clone(s2.Students), dangling)})
	a.sync(t)

	roster := `query($id: ID!, $at: Time) { node(id: $id) { ... on Section {
		students(first: 100, asOf: $at) { totalCount edges { startedAt position node { cleverId } } }
		teachers(first: 10, asOf: $at) { totalCount edges { startedAt position node { cleverId } } }
		primaryTeacher(asOf: $at) { cleverId } } } }`
	type rosterAnswer struct {
		Node struct {
			Students, Teachers members
			PrimaryTeacher     *struct{ CleverID string }
		}
	}
	read := func(id string, at *time.Time) rosterAnswer {
		t.Helper()
		vars := map[string]any{"id": id}
		if at != nil {
			vars["at"] = at.Format(time.RFC3339Nano)
		}
		var r rosterAnswer
		a.query(a.keys["read"], roster, vars, &r)
		return r
	}

	now := read(s1.ID, nil)
	if got := now.Node.Students.ids(); len(got) != len(s1.Students)-1 || slices.Contains(got, moved) || now.Node.Students.TotalCount != len(got) {
		t.Errorf("s1 students now: %v (total %d), want the %d left without %s", got, now.Node.Students.TotalCount, len(s1.Students)-1, moved)
	}
	if got := now.Node.Teachers.ids(); !slices.Equal(got, s1.Teachers) || now.Node.Teachers.TotalCount != len(s1.Teachers) {
		t.Errorf("s1 teachers now: %v (total %d), want %v, the returned co-teacher once", got, now.Node.Teachers.TotalCount, s1.Teachers)
	}
	for i, e := range now.Node.Teachers.Edges {
		if e.Position == nil || *e.Position != i {
			t.Errorf("s1 teacher %d: position %v", i, e.Position)
		}
	}
	for _, e := range now.Node.Students.Edges {
		if e.Position != nil || e.StartedAt.IsZero() {
			t.Errorf("s1 student %s: position %v, startedAt %v", e.Node.CleverID, e.Position, e.StartedAt)
		}
	}
	if p := now.Node.PrimaryTeacher; p == nil || p.CleverID != s1.Teacher {
		t.Errorf("s1 primary teacher: %+v, want %s", p, s1.Teacher)
	}
	past := read(s1.ID, &beforeMove)
	if got := past.Node.Students.ids(); len(got) != len(s1.Students) || !slices.Contains(got, moved) {
		t.Errorf("s1 students asOf before the move: %v, want all %d with %s", got, len(s1.Students), moved)
	}
	if got := past.Node.Teachers.ids(); !slices.Equal(got, s1.Teachers) {
		t.Errorf("s1 teachers asOf before the move: %v, want %v", got, s1.Teachers)
	}
	away := read(s1.ID, &whileAway)
	if got := away.Node.Teachers.ids(); slices.Contains(got, coTeacher) || len(got) != len(s1.Teachers)-1 || slices.Contains(away.Node.Students.ids(), moved) {
		t.Errorf("s1 asOf while the co-teacher was away: teachers %v, students %v", got, away.Node.Students.ids())
	}
	var long time.Time
	if got := read(s1.ID, &long); got.Node.Students.TotalCount != 0 || got.Node.PrimaryTeacher != nil {
		t.Errorf("s1 asOf long before the mirror: %+v", got.Node)
	}

	s2now := read(s2.ID, nil)
	if got := s2now.Node.Students.ids(); len(got) != len(s2.Students) || slices.Contains(got, dangling) || s2now.Node.Students.TotalCount != len(s2.Students) {
		t.Errorf("s2 students: %v (total %d), want the %d visible ones", got, s2now.Node.Students.TotalCount, len(s2.Students))
	}
	visible := slices.DeleteFunc(slices.Clone(s2.Teachers), func(id string) bool { return id == unshared })
	if got := s2now.Node.Teachers.ids(); !slices.Equal(got, visible) || s2now.Node.Teachers.TotalCount != len(visible) {
		t.Errorf("s2 teachers: %v (total %d), want %v without the unshared co-teacher", got, s2now.Node.Teachers.TotalCount, visible)
	}

	// The plainest list query over every section: no error, whatever the references.
	list := `query { sections(first: 100) { totalCount edges { node { cleverId primaryTeacher { lastName }
		teachers(first: 10) { totalCount edges { node { lastName } } } students(first: 50) { totalCount edges { node { firstName } } } } } } }`
	if r := a.do(a.keys["read"], list, nil); len(r.Errors) > 0 {
		t.Errorf("every section's roster: %+v", r.Errors)
	}
	// includeArchived brings the unshared co-teacher back (the student not shared yet has no user).
	var all struct {
		Sections struct {
			Edges []struct {
				Node struct{ Teachers, Students members }
			}
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { sections(includeArchived: true, where: {id: $id}) { edges { node {
		teachers { totalCount edges { position node { cleverId } } } students(first: 100) { totalCount edges { node { cleverId } } } } } } }`,
		map[string]any{"id": s2.ID}, &all)
	if got := all.Sections.Edges[0].Node.Teachers.ids(); !slices.Equal(got, s2.Teachers) {
		t.Errorf("s2 teachers with archived ones: %v, want %v", got, s2.Teachers)
	}
	if got := all.Sections.Edges[0].Node.Students; got.TotalCount != len(s2.Students) {
		t.Errorf("s2 students with archived ones: %d, want %d (the student not shared yet has no user)", got.TotalCount, len(s2.Students))
	}

	// History: everyone, with a null user where it cannot be seen, the Clever id still given.
	var hist struct {
		Node struct {
			Enrollments, TeacherAssignments struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						UserID  string
						EndedAt *time.Time
						User    *struct{ CleverID string }
					}
				}
			}
		}
	}
	history := `query($id: ID!) { node(id: $id) { ... on Section {
		enrollments(first: 100) { totalCount edges { node { userID endedAt user { cleverId } } } }
		teacherAssignments { totalCount edges { node { userID endedAt user { cleverId } } } } } } }`
	a.query(a.keys["read"], history, map[string]any{"id": s2.ID}, &hist)
	foundDangling := false
	for _, e := range hist.Node.Enrollments.Edges {
		if e.Node.UserID == dangling {
			foundDangling = true
			if e.Node.User != nil || e.Node.EndedAt != nil {
				t.Errorf("the dangling enrollment: %+v, want an open one without user", e.Node)
			}
		}
	}
	foundUnshared := false
	for _, e := range hist.Node.TeacherAssignments.Edges {
		if e.Node.UserID == unshared && e.Node.EndedAt == nil {
			foundUnshared = true
			if e.Node.User != nil {
				t.Errorf("the unshared co-teacher's place: user %+v, want null", e.Node.User)
			}
		}
	}
	if !foundDangling || !foundUnshared {
		t.Errorf("history: dangling enrollment %v, unshared teacher's place %v; want both", foundDangling, foundUnshared)
	}
	a.query(a.keys["read"], history, map[string]any{"id": s1.ID}, &hist)
	places := 0
	for _, e := range hist.Node.TeacherAssignments.Edges {
		if e.Node.UserID == coTeacher {
			places++
		}
	}
	if places != 2 {
		t.Errorf("s1 co-teacher's places in the history: %d, want 2 (left, came back)", places)
	}

	// The same bytes compiled (on Postgres) as resolved, for each shape above.
	for name, q := range map[string]struct {
		query string
		vars  map[string]any
	}{
		"RosterNow":      {roster, map[string]any{"id": s1.ID}},
		"RosterPast":     {roster, map[string]any{"id": s1.ID, "at": beforeMove.Format(time.RFC3339Nano)}},
		"RosterDangling": {roster, map[string]any{"id": s2.ID}},
		"EverySection":   {list, nil},
		"History":        {history, map[string]any{"id": s2.ID}},
	} {
		c.same(name, a.keys["read"], q.query, q.vars)
	}
	if a.db.Dialect == dialect.Postgres {
		c.mu.Lock()
		compiled := c.compiled["RosterDangling"]
		c.mu.Unlock()
		// primaryTeacher is resolved; a roster without it compiles.
		if compiled {
			t.Error("a query with primaryTeacher was compiled")
		}
		if !c.same("RosterOnly", a.keys["read"], `query($id: ID!) { node(id: $id) { ... on Section { students(first: 100) { totalCount edges { node { cleverId } } } teachers { edges { position node { cleverId } } } } } }`,
			map[string]any{"id": s2.ID}) {
			t.Error("the roster of students and teachers was not compiled")
		}
	}
}

// TestRosterEdgeCases: what a review of the rosters found, each held: a teacher's sections include those
// taught (not only attended); paging a section's teachers after the primary (position 0) walks them all;
// one alias under nodes(ids) naming fields of different types; pageInfo asked without edges; an aliased
// totalCount; asOf given with another offset than UTC; a cursor of another connection.
func TestRosterEdgeCases(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	read := a.keys["read"]
	s := twoTeacherSections(t, a)[0]

	var taught struct {
		Node struct {
			Sections struct {
				TotalCount int
				Edges      []struct{ Node struct{ CleverID string } }
			}
		}
	}
	a.query(read, `query($id: ID!) { node(id: $id) { ... on User { sections(first: 100) { totalCount edges { node { cleverId } } } } } }`, map[string]any{"id": s.Teacher}, &taught)
	ids := []string{}
	for _, e := range taught.Node.Sections.Edges {
		ids = append(ids, e.Node.CleverID)
	}
	if !slices.Contains(ids, s.ID) || len(ids) != taught.Node.Sections.TotalCount {
		t.Errorf("the primary teacher's sections: %v (total %d), want %s among them and as many as counted", ids, taught.Node.Sections.TotalCount, s.ID)
	}

	// Teachers page by page after the primary teacher.
	var walked []string
	var after *string
	for range 10 {
		var p struct {
			Node struct {
				Teachers struct {
					Edges    []struct{ Node struct{ CleverID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		a.query(read, `query($id: ID!, $after: Cursor) { node(id: $id) { ... on Section { teachers(first: 1, after: $after) { edges { node { cleverId } } pageInfo { hasNextPage endCursor } } } } }`,
			map[string]any{"id": s.ID, "after": after}, &p)
		for _, e := range p.Node.Teachers.Edges {
			walked = append(walked, e.Node.CleverID)
		}
		if !p.Node.Teachers.PageInfo.HasNextPage {
			break
		}
		after = p.Node.Teachers.PageInfo.EndCursor
	}
	if !slices.Equal(walked, s.Teachers) {
		t.Errorf("teachers one page at a time: %v, want %v", walked, s.Teachers)
	}

	// One alias, different fields of different types, under nodes(ids).
	mixed := a.do(read, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { schools { id } } ... on UserRole { schools { id } }
		... on Section { x: students(first: 1) { totalCount } } ... on School { x: users(first: 1) { totalCount } } } }`,
		map[string]any{"ids": []string{s.Teacher, s.Teacher + "/teacher", s.ID, schoolOf(t, a, s.ID)}})
	var nodes struct {
		Nodes []struct {
			Schools []struct{ ID string }
			X       *struct{ TotalCount int }
		}
	}
	json.Unmarshal(mixed.Data, &nodes)
	if len(mixed.Errors) > 0 || len(nodes.Nodes) != 4 || len(nodes.Nodes[0].Schools) == 0 || len(nodes.Nodes[1].Schools) == 0 ||
		nodes.Nodes[2].X == nil || nodes.Nodes[2].X.TotalCount != len(s.Students) || nodes.Nodes[3].X == nil || nodes.Nodes[3].X.TotalCount == 0 {
		t.Errorf("one alias over several types: %s %+v", mixed.Data, mixed.Errors)
	}

	// pageInfo without edges, an aliased totalCount, asOf with an offset: right, and the same compiled.
	later := time.Now().Add(time.Minute)
	for name, q := range map[string]struct {
		query string
		vars  map[string]any
		want  string
	}{
		"PageInfoAlone":   {`query($id: ID!) { node(id: $id) { ... on Section { students(first: 100) { pageInfo { hasNextPage } } } } }`, map[string]any{"id": s.ID}, `"hasNextPage":false`},
		"PageInfoShort":   {`query($id: ID!) { node(id: $id) { ... on Section { students(first: 1) { pageInfo { hasNextPage } } } } }`, map[string]any{"id": s.ID}, `"hasNextPage":true`},
		"AliasedCount":    {`query($id: ID!) { node(id: $id) { ... on Section { students(first: 2) { n: totalCount } } } }`, map[string]any{"id": s.ID}, fmt.Sprintf(`"n":%d`, len(s.Students))},
		"AsOfWithOffset":  {`query($id: ID!, $at: Time) { node(id: $id) { ... on Section { students(first: 100, asOf: $at) { totalCount } } } }`, map[string]any{"id": s.ID, "at": later.In(time.FixedZone("", -10*3600)).Format(time.RFC3339Nano)}, fmt.Sprintf(`"totalCount":%d`, len(s.Students))},
		"AsOfInUTC":       {`query($id: ID!, $at: Time) { node(id: $id) { ... on Section { students(first: 100, asOf: $at) { totalCount } } } }`, map[string]any{"id": s.ID, "at": later.UTC().Format(time.RFC3339Nano)}, fmt.Sprintf(`"totalCount":%d`, len(s.Students))},
		"TeachersWithOff": {`query($id: ID!, $at: Time) { node(id: $id) { ... on Section { teachers(asOf: $at) { totalCount } } } }`, map[string]any{"id": s.ID, "at": later.In(time.FixedZone("", 5*3600+1800)).Format(time.RFC3339Nano)}, fmt.Sprintf(`"totalCount":%d`, len(s.Teachers))},
	} {
		c.same(name, read, q.query, q.vars)
		if r := ask(t, c.resolvedURL, read, q.query, q.vars); !strings.Contains(string(r.body), q.want) {
			t.Errorf("%s: %s, want %s", name, r.body, q.want)
		}
	}

	// A students cursor given to teachers: a bad request, not a database error.
	var st struct {
		Node struct {
			Students struct{ PageInfo struct{ EndCursor string } }
		}
	}
	a.query(read, `query($id: ID!) { node(id: $id) { ... on Section { students(first: 1) { pageInfo { endCursor } } } } }`, map[string]any{"id": s.ID}, &st)
	r := a.do(read, `query($id: ID!, $c: Cursor) { node(id: $id) { ... on Section { teachers(first: 1, after: $c) { totalCount edges { node { id } } } } } }`,
		map[string]any{"id": s.ID, "c": st.Node.Students.PageInfo.EndCursor})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_REQUEST" {
		t.Errorf("a students cursor given to teachers: %s %+v, want BAD_REQUEST", r.Data, r.Errors)
	}
}

// schoolOf is the school of a section of the demo district.
func schoolOf(t *testing.T, a *api, section string) string {
	t.Helper()
	for _, raw := range a.data.Sections {
		var s struct{ ID, School string }
		must(t, json.Unmarshal(raw, &s))
		if s.ID == section {
			return s.School
		}
	}
	t.Fatalf("no section %s", section)
	return ""
}
