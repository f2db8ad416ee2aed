package roster

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/localmembership"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/graph/archive"
	"github.com/rostermirror/rostermirror/internal/localdata"
)

// Source is which members Section.students and Section.teachers list (GraphQL's MemberSource).
type Source string

// The sources.
const (
	// SourceAll lists Clever's members and the members added by hand (internal/localdata), marked local.
	SourceAll Source = "ALL"
	// SourceClever lists Clever's members only.
	SourceClever Source = "CLEVER"
	// SourceLocal lists the members added by hand only.
	SourceLocal Source = "LOCAL"
)

// UnmarshalGQL reads a MemberSource.
func (s *Source) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("enums must be strings")
	}
	switch Source(str) {
	case SourceAll, SourceClever, SourceLocal:
		*s = Source(str)
		return nil
	}
	return fmt.Errorf("%s is not a valid MemberSource", str)
}

// MarshalGQL writes a MemberSource.
func (s Source) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(s))) }

// sourceOf is the source an argument names: ALL when it names none.
func sourceOf(s *Source) Source {
	if s == nil {
		return SourceAll
	}
	return *s
}

// localPosition orders the teachers added by hand after Clever's (their cursors' order value).
const localPosition = math.MaxInt32

// item is one member of a merged roster with its order: (value, id) ascending, as the cursors say.
type item struct {
	edge  *MemberEdge
	value any // the user id (students) or the position (teachers)
	id    string
}

// merged answers the members of sections that have hand additions (or all sections, for LOCAL): the
// Clever members (unless LOCAL) and the hand additions, merged in the connection's order and paged in
// memory — a section's roster is tens of members, and such sections are few.
func merged(ctx context.Context, c *ent.Client, sections []string, role localmembership.Role, asOf *time.Time, source Source,
	added map[string][]localdata.Added, p Page) (map[string]*MemberConnection, error) {
	items := make(map[string][]item, len(sections))
	if source != SourceLocal {
		if role == localmembership.RoleTEACHER {
			ms, err := c.SectionTeacher.Query().Where(sectionteacher.SectionIDIn(sections...), sectionteacher.And(teachersAt(asOf)...),
				sectionteacher.HasUserWith(visibleUser(ctx)...)).WithUser(func(uq *ent.UserQuery) { collectNodes(ctx, uq) }).
				Order(ent.Asc(sectionteacher.FieldPosition), ent.Asc(sectionteacher.FieldID)).All(ctx)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				pos := m.Position
				items[m.SectionID] = append(items[m.SectionID], item{value: pos, id: m.ID,
					edge: &MemberEdge{Node: m.Edges.User, StartedAt: m.StartedAt, Position: &pos}})
			}
		} else {
			ms, err := c.SectionStudent.Query().Where(sectionstudent.SectionIDIn(sections...), sectionstudent.And(studentsAt(asOf)...),
				sectionstudent.HasUserWith(visibleUser(ctx)...)).WithUser(func(uq *ent.UserQuery) { collectNodes(ctx, uq) }).
				Order(ent.Asc(sectionstudent.FieldUserID), ent.Asc(sectionstudent.FieldID)).All(ctx)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				items[m.SectionID] = append(items[m.SectionID], item{value: m.UserID, id: m.ID,
					edge: &MemberEdge{Node: m.Edges.User, StartedAt: m.StartedAt}})
			}
		}
	}
	out := make(map[string]*MemberConnection, len(sections))
	for _, s := range sections {
		list := items[s]
		inClever := make(map[string]bool, len(list))
		for _, it := range list {
			inClever[it.edge.Node.ID] = true
		}
		for i, a := range added[s] {
			if inClever[a.User.ID] {
				continue // Clever lists the member: once, as Clever's
			}
			by := a.Membership.AddedBy
			it := item{id: a.Membership.ID, edge: &MemberEdge{Node: a.User, StartedAt: a.Membership.AddedAt, Local: true, AddedBy: &by}}
			if role == localmembership.RoleTEACHER {
				it.value = localPosition + i
			} else {
				it.value = a.User.ID
			}
			list = append(list, it)
		}
		slices.SortStableFunc(list, func(a, b item) int { return cmp.Or(compareValues(a.value, b.value), cmp.Compare(a.id, b.id)) })
		conn, err := page(list, p)
		if err != nil {
			return nil, err
		}
		out[s] = conn
	}
	return out, nil
}

