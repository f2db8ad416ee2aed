package mirror

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/ent/contactrelationship"
	"github.com/rostermirror/rostermirror/ent/roleschool"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// membership describes a history-keeping association table: rows (owner, other, attrs…) with
// started_at/ended_at, at most one open row per pair.
type membership struct {
	table        string
	owner, other string   // columns
	attrs        []string // columns that may change while the association holds
	newID        func() string
}

// The id functions are ent's generated defaults (from ent/schema), called late: ent sets them at init.
var (
	roleSchools = membership{table: "role_schools", owner: "role_id", other: "school_id",
		newID: func() string { return roleschool.DefaultID() }}
	contactMembers = membership{table: "contact_relationships", owner: "contact_id", other: "student_id",
		attrs: []string{"relationship", "type"}, newID: func() string { return contactrelationship.DefaultID() }}
	teachers = membership{table: "section_teachers", owner: "section_id", other: "user_id",
		attrs: []string{"position"}, newID: func() string { return sectionteacher.DefaultID() }}
	students = membership{table: "section_students", owner: "section_id", other: "user_id",
		newID: func() string { return sectionstudent.DefaultID() }}
)

type pair struct{ owner, other string }

// syncMembers brings the open associations of owners in line with desired: associations no longer there
// end (ended_at is set; the row stays as history), new ones start, and changed attributes are updated.
func (w *txWriter) syncMembers(ctx context.Context, m membership, districtID string, owners []string, desired map[pair][]any) error {
	if len(owners) == 0 {
		return nil
	}
	type open struct {
		id    string
		attrs []string
	}
	current := map[pair]open{}
	cond, args := w.in(m.owner, owners)
	cols := append([]string{"id", m.owner, m.other}, m.attrs...)
	rows, err := w.tx.QueryContext(ctx, w.rebind("SELECT "+strings.Join(cols, ", ")+" FROM "+m.table+" WHERE ended_at IS NULL AND "+cond), args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", m.table, err)
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
			return fmt.Errorf("read %s: %w", m.table, err)
		}
		current[p] = o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", m.table, err)
	}

	var ended []string
	for p, o := range current {
		attrs, ok := desired[p]
		if !ok {
			ended = append(ended, o.id)
			continue
		}
		if !sameAttrs(o.attrs, attrs) {
			set := make([]string, len(m.attrs))
			for i, a := range m.attrs {
				set[i] = a + " = ?"
			}
			if _, err := w.exec(ctx, "UPDATE "+m.table+" SET "+strings.Join(set, ", ")+" WHERE id = ?", append(slices.Clone(attrs), o.id)...); err != nil {
				return err
			}
		}
	}
	for start := 0; start < len(ended); start += 5000 {
		cond, args := w.in("id", ended[start:min(start+5000, len(ended))])
		if _, err := w.exec(ctx, "UPDATE "+m.table+" SET ended_at = ? WHERE "+cond, append([]any{w.now}, args...)...); err != nil {
			return err
		}
	}
	var added [][]any
	for p, attrs := range desired {
		if _, ok := current[p]; !ok {
			added = append(added, append([]any{m.newID(), districtID, w.now, nil, p.owner, p.other}, attrs...))
		}
	}
	slices.SortFunc(added, func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) })
	return w.insert(ctx, m.table, append([]string{"id", "district_id", "started_at", "ended_at", m.owner, m.other}, m.attrs...), added)
}

func sameAttrs(have []string, want []any) bool {
	for i := range have {
		if have[i] != fmt.Sprint(want[i]) {
			return false
		}
	}
	return true
}

// syncUserMembers writes the roles of changed users (archiving roles a user lost, restoring roles that
// come back), their roles' schools and contacts' students.
func (e *Engine) syncUserMembers(ctx context.Context, w *txWriter, districtID string, changed []item) error {
	if len(changed) == 0 {
		return nil
	}
	userIDs := make([]string, len(changed))
	var roleRows [][]any
	present := map[string]bool{}
	schools := map[pair][]any{}
	contacts := map[pair][]any{}
	for i, it := range changed {
		userIDs[i] = it.rec.id
		for _, r := range userRoles(*it.user, it.rec.hash, w.now) {
			roleRows = append(roleRows, r.row)
			present[r.id] = true
			for _, s := range r.schools {
				schools[pair{r.id, s}] = nil
			}
			if school := r.row[4]; school != nil { // the primary school is one of the role's schools
				schools[pair{r.id, school.(string)}] = nil
			}
		}
		if c := it.user.Roles.Contact; c != nil {
			for student, attrs := range contactLinks(c) {
				contacts[pair{it.rec.id, student}] = attrs
			}
		}
	}
	if err := w.upsert(ctx, "user_roles", roleColumns, "id", roleRows); err != nil {
		return err
	}
	// Roles the users held before: those not present any more are archived.
	cond, args := w.in("user_id", userIDs)
	rows, err := w.tx.QueryContext(ctx, w.rebind("SELECT id FROM user_roles WHERE archived_at IS NULL AND "+cond), args...)
	if err != nil {
		return fmt.Errorf("read user_roles: %w", err)
	}
	var lost, allRoles []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("read user_roles: %w", err)
		}
		if !present[id] {
			lost = append(lost, id)
		}
	}
	rows.Close()
	if len(lost) > 0 {
		cond, args := w.in("id", lost)
		if _, err := w.exec(ctx, "UPDATE user_roles SET archived_at = ?, last_synced_at = ? WHERE "+cond, append([]any{w.now, w.now}, args...)...); err != nil {
			return err
		}
	}
	for id := range present {
		allRoles = append(allRoles, id)
	}
	allRoles = append(allRoles, lost...) // a lost role's schools end too
	if err := w.syncMembers(ctx, roleSchools, districtID, allRoles, schools); err != nil {
		return err
	}
	return w.syncMembers(ctx, contactMembers, districtID, userIDs, contacts)
}

// syncSectionMembers writes the teachers (primary first) and students of changed sections.
func (e *Engine) syncSectionMembers(ctx context.Context, w *txWriter, districtID string, changed []item) error {
	if len(changed) == 0 {
		return nil
	}
	ids := make([]string, len(changed))
	teach := map[pair][]any{}
	enrolled := map[pair][]any{}
	for i, it := range changed {
		s := it.section
		ids[i] = s.ID
		for pos, t := range sectionTeachers(s) {
			teach[pair{s.ID, t}] = []any{pos}
		}
		for _, st := range s.Students {
			if st != "" {
				enrolled[pair{s.ID, st}] = nil
			}
		}
	}
	if err := w.syncMembers(ctx, teachers, districtID, ids, teach); err != nil {
		return err
	}
	return w.syncMembers(ctx, students, districtID, ids, enrolled)
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
