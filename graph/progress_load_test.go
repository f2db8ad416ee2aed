package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/progress"
)

// TestUserProgressLoadsByList: User.progress over a page of users runs as many statements for 50 users
// as for 10 (one paged statement for the page, not one per user), and gives each user exactly their
// records — those recorded under a former Clever id included — as OfStudent does for one.
func TestUserProgressLoadsByList(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ctx := context.Background()
	c := a.db.NewClient()
	students, err := c.UserRole.Query().Where(userrole.RoleEQ(userrole.RoleStudent)).Order(ent.Asc(userrole.FieldUserID)).
		Select(userrole.FieldUserID).Strings(ctx)
	if err != nil || len(students) < 60 {
		t.Fatalf("%d students: %v", len(students), err)
	}
	admin := auth.WithKey(ctx, auth.Key{ID: "0123456789abcdef0123456789abcdef", Name: "test", Scopes: []auth.Scope{auth.ScopeAdmin}})
	svc := progress.New(a.db)
	// students[2] is re-IDed as students[1]: archived, their progress linked.
	former := students[2]
	var in []progress.Input
	for i, s := range students {
		for n := range i%3 + 1 {
			in = append(in, progress.Input{StudentCleverID: s, ActivityID: fmt.Sprintf("lesson-%d", n), Kind: "COMPLETED",
				CompletedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
		}
	}
	in = append(in, progress.Input{StudentCleverID: former, ActivityID: "lesson-old", Kind: "COMPLETED",
		CompletedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)})
	if _, err := svc.Record(admin, in); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"users", "user_roles"} {
		col := map[string]string{"users": "clever_id", "user_roles": "user_id"}[table]
		if _, err := a.db.SQL.ExecContext(ctx, "UPDATE "+table+" SET archived_at = CURRENT_TIMESTAMP WHERE "+col+" = '"+former+"'"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.LinkFormerCleverID(admin, former, students[1]); err != nil {
		t.Fatal(err)
	}

	var statements atomic.Int64
	h := graph.NewHandler(graph.HandlerConfig{DB: a.db, ResolveAll: true,
		ClientOptions: []ent.Option{ent.Debug(), ent.Log(func(...any) { statements.Add(1) })}})
	srv := httptest.NewServer(authAs(auth.Key{Scopes: []auth.Scope{auth.ScopeRead}}, h))
	t.Cleanup(srv.Close)
	query := func(n int) (int64, map[string][]string) {
		statements.Store(0)
		data := dataOf(t, srv.URL, fmt.Sprintf(`{ users(first: %d) { edges { node { cleverId
			progress(first: 10) { totalCount edges { node { activityId } } } } } } }`, n))
		got := statements.Load()
		var out struct {
			Users struct {
				Edges []struct {
					Node struct {
						CleverID string
						Progress struct {
							TotalCount int
							Edges      []struct{ Node struct{ ActivityID string } }
						}
					}
				}
			}
		}
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		byUser := map[string][]string{}
		for _, e := range out.Users.Edges {
			p := e.Node.Progress
			acts := []string{}
			for _, pe := range p.Edges {
				acts = append(acts, pe.Node.ActivityID)
			}
			if p.TotalCount != len(acts) {
				t.Errorf("user %s: totalCount %d, %d edges", e.Node.CleverID, p.TotalCount, len(acts))
			}
			byUser[e.Node.CleverID] = acts
		}
		return got, byUser
	}
	small, smallUsers := query(10)
	large, largeUsers := query(50)
	if len(largeUsers) != 50 || len(smallUsers) != 10 {
		t.Fatalf("%d and %d users answered", len(smallUsers), len(largeUsers))
	}
	if small != large || small > 6 {
		t.Errorf("%d statements for 10 users, %d for 50; want the same, and few", small, large)
	}
	withProgress := 0
	for id, acts := range largeUsers {
		want, err := c.ProgressRecord.Query().Where(progress.OfStudent(id)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != want {
			t.Errorf("user %s: %d records, want %d (OfStudent)", id, len(acts), want)
		}
		if want > 0 {
			withProgress++
		}
	}
	if withProgress == 0 {
		t.Fatal("no user of the page has progress: nothing compared")
	}
	if acts, ok := largeUsers[students[1]]; ok {
		found := false
		for _, a := range acts {
			found = found || a == "lesson-old"
		}
		if !found {
			t.Errorf("student %s: %v, want lesson-old (recorded under the former id) among them", students[1], acts)
		}
	}
	t.Logf("%d statements for 10 and for 50 users", small)
}
