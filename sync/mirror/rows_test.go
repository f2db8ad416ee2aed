package mirror

import (
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
)

// TestLayoutsFollowTheSchema: every table the sync writes gets every column of its ent type, in the
// table's order (ent.StorageTypes, generated from ent/schema), and the memberships are the schema's.
// (A column added to the schema without a value in the sync does not get this far: the package panics
// at initialization, naming the column — see TestLayoutRefusesMismatches.)
func TestLayoutsFollowTheSchema(t *testing.T) {
	byTable := map[string]*ent.StorageType{}
	for _, st := range ent.StorageTypes {
		byTable[st.Table] = st
	}
	written := []table{roleRows.table, roleSchools.rows.table, contactMembers.rows.table, teachers.rows.table, students.rows.table}
	for _, kind := range Kinds {
		tbl, ok := tables[kind]
		if !ok {
			t.Fatalf("no table for kind %s", kind)
		}
		if st := byTable[tbl.name]; st == nil || !st.Mirrored {
			t.Errorf("kind %s is written to %s, not a mirrored record's table", kind, tbl.name)
		}
		written = append(written, tbl)
	}
	for _, tbl := range written {
		st := byTable[tbl.name]
		if st == nil || !slices.Equal(tbl.columns, st.Columns) {
			t.Errorf("%s: the sync writes %v, the schema's columns are %v", tbl.name, tbl.columns, st.Columns)
		}
	}
	var memberTypes []string
	for _, st := range ent.StorageTypes {
		if st.Membership != nil {
			memberTypes = append(memberTypes, st.Table)
		}
	}
	slices.Sort(memberTypes)
	synced := []string{roleSchools.table, contactMembers.table, teachers.table, students.table}
	slices.Sort(synced)
	if !slices.Equal(memberTypes, synced) {
		t.Errorf("the sync writes memberships %v, the schema has %v", synced, memberTypes)
	}
	for _, m := range []struct {
		m                   membership
		owner, other, attrs string
	}{
		{roleSchools, "role_id", "school_id", ""},
		{contactMembers, "contact_id", "student_id", "relationship,type"},
		{teachers, "section_id", "user_id", "position"},
		{students, "section_id", "user_id", ""},
	} {
		if m.m.owner != m.owner || m.m.other != m.other || strings.Join(m.m.attrs, ",") != m.attrs {
			t.Errorf("%s: owner %s, other %s, attributes %v; want %s, %s, %s", m.m.table, m.m.owner, m.m.other, m.m.attrs, m.owner, m.other, m.attrs)
		}
	}
	if got := teacherAttrs.row(new(int)); len(got) != 1 || got[0] != 0 {
		t.Errorf("a teacher's attributes: %v", got)
	}
	if got := contactAttrs.row(&contactLink{"Parent", "Emergency"}); !slices.Equal(got, []any{"Parent", "Emergency"}) {
		t.Errorf("a contact link's attributes: %v", got)
	}
}

// TestLayoutRefusesMismatches: a layout puts its values in the columns' order, and fails when a column
// has no value (added to the schema, not to the sync) or a value names no column.
func TestLayoutRefusesMismatches(t *testing.T) {
	values := map[string]func(*string) any{
		"a": func(s *string) any { return "a:" + *s },
		"b": func(s *string) any { return "b:" + *s },
	}
	l, err := newLayout("t", []string{"b", "a"}, values)
	if err != nil {
		t.Fatal(err)
	}
	v := "x"
	if got := l.row(&v); !slices.Equal(got, []any{"b:x", "a:x"}) {
		t.Errorf("row = %v, want the columns' order", got)
	}
	if _, err := newLayout("t", []string{"a", "b", "c"}, values); err == nil || !strings.Contains(err.Error(), "t.c has no value") {
		t.Errorf("a column without a value: %v", err)
	}
	if _, err := newLayout("t", []string{"a"}, values); err == nil || !strings.Contains(err.Error(), "t has no column b") {
		t.Errorf("a value without a column: %v", err)
	}
}
