package mirror_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// fetchUser reads one user from the simulator with the district's token, as a sign-in does.
func (h *harness) fetchUser(id string) clever.User {
	h.t.Helper()
	u, err := h.client.WithToken(clever.Token(h.sim.DistrictToken(h.districtID))).User(context.Background(), id)
	if err != nil {
		h.t.Fatalf("read user %s: %v", id, err)
	}
	return u
}

// provision provisions a user read from the simulator and returns what it did.
func (h *harness) provision(id string) syncstats.Outcome {
	h.t.Helper()
	out, err := h.engine.ProvisionUser(context.Background(), h.districtID, h.fetchUser(id))
	if err != nil {
		h.t.Fatalf("provision %s: %v", id, err)
	}
	return out
}

// TestProvisionBeforeFirstSync: users who sign in before the district's first sync — a teacher who is
// staff too, a student, a contact — are written at once with their roles, the roles' schools and the
// contact's links; the first full sync then finds them unchanged and leaves a mirror identical to one
// that never provisioned anyone.
func TestProvisionBeforeFirstSync(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	teacher := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "teacher") && hasRole(u, "staff") })["id"].(string)
	student := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "student") })["id"].(string)
	contact := pick(t, h.data.Users, func(u map[string]any) bool { return hasRole(u, "contact") })["id"].(string)

	for _, id := range []string{teacher, student, contact} {
		if out := h.provision(id); out != (syncstats.Outcome{Read: 1, Created: 1}) {
			t.Errorf("provision %s = %+v, want created", id, out)
		}
	}
	if got := h.rows("SELECT role FROM user_roles WHERE user_id = ? AND archived_at IS NULL ORDER BY role", teacher); !slices.Equal(got, []string{"STAFF", "TEACHER"}) {
		t.Errorf("teacher's roles = %v, want STAFF and TEACHER", got)
	}
	if got := h.rows(`SELECT count(*) FROM role_schools rs JOIN user_roles r ON r.id = rs.role_id
		WHERE r.user_id = ? AND rs.ended_at IS NULL AND rs.archived_at IS NULL`, teacher); got[0] == "0" {
		t.Error("the teacher's roles have no schools")
	}
	if got := h.rows("SELECT count(*) FROM contact_relationships WHERE contact_id = ? AND ended_at IS NULL", contact); got[0] == "0" {
		t.Error("the contact has no links")
	}
	if got := h.rows("SELECT count(*) FROM sync_runs"); got[0] != "0" {
		t.Errorf("%s sync runs recorded by provisioning, want none", got[0])
	}

	res := h.mustSucceed()
	if o := res.Counts["users"]; o.Unchanged != 3 || o.Created != o.Read-3 || o.Updated+o.Restored+o.Archived != 0 {
		t.Errorf("first sync users = %+v, want the 3 provisioned users unchanged and the rest created", o)
	}
	clean := setup(t, options{})
	clean.mustSucceed()
	sameSnapshot(t, snapshot(t, h.db), snapshot(t, clean.db))
}

// TestProvisionUpdatesAndRestores: a signed-in user whose record changed since the last sync is updated
// (a role gained), an archived one is restored with its roles and their schools, and nothing else is
// touched — no other user archived or restored; the next full sync agrees and changes no user.
func TestProvisionUpdatesAndRestores(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	h.mustSucceed()
	teachers := all(h.data.Users, func(u map[string]any) bool { return hasRole(u, "teacher") && len(roles(u)) == 1 })
	changed, archived, gone := teachers[0], teachers[1], teachers[2]

	// Updated: a role gained since the sync.
	teacherRole := roles(record(t, h.data.Users, changed))["teacher"].(map[string]any)
	school, _ := teacherRole["school"].(string)
	title, _ := teacherRole["title"].(string)
	h.change(h.sim.Modify(cleversim.KindUsers, changed, patch(map[string]any{"roles": map[string]any{
		"staff": map[string]any{"staff_id": "S-1", "title": "Coach", "schools": []string{school}}}})))
	if out := h.provision(changed); out != (syncstats.Outcome{Read: 1, Updated: 1}) {
		t.Errorf("provision changed = %+v, want updated", out)
	}
	if got := normBools(h.rows("SELECT role, archived_at IS NULL, title FROM user_roles WHERE user_id = ? ORDER BY role", changed)); !slices.Equal(got, []string{"STAFF|1|Coach", "TEACHER|1|" + title}) {
		t.Errorf("roles after provisioning = %v", got)
	}

	// Restored: archived by a sync, shared again, signs in before the next sync.
	h.change(h.sim.Unshare(cleversim.KindUsers, archived))
	h.change(h.sim.Unshare(cleversim.KindUsers, gone))
	h.mustSucceed()
	if !h.archived("users", archived) || !h.archived("users", gone) {
		t.Fatal("unshared users not archived")
	}
	h.change(h.sim.Reshare(cleversim.KindUsers, archived))
	user := h.fetchUser(archived)
	h.change(h.sim.Reshare(cleversim.KindUsers, gone)) // shared again, but does not sign in
	out, err := h.engine.ProvisionUser(context.Background(), h.districtID, user)
	if err != nil || out != (syncstats.Outcome{Read: 1, Restored: 1}) {
		t.Fatalf("provision archived = %+v %v, want restored", out, err)
	}
	if h.archived("users", archived) {
		t.Error("provisioned user still archived")
	}
	if got := h.rows(`SELECT count(*) FROM user_roles r LEFT JOIN role_schools rs ON rs.role_id = r.id
		WHERE r.user_id = ? AND (r.archived_at IS NOT NULL OR rs.archived_at IS NOT NULL OR rs.ended_at IS NOT NULL)`, archived); got[0] != "0" {
		t.Errorf("%s roles or role schools of the restored user still archived or ended", got[0])
	}
	if !h.archived("users", gone) {
		t.Error("a user who did not sign in was restored")
	}
	checkArchiveInvariants(t, h)

	res := h.mustSucceed()
	if o := res.Counts["users"]; o.Updated != 0 || o.Archived != 0 || o.Restored != 1 || o.Created != 0 {
		t.Errorf("sync after provisioning: users = %+v, want only the user who did not sign in restored", o)
	}
	if res := h.mustSucceed(); res.Counts["users"].Unchanged != res.Counts["users"].Read {
		t.Errorf("second sync changed users: %+v", res.Counts["users"])
	}
}

