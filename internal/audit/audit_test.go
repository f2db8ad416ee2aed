package audit_test

import (
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/dbtest"
)

// TestRecord: an entry is written with its columns, through the database's client or inside a
// database/sql transaction (store.DB.OnTx), where it commits or rolls back with the transaction.
func TestRecord(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

	if err := audit.Record(ctx, db.Client, audit.Entry{Actor: audit.APIKey("ops", "k1"), Action: audit.SyncDistrict,
		Target: "d1", Outcome: "started run r1"}); err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{false, true} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.Record(ctx, db.OnTx(tx), audit.Entry{At: at, Actor: audit.CLI("alice"), Action: audit.ApproveHeldSync,
			Target: "r1", Outcome: "APPROVED"}); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	entries, err := db.Client.AuditEntry.Query().Order(auditentry.ByAction()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2 (the rolled-back one is not written)", len(entries))
	}
	approved, started := entries[0], entries[1]
	if approved.Actor != "cli:alice" || approved.Action != "approveHeldSync" || approved.Target != "r1" ||
		approved.Outcome != "APPROVED" || !approved.At.Equal(at) || len(approved.ID) != 32 {
		t.Errorf("decision entry = %+v", approved)
	}
	if started.Actor != "apikey:ops (k1)" || started.Action != "syncDistrict" || started.Target != "d1" ||
		started.Outcome != "started run r1" || time.Since(started.At) > time.Minute {
		t.Errorf("sync entry = %+v", started)
	}
	if audit.CLI("") != "cli" {
		t.Errorf("CLI(\"\") = %q", audit.CLI(""))
	}
}
