package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/admin"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/syncstats"
)

const district = "d1"

var t0 = time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)

// run is a sync_runs row to seed, started `at` minutes after t0 and (unless running) finished a minute
// later.
type run struct {
	at     int
	status syncrun.Status
	counts syncstats.Counts
	errors []string
	// heldMemberships are the memberships held with the run's held archives.
	heldMemberships syncstats.Held
}

func (r run) finished() time.Time { return t0.Add(time.Duration(r.at+1) * time.Minute) }

func TestDistrictStatus(t *testing.T) {
	t.Parallel()
	succeeded := run{at: 0, status: syncrun.StatusSucceeded}
	next := t0.Add(6 * time.Hour)
	tests := []struct {
		name  string
		token districttoken.Status // "" for no token row
		runs  []run                // oldest first; the last is the district's latest run
		next  bool                 // the scheduler has a next run for the district

		state, tokenStatus string
		lastSuccess        *run     // the run whose finish is LastSuccessfulSync
		lastError          string   // "" for none
		summary            []string // words the summary must contain
	}{
		{name: "never synced", state: admin.StateNeverSynced, tokenStatus: "UNKNOWN",
			summary: []string{"not synced yet"}},
		{name: "never synced, scheduled", token: districttoken.StatusOk, next: true,
			state: admin.StateNeverSynced, tokenStatus: "OK", summary: []string{"not synced yet"}},
		{name: "syncing", token: districttoken.StatusOk, next: true,
			runs:  []run{succeeded, {at: 60, status: syncrun.StatusRunning}},
			state: admin.StateSyncing, tokenStatus: "OK", lastSuccess: &succeeded,
			summary: []string{"a sync is running since " + t0.Add(time.Hour).Format(time.RFC3339)}},
		{name: "in sync", token: districttoken.StatusOk, next: true, runs: []run{succeeded},
			state: admin.StateInSync, tokenStatus: "OK", lastSuccess: &succeeded,
			summary: []string{"in sync: last synced " + succeeded.finished().Format(time.RFC3339)}},
		{name: "in sync after an approved hold", token: districttoken.StatusOk,
			runs:  []run{succeeded, {at: 60, status: syncrun.StatusApproved}},
			state: admin.StateInSync, tokenStatus: "OK", lastSuccess: &run{at: 60},
			summary: []string{"in sync: last synced " + t0.Add(61*time.Minute).Format(time.RFC3339)}},
		{name: "in sync after a rejected hold", token: districttoken.StatusOk,
			runs:  []run{succeeded, {at: 60, status: syncrun.StatusRejected}},
			state: admin.StateInSync, tokenStatus: "OK", lastSuccess: &succeeded,
			summary: []string{"in sync: last synced " + succeeded.finished().Format(time.RFC3339)}},
		{name: "token error is not a state", token: districttoken.StatusError, runs: []run{succeeded},
			state: admin.StateInSync, tokenStatus: "ERROR", lastSuccess: &succeeded, summary: []string{"in sync"}},
		{name: "held", token: districttoken.StatusOk, next: true,
			runs: []run{succeeded, {at: 60, status: syncrun.StatusHeld, counts: syncstats.Counts{
				"users": {Read: 100, Unchanged: 100},
				// 60 sections were shared before the run: 45 seen again and 15 gone. The 5 new ones
				// are not part of what the guard weighed.
				"sections": {Read: 50, Created: 5, Unchanged: 45, Held: 15},
			}}},
			state: admin.StateHeld, tokenStatus: "OK", lastSuccess: &succeeded,
			summary: []string{"sharing changed: 25% of sections (15 of 60) unshared, held for approval", "approveHeldSync", "rejectHeldSync"}},
		{name: "held users and sections", token: districttoken.StatusOk,
			runs: []run{{at: 0, status: syncrun.StatusHeld, counts: syncstats.Counts{
				"sections": {Read: 9, Updated: 1, Unchanged: 8, Held: 3},
				"users":    {Read: 70, Updated: 10, Unchanged: 60, Held: 30},
			}}},
			state: admin.StateHeld, tokenStatus: "OK",
			summary: []string{"30% of users (30 of 100) unshared, 25% of sections (3 of 12) unshared, held for approval"}},
		{name: "held users with their memberships", token: districttoken.StatusOk,
			runs: []run{{at: 0, status: syncrun.StatusHeld, counts: syncstats.Counts{
				"users": {Read: 70, Updated: 10, Unchanged: 60, Held: 30},
			}, heldMemberships: syncstats.Held{
				"contact_relationships": {"c1", "c2", "c3"},
				"section_students":      {"s1", "s2", "s3", "s4"},
				"section_teachers":      {"t1"},
			}}},
			state: admin.StateHeld, tokenStatus: "OK",
			summary: []string{"sharing changed: 30% of users (30 of 100) unshared and 4 enrollments, 1 section teacher and 3 contact links that follow from them, held for approval — approveHeldSync or rejectHeldSync run "}},
		{name: "held users with enrollments only", token: districttoken.StatusOk,
			runs: []run{{at: 0, status: syncrun.StatusHeld, counts: syncstats.Counts{
				"users": {Read: 70, Updated: 10, Unchanged: 60, Held: 30},
			}, heldMemberships: syncstats.Held{"section_students": {"s1"}}}},
			state: admin.StateHeld, tokenStatus: "OK",
			summary: []string{"30% of users (30 of 100) unshared and 1 enrollment that follows from them, held for approval"}},
		{name: "failed", token: districttoken.StatusOk, next: true,
			runs:  []run{succeeded, {at: 60, status: syncrun.StatusFailed, errors: []string{"read sections: clever: 502 Bad Gateway", "second"}}},
			state: admin.StateFailed, tokenStatus: "OK", lastSuccess: &succeeded,
			lastError: "read sections: clever: 502 Bad Gateway",
			summary:   []string{"last sync failed: read sections: clever: 502 Bad Gateway"}},
		{name: "failed without errors", token: districttoken.StatusOk,
			runs:  []run{{at: 0, status: syncrun.StatusFailed}},
			state: admin.StateFailed, tokenStatus: "OK", summary: []string{"last sync failed"}},
		{name: "disconnected", token: districttoken.StatusRevoked, next: true,
			runs:  []run{succeeded, {at: 60, status: syncrun.StatusFailed, errors: []string{"district disconnected"}}},
			state: admin.StateDisconnected, tokenStatus: "REVOKED", lastSuccess: &succeeded,
			lastError: "district disconnected",
			summary:   []string{"token revoked", "district disconnected the app", "records are kept"}},
		{name: "disconnected before any sync", token: districttoken.StatusRevoked,
			state: admin.StateDisconnected, tokenStatus: "REVOKED", summary: []string{"token revoked", "disconnected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := dbtest.New(t)
			c := db.Client
			if tt.token != "" {
				c.DistrictToken.Create().SetID(district).SetCiphertext([]byte("sealed")).SetSource(districttoken.SourceOAuth).
					SetStatus(tt.token).SetUpdatedAt(t0).SaveX(ctx)
			}
			var lastID string
			if len(tt.runs) > 0 {
				c.District.Create().SetID(district).SetDistrictID(district).SetRaw([]byte(`{}`)).SetContentHash("h").
					SetLastSyncedAt(t0).SaveX(ctx)
			}
			for _, r := range tt.runs {
				q := c.SyncRun.Create().SetDistrictID(district).SetStatus(r.status).SetStartedAt(t0.Add(time.Duration(r.at) * time.Minute)).
					SetCounts(r.counts).SetErrors(r.errors)
				if r.status != syncrun.StatusRunning {
					q.SetFinishedAt(r.finished())
				}
				if r.heldMemberships != nil {
					q.SetHeldMemberships(r.heldMemberships)
				}
				lastID = q.SaveX(ctx).ID
			}
			// Another district's runs and token do not count.
			c.DistrictToken.Create().SetID("d2").SetCiphertext([]byte("sealed")).SetSource(districttoken.SourceOAuth).
				SetStatus(districttoken.StatusRevoked).SetUpdatedAt(t0).SaveX(ctx)
			c.District.Create().SetID("d2").SetDistrictID("d2").SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(t0).SaveX(ctx)
			c.SyncRun.Create().SetDistrictID("d2").SetStatus(syncrun.StatusFailed).SetStartedAt(t0.Add(time.Hour)).
				SetErrors([]string{"other district"}).SaveX(ctx)

			var asked []string
			nextRun := func(id string) (time.Time, bool) {
				asked = append(asked, id)
				return next, tt.next
			}
			st, err := admin.New(db, nil, nil, 0).DistrictStatus(ctx, district, nextRun)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tt.state || st.TokenStatus != tt.tokenStatus {
				t.Errorf("state %s, token %s; want %s, %s", st.State, st.TokenStatus, tt.state, tt.tokenStatus)
			}
			for _, w := range tt.summary {
				if !strings.Contains(st.Summary, w) {
					t.Errorf("summary %q does not say %q", st.Summary, w)
				}
			}
			switch {
			case lastID == "" && st.LastRun != nil:
				t.Errorf("last run %s, want none", st.LastRun.ID)
			case lastID != "" && (st.LastRun == nil || st.LastRun.ID != lastID):
				t.Errorf("last run %v, want %s", st.LastRun, lastID)
			}
			if st.State == admin.StateHeld && !strings.HasSuffix(st.Summary, "run "+lastID) {
				t.Errorf("summary %q does not name the held run %s", st.Summary, lastID)
			}
			switch {
			case tt.lastSuccess == nil && st.LastSuccessfulSync != nil:
				t.Errorf("last successful sync %s, want none", st.LastSuccessfulSync)
			case tt.lastSuccess != nil && (st.LastSuccessfulSync == nil || !st.LastSuccessfulSync.Equal(tt.lastSuccess.finished())):
				t.Errorf("last successful sync %v, want %s", st.LastSuccessfulSync, tt.lastSuccess.finished())
			}
			var lastError string
			if st.LastError != nil {
				lastError = *st.LastError
			}
			if lastError != tt.lastError {
				t.Errorf("last error %q, want %q", lastError, tt.lastError)
			}
			if len(asked) != 1 || asked[0] != district {
				t.Errorf("NextRun asked for %q, want [%s]", asked, district)
			}
			switch {
			case !tt.next && st.NextScheduledRun != nil:
				t.Errorf("next scheduled run %s, want none", st.NextScheduledRun)
			case tt.next && (st.NextScheduledRun == nil || !st.NextScheduledRun.Equal(next)):
				t.Errorf("next scheduled run %v, want %s", st.NextScheduledRun, next)
			}
		})
	}
}

