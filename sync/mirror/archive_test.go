package mirror_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// TestArchiveTakesRolesAndSchools: archiving a user archives its roles and their school memberships with
// it (same timestamp, memberships not ended), so nothing of an unshared student shows through its roles;
// resharing restores them, and a school membership that still holds keeps its start. A role lost while
// the user stays shared is archived with its schools, whose memberships end; a role a user comes back
// without stays archived, and its schools stay archived and end.
func TestArchiveTakesRolesAndSchools(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	student := pick(t, h.data.Users, func(u map[string]any) bool {
		s, ok := roles(u)["student"].(map[string]any)
		return ok && len(s["schools"].([]any)) > 0
	})["id"].(string)
	both := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "teacher") && hasRole(u, "staff") })
	if len(both) < 2 {
		t.Fatalf("%d users are teachers and staff, want 2", len(both))
	}
	losesStaff, returnsWithoutStaff := both[0], both[1]
	schoolsOf := func(user string) []string { // every school membership of the user's roles, history included
		return h.rows(`SELECT rs.id, rs.role_id, rs.school_id, rs.started_at FROM role_schools rs JOIN user_roles r ON r.id = rs.role_id
			WHERE r.user_id = ? ORDER BY rs.id`, user)
	}
	before := schoolsOf(student)
	if len(before) == 0 {
		t.Fatal("the student has no school memberships: the test proves nothing")
	}

	// Unshared: the user, its roles and their schools are archived at the same time; nothing ends.
	h.change(h.sim.Unshare(cleversim.KindUsers, student))
	h.change(h.sim.Unshare(cleversim.KindUsers, returnsWithoutStaff))
	if res := h.mustSucceed(); res.Counts["users"].Archived != 2 {
		t.Fatalf("users = %+v, want 2 archived", res.Counts["users"])
	}
	for _, user := range []string{student, returnsWithoutStaff} {
		got := h.rows(`SELECT u.archived_at = r.archived_at AND r.archived_at = rs.archived_at, rs.ended_at IS NULL
			FROM users u JOIN user_roles r ON r.user_id = u.clever_id JOIN role_schools rs ON rs.role_id = r.id
			WHERE u.clever_id = ? AND u.archived_at IS NOT NULL`, user)
		if len(got) == 0 {
			t.Fatalf("user %s not archived, or no role schools", user)
		}
		for _, g := range got {
			if g != "true|true" && g != "1|1" {
				t.Errorf("user %s: role school archived with the user and open = %s, want true|true", user, g)
			}
		}
	}
	checkArchiveInvariants(t, h)

	// Reshared: roles and their schools are restored, the memberships are the same rows (same start).
	h.change(h.sim.Reshare(cleversim.KindUsers, student))
	h.change(h.sim.Reshare(cleversim.KindUsers, returnsWithoutStaff))
	staff := roles(record(t, h.data.Users, returnsWithoutStaff))["staff"]
	h.change(h.sim.Modify(cleversim.KindUsers, returnsWithoutStaff, patch(map[string]any{"roles": map[string]any{"staff": nil}})))
	if res := h.mustSucceed(); res.Counts["users"].Restored != 2 {
		t.Fatalf("users = %+v, want 2 restored", res.Counts["users"])
	}
	if after := schoolsOf(student); !slices.Equal(after, before) {
		t.Errorf("the student's school memberships after resharing = %v, want the same rows %v", after, before)
	}
	if got := h.rows(`SELECT count(*) FROM role_schools rs JOIN user_roles r ON r.id = rs.role_id
		WHERE r.user_id = ? AND (r.archived_at IS NOT NULL OR rs.archived_at IS NOT NULL OR rs.ended_at IS NOT NULL)`, student); got[0] != "0" {
		t.Errorf("%s of the reshared student's roles or school memberships still archived or ended", got[0])
	}
	// Back without its staff role: the teacher role and its schools are live again; the staff role
	// stays archived (since the unshare), its schools too, and their memberships end.
	got := h.rows(`SELECT r.role, r.archived_at IS NULL, rs.archived_at IS NULL, rs.archived_at = r.archived_at, rs.ended_at IS NULL
		FROM user_roles r JOIN role_schools rs ON rs.role_id = r.id WHERE r.user_id = ? ORDER BY r.role, rs.school_id`, returnsWithoutStaff)
	var sawStaff, sawTeacher bool
	for _, g := range normBools(got) {
		switch g {
		case "STAFF|0|0|1|0":
			sawStaff = true
		case "TEACHER|1|1|NULL|1":
			sawTeacher = true
		default:
			t.Errorf("user back without its staff role: role school %s", g)
		}
	}
	if !sawStaff || !sawTeacher {
		t.Errorf("user back without its staff role: %v, want archived ended staff schools and live teacher schools", got)
	}

	// A role lost while the user stays shared: archived with its schools, which end.
	h.change(h.sim.Modify(cleversim.KindUsers, losesStaff, patch(map[string]any{"roles": map[string]any{"staff": nil}})))
	h.mustSucceed()
	got = h.rows(`SELECT r.role, r.archived_at IS NULL, rs.archived_at = r.archived_at, rs.ended_at = r.archived_at
		FROM user_roles r JOIN role_schools rs ON rs.role_id = r.id WHERE r.user_id = ? ORDER BY r.role, rs.school_id`, losesStaff)
	sawStaff, sawTeacher = false, false
	for _, g := range normBools(got) {
		switch g {
		case "STAFF|0|1|1":
			sawStaff = true
		case "TEACHER|1|NULL|NULL":
			sawTeacher = true
		default:
			t.Errorf("user that lost its staff role: role school %s", g)
		}
	}
	if !sawStaff || !sawTeacher {
		t.Errorf("user that lost its staff role: %v, want its staff schools archived and ended with the role", got)
	}
	// And regained: restored with its schools (the ended memberships stay history, new ones start).
	h.change(h.sim.Modify(cleversim.KindUsers, losesStaff, patch(map[string]any{"roles": map[string]any{"staff": staff}})))
	h.mustSucceed()
	if got := h.rows(`SELECT count(*) FROM role_schools WHERE role_id = ? AND archived_at IS NULL AND ended_at IS NULL`, losesStaff+"/staff"); got[0] == "0" {
		t.Error("regained role has no live school membership")
	}
	checkArchiveInvariants(t, h)
}

