package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

func TestRosterViews(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// A section with two or more teachers: primaryTeacher is its "teacher".
	var sec struct {
		ID       string
		Teacher  string
		Teachers []string
		School   string
		Students []string
	}
	for _, raw := range a.data.Sections {
		json.Unmarshal(raw, &sec)
		if len(sec.Teachers) >= 2 {
			break
		}
	}
	var got struct {
		Node struct {
			PrimaryTeacher struct{ CleverID string }
			School         struct {
				CleverID string
				Users    struct{ TotalCount int }
			}
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on Section { primaryTeacher { cleverId } school { cleverId users { totalCount } } } } }`, map[string]any{"id": sec.ID}, &got)
	if got.Node.PrimaryTeacher.CleverID != sec.Teacher {
		t.Errorf("primaryTeacher = %s, want %s", got.Node.PrimaryTeacher.CleverID, sec.Teacher)
	}
	if got.Node.School.Users.TotalCount == 0 {
		t.Error("school.users is empty")
	}
	// A student: its schools and sections.
	var user struct {
		Node struct {
			Schools  []struct{ CleverID string }
			Sections struct {
				TotalCount int
				Edges      []struct{ Node struct{ CleverID string } }
			}
			Roles []struct {
				Role    string
				School  struct{ CleverID string }
				Schools []struct{ CleverID string }
			}
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User { schools { cleverId } sections { totalCount edges { node { cleverId } } } roles { role school { cleverId } schools { cleverId } } } } }`,
		map[string]any{"id": sec.Students[0]}, &user)
	found := false
	for _, e := range user.Node.Sections.Edges {
		found = found || e.Node.CleverID == sec.ID
	}
	if !found {
		t.Errorf("user.sections of a student of %s = %+v", sec.ID, user.Node.Sections)
	}
	if len(user.Node.Schools) == 0 || len(user.Node.Roles) != 1 || user.Node.Roles[0].Role != "STUDENT" || len(user.Node.Roles[0].Schools) == 0 {
		t.Errorf("user schools/roles = %+v", user.Node)
	}
}

func TestDistrictStatus(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	status := func() (s struct {
		State, Summary, TokenStatus string
		LastSuccessfulSync          *string
		LastRun                     *struct{ Status string }
	}) {
		var got struct {
			Districts struct {
				Edges []struct {
					Node struct {
						Status struct {
							State, Summary, TokenStatus string
							LastSuccessfulSync          *string
							LastRun                     *struct{ Status string }
						}
					}
				}
			}
		}
		a.query(a.keys["read"], `{ districts { edges { node { status { state summary tokenStatus lastSuccessfulSync lastRun { status } } } } } }`, nil, &got)
		st := got.Districts.Edges[0].Node.Status
		s.State, s.Summary, s.TokenStatus, s.LastSuccessfulSync, s.LastRun = st.State, st.Summary, st.TokenStatus, st.LastSuccessfulSync, st.LastRun
		return s
	}
	if s := status(); s.State != "IN_SYNC" || s.LastSuccessfulSync == nil || !strings.HasPrefix(s.Summary, "in sync: last synced") {
		t.Errorf("after a sync: %+v", s)
	}
	for i := range 15 {
		var head struct{ ID string }
		json.Unmarshal(a.data.Sections[i], &head)
		a.sim.Unshare(cleversim.KindSections, head.ID)
	}
	if res, _ := a.engine.SyncDistrict(context.Background(), district, mirror.Options{}); res.Status != mirror.StatusHeld {
		t.Fatalf("sync: %s", res.Status)
	}
	if s := status(); s.State != "HELD" || !strings.Contains(s.Summary, "25% of sections (15 of 60) unshared, held for approval") {
		t.Errorf("held: %+v", s)
	}
}