func TestDistrictStatusWithoutScheduler(t *testing.T) {
	t.Parallel()
	st, err := admin.New(dbtest.New(t), nil, nil, 0).DistrictStatus(context.Background(), district, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != admin.StateNeverSynced || st.NextScheduledRun != nil {
		t.Errorf("status %+v: want NEVER_SYNCED with no next run", st)
	}
}

// TestDistrictStatusShowsTheEventsLag: after events runs, the status says how current the events are,
// and when the last full sync (the daily reconcile) was.
func TestDistrictStatusShowsTheEventsLag(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	c := db.Client
	c.District.Create().SetID(district).SetDistrictID(district).SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(t0).ExecX(ctx)
	full := c.SyncRun.Create().SetDistrictID(district).SetKind(syncrun.KindFull).SetStatus(syncrun.StatusSucceeded).
		SetStartedAt(t0).SetFinishedAt(t0.Add(time.Minute)).SaveX(ctx)
	c.SyncRun.Create().SetDistrictID(district).SetKind(syncrun.KindEvents).SetStatus(syncrun.StatusSucceeded).
		SetStartedAt(t0.Add(time.Hour)).SetFinishedAt(t0.Add(time.Hour + time.Second)).ExecX(ctx)
	newest, checked := t0.Add(50*time.Minute), t0.Add(time.Hour)
	c.EventCursor.Create().SetID(district).SetEventID("e9").SetCheckedAt(checked).SetNewestEventAt(newest).SetUpdatedAt(checked).ExecX(ctx)

	st, err := admin.New(db, nil, nil, 0).DistrictStatus(ctx, district, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastFullSync == nil || !st.LastFullSync.Equal(*full.FinishedAt) {
		t.Errorf("last full sync %v, want %s", st.LastFullSync, full.FinishedAt)
	}
	if st.EventsEnabled == nil || !*st.EventsEnabled || st.EventsCheckedAt == nil || !st.EventsCheckedAt.Equal(checked) ||
		st.NewestEventAt == nil || !st.NewestEventAt.Equal(newest) {
		t.Errorf("events: enabled %v checked %v newest %v", st.EventsEnabled, st.EventsCheckedAt, st.NewestEventAt)
	}
	want := "(events applied through " + newest.Format(time.RFC3339) + ", feed read " + checked.Format(time.RFC3339) + ")"
	if st.State != admin.StateInSync || !strings.Contains(st.Summary, want) {
		t.Errorf("summary %q, want it to contain %q", st.Summary, want)
	}

	// Events not enabled: no lag to show.
	c.EventCursor.UpdateOneID(district).SetEnabled(false).ExecX(ctx)
	if st, err = admin.New(db, nil, nil, 0).DistrictStatus(ctx, district, nil); err != nil {
		t.Fatal(err)
	}
	if st.EventsEnabled == nil || *st.EventsEnabled || st.EventsCheckedAt != nil || strings.Contains(st.Summary, "events applied") {
		t.Errorf("events not enabled: enabled %v checked %v summary %q", st.EventsEnabled, st.EventsCheckedAt, st.Summary)
	}
}
