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

// TestDistrictStatusShowsCleverPause: a district paused in Clever (here open-ended: a pause_start and
// no pause_end) shows its pause on District.status, and a sync's counts show the archives it deferred.
func TestDistrictStatusShowsCleverPause(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	if err := a.sim.Modify(cleversim.KindDistricts, district, json.RawMessage(`{"pause_start":"2020-06-01"}`)); err != nil {
		t.Fatal(err)
	}
	sync := func() {
		if res, err := a.engine.SyncDistrict(context.Background(), district, mirror.Options{Mode: mirror.ModeFull}); err != nil || res.Status != mirror.StatusSucceeded {
			t.Fatalf("sync: %v %s %v", err, res.Status, res.Errors)
		}
	}
	sync()
	var head struct{ ID string }
	json.Unmarshal(a.data.Sections[0], &head)
	if err := a.sim.Unshare(cleversim.KindSections, head.ID); err != nil {
		t.Fatal(err)
	}
	sync()
	var got struct {
		Districts struct {
			Edges []struct {
				Node struct {
					Status struct {
						Summary    string
						PauseStart *string
						PauseEnd   *string
						Paused     bool
						LastRun    struct {
							Counts []struct {
								Kind                         string
								Archived, Deferred, Rollover int
							}
						}
					}
				}
			}
		}
	}
	a.query(a.keys["read"], `{ districts { edges { node { status { summary pauseStart pauseEnd paused lastRun { counts { kind archived deferred rollover } } } } } } }`, nil, &got)
	st := got.Districts.Edges[0].Node.Status
	if !st.Paused || st.PauseStart == nil || !strings.HasPrefix(*st.PauseStart, "2020-06-01") || st.PauseEnd != nil ||
		!strings.Contains(st.Summary, "paused in Clever since 2020-06-01 (no end date)") {
		t.Errorf("status = %+v; want the open-ended pause shown", st)
	}
	found := false
	for _, c := range st.LastRun.Counts {
		if c.Kind == "sections" {
			found = true
			if c.Deferred != 1 || c.Archived != 0 {
				t.Errorf("sections counts %+v: want 1 deferred, none archived", c)
			}
		}
	}
	if !found {
		t.Errorf("the last run's counts %+v name no sections", st.LastRun.Counts)
	}
}