// page pages a sorted list as entgql does: after and before bound it, then first or last take from
// its start or end.
func page(list []item, p Page) (*MemberConnection, error) {
	switch {
	case p.First != nil && p.Last != nil:
		return nil, &gqlerror.Error{Message: "Passing both `first` and `last` to paginate a connection is not supported."}
	case p.First != nil && *p.First < 0:
		return nil, &gqlerror.Error{Message: "`first` on a connection cannot be less than zero."}
	case p.Last != nil && *p.Last < 0:
		return nil, &gqlerror.Error{Message: "`last` on a connection cannot be less than zero."}
	}
	conn := &MemberConnection{TotalCount: len(list)}
	from, to := 0, len(list)
	if p.After != nil {
		from = len(list)
		for i, it := range list {
			if cmp.Or(compareValues(it.value, p.After.Value), cmp.Compare(it.id, p.After.ID)) > 0 {
				from = i
				break
			}
		}
	}
	if p.Before != nil {
		to = from
		for i := len(list) - 1; i >= from; i-- {
			if cmp.Or(compareValues(list[i].value, p.Before.Value), cmp.Compare(list[i].id, p.Before.ID)) < 0 {
				to = i + 1
				break
			}
		}
	}
	if p.First != nil && to-from > *p.First {
		to = from + *p.First
		conn.PageInfo.HasNextPage = true
	}
	if p.Last != nil && to-from > *p.Last {
		from = to - *p.Last
		conn.PageInfo.HasPreviousPage = true
	}
	for _, it := range list[from:to] {
		it.edge.Cursor = ent.Cursor{ID: it.id, Value: it.value}
		conn.Edges = append(conn.Edges, it.edge)
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	if conn.Edges == nil {
		conn.Edges = []*MemberEdge{}
	}
	return conn, nil
}

// compareValues compares two cursor order values: strings, or numbers of any Go type (a cursor decoded
// from a client carries whatever integer type its encoding chose).
func compareValues(a, b any) int {
	if as, ok := a.(string); ok {
		bs, _ := b.(string)
		return cmp.Compare(as, bs)
	}
	return cmp.Compare(asInt64(a), asInt64(b))
}

func asInt64(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// members answers Section.students or Section.teachers for sections: sections without hand additions
// the usual way (clever, one paged statement), the others merged.
func members(ctx context.Context, c *ent.Client, sections []string, role localmembership.Role, asOf *time.Time, source Source, p Page,
	clever func(ctx context.Context, sections []string) (map[string]*MemberConnection, error)) (map[string]*MemberConnection, error) {
	if source == SourceClever {
		return clever(ctx, sections)
	}
	added, err := localdata.Additions(ctx, c, sections, role, asOf, archive.Included(ctx), func(uq *ent.UserQuery) { collectNodes(ctx, uq) })
	if err != nil {
		return nil, err
	}
	var plain, mixed []string
	for _, s := range sections {
		if source == SourceLocal || len(added[s]) > 0 {
			mixed = append(mixed, s)
		} else {
			plain = append(plain, s)
		}
	}
	out := map[string]*MemberConnection{}
	if len(plain) > 0 {
		if out, err = clever(ctx, plain); err != nil {
			return nil, err
		}
	}
	if len(mixed) > 0 {
		m, err := merged(ctx, c, mixed, role, asOf, source, added, p)
		if err != nil {
			return nil, err
		}
		for s, conn := range m {
			out[s] = conn
		}
	}
	return out, nil
}
