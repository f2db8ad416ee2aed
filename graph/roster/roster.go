// Package roster answers the roster questions the API asks that are not plain ent edges: a section's
// students and teachers (the users, not the membership records) and its primary teacher, a school's
// users, a user's sections and schools, a role's schools — each now, or on a past date (asOf) from the
// membership history. A membership whose user is not mirrored (not shared yet) or is archived is left
// out, never an error. Each field loads the values of all the records of a list at once (see Batches),
// in a fixed number of statements.
package roster

import (
	"context"
	"github.com/rostermirror/rostermirror/graph/batch"
	"slices"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/localmembership"
	"github.com/rostermirror/rostermirror/ent/predicate"
	"github.com/rostermirror/rostermirror/ent/roleschool"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/graph/archive"
	"github.com/rostermirror/rostermirror/graph/sqljson"
)

// MemberConnection is a section's students or teachers: users, each edge with when the membership
// started (and, for teachers, the place in Clever's order).
type MemberConnection struct {
	Edges      []*MemberEdge `json:"edges"`
	PageInfo   ent.PageInfo  `json:"pageInfo"`
	TotalCount int           `json:"totalCount"`
}

// MemberEdge is one member.
type MemberEdge struct {
	Cursor    ent.Cursor `json:"cursor"`
	Node      *ent.User  `json:"node"`
	StartedAt time.Time  `json:"startedAt"`
	// Position is the teacher's place: 0 for the primary teacher. Nil for students and for the teachers
	// added by hand.
	Position *int `json:"position"`
	// Local is whether the member was added by hand (internal/localdata), not by Clever.
	Local bool `json:"local"`
	// AddedBy is who added a local member; nil for Clever's.
	AddedBy *string `json:"addedBy"`
}

// Compiled tells graph/sqljson how Section.students and Section.teachers answer (which membership, in
// which order), so that a compiled statement answers them as Students and Teachers do; the compiled
// queries test holds the two to the same bytes.
// A section with hand additions (internal/localdata) that hold is answered by the resolvers, which
// merge them in.
var Compiled = map[string]sqljson.Members{
	"Section.students": {Membership: ent.TypeSectionStudent, Order: []string{sectionstudent.FieldUserID}, Additions: additions(localmembership.RoleSTUDENT)},
	"Section.teachers": {Membership: ent.TypeSectionTeacher, Order: []string{sectionteacher.FieldPosition}, Position: true, Additions: additions(localmembership.RoleTEACHER)},
}

// additions are the hand additions of role to a section, as the compiled statements look them up.
func additions(role localmembership.Role) *sqljson.Additions {
	return &sqljson.Additions{Table: localmembership.Table, Owner: localmembership.FieldSectionID,
		Start: localmembership.FieldAddedAt, End: localmembership.FieldRemovedAt,
		Where: "%[1]s." + localmembership.FieldRole + " = '" + string(role) + "' AND %[1]s." + localmembership.FieldUserID + " IS NOT NULL"}
}

// Page is a connection's paging arguments.
type Page struct {
	After  *ent.Cursor
	First  *int
	Before *ent.Cursor
	Last   *int
}

// Students are the section's students now — or on asOf, from the enrollment history — in the order of
// their Clever ids (the same every time, on every database). The students added by hand hold their
// place in that order, marked local, unless source leaves them (or Clever's) out.
func Students(ctx context.Context, c *ent.Client, s *ent.Section, asOf *time.Time, source *Source, p Page) (*MemberConnection, error) {
	return batch.Load(ctx, s.ID, func(ctx context.Context, sections []string) (map[string]*MemberConnection, error) {
		return members(ctx, c, sections, localmembership.RoleSTUDENT, asOf, sourceOf(source), p, func(ctx context.Context, sections []string) (map[string]*MemberConnection, error) {
			return cleverStudents(ctx, c, sections, asOf, p)
		})
	})
}