// checkArchiveInvariants: a role school is archived exactly when its role is, and an archived user has no
// active role.
func checkArchiveInvariants(t *testing.T, h *harness) {
	t.Helper()
	if got := h.rows(`SELECT rs.id FROM role_schools rs JOIN user_roles r ON r.id = rs.role_id
		WHERE (rs.archived_at IS NULL) <> (r.archived_at IS NULL)`); len(got) != 0 {
		t.Errorf("role schools archived unlike their role: %v", got)
	}
	if got := h.rows(`SELECT r.id FROM user_roles r JOIN users u ON u.clever_id = r.user_id
		WHERE u.archived_at IS NOT NULL AND r.archived_at IS NULL`); len(got) != 0 {
		t.Errorf("active roles of archived users: %v", got)
	}
}

// all returns the ids of the dataset records for which keep is true, in the dataset's order.
func all(raws []json.RawMessage, keep func(map[string]any) bool) []string {
	var out []string
	for _, raw := range raws {
		var m map[string]any
		json.Unmarshal(raw, &m)
		if keep(m) {
			out = append(out, m["id"].(string))
		}
	}
	return out
}

// normBools writes the booleans of "|"-joined rows as 1/0 (Postgres answers true/false, SQLite 1/0).
func normBools(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := strings.Split(r, "|")
		for j, p := range parts {
			switch p {
			case "true":
				parts[j] = "1"
			case "false":
				parts[j] = "0"
			}
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}
