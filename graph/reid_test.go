package graph_test

import (
	"context"
	"testing"

	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// TestReIDedStudentProgressGraphQL: a student with progress is re-IDed in Clever; after the sync (with
// its SIS-id alias step, as every command runs it) the API reads the old id's progress under the new
// one — User.progress, root progress by studentCleverId (either id) — and progressSummary counts one
// student.
func TestReIDedStudentProgressGraphQL(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	var student string
	if err := a.db.SQL.QueryRow(`SELECT ss.user_id FROM section_students ss JOIN user_roles r ON r.id = ss.user_id || '/student'
		WHERE ss.ended_at IS NULL ORDER BY ss.user_id LIMIT 1`).Scan(&student); err != nil {
		t.Fatal(err)
	}
	var rec struct{ RecordProgress struct{ Created int } }
	a.query(a.keys["admin"], `mutation($r: [ProgressInput!]!) { recordProgress(records: $r) { created } }`, map[string]any{"r": []map[string]any{
		{"studentCleverId": student, "activityId": "lesson-1", "kind": "COMPLETED", "score": 8, "maxScore": 10, "completedAt": "2026-03-02T10:00:00Z"},
		{"studentCleverId": student, "activityId": "lesson-2", "kind": "IN_PROGRESS", "completedAt": "2026-03-03T10:00:00Z"},
	}}, &rec)
	if rec.RecordProgress.Created != 2 {
		t.Fatalf("recorded %d", rec.RecordProgress.Created)
	}
	newID, err := a.sim.ReID(cleversim.KindUsers, student)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := progress.New(a.db).Syncer(a.engine).SyncDistrict(context.Background(), district, mirror.Options{Trigger: "test"}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %v", err, res.Errors)
	}
	var out struct {
		Users struct {
			Edges []struct {
				Node struct {
					ID              string
					FormerCleverIds []string
					Progress        struct {
						TotalCount int
						Edges      []struct {
							Node struct{ ActivityID, RecordedCleverID string }
						}
					}
				}
			}
		}
		ByNew, ByOld struct{ TotalCount int }
		Summary      []struct{ Records, Students int }
	}
	a.query(a.keys["read"], `query($new: ID!, $old: ID!, $d: ID!) {
		users(where: {id: $new}) { edges { node { id formerCleverIds
			progress(orderBy: {field: ACTIVITY_ID}) { totalCount edges { node { activityID: activityId recordedCleverID: recordedCleverId } } } } } }
		byNew: progress(studentCleverId: $new) { totalCount }
		byOld: progress(studentCleverId: $old) { totalCount }
		summary: progressSummary(districtId: $d, groupBy: DISTRICT) { records students } }`,
		map[string]any{"new": newID, "old": student, "d": district}, &out)
	if len(out.Users.Edges) != 1 {
		t.Fatalf("user %s: %+v", newID, out.Users)
	}
	u := out.Users.Edges[0].Node
	if len(u.FormerCleverIds) != 1 || u.FormerCleverIds[0] != student {
		t.Errorf("formerCleverIds %v, want [%s]", u.FormerCleverIds, student)
	}
	if u.Progress.TotalCount != 2 || len(u.Progress.Edges) != 2 {
		t.Fatalf("User.progress of the new id: %+v", u.Progress)
	}
	for _, e := range u.Progress.Edges {
		if e.Node.RecordedCleverID != student {
			t.Errorf("record %s: recordedCleverId %s, want %s", e.Node.ActivityID, e.Node.RecordedCleverID, student)
		}
	}
	if out.ByNew.TotalCount != 2 || out.ByOld.TotalCount != 2 {
		t.Errorf("progress by the new id: %d, by the old: %d, want 2 and 2", out.ByNew.TotalCount, out.ByOld.TotalCount)
	}
	if len(out.Summary) != 1 || out.Summary[0].Records != 2 || out.Summary[0].Students != 1 {
		t.Errorf("summary %+v, want 2 records of 1 student", out.Summary)
	}
}
