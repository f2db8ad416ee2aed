package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// TestProgressThroughTheAPI: progress as an analytics frontend reads it. recordProgress (admin only)
// writes a bulk and a replay changes nothing; the root progress, User.progress and progressSummary read
// it back with each record's section, its student's current Clever id and the recorded one; after the
// student is unshared and an admin links the former id to another student, the work reads under that
// student (studentCleverId, User.progress, formerCleverIds) and the summary counts one student less.
func TestProgressThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	s := twoTeacherSections(t, a)[0]
	district := districtOf(a.data)
	st1, st2 := s.Students[0], s.Students[1]
	at := time.Now().UTC().Format(time.RFC3339Nano)
	records := []map[string]any{
		{"studentCleverId": st1, "activityId": "fractions-1", "attemptId": "1", "kind": "COMPLETED", "score": 8, "maxScore": 10, "completedAt": at, "timeSpentSeconds": 300},
		{"studentCleverId": st1, "activityId": "fractions-2", "attemptId": "1", "kind": "IN_PROGRESS", "completedAt": at, "timeSpentSeconds": 60},
		{"studentCleverId": st2, "activityId": "fractions-1", "attemptId": "1", "kind": "COMPLETED", "score": 5, "maxScore": 10, "completedAt": at, "timeSpentSeconds": 240},
	}
	const record = `mutation($r: [ProgressInput!]!) { recordProgress(records: $r) { created updated unchanged } }`
	if r := a.do(a.keys["read"], record, map[string]any{"r": records}); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("recordProgress with a read key: %+v; want FORBIDDEN", r.Errors)
	}
	type counts struct{ Created, Updated, Unchanged int }
	var w struct{ RecordProgress counts }
	a.mutate(t, record, map[string]any{"r": records}, &w)
	if w.RecordProgress != (counts{Created: 3}) {
		t.Fatalf("recordProgress: %+v, want 3 created", w.RecordProgress)
	}
	a.mutate(t, record, map[string]any{"r": records}, &w)
	if w.RecordProgress != (counts{Unchanged: 3}) {
		t.Fatalf("the same bulk again: %+v, want 3 unchanged", w.RecordProgress)
	}

	type node struct {
		StudentCleverID  string
		RecordedCleverID string
		ActivityID       string
		Section          *struct{ CleverID string }
	}
	var list struct {
		Progress struct {
			TotalCount int
			Edges      []struct{ Node node }
		}
	}
	const listQ = `query($s: ID) { progress(first: 10, studentCleverId: $s, includeArchived: true) { totalCount edges { node { studentCleverId recordedCleverId activityId section { cleverId } } } } }`
	a.query(a.keys["read"], listQ, map[string]any{"s": nil}, &list)
	if list.Progress.TotalCount != 3 {
		t.Fatalf("progress: %d records, want 3", list.Progress.TotalCount)
	}
	for _, e := range list.Progress.Edges {
		if e.Node.Section == nil || e.Node.Section.CleverID != s.ID || e.Node.StudentCleverID != e.Node.RecordedCleverID {
			t.Errorf("record %+v: want section %s and the recorded id as the current one", e.Node, s.ID)
		}
	}
	// An explicit null is the default (no archived students), not a crash.
	if r := a.do(a.keys["read"], `{ progress(first: 1, includeArchived: null) { totalCount } progressSummary(districtId: "`+district+`", groupBy: DISTRICT, includeArchived: null) { records } }`, nil); len(r.Errors) > 0 {
		t.Errorf("includeArchived: null: %+v", r.Errors)
	}
	type summaryRow struct {
		ID                *string
		Records, Students int
		CompletionRate    float64
		MeanScore         *float64
		TimeSpentSeconds  int
	}
	var sum struct{ ProgressSummary []summaryRow }
	const sumQ = `query($d: ID!) { progressSummary(districtId: $d, groupBy: SECTION, includeArchived: true) { id records students completionRate meanScore timeSpentSeconds } }`
	a.query(a.keys["read"], sumQ, map[string]any{"d": district}, &sum)
	if len(sum.ProgressSummary) != 1 || sum.ProgressSummary[0].ID == nil || *sum.ProgressSummary[0].ID != s.ID {
		t.Fatalf("summary by section: %+v, want one row for %s", sum.ProgressSummary, s.ID)
	}
	if got := sum.ProgressSummary[0]; got.Records != 3 || got.Students != 2 || got.TimeSpentSeconds != 600 ||
		got.CompletionRate < 0.666 || got.CompletionRate > 0.667 || got.MeanScore == nil || *got.MeanScore != 0.65 {
		t.Errorf("summary %+v; want 3 records, 2 students, 600 s, completion 2/3, mean score (0.8+0.5)/2", got)
	}

	// st1 leaves; an admin links its former id to another student of the district.
	must(t, a.sim.Unshare(cleversim.KindUsers, st1))
	a.sync(t)
	other := s.Students[2]
	var link struct {
		LinkFormerCleverId struct{ FormerCleverID, CleverID string }
	}
	a.mutate(t, `mutation($f: ID!, $c: ID!) { linkFormerCleverId(formerCleverId: $f, cleverId: $c) { formerCleverId cleverId } }`,
		map[string]any{"f": st1, "c": other}, &link)
	a.query(a.keys["read"], listQ, map[string]any{"s": other}, &list)
	if list.Progress.TotalCount != 2 {
		t.Fatalf("progress of %s after the link: %d records, want st1's 2", other, list.Progress.TotalCount)
	}
	for _, e := range list.Progress.Edges {
		if e.Node.StudentCleverID != other || e.Node.RecordedCleverID != st1 {
			t.Errorf("linked record %+v: want studentCleverId %s, recordedCleverId %s", e.Node, other, st1)
		}
	}
	var u struct {
		Node struct {
			FormerCleverIds []string
			Progress        struct{ TotalCount int }
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User { formerCleverIds progress(first: 10) { totalCount } } } }`, map[string]any{"id": other}, &u)
	if !slices.Equal(u.Node.FormerCleverIds, []string{st1}) || u.Node.Progress.TotalCount != 2 {
		t.Errorf("User %s: formerCleverIds %v, progress %d; want [%s] and 2", other, u.Node.FormerCleverIds, u.Node.Progress.TotalCount, st1)
	}
	a.query(a.keys["read"], sumQ, map[string]any{"d": district}, &sum)
	if len(sum.ProgressSummary) != 1 || sum.ProgressSummary[0].Records != 3 || sum.ProgressSummary[0].Students != 2 {
		t.Errorf("summary after the link: %+v; want 3 records of 2 students (st1's work is %s's now)", sum.ProgressSummary, other)
	}
}

// TestProgressBackfilledBeforeTheFirstSync: work done before the district's first sync — the app loads
// its history — goes to the section the student was in when the mirror first saw it (when that
// enrollment really began is unknown), unless the work predates the section's term; then it has none.
func TestProgressBackfilledBeforeTheFirstSync(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	s := twoTeacherSections(t, a)[0]
	st := s.Students[0]
	lastMonth := time.Now().UTC().AddDate(0, -1, 0).Format(time.RFC3339)
	records := []map[string]any{
		{"studentCleverId": st, "activityId": "history-1", "kind": "COMPLETED", "completedAt": lastMonth},
		{"studentCleverId": st, "activityId": "history-2", "kind": "COMPLETED", "completedAt": "2001-01-01T00:00:00Z"},
	}
	a.mutate(t, `mutation($r: [ProgressInput!]!) { recordProgress(records: $r) { created } }`, map[string]any{"r": records}, &struct{}{})
	var r struct {
		Progress struct {
			Edges []struct {
				Node struct {
					ActivityID string
					Section    *struct{ CleverID string }
				}
			}
		}
	}
	a.query(a.keys["read"], `query($s: ID) { progress(first: 10, studentCleverId: $s) { edges { node { activityId section { cleverId } } } } }`, map[string]any{"s": st}, &r)
	got := map[string]string{}
	for _, e := range r.Progress.Edges {
		got[e.Node.ActivityID] = ""
		if e.Node.Section != nil {
			got[e.Node.ActivityID] = e.Node.Section.CleverID
		}
	}
	if got["history-1"] != s.ID {
		t.Errorf("last month's work: section %q, want %s (the student's section when the mirror first saw it)", got["history-1"], s.ID)
	}
	if sec, ok := got["history-2"]; !ok || sec != "" {
		t.Errorf("work from 2001: section %q (listed %v), want none: it predates the section's term", sec, ok)
	}
}

// TestRecordedReferencesOutliveTheirArchive: a record names the class, school and student of its time.
// When the section is archived (a rollover) the record still shows it, and node(id) of the record of a
// student archived since shows its student and current id — the references are facts of the work.
func TestRecordedReferencesOutliveTheirArchive(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	s := twoTeacherSections(t, a)[0]
	st := s.Students[0]
	a.mutate(t, `mutation($r: [ProgressInput!]!) { recordProgress(records: $r) { created } }`, map[string]any{"r": []map[string]any{
		{"studentCleverId": st, "activityId": "fractions-1", "kind": "COMPLETED", "completedAt": time.Now().UTC().Format(time.RFC3339), "sectionId": s.ID},
	}}, &struct{}{})
	var list struct {
		Progress struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["read"], `{ progress(first: 1) { edges { node { id } } } }`, nil, &list)
	if len(list.Progress.Edges) != 1 {
		t.Fatalf("progress: %+v", list)
	}
	must(t, a.sim.Unshare(cleversim.KindSections, s.ID))
	must(t, a.sim.Unshare(cleversim.KindUsers, st))
	a.sync(t)
	var got struct {
		Node struct {
			StudentCleverID string
			Student         *struct{ CleverID string }
			Section         *struct{ CleverID, Name string }
			School          *struct{ Name string }
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on ProgressRecord { studentCleverId student { cleverId } section { cleverId name } school { name } } } }`,
		map[string]any{"id": list.Progress.Edges[0].Node.ID}, &got)
	n := got.Node
	if n.StudentCleverID != st || n.Student == nil || n.Student.CleverID != st || n.Section == nil || n.Section.CleverID != s.ID || n.Section.Name == "" || n.School == nil {
		t.Errorf("the record of an archived student in an archived section: %+v; want its student %s and section %s", n, st, s.ID)
	}
}