// cleverStudents are the sections' Clever students, paged in one statement.
func cleverStudents(ctx context.Context, c *ent.Client, sections []string, asOf *time.Time, p Page) (map[string]*MemberConnection, error) {
	q := c.SectionStudent.Query().Where(sectionstudent.And(studentsAt(asOf)...), sectionstudent.HasUserWith(visibleUser(ctx)...)).
		WithUser(func(uq *ent.UserQuery) { collectNodes(ctx, uq) })
	conns, err := q.PaginateByParent(ctx, sections, column(sectionstudent.FieldSectionID), false, p.After, p.First, p.Before, p.Last,
		ent.WithSectionStudentOrder(&ent.SectionStudentOrder{Direction: entgql.OrderDirectionAsc, Field: ent.SectionStudentOrderFieldUserID}))
	if err != nil {
		return nil, err
	}
	return memberConnections(conns, func(c *ent.SectionStudentConnection) (ent.PageInfo, int, []*MemberEdge) {
		edges := make([]*MemberEdge, 0, len(c.Edges))
		for _, e := range c.Edges {
			edges = append(edges, &MemberEdge{Cursor: e.Cursor, Node: e.Node.Edges.User, StartedAt: e.Node.StartedAt})
		}
		return c.PageInfo, c.TotalCount, edges
	}), nil
}

// Teachers are the section's teachers now — or on asOf — in Clever's order, the primary teacher first,
// then the teachers added by hand (marked local), unless source leaves them (or Clever's) out.
func Teachers(ctx context.Context, c *ent.Client, s *ent.Section, asOf *time.Time, source *Source, p Page) (*MemberConnection, error) {
	return batch.Load(ctx, s.ID, func(ctx context.Context, sections []string) (map[string]*MemberConnection, error) {
		return members(ctx, c, sections, localmembership.RoleTEACHER, asOf, sourceOf(source), p, func(ctx context.Context, sections []string) (map[string]*MemberConnection, error) {
			return cleverTeachers(ctx, c, sections, asOf, p)
		})
	})
}

// cleverTeachers are the sections' Clever teachers, paged in one statement.
func cleverTeachers(ctx context.Context, c *ent.Client, sections []string, asOf *time.Time, p Page) (map[string]*MemberConnection, error) {
	q := c.SectionTeacher.Query().Where(sectionteacher.And(teachersAt(asOf)...), sectionteacher.HasUserWith(visibleUser(ctx)...)).
		WithUser(func(uq *ent.UserQuery) { collectNodes(ctx, uq) })
	conns, err := q.PaginateByParent(ctx, sections, column(sectionteacher.FieldSectionID), false, p.After, p.First, p.Before, p.Last,
		ent.WithSectionTeacherOrder(&ent.SectionTeacherOrder{Direction: entgql.OrderDirectionAsc, Field: ent.SectionTeacherOrderFieldPosition}))
	if err != nil {
		return nil, err
	}
	return memberConnections(conns, func(c *ent.SectionTeacherConnection) (ent.PageInfo, int, []*MemberEdge) {
		edges := make([]*MemberEdge, 0, len(c.Edges))
		for _, e := range c.Edges {
			edges = append(edges, &MemberEdge{Cursor: e.Cursor, Node: e.Node.Edges.User, StartedAt: e.Node.StartedAt, Position: &e.Node.Position})
		}
		return c.PageInfo, c.TotalCount, edges
	}), nil
}

// memberConnections turns each parent's connection of memberships into the connection of their users,
// leaving out a membership whose user did not load (none should: the query keeps visible users only).
func memberConnections[C any](conns map[string]C, edges func(C) (ent.PageInfo, int, []*MemberEdge)) map[string]*MemberConnection {
	out := make(map[string]*MemberConnection, len(conns))
	for id, conn := range conns {
		info, total, es := edges(conn)
		out[id] = &MemberConnection{PageInfo: info, TotalCount: total,
			Edges: slices.DeleteFunc(es, func(e *MemberEdge) bool { return e.Node == nil })}
	}
	return out
}

