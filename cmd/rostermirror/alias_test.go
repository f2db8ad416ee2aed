package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// TestSyncLinksReIDedStudent: `rostermirror sync` is followed by the SIS-id alias step (syncer.afterSync,
// which serve, syncDistrict and the demo share): a student Clever re-IDed gets an alias from the old id.
func TestSyncLinksReIDedStudent(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	url := d.env[envDatabaseURL]
	db := openStore(t, url)
	var old string
	if err := db.SQL.QueryRow(`SELECT user_id FROM user_roles WHERE role = 'STUDENT' AND sis_id <> '' ORDER BY user_id LIMIT 1`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	newID, err := d.sim.ReID(cleversim.KindUsers, old)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, t.Context(), d.env, "sync"); r.code != exitOK {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	a, err := db.Client.CleverIDAlias.Query().All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || a[0].FormerCleverID != old || a[0].CleverID != newID || a[0].Method != "SIS_ID" {
		t.Errorf("aliases after the sync: %v, want %s → %s by SIS_ID", a, old, newID)
	}
}

// heldReID syncs a district in which Clever re-IDed a student while half the students were unshared:
// the guard holds the run, the former id among its held archives. It returns the district, the held
// run, and the student's former and new ids.
func heldReID(t *testing.T) (d syncedDistrict, db *store.DB, run, old, newID string) {
	t.Helper()
	d = syncDistrict(t, nil)
	db = openStore(t, d.env[envDatabaseURL])
	if err := db.SQL.QueryRow(`SELECT user_id FROM user_roles WHERE role = 'STUDENT' AND sis_id <> '' ORDER BY user_id LIMIT 1`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	students, err := db.Client.UserRole.Query().Where(userrole.RoleEQ(userrole.RoleStudent), userrole.UserIDNEQ(old)).
		Order(userrole.ByUserID()).Select(userrole.FieldUserID).Strings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	users, err := db.Client.User.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	others := students[:min(len(students), users/2)]
	for _, id := range others {
		if err := d.sim.Unshare(cleversim.KindUsers, id); err != nil {
			t.Fatal(err)
		}
	}
	if newID, err = d.sim.ReID(cleversim.KindUsers, old); err != nil {
		t.Fatal(err)
	}
	runCLI(t, t.Context(), d.env, "sync")
	if err := db.SQL.QueryRow(`SELECT id FROM sync_runs WHERE status = 'HELD'`).Scan(&run); err != nil {
		t.Fatalf("no held run after unsharing %d students: %v", len(others), err)
	}
	if n, _ := db.Client.CleverIDAlias.Query().Count(context.Background()); n != 0 {
		t.Fatalf("%d aliases before the approval", n)
	}
	return d, db, run, old, newID
}

// wantAlias checks that the only alias links old to newID.
func wantAlias(t *testing.T, db *store.DB, old, newID string) {
	t.Helper()
	a, err := db.Client.CleverIDAlias.Query().All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || a[0].FormerCleverID != old || a[0].CleverID != newID {
		t.Errorf("aliases after the approval: %v, want %s → %s", a, old, newID)
	}
}

// TestApprovedHeldRunLinksReIDedStudent: a re-ID that arrives in a held run (many students unshared at
// once) is linked when `rostermirror sync --approve-held RUN` applies the run's archives.
func TestApprovedHeldRunLinksReIDedStudent(t *testing.T) {
	t.Parallel()
	d, db, run, old, newID := heldReID(t)
	if r := runCLI(t, t.Context(), d.env, "sync", "--approve-held", run); r.code != exitOK {
		t.Fatalf("sync --approve-held: exit %d\n%s", r.code, r.stderr)
	}
	wantAlias(t, db, old, newID)
}

// TestServeApprovalLinksReIDedStudent: the same through serve's approveHeldSync mutation.
func TestServeApprovalLinksReIDedStudent(t *testing.T) {
	t.Parallel()
	d, db, run, old, newID := heldReID(t)
	key := strings.TrimSpace(runCLI(t, t.Context(), d.env, "apikey", "create", "--name", "admin", "--scope", "admin").stdout)
	base := startServe(t, d.env)
	code, answer := postGraphQL(t, base, key, "mutation($id: ID!) { approveHeldSync(id: $id) { status } }", map[string]any{"id": run})
	if code != http.StatusOK || !strings.Contains(answer, `"APPROVED"`) {
		t.Fatalf("approveHeldSync: %d %s", code, answer)
	}
	wantAlias(t, db, old, newID)
}