// TestProvisionWhileSyncRuns: while a sync holds the district, provisioning waits up to ProvisionWait
// and then leaves the user to that sync (ErrBusy), writing nothing; the sync writes the user.
func TestProvisionWhileSyncRuns(t *testing.T) {
	t.Parallel()
	h := setup(t, options{client: clever.Config{PageLimit: 20}, engine: mirror.Config{BatchSize: 20, ProvisionWait: 200 * time.Millisecond}})
	last := idOf(h.data.Users[len(h.data.Users)-1])
	user := h.fetchUser(last)
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan mirror.Result)
	go func() {
		res, _ := h.engine.SyncDistrict(context.Background(), h.districtID, mirror.Options{Progress: func(p mirror.Progress) {
			if p.Kind == "users" && p.Read == 20 {
				close(started)
				<-release
			}
		}})
		done <- res
	}()
	select {
	case <-started:
	case res := <-done:
		t.Fatalf("sync ended before it could be held: %s %v", res.Status, res.Errors)
	}
	begin := time.Now()
	_, err := h.engine.ProvisionUser(context.Background(), h.districtID, user)
	if !errors.Is(err, mirror.ErrBusy) {
		t.Errorf("provision during a sync: %v, want ErrBusy", err)
	}
	if waited := time.Since(begin); waited < 200*time.Millisecond {
		t.Errorf("gave up after %v, want ProvisionWait", waited)
	}
	close(release)
	if res := <-done; res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %s %v", res.Status, res.Errors)
	}
	if h.archived("users", last) {
		t.Error("the user is archived")
	}
	// A lock released within ProvisionWait is waited for.
	h.change(h.sim.Modify(cleversim.KindUsers, last, patch(map[string]any{"email": "changed@example.org"})))
	unlock, ok := h.db.TryLock("sync district " + h.districtID)
	if !ok {
		t.Fatal("district lock held")
	}
	time.AfterFunc(50*time.Millisecond, unlock)
	if out, err := h.engine.ProvisionUser(context.Background(), h.districtID, h.fetchUser(last)); err != nil || out.Updated != 1 {
		t.Errorf("provision after a short wait: %+v %v", out, err)
	}
}

// TestProvisionRefusesForeignRecords: a record of another district, or without its JSON, is refused.
func TestProvisionRefusesForeignRecords(t *testing.T) {
	t.Parallel()
	h := setup(t, options{})
	u := h.fetchUser(idOf(h.data.Users[0]))
	if _, err := h.engine.ProvisionUser(context.Background(), "5f0000000000000000000000", u); !errors.Is(err, clever.ErrMalformed) {
		t.Errorf("other district: %v, want ErrMalformed", err)
	}
	u.Raw = nil
	if _, err := h.engine.ProvisionUser(context.Background(), h.districtID, u); !errors.Is(err, clever.ErrMalformed) {
		t.Errorf("no JSON: %v, want ErrMalformed", err)
	}
	if got := h.rows("SELECT count(*) FROM users"); got[0] != "0" {
		t.Errorf("%s users written", got[0])
	}
}
