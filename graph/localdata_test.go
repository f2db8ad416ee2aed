package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/localgroup"
	"github.com/rostermirror/rostermirror/ent/localmembership"
	"github.com/rostermirror/rostermirror/ent/localuser"
	"github.com/rostermirror/rostermirror/ent/roleoverride"
	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// localSnapshot writes every row of the app's own tables, every column: equal snapshots mean nothing
// wrote them in between.
func localSnapshot(t *testing.T, a *api) string {
	t.Helper()
	ctx := context.Background()
	c := a.db.Client
	var b strings.Builder
	us, err := c.LocalUser.Query().Order(ent.Asc(localuser.FieldID)).All(ctx)
	must(t, err)
	for _, u := range us {
		fmt.Fprintf(&b, "user %s %s %s %s %s %s %s %s %s %s\n", u.ID, deref(u.ExternalID), u.FirstName, u.LastName, u.Email, u.Role,
			deref(u.DistrictID), deref(u.OrganizationID), u.CreatedAt, u.UpdatedAt)
	}
	gs, err := c.LocalGroup.Query().Order(ent.Asc(localgroup.FieldID)).All(ctx)
	must(t, err)
	for _, g := range gs {
		fmt.Fprintf(&b, "group %s %s %v %v %s %s\n", g.ID, g.Name, deref(g.DistrictID), deref(g.SectionID), g.CreatedAt, g.UpdatedAt)
	}
	ms, err := c.LocalMembership.Query().Order(ent.Asc(localmembership.FieldID)).All(ctx)
	must(t, err)
	for _, m := range ms {
		fmt.Fprintf(&b, "membership %s %s %s %s %s %s %s %v %s\n", m.ID, deref(m.GroupID), deref(m.SectionID), deref(m.UserID),
			deref(m.LocalUserID), m.Role, m.AddedAt, m.RemovedAt, m.RemovedBy)
	}
	ovs, err := c.RoleOverride.Query().Order(ent.Asc(roleoverride.FieldID)).All(ctx)
	must(t, err)
	for _, o := range ovs {
		fmt.Fprintf(&b, "override %s %s %s %s %s %s\n", o.ID, o.UserID, o.Role, o.Effect, o.DecidedBy, o.DecidedAt)
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// localMembers is a members connection with the local marks.
type localMembers struct {
	TotalCount int
	Edges      []struct {
		Local   bool
		AddedBy *string
		Node    struct{ CleverID string }
	}
}

func (m localMembers) local() map[string]bool {
	out := map[string]bool{}
	for _, e := range m.Edges {
		out[e.Node.CleverID] = e.Local
	}
	return out
}

// mutate runs an admin mutation that must succeed and decodes its data into v.
func (a *api) mutate(t *testing.T, q string, vars map[string]any, v any) {
	t.Helper()
	a.query(a.keys["admin"], q, vars, v)
}

// TestLocalAdditionsSurviveSyncs: the app's own data — a student added by hand to a synced section, a
// subgroup of that section with a member, a local user in a local group, a role override — survives
// five syncs, one of which unshares the section (and the added student) and the next reshares them:
// not a row of the app's tables changes. The roster lists the Clever members and the hand addition, the
// latter marked local with who added it; the subgroup, the local group and the effective roles read
// back. Only a mutation removes a hand addition. On Postgres the roster of a section with hand
// additions is answered by the resolvers (the compiled statement sees them and hands over), and one
// without by the compiled statement, the same bytes either way.
func TestLocalAdditionsSurviveSyncs(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	secs := twoTeacherSections(t, a)
	s1, s2 := secs[0], secs[1]
	district := districtOf(a.data)
	var extra string // a student of the district who is not in s1
	for _, s := range secs[1:] {
		for _, st := range s.Students {
			if !slices.Contains(s1.Students, st) {
				extra = st
				break
			}
		}
		if extra != "" {
			break
		}
	}
	if extra == "" {
		t.Fatal("no student outside the first section")
	}

	var added struct {
		AddSectionMember struct {
			ID      string
			AddedBy string
			User    struct{ CleverID string }
			Section struct{ CleverID string }
		}
	}
	a.mutate(t, `mutation($s: ID!, $u: ID!) { addSectionMember(sectionId: $s, userId: $u) { id addedBy user { cleverId } section { cleverId } } }`,
		map[string]any{"s": s1.ID, "u": extra}, &added)
	if added.AddSectionMember.User.CleverID != extra || added.AddSectionMember.Section.CleverID != s1.ID || !strings.HasPrefix(added.AddSectionMember.AddedBy, "apikey:admin") {
		t.Fatalf("addSectionMember: %+v", added)
	}
	var sub struct {
		CreateLocalGroup struct{ ID, DistrictID string }
	}
	a.mutate(t, `mutation($s: String!) { createLocalGroup(input: {name: "Reading group A", sectionID: $s}) { id districtID } }`, map[string]any{"s": s1.ID}, &sub)
	if sub.CreateLocalGroup.DistrictID != district {
		t.Errorf("subgroup's district %q, want the section's %q", sub.CreateLocalGroup.DistrictID, district)
	}
	var m struct{ AddLocalMember struct{ ID string } }
	a.mutate(t, `mutation($g: ID!, $u: ID!) { addLocalMember(input: {groupId: $g, userId: $u}) { id } }`, map[string]any{"g": sub.CreateLocalGroup.ID, "u": s1.Students[1]}, &m)
	var lu struct{ CreateLocalUser struct{ ID string } }
	a.mutate(t, `mutation($d: String!) { createLocalUser(input: {firstName: "Terry", lastName: "Tutor", role: TEACHER, districtID: $d, externalId: "tutor-1"}) { id } }`, map[string]any{"d": district}, &lu)
	var club struct{ CreateLocalGroup struct{ ID string } }
	a.mutate(t, `mutation($d: String!) { createLocalGroup(input: {name: "Chess club", districtID: $d}) { id } }`, map[string]any{"d": district}, &club)
	a.mutate(t, `mutation($g: ID!, $u: ID!) { addLocalMember(input: {groupId: $g, localUserId: $u, role: TEACHER}) { id } }`,
		map[string]any{"g": club.CreateLocalGroup.ID, "u": lu.CreateLocalUser.ID}, &m)
	var ov struct{ SetRoleOverride struct{ Effect string } }
	a.mutate(t, `mutation($u: ID!) { setRoleOverride(userId: $u, role: DISTRICT_ADMIN, effect: GRANT, reason: "runs the district's rollout") { effect } }`,
		map[string]any{"u": s1.Teacher}, &ov)

	before := localSnapshot(t, a)
	for i := 1; i <= 5; i++ {
		switch i {
		case 2:
			must(t, a.sim.Unshare(cleversim.KindSections, s1.ID))
			must(t, a.sim.Unshare(cleversim.KindUsers, extra))
		case 3:
			must(t, a.sim.Reshare(cleversim.KindSections, s1.ID))
			must(t, a.sim.Reshare(cleversim.KindUsers, extra))
		case 4:
			patchSection(t, a, s1.ID, map[string]any{"name": "Renamed in Clever"})
		}
		a.sync(t)
		if after := localSnapshot(t, a); after != before {
			t.Fatalf("sync %d changed the app's own data:\nbefore:\n%s\nafter:\n%s", i, before, after)
		}
		if i == 2 {
			// While the section is unshared its roster is hidden with it; the addition is kept.
			var r struct{ Node struct{ ArchivedAt *string } }
			a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on Section { archivedAt } } }`, map[string]any{"id": s1.ID}, &r)
			if r.Node.ArchivedAt == nil {
				t.Fatal("sync 2 did not archive the unshared section")
			}
		}
	}

	rosterQ := `query($id: ID!, $src: MemberSource) { node(id: $id) { ... on Section { students(first: 100, source: $src) { totalCount edges { local addedBy node { cleverId } } }
	  subgroups { name memberships { totalCount edges { node { user { cleverId } } } } } localMembers { user { cleverId } } } } }`
	var r struct {
		Node struct {
			Students  localMembers
			Subgroups []struct {
				Name        string
				Memberships struct {
					TotalCount int
					Edges      []struct {
						Node struct{ User struct{ CleverID string } }
					}
				}
			}
			LocalMembers []struct{ User struct{ CleverID string } }
		}
	}
	a.query(a.keys["read"], rosterQ, map[string]any{"id": s1.ID}, &r)
	marks := r.Node.Students.local()
	if local, ok := marks[extra]; !ok || !local {
		t.Errorf("the student added by hand: listed %v, local %v; want listed and local", ok, local)
	}
	if local, ok := marks[s1.Students[0]]; !ok || local {
		t.Errorf("a Clever student: listed %v, local %v; want listed, not local", ok, local)
	}
	if r.Node.Students.TotalCount != len(s1.Students)+1 {
		t.Errorf("students totalCount %d, want %d (Clever's %d and the hand addition)", r.Node.Students.TotalCount, len(s1.Students)+1, len(s1.Students))
	}
	for _, e := range r.Node.Students.Edges {
		if e.Local != (e.AddedBy != nil) {
			t.Errorf("edge %s: local %v but addedBy %v", e.Node.CleverID, e.Local, e.AddedBy)
		}
	}
	if len(r.Node.Subgroups) != 1 || r.Node.Subgroups[0].Memberships.TotalCount != 1 || r.Node.Subgroups[0].Memberships.Edges[0].Node.User.CleverID != s1.Students[1] {
		t.Errorf("subgroups: %+v", r.Node.Subgroups)
	}
	if len(r.Node.LocalMembers) != 1 || r.Node.LocalMembers[0].User.CleverID != extra {
		t.Errorf("localMembers: %+v", r.Node.LocalMembers)
	}
	var onlyLocal, onlyClever struct {
		Node struct{ Students localMembers }
	}
	a.query(a.keys["read"], rosterQ, map[string]any{"id": s1.ID, "src": "LOCAL"}, &onlyLocal)
	a.query(a.keys["read"], rosterQ, map[string]any{"id": s1.ID, "src": "CLEVER"}, &onlyClever)
	if got := onlyLocal.Node.Students.local(); len(got) != 1 || !got[extra] {
		t.Errorf("source LOCAL: %v, want the hand addition alone", got)
	}
	if got := onlyClever.Node.Students.local(); len(got) != len(s1.Students) || slices.Contains(slices.Collect(func(y func(bool) bool) {
		for _, v := range got {
			if !y(v) {
				return
			}
		}
	}), true) {
		t.Errorf("source CLEVER: %v, want Clever's %d students, none local", got, len(s1.Students))
	}

	var u struct {
		Node struct {
			Roles          []struct{ Role string }
			EffectiveRoles []string
			RoleOverrides  []struct{ Role, Effect, Reason string }
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User { roles { role } effectiveRoles roleOverrides { role effect reason } } } }`, map[string]any{"id": s1.Teacher}, &u)
	if !slices.Contains(u.Node.EffectiveRoles, "DISTRICT_ADMIN") || !slices.Contains(u.Node.EffectiveRoles, "TEACHER") {
		t.Errorf("effectiveRoles %v (Clever's roles %v), want TEACHER and the granted DISTRICT_ADMIN", u.Node.EffectiveRoles, u.Node.Roles)
	}
	// User.roles stays what Clever sends: the override is the app's, not Clever's.
	var cleverRoles []string
	for _, raw := range a.data.Users {
		var cu struct {
			ID    string
			Roles map[string]json.RawMessage
		}
		must(t, json.Unmarshal(raw, &cu))
		if cu.ID == s1.Teacher {
			for r := range cu.Roles {
				cleverRoles = append(cleverRoles, strings.ToUpper(r))
			}
		}
	}
	var gotRoles []string
	for _, r := range u.Node.Roles {
		gotRoles = append(gotRoles, r.Role)
	}
	slices.Sort(cleverRoles)
	slices.Sort(gotRoles)
	if !slices.Equal(gotRoles, cleverRoles) {
		t.Errorf("User.roles %v, want Clever's %v: an override must not change them", gotRoles, cleverRoles)
	}
	var groups struct {
		LocalGroups struct {
			Edges []struct {
				Node struct {
					Name        string
					Memberships struct {
						Edges []struct {
							Node struct {
								LocalUser struct{ LastName, ExternalId string }
							}
						}
					}
				}
			}
		}
	}
	a.query(a.keys["read"], `{ localGroups(where: {sectionIDIsNil: true}) { edges { node { name memberships { edges { node { localUser { lastName externalId } } } } } } } }`, nil, &groups)
	if len(groups.LocalGroups.Edges) != 1 || groups.LocalGroups.Edges[0].Node.Memberships.Edges[0].Node.LocalUser.ExternalId != "tutor-1" {
		t.Errorf("local groups: %+v", groups)
	}

	if a.db.Dialect == dialect.Postgres {
		q := `query($id: ID!) { node(id: $id) { ... on Section { students(first: 50) { totalCount edges { local addedBy startedAt node { cleverId lastName } } } } } }`
		if c.same("RosterWithLocal", a.keys["read"], q, map[string]any{"id": s1.ID}) {
			t.Error("a section with a hand addition was answered by the compiled statement")
		}
		if !c.same("RosterWithoutLocal", a.keys["read"], q, map[string]any{"id": s2.ID}) {
			t.Error("a section without hand additions was not answered by the compiled statement")
		}
		qc := `query($id: ID!) { node(id: $id) { ... on Section { students(first: 50, source: CLEVER) { totalCount edges { local node { cleverId } } } } } }`
		if !c.same("RosterCleverOnly", a.keys["read"], qc, map[string]any{"id": s1.ID}) {
			t.Error("source CLEVER was not answered by the compiled statement")
		}
	}

	// Removing a hand addition is a mutation of its own, audited.
	a.mutate(t, `mutation($s: ID!, $u: ID!) { removeSectionMember(sectionId: $s, userId: $u) { removedAt } }`, map[string]any{"s": s1.ID, "u": extra}, &struct{}{})
	a.query(a.keys["read"], rosterQ, map[string]any{"id": s1.ID}, &r)
	if _, ok := r.Node.Students.local()[extra]; ok || r.Node.Students.TotalCount != len(s1.Students) {
		t.Errorf("after removeSectionMember: %+v", r.Node.Students)
	}
	n, err := a.db.Client.LocalMembership.Query().Where(localmembership.SectionID(s1.ID), localmembership.UserID(extra), localmembership.RemovedAtNotNil()).Count(context.Background())
	must(t, err)
	if n != 1 {
		t.Errorf("the removed addition: %d rows kept with removedAt, want 1 (history)", n)
	}
	for _, action := range []string{"addSectionMember", "createLocalGroup", "addLocalMember", "createLocalUser", "setRoleOverride", "removeSectionMember"} {
		if ok, err := a.db.Client.AuditEntry.Query().Where(auditentry.Action(action)).Exist(context.Background()); err != nil || !ok {
			t.Errorf("no audit entry for %s (%v)", action, err)
		}
	}
}

// TestLocalDataErrors: mutations of the app's own data refuse clearly — an unknown section, a duplicate
// addition, a member Clever already lists, a subgroup member who is not in the section, both or neither
// of userId and localUserId, a key without the admin scope — and change nothing.
func TestLocalDataErrors(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	secs := twoTeacherSections(t, a)
	s1, s2 := secs[0], secs[1]
	outsider := ""
	for _, st := range s2.Students {
		if !slices.Contains(s1.Students, st) {
			outsider = st
		}
	}
	add := `mutation($s: ID!, $u: ID!) { addSectionMember(sectionId: $s, userId: $u) { id } }`
	a.mutate(t, add, map[string]any{"s": s1.ID, "u": outsider}, &struct{}{})
	var sub struct{ CreateLocalGroup struct{ ID string } }
	a.mutate(t, `mutation($s: String!) { createLocalGroup(input: {name: "G", sectionID: $s}) { id } }`, map[string]any{"s": s1.ID}, &sub)
	var customer struct{ CreateOrganization struct{ ID string } }
	a.mutate(t, `mutation { createOrganization(input: {externalId: "cust-local", name: "Local Customer"}) { id } }`, nil, &customer)
	var orgGroup struct{ CreateLocalGroup struct{ ID string } }
	a.mutate(t, `mutation($o: String!) { createLocalGroup(input: {name: "Tutors", organizationID: $o}) { id } }`, map[string]any{"o": customer.CreateOrganization.ID}, &orgGroup)
	district := districtOf(a.data)
	before := localSnapshot(t, a)

	for _, tc := range []struct {
		name, key, q string
		vars         map[string]any
		code, says   string
	}{
		{"unknown section", "admin", add, map[string]any{"s": "000000000000000000000000", "u": outsider}, "NOT_FOUND", `section "000000000000000000000000"`},
		{"unknown user", "admin", add, map[string]any{"s": s1.ID, "u": "000000000000000000000001"}, "NOT_FOUND", `user "000000000000000000000001"`},
		{"duplicate addition", "admin", add, map[string]any{"s": s1.ID, "u": outsider}, "CONFLICT", "added to section"},
		{"Clever's member", "admin", add, map[string]any{"s": s1.ID, "u": s1.Students[0]}, "CONFLICT", "in Clever"},
		{"read key", "read", add, map[string]any{"s": s1.ID, "u": s2.Students[0]}, "FORBIDDEN", "admin"},
		{"remove Clever's member", "admin", `mutation($s: ID!, $u: ID!) { removeSectionMember(sectionId: $s, userId: $u) { id } }`,
			map[string]any{"s": s1.ID, "u": s1.Students[0]}, "NOT_FOUND", "only in Clever"},
		{"subgroup outsider", "admin", `mutation($g: ID!, $u: ID!) { addLocalMember(input: {groupId: $g, userId: $u}) { id } }`,
			map[string]any{"g": sub.CreateLocalGroup.ID, "u": s2.Teacher}, "BAD_REQUEST", "not a student of section"},
		{"neither member", "admin", `mutation($g: ID!) { addLocalMember(input: {groupId: $g}) { id } }`,
			map[string]any{"g": sub.CreateLocalGroup.ID}, "BAD_REQUEST", "exactly one of userId"},
		{"group without scope", "admin", `mutation { createLocalGroup(input: {name: "Nowhere"}) { id } }`, nil, "BAD_REQUEST", "needs a sectionID"},
		{"override unknown user", "admin", `mutation { setRoleOverride(userId: "000000000000000000000001", role: STAFF, effect: GRANT) { id } }`, nil, "NOT_FOUND", `user "000000000000000000000001"`},
		{"last name too long", "admin", `mutation($d: String!, $n: String!) { createLocalUser(input: {lastName: $n, role: STUDENT, districtID: $d}) { id } }`,
			map[string]any{"d": district, "n": strings.Repeat("x", 256)}, "BAD_REQUEST", "lastName: too long: 256 bytes, at most 255"},
		{"tab in a first name", "admin", `mutation($d: String!) { createLocalUser(input: {lastName: "Ok", firstName: "A\tB", role: STUDENT, districtID: $d}) { id } }`,
			map[string]any{"d": district}, "BAD_REQUEST", "firstName: contains a control character"},
		{"group left without scope", "admin", `mutation($g: ID!) { updateLocalGroup(id: $g, input: {clearOrganizationID: true}) { id } }`,
			map[string]any{"g": orgGroup.CreateLocalGroup.ID}, "BAD_REQUEST", "needs a districtID or an organizationID"},
	} {
		r := a.do(a.keys[tc.key], tc.q, tc.vars)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tc.code || !strings.Contains(r.Errors[0].Message, tc.says) {
			t.Errorf("%s: %+v, want one %s error saying %q", tc.name, r.Errors, tc.code, tc.says)
		}
	}
	if after := localSnapshot(t, a); after != before {
		t.Errorf("refused mutations changed the app's data:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestReadmeLocalDataExamplesRun: the admin examples of the README's "The app's own data beside the
// mirror" run, in order, on the demo district without an error (mutations included: the block adds,
// reads back and removes), and the roster they read marks the hand addition local.
func TestReadmeLocalDataExamplesRun(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	must(t, err)
	_, sec, ok := strings.Cut(string(readme), "## The app's own data beside the mirror\n")
	if !ok {
		t.Fatal("no section \"The app's own data beside the mirror\" in the README")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var ops []string
	for _, block := range strings.Split(sec, "```graphql admin\n")[1:] {
		block = block[:strings.Index(block, "```")]
		depth, op := 0, ""
		for _, line := range strings.SplitAfter(block, "\n") {
			op += line
			depth += strings.Count(line, "{") - strings.Count(line, "}")
			if depth == 0 && strings.TrimSpace(op) != "" {
				ops = append(ops, strings.TrimSpace(op))
				op = ""
			}
		}
	}
	if len(ops) < 5 {
		t.Fatalf("found %d operations in the section's admin blocks", len(ops))
	}
	a := newAPI(t)
	sawLocal := false
	for _, op := range ops {
		r := a.do(a.keys["admin"], op, nil)
		if len(r.Errors) > 0 || len(r.Data) < 10 {
			t.Errorf("README example failed: %+v\n%s", r.Errors, op)
		}
		sawLocal = sawLocal || strings.Contains(string(r.Data), `"local":true`)
	}
	if !sawLocal {
		t.Error("no example read a member marked local")
	}
}

// TestLocalRosterPagesAndHistory: a roster with a hand addition pages like any other — every member once,
// in order, the cursors of one page leading to the next — and keeps its history: asOf a moment while the
// addition held lists it (marked local), asOf before it was added or after it was removed does not. The
// other removals (a group member, a group, a local user) are deliberate mutations that keep the rows'
// history or answer NOT_FOUND afterwards.
func TestLocalRosterPagesAndHistory(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	secs := twoTeacherSections(t, a)
	s1 := secs[0]
	var extra string
	for _, s := range secs[1:] {
		for _, st := range s.Students {
			if !slices.Contains(s1.Students, st) && extra == "" {
				extra = st
			}
		}
	}
	if extra == "" || len(s1.Students) < 2 {
		t.Fatal("no student outside the first section, or too few in it")
	}
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	a.mutate(t, `mutation($s: ID!, $u: ID!) { addSectionMember(sectionId: $s, userId: $u) { id } }`, map[string]any{"s": s1.ID, "u": extra}, &struct{}{})
	time.Sleep(5 * time.Millisecond)
	during := time.Now().UTC()

	type page struct {
		Node struct {
			Students struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct {
					Local bool
					Node  struct{ CleverID string }
				}
			}
		}
	}
	const pageQ = `query($id: ID!, $after: Cursor, $asOf: Time) { node(id: $id) { ... on Section {
	  students(first: 2, after: $after, asOf: $asOf) { totalCount pageInfo { hasNextPage endCursor } edges { local node { cleverId } } } } } }`
	walk := func(asOf *time.Time) (ids []string, local map[string]bool, total int) {
		t.Helper()
		local = map[string]bool{}
		var after *string
		for n := 0; ; n++ {
			if n > 100 {
				t.Fatal("paging does not end")
			}
			vars := map[string]any{"id": s1.ID, "after": after}
			if asOf != nil {
				vars["asOf"] = asOf.Format(time.RFC3339Nano)
			}
			var p page
			a.query(a.keys["read"], pageQ, vars, &p)
			total = p.Node.Students.TotalCount
			for _, e := range p.Node.Students.Edges {
				ids = append(ids, e.Node.CleverID)
				local[e.Node.CleverID] = e.Local
			}
			if !p.Node.Students.PageInfo.HasNextPage {
				return ids, local, total
			}
			after = p.Node.Students.PageInfo.EndCursor
		}
	}
	want := append(slices.Clone(s1.Students), extra)
	slices.Sort(want)
	ids, local, total := walk(nil)
	if !slices.Equal(ids, want) || total != len(want) || !local[extra] || local[s1.Students[0]] {
		t.Fatalf("paged roster %v (total %d, local %v); want %v with %s local", ids, total, local, want, extra)
	}

	a.mutate(t, `mutation($s: ID!, $u: ID!) { removeSectionMember(sectionId: $s, userId: $u) { removedAt } }`, map[string]any{"s": s1.ID, "u": extra}, &struct{}{})
	if ids, _, _ := walk(nil); slices.Contains(ids, extra) {
		t.Error("the removed addition is still listed now")
	}
	if ids, local, _ := walk(&during); !slices.Contains(ids, extra) || !local[extra] {
		t.Errorf("asOf while the addition held: %v (local %v); want %s listed, local", ids, local, extra)
	}
	if ids, _, _ := walk(&before); slices.Contains(ids, extra) {
		t.Errorf("asOf before the addition: %v lists %s", ids, extra)
	}

	// A local user in a group: updated, removed from the group (the membership kept, ended), the group
	// and the user deleted.
	district := districtOf(a.data)
	var lu struct{ CreateLocalUser struct{ ID string } }
	a.mutate(t, `mutation($d: String!) { createLocalUser(input: {firstName: "Terry", lastName: "Tutor", role: TEACHER, districtID: $d}) { id } }`, map[string]any{"d": district}, &lu)
	var upd struct{ UpdateLocalUser struct{ LastName string } }
	a.mutate(t, `mutation($id: ID!) { updateLocalUser(id: $id, input: {lastName: "Teacher"}) { lastName } }`, map[string]any{"id": lu.CreateLocalUser.ID}, &upd)
	if upd.UpdateLocalUser.LastName != "Teacher" {
		t.Errorf("updateLocalUser: %+v", upd)
	}
	var g struct{ CreateLocalGroup struct{ ID string } }
	a.mutate(t, `mutation($d: String!) { createLocalGroup(input: {name: "Chess club", districtID: $d}) { id } }`, map[string]any{"d": district}, &g)
	var m struct{ AddLocalMember struct{ ID string } }
	a.mutate(t, `mutation($g: ID!, $u: ID!) { addLocalMember(input: {groupId: $g, localUserId: $u, role: TEACHER}) { id } }`,
		map[string]any{"g": g.CreateLocalGroup.ID, "u": lu.CreateLocalUser.ID}, &m)
	var rm struct{ RemoveLocalMember struct{ RemovedAt *string } }
	a.mutate(t, `mutation($id: ID!) { removeLocalMember(id: $id) { removedAt } }`, map[string]any{"id": m.AddLocalMember.ID}, &rm)
	if rm.RemoveLocalMember.RemovedAt == nil {
		t.Error("removeLocalMember left removedAt empty")
	}
	if kept, err := a.db.Client.LocalMembership.Get(context.Background(), m.AddLocalMember.ID); err != nil || kept.RemovedAt == nil {
		t.Errorf("the removed group membership: %v, %v; want kept with removedAt", kept, err)
	}
	a.mutate(t, `mutation($id: ID!) { deleteLocalGroup(id: $id) }`, map[string]any{"id": g.CreateLocalGroup.ID}, &struct{}{})
	a.mutate(t, `mutation($id: ID!) { deleteLocalUser(id: $id) }`, map[string]any{"id": lu.CreateLocalUser.ID}, &struct{}{})
	if r := a.do(a.keys["admin"], `mutation($id: ID!) { deleteLocalUser(id: $id) }`, map[string]any{"id": lu.CreateLocalUser.ID}); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Errorf("deleting a deleted local user: %+v; want NOT_FOUND", r.Errors)
	}
}