// PrimaryTeacher is the first of the section's teachers now (or on asOf), or nil.
func PrimaryTeacher(ctx context.Context, c *ent.Client, s *ent.Section, asOf *time.Time) (*ent.User, error) {
	return batch.Load(ctx, s.ID, func(ctx context.Context, sections []string) (map[string]*ent.User, error) {
		// A section has a few teachers: read their places, keep the first, then load those users alone
		// with what the query asks of them.
		places, err := c.SectionTeacher.Query().Where(sectionteacher.And(teachersAt(asOf)...), sectionteacher.HasUserWith(visibleUser(ctx)...)).
			Select(sectionteacher.FieldID, sectionteacher.FieldSectionID, sectionteacher.FieldUserID, sectionteacher.FieldPosition).
			Order(ent.Asc(sectionteacher.FieldPosition), ent.Asc(sectionteacher.FieldID)).
			AllByParent(ctx, sections, column(sectionteacher.FieldSectionID))
		if err != nil {
			return nil, err
		}
		first := map[string]string{} // section → user
		var ids []string
		for id, ps := range places {
			if len(ps) > 0 {
				first[id] = ps[0].UserID
				ids = append(ids, ps[0].UserID)
			}
		}
		uq, err := c.User.Query().Where(user.IDIn(ids...)).CollectFields(ctx, "User")
		if err != nil {
			return nil, err
		}
		users, err := uq.All(ctx)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]*ent.User, len(users))
		for _, u := range users {
			byID[u.ID] = u
		}
		out := make(map[string]*ent.User, len(first))
		for section, u := range first {
			out[section] = byID[u]
		}
		return out, nil
	})
}

// SchoolUsers are the users with a role at the school now (or on asOf), filtered and ordered as the
// connection asks.
func SchoolUsers(ctx context.Context, c *ent.Client, s *ent.School, asOf *time.Time, p Page, opts ...ent.UserPaginateOption) (*ent.UserConnection, error) {
	return batch.Load(ctx, s.ID, func(ctx context.Context, schools []string) (map[string]*ent.UserConnection, error) {
		return c.User.Query().PaginateByParent(ctx, schools, schoolMembers(ctx, asOf, user.FieldID), true, p.After, p.First, p.Before, p.Last, opts...)
	})
}

// UserSections are the sections the user teaches or attends now (or on asOf), filtered and ordered as
// the connection asks.
func UserSections(ctx context.Context, c *ent.Client, u *ent.User, asOf *time.Time, p Page, opts ...ent.SectionPaginateOption) (*ent.SectionConnection, error) {
	return batch.Load(ctx, u.ID, func(ctx context.Context, users []string) (map[string]*ent.SectionConnection, error) {
		key := func(s *sql.Selector) string {
			d := sql.Dialect(s.Dialect())
			st, tt := d.Table(sectionstudent.Table).As("st"), d.Table(sectionteacher.Table).As("tt")
			teaching := d.Select(tt.C(sectionteacher.FieldSectionID), tt.C(sectionteacher.FieldUserID)).From(tt).Where(membershipAt(tt, asOf))
			both := d.Select(st.C(sectionstudent.FieldSectionID), st.C(sectionstudent.FieldUserID)).From(st).Where(membershipAt(st, asOf)).
				Union(teaching).As("user_sections")
			s.Join(both).On(s.C(section.FieldID), both.C(sectionstudent.FieldSectionID))
			return both.C(sectionstudent.FieldUserID)
		}
		return c.Section.Query().PaginateByParent(ctx, users, key, true, p.After, p.First, p.Before, p.Last, opts...)
	})
}

// UserSchools are the schools any of the user's current roles is at, by name.
func UserSchools(ctx context.Context, c *ent.Client, u *ent.User) ([]*ent.School, error) {
	return batch.Load(ctx, u.ID, func(ctx context.Context, users []string) (map[string][]*ent.School, error) {
		return c.School.Query().Order(ent.Asc(school.FieldName), ent.Asc(school.FieldID)).
			AllByParent(ctx, users, schoolMembers(ctx, nil, school.FieldID, "school"))
	})
}

// RoleSchools are the schools the role is at now, by name.
func RoleSchools(ctx context.Context, c *ent.Client, r *ent.UserRole) ([]*ent.School, error) {
	return batch.Load(ctx, r.ID, func(ctx context.Context, roles []string) (map[string][]*ent.School, error) {
		key := func(s *sql.Selector) string {
			rs := sql.Dialect(s.Dialect()).Table(roleschool.Table).As("rs")
			s.Join(rs).On(s.C(school.FieldID), rs.C(roleschool.FieldSchoolID)).Where(membershipAt(rs, nil))
			if !archive.Included(ctx) {
				s.Where(sql.IsNull(rs.C(roleschool.FieldArchivedAt)))
			}
			return rs.C(roleschool.FieldRoleID)
		}
		return c.School.Query().Order(ent.Asc(school.FieldName), ent.Asc(school.FieldID)).AllByParent(ctx, roles, key)
	})
}

