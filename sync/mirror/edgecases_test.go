package mirror_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// TestSectionWithTenCoTeachers: Clever allows a section a primary teacher and up to ten co-teachers.
// All eleven are mirrored, in Clever's order with the primary first (position 0), and a later change
// that drops one co-teacher ends only that one's membership.
func TestSectionWithTenCoTeachers(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	var teachers []string
	for _, raw := range h.data.Users {
		var u map[string]any
		json.Unmarshal(raw, &u)
		if hasRole(u, "teacher") {
			teachers = append(teachers, u["id"].(string))
		}
	}
	if len(teachers) < 11 {
		t.Fatalf("the demo district has %d teachers, want 11", len(teachers))
	}
	teachers = teachers[:11]
	section := idOf(h.data.Sections[0])
	h.change(h.sim.Modify(cleversim.KindSections, section, patch(map[string]any{"teacher": teachers[0], "teachers": teachers})))
	h.mustSucceed()
	query := "SELECT user_id, position FROM section_teachers WHERE section_id = ? AND ended_at IS NULL ORDER BY position"
	got := h.rows(query, section)
	var want []string
	for i, id := range teachers {
		want = append(want, fmt.Sprintf("%s|%d", id, i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("section teachers %v, want the primary and ten co-teachers in Clever's order %v", got, want)
	}

	gone := teachers[5]
	h.change(h.sim.Modify(cleversim.KindSections, section, patch(map[string]any{"teachers": slices.Delete(slices.Clone(teachers), 5, 6)})))
	h.mustSucceed()
	if got := h.rows(query, section); len(got) != 10 || slices.ContainsFunc(got, func(r string) bool { return r[:len(gone)] == gone }) {
		t.Errorf("after one co-teacher left: %v, want the other ten", got)
	}
	if ended := h.rows("SELECT count(*) FROM section_teachers WHERE section_id = ? AND user_id = ? AND ended_at IS NOT NULL", section, gone); ended[0] != "1" {
		t.Errorf("the co-teacher who left: %v ended memberships, want 1 (kept as history)", ended)
	}
}

// TestStudentInTwoSchools: a student whose role lists two schools has both as open school memberships of
// the role (the primary one included), and losing one ends only that one.
func TestStudentInTwoSchools(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	var student map[string]any
	for _, raw := range h.data.Users {
		var u map[string]any
		json.Unmarshal(raw, &u)
		if hasRole(u, "student") {
			student = u
			break
		}
	}
	var schools []string
	for _, raw := range h.data.Schools {
		schools = append(schools, idOf(raw))
	}
	if student == nil || len(schools) < 2 {
		t.Fatal("the demo district needs a student and two schools")
	}
	id := student["id"].(string)
	role := roles(student)["student"].(map[string]any)
	primary := role["school"].(string)
	other := schools[0]
	if other == primary {
		other = schools[1]
	}
	role["schools"] = []string{primary, other}
	h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"student": role}})))
	h.mustSucceed()
	query := "SELECT rs.school_id FROM role_schools rs JOIN user_roles r ON r.id = rs.role_id WHERE r.user_id = ? AND r.role = 'STUDENT' AND rs.ended_at IS NULL ORDER BY rs.school_id"
	want := []string{primary, other}
	slices.Sort(want)
	if got := h.rows(query, id); !slices.Equal(got, want) {
		t.Fatalf("the student's open schools %v, want %v", got, want)
	}
	role["schools"] = []string{primary}
	h.change(h.sim.Modify(cleversim.KindUsers, id, patch(map[string]any{"roles": map[string]any{"student": role}})))
	h.mustSucceed()
	if got := h.rows(query, id); !slices.Equal(got, []string{primary}) {
		t.Errorf("after leaving the second school: %v, want only %s", got, primary)
	}
}
