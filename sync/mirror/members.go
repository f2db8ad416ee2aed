package mirror

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent/contactrelationship"
	"github.com/rostermirror/rostermirror/ent/roleschool"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// membership is a history-keeping association table (ent.StorageTypes' Membership): rows (owner, other,
// attributes…) with started_at/ended_at, at most one open row per pair.
type membership struct {
	table        string
	id           string   // the key column
	owner, other string   // columns
	attrs        []string // columns that may change while the association holds
	rows         layout[memberRow]
	newID        func() string
}

// memberRow is a membership that starts.
type memberRow struct {
	id, districtID string
	started        time.Time
	pair
	attrs []any // values of membership.attrs
}

// newMembership describes the membership ent type typeName; newID is its ent id default.
func newMembership(typeName string, newID func() string) membership {
	st := storage(typeName)
	m := st.Membership
	if m == nil {
		panic("mirror: " + typeName + " is not a membership")
	}
	values := map[string]func(*memberRow) any{
		st.ID:         func(r *memberRow) any { return r.id },
		"district_id": func(r *memberRow) any { return r.districtID },
		"started_at":  func(r *memberRow) any { return r.started },
		"ended_at":    func(*memberRow) any { return nil },
		m.Owner:       func(r *memberRow) any { return r.owner },
		m.Other:       func(r *memberRow) any { return r.other },
	}
	if st.Archivable {
		values["archived_at"] = func(*memberRow) any { return nil } // a membership starts live
	}
	for i, a := range m.Attributes {
		values[a] = func(r *memberRow) any { return r.attrs[i] }
	}
	return membership{table: st.Table, id: st.ID, owner: m.Owner, other: m.Other, attrs: m.Attributes,
		rows: typeLayout(typeName, values), newID: newID}
}

// start is the row of a membership of p that starts at now, with attrs (in m.attrs' order).
func (m membership) start(districtID string, now time.Time, p pair, attrs []any) memberRow {
	return memberRow{id: m.newID(), districtID: districtID, started: now, pair: p, attrs: attrs}
}

// rowsOf are the rows of rs, in m.rows' columns.
func (m membership) rowsOf(rs []memberRow) [][]any {
	rows := make([][]any, len(rs))
	for i := range rs {
		rows[i] = m.rows.row(&rs[i])
	}
	return rows
}

// The memberships the sync writes. The id functions are ent's generated defaults (from ent/schema),
// called late: ent sets them at init.
var (
	roleSchools    = newMembership("RoleSchool", func() string { return roleschool.DefaultID() })
	contactMembers = newMembership("ContactRelationship", func() string { return contactrelationship.DefaultID() })
	teachers       = newMembership("SectionTeacher", func() string { return sectionteacher.DefaultID() })
	students       = newMembership("SectionStudent", func() string { return sectionstudent.DefaultID() })
)

// Attribute values of the memberships that have attributes, by column: a teacher's position in a
// section, and a contact link.
var (
	teacherAttrs = attrLayout(teachers, map[string]func(*int) any{
		"position": func(pos *int) any { return *pos },
	})
	contactAttrs = attrLayout(contactMembers, map[string]func(*contactLink) any{
		"relationship": func(l *contactLink) any { return l.relationship },
		"type":         func(l *contactLink) any { return l.typ },
	})
)

// attrLayout orders the attribute values of m.
func attrLayout[T any](m membership, values map[string]func(*T) any) layout[T] {
	return mustLayout(m.table, m.attrs, values)
}

// contactLink is how a contact is linked to a student.
type contactLink struct{ relationship, typ string }

// contactLinks lists a contact's students with the attributes of their links (contactAttrs). Old
// payloads carry the v2 keys (students, relationship, type) instead of student_relationships; both are
// read.
func contactLinks(c *clever.ContactRole) map[string][]any {
	out := map[string][]any{}
	for _, rel := range c.StudentRelationships {
		if rel.Student != "" {
			out[rel.Student] = contactAttrs.row(&contactLink{rel.Relationship, rel.Type})
		}
	}
	for _, s := range c.Students {
		if _, ok := out[s]; !ok && s != "" {
			out[s] = contactAttrs.row(&contactLink{c.Relationship, c.Type})
		}
	}
	return out
}

type pair struct{ owner, other string }

// ending is an open association that the records just read no longer have.
type ending struct {
	id string
	pair
}

