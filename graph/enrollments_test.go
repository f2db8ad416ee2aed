package graph_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// TestEnrollmentHistory: a student moved from one section to another keeps the old enrollment, ended,
// in both the section's and the student's enrollment history (students, enrollments), while the
// current views (students where endedAtIsNil, user.sections) leave the old section's enrollment out.
func TestEnrollmentHistory(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	type section struct {
		ID       string
		School   string
		Students []string
	}
	var sections []section
	for _, raw := range a.data.Sections {
		var s section
		must(t, json.Unmarshal(raw, &s))
		sections = append(sections, s)
	}
	// from: a section with two or more students; to: a section of the same school without the student.
	var from, to section
	var student string
	for _, s := range sections {
		if len(s.Students) < 2 {
			continue
		}
		for _, d := range sections {
			if d.ID != s.ID && d.School == s.School && !slices.Contains(d.Students, s.Students[0]) {
				from, to, student = s, d, s.Students[0]
				break
			}
		}
		if student != "" {
			break
		}
	}
	if student == "" {
		t.Fatal("no section with two students and another section of its school")
	}
	patch := func(students []string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"students": students})
		return b
	}
	must(t, a.sim.Modify(cleversim.KindSections, from.ID, patch(slices.DeleteFunc(slices.Clone(from.Students), func(u string) bool { return u == student }))))
	must(t, a.sim.Modify(cleversim.KindSections, to.ID, patch(append(slices.Clone(to.Students), student))))
	if res, err := a.engine.SyncDistrict(context.Background(), districtOf(a.data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %+v", err, res)
	}

	type enrollment struct {
		UserID    string
		StartedAt time.Time
		EndedAt   *time.Time
		Section   struct{ CleverID string }
	}
	type connection struct {
		TotalCount int
		Edges      []struct{ Node enrollment }
	}
	// The section: history keeps the student, ended; the current roster leaves them out.
	var sec struct {
		Node struct {
			History connection
			Current connection
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on Section {
		history: enrollments(first: 100) { totalCount edges { node { userID startedAt endedAt } } }
		current: enrollments(first: 100, where: {endedAtIsNil: true}) { totalCount edges { node { userID endedAt } } } } } }`,
		map[string]any{"id": from.ID}, &sec)
	if n := sec.Node.History.TotalCount; n != len(from.Students) || len(sec.Node.History.Edges) != n {
		t.Errorf("section students: totalCount %d, %d edges, want %d (history kept)", n, len(sec.Node.History.Edges), len(from.Students))
	}
	ended := 0
	for _, e := range sec.Node.History.Edges {
		switch {
		case e.Node.UserID == student && e.Node.EndedAt == nil:
			t.Errorf("section students: the moved student's enrollment has no endedAt: %+v", e.Node)
		case e.Node.UserID == student:
			ended++
			if e.Node.EndedAt.Before(e.Node.StartedAt) {
				t.Errorf("section students: ended %s before it started %s", *e.Node.EndedAt, e.Node.StartedAt)
			}
		case e.Node.EndedAt != nil:
			t.Errorf("section students: %s, still enrolled, has endedAt %s", e.Node.UserID, *e.Node.EndedAt)
		}
	}
	if ended != 1 {
		t.Errorf("section students: %d ended enrollments of the moved student, want 1", ended)
	}
	if n := sec.Node.Current.TotalCount; n != len(from.Students)-1 || len(sec.Node.Current.Edges) != n {
		t.Errorf("current students: totalCount %d, %d edges, want %d", n, len(sec.Node.Current.Edges), len(from.Students)-1)
	}
	for _, e := range sec.Node.Current.Edges {
		if e.Node.UserID == student || e.Node.EndedAt != nil {
			t.Errorf("current students include an ended enrollment: %+v", e.Node)
		}
	}

	// The student: enrollments keep the old section, ended, and hold the new one; sections (now) has the
	// new section, not the old one.
	var user struct {
		Node struct {
			Enrollments connection
			Sections    struct {
				Edges []struct{ Node struct{ CleverID string } }
			}
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User {
		enrollments(first: 100) { totalCount edges { node { startedAt endedAt section { cleverId } } } }
		sections(first: 100) { edges { node { cleverId } } } } } }`,
		map[string]any{"id": student}, &user)
	endedAt := map[string]*time.Time{}
	for _, e := range user.Node.Enrollments.Edges {
		if _, dup := endedAt[e.Node.Section.CleverID]; dup {
			t.Errorf("enrollments: two in section %s", e.Node.Section.CleverID)
		}
		endedAt[e.Node.Section.CleverID] = e.Node.EndedAt
	}
	if e, ok := endedAt[from.ID]; !ok || e == nil {
		t.Errorf("enrollments: the old section %s is missing or not ended (present %v): %+v", from.ID, ok, user.Node.Enrollments)
	}
	if e, ok := endedAt[to.ID]; !ok || e != nil {
		t.Errorf("enrollments: the new section %s is missing or ended (present %v): %+v", to.ID, ok, user.Node.Enrollments)
	}
	var now []string
	for _, e := range user.Node.Sections.Edges {
		now = append(now, e.Node.CleverID)
	}
	if slices.Contains(now, from.ID) || !slices.Contains(now, to.ID) {
		t.Errorf("user sections = %v, want %s and not %s", now, to.ID, from.ID)
	}
}