// Roles are the user's roles as loaded with it (eager loading, or a query when they were not), ordered
// by id so that User.roles comes in the same order every time and whichever way the query is answered.
func Roles(ctx context.Context, u *ent.User) ([]*ent.UserRole, error) {
	roles, err := u.Roles(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(roles, func(a, b *ent.UserRole) int { return strings.Compare(a.ID, b.ID) })
	return roles, nil
}

// schoolMembers relates rows to schools through the schools of their users' roles (current, or on
// asOf): joined on the query's column on. By default the parent is the school and on names the user;
// with "school" as by, the parent is the user and on names the school.
func schoolMembers(ctx context.Context, asOf *time.Time, on string, by ...string) ent.ParentKey {
	return func(s *sql.Selector) string {
		d := sql.Dialect(s.Dialect())
		rs, r := d.Table(roleschool.Table).As("rs"), d.Table(userrole.Table).As("r")
		members := d.Select(r.C(userrole.FieldUserID), rs.C(roleschool.FieldSchoolID)).Distinct().
			From(rs).Join(r).On(rs.C(roleschool.FieldRoleID), r.C(userrole.FieldID)).Where(membershipAt(rs, asOf))
		if !archive.Included(ctx) {
			members.Where(sql.And(sql.IsNull(rs.C(roleschool.FieldArchivedAt)), sql.IsNull(r.C(userrole.FieldArchivedAt))))
		}
		m := members.As("school_members")
		if len(by) > 0 { // rows are schools, parents are users
			s.Join(m).On(s.C(on), m.C(roleschool.FieldSchoolID))
			return m.C(userrole.FieldUserID)
		}
		s.Join(m).On(s.C(on), m.C(userrole.FieldUserID))
		return m.C(roleschool.FieldSchoolID)
	}
}

// column relates rows to parents named by one of their own columns.
func column(name string) ent.ParentKey {
	return func(s *sql.Selector) string { return s.C(name) }
}

// membershipAt is the condition for a membership table t to hold now (ended_at null), or on asOf
// (started by then, not ended by then).
func membershipAt(t *sql.SelectTable, asOf *time.Time) *sql.Predicate {
	if asOf == nil {
		return sql.IsNull(t.C("ended_at"))
	}
	at := asOf.UTC()
	return sql.And(sql.LTE(t.C("started_at"), at), sql.Or(sql.IsNull(t.C("ended_at")), sql.GT(t.C("ended_at"), at)))
}

// The times are compared in UTC, as they are stored: SQLite compares them as text, so a date given with
// another offset would compare wrong.

func studentsAt(asOf *time.Time) []predicate.SectionStudent {
	if asOf == nil {
		return []predicate.SectionStudent{sectionstudent.EndedAtIsNil()}
	}
	at := asOf.UTC()
	return []predicate.SectionStudent{sectionstudent.StartedAtLTE(at), sectionstudent.Or(sectionstudent.EndedAtIsNil(), sectionstudent.EndedAtGT(at))}
}

func teachersAt(asOf *time.Time) []predicate.SectionTeacher {
	if asOf == nil {
		return []predicate.SectionTeacher{sectionteacher.EndedAtIsNil()}
	}
	at := asOf.UTC()
	return []predicate.SectionTeacher{sectionteacher.StartedAtLTE(at), sectionteacher.Or(sectionteacher.EndedAtIsNil(), sectionteacher.EndedAtGT(at))}
}

// visibleUser is the condition on a membership's user for the member to be listed: mirrored, and not
// archived unless the query includes archived records.
func visibleUser(ctx context.Context) []predicate.User {
	if archive.Included(ctx) {
		return nil
	}
	return []predicate.User{user.ArchivedAtIsNil()}
}

// collectNodes has uq load what the connection of ctx's field selects under edges.node (a user's
// roles, schools, …) with the users, as entgql's eager loading does for ent edges.
func collectNodes(ctx context.Context, uq *ent.UserQuery) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return
	}
	oc := graphql.GetOperationContext(ctx)
	for _, edges := range graphql.CollectFields(oc, fc.Field.Selections, nil) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(oc, edges.Selections, nil) {
			if node.Name == "node" {
				uq.CollectFields(graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: node}), "User")
			}
		}
	}
}
