package main

import (
	"context"
	"testing"

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