// syncMembers brings the open associations of owners in line with desired: new ones start and changed
// attributes are updated. It returns the open associations no longer there without ending them: the
// caller ends them (endMembers), or keeps open those whose ending follows from an archive the
// mass-archive guard held (holds).
//
// owners are the owners whose associations are read: desired may hold associations of other owners too,
// records new to the mirror (item.created), which have none yet — all of theirs start. Reading only the
// owners that may have some keeps a first sync from looking up what cannot be there.
func (w *txWriter) syncMembers(ctx context.Context, m membership, districtID string, owners []string, desired map[pair][]any) ([]ending, error) {
	type open struct {
		id    string
		attrs []string
	}
	current := map[pair]open{}
	cols := append([]string{m.id, m.owner, m.other}, m.attrs...)
	for start := 0; start < len(owners); start += bulk.ChunkSize {
		cond, args := w.In(m.owner, owners[start:min(start+bulk.ChunkSize, len(owners))])
		rows, err := w.Tx.QueryContext(ctx, w.Rebind("SELECT "+strings.Join(cols, ", ")+" FROM "+m.table+" WHERE ended_at IS NULL AND "+cond), args...)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", m.table, err)
		}
		for rows.Next() {
			var o open
			var p pair
			o.attrs = make([]string, len(m.attrs))
			dest := []any{&o.id, &p.owner, &p.other}
			for i := range o.attrs {
				dest = append(dest, &o.attrs[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read %s: %w", m.table, err)
			}
			current[p] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", m.table, err)
		}
	}

	var ends []ending
	for p, o := range current {
		attrs, ok := desired[p]
		if !ok {
			ends = append(ends, ending{o.id, p})
			continue
		}
		if !sameAttrs(o.attrs, attrs) {
			set := make([]string, len(m.attrs))
			for i, a := range m.attrs {
				set[i] = a + " = ?"
			}
			if _, err := w.Exec(ctx, "UPDATE "+m.table+" SET "+strings.Join(set, ", ")+" WHERE "+m.id+" = ?", append(slices.Clone(attrs), o.id)...); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(ends, func(a, b ending) int { return strings.Compare(a.id, b.id) })
	var added []memberRow
	for p, attrs := range desired {
		if _, ok := current[p]; !ok {
			added = append(added, m.start(districtID, w.now, p, attrs))
		}
	}
	slices.SortFunc(added, func(a, b memberRow) int { return strings.Compare(a.id, b.id) })
	return ends, w.Insert(ctx, m.table, m.rows.columns, m.rowsOf(added))
}

func endingIDs(ends []ending) []string {
	ids := make([]string, len(ends))
	for i, e := range ends {
		ids[i] = e.id
	}
	return ids
}

// endMembers ends the associations with the given ids: ended_at is set; the rows stay as history.
func (w *txWriter) endMembers(ctx context.Context, m membership, ids []string) error {
	_, err := w.ExecIn(ctx, "UPDATE "+m.table+" SET ended_at = ? WHERE %s", []any{w.now}, m.id, ids)
	return err
}

func sameAttrs(have []string, want []any) bool {
	for i := range have {
		if have[i] != fmt.Sprint(want[i]) {
			return false
		}
	}
	return true
}

// syncUserMembers writes the roles of changed users with their schools (syncRoles), and works out the
// contact links of changed and rechecked users (rechecked: unchanged, but an earlier run kept some of
// their links open for the guard). Ending contact links waits until the users sync knows the run's held
// users: they are gathered in h.contactEnds.
func (e *Engine) syncUserMembers(ctx context.Context, w *txWriter, districtID string, changed, rechecked []item, h *holds) error {
	if err := e.syncRoles(ctx, w, districtID, changed); err != nil {
		return err
	}
	var owners []string
	contacts := map[pair][]any{}
	for _, it := range slices.Concat(changed, rechecked) {
		if !it.created {
			owners = append(owners, it.rec.id) // a user that is no longer a contact has its links end
		}
		if c := it.user.Roles.Contact; c != nil {
			for student, attrs := range contactLinks(c) {
				contacts[pair{it.rec.id, student}] = attrs
			}
		}
	}
	ends, err := w.syncMembers(ctx, contactMembers, districtID, owners, contacts)
	h.contactEnds = append(h.contactEnds, ends...)
	return err
}

// syncRoles writes the roles of changed users and their roles' schools. A role Clever sends is live:
// written with archived_at NULL, which restores a role archived with its user or lost before, and its
// schools are restored with it — un-archived, then reconciled, so a school membership that still holds
// keeps its start. A role a user no longer holds is archived (if it was not already) with its schools,
// and those school memberships end. A role's schools are archived exactly when the role is.
func (e *Engine) syncRoles(ctx context.Context, w *txWriter, districtID string, changed []item) error {
	if len(changed) == 0 {
		return nil
	}
	// Only users that were in the mirror have roles and school memberships there to reconcile.
	var userIDs, owners []string
	var roles, added [][]any // roles of users in the mirror, of users new to it
	present := map[string]bool{}
	schools := map[pair][]any{}
	for _, it := range changed {
		if !it.created {
			userIDs = append(userIDs, it.rec.id)
		}
		for _, r := range it.roles {
			present[r.id] = true
			if it.created {
				added = append(added, r.row)
			} else {
				roles = append(roles, r.row)
				owners = append(owners, r.id)
			}
			for _, s := range r.schools {
				schools[pair{r.id, s}] = nil
			}
			if r.school != "" { // the primary school is one of the role's schools
				schools[pair{r.id, r.school}] = nil
			}
		}
	}
	if err := w.Insert(ctx, roleRows.name, roleRows.columns, added); err != nil {
		return err
	}
	if err := w.Upsert(ctx, roleRows.name, roleRows.columns, "id", roles); err != nil {
		return err
	}
	slices.Sort(owners)
	if _, err := w.ExecIn(ctx, "UPDATE role_schools SET archived_at = NULL WHERE archived_at IS NOT NULL AND %s", nil, "role_id", owners); err != nil {
		return fmt.Errorf("restore role schools: %w", err)
	}
	// The users' other roles: the active ones were lost now; the archived ones went with their user or
	// earlier, and stay archived. The school memberships of all of them end.
	cond, args := w.In("user_id", userIDs)
	rows, err := w.Tx.QueryContext(ctx, w.Rebind("SELECT id, archived_at IS NULL FROM user_roles WHERE "+cond), args...)
	if err != nil {
		return fmt.Errorf("read user_roles: %w", err)
	}
	var lost []string
	for rows.Next() {
		var id string
		var active bool
		if err := rows.Scan(&id, &active); err != nil {
			rows.Close()
			return fmt.Errorf("read user_roles: %w", err)
		}
		if present[id] {
			continue
		}
		owners = append(owners, id)
		if active {
			lost = append(lost, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read user_roles: %w", err)
	}
	if _, err := w.ExecIn(ctx, "UPDATE role_schools SET archived_at = ? WHERE archived_at IS NULL AND %s", []any{w.now}, "role_id", lost); err != nil {
		return fmt.Errorf("archive role schools: %w", err)
	}
	if _, err := w.ExecIn(ctx, "UPDATE user_roles SET archived_at = ?, last_synced_at = ? WHERE %s", []any{w.now, w.now}, "id", lost); err != nil {
		return fmt.Errorf("archive lost roles: %w", err)
	}
	ends, err := w.syncMembers(ctx, roleSchools, districtID, owners, schools)
	if err != nil {
		return err
	}
	return w.endMembers(ctx, roleSchools, endingIDs(ends))
}

// archiveRolesOf archives, at w.now, the active roles of the users that the subquery users selects
// (their Clever ids; args are its parameters) and those roles' schools, so that an archived user shows
// nothing through its roles (a student's date of birth or grade through a school's roles, say). It runs
// before the users themselves are archived: the subquery may select active users only.
func (w *txWriter) archiveRolesOf(ctx context.Context, users string, args ...any) error {
	roles := "SELECT r.id FROM user_roles r WHERE r.archived_at IS NULL AND r.user_id IN (" + users + ")"
	if _, err := w.Exec(ctx, "UPDATE role_schools SET archived_at = ? WHERE archived_at IS NULL AND role_id IN ("+roles+")",
		append([]any{w.now}, args...)...); err != nil {
		return fmt.Errorf("archive role schools: %w", err)
	}
	if _, err := w.Exec(ctx, "UPDATE user_roles SET archived_at = ?, last_synced_at = ? WHERE archived_at IS NULL AND user_id IN ("+users+")",
		append([]any{w.now, w.now}, args...)...); err != nil {
		return fmt.Errorf("archive roles: %w", err)
	}
	return nil
}

// syncSectionMembers writes the teachers (primary first) and students of changed (and rechecked)
// sections. A teacher or student gone from a section ends there, unless the run's guard held that
// user's archive: then the membership stays open, held with it (h).
func (e *Engine) syncSectionMembers(ctx context.Context, w *txWriter, districtID string, changed []item, h *holds) error {
	if len(changed) == 0 {
		return nil
	}
	var ids []string // the sections that were in the mirror: only they have memberships there
	teach := map[pair][]any{}
	enrolled := map[pair][]any{}
	for _, it := range changed {
		s := it.section
		if !it.created {
			ids = append(ids, s.ID)
		}
		for pos, t := range sectionTeachers(s) {
			teach[pair{s.ID, t}] = teacherAttrs.row(&pos)
		}
		for _, st := range s.Students {
			if st != "" {
				enrolled[pair{s.ID, st}] = nil
			}
		}
	}
	for _, ms := range []struct {
		m       membership
		desired map[pair][]any
	}{{teachers, teach}, {students, enrolled}} {
		ends, err := w.syncMembers(ctx, ms.m, districtID, ids, ms.desired)
		if err != nil {
			return err
		}
		if err := h.end(ctx, w, ms.m, ends, h.heldMember); err != nil {
			return err
		}
	}
	return nil
}

// sectionTeachers is the section's teachers in Clever's order with the primary first, each once.
func sectionTeachers(s *clever.Section) []string {
	var out []string
	if p := s.PrimaryTeacher(); p != "" {
		out = append(out, p)
	}
	for _, t := range s.Teachers {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
