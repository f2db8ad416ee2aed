package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// progressStudents are two students of the synced demo district.
func progressStudents(t *testing.T, d syncedDistrict) (string, string) {
	t.Helper()
	db := openStore(t, d.env[envDatabaseURL])
	rows, err := db.SQL.QueryContext(t.Context(), `SELECT user_id FROM user_roles WHERE role = 'STUDENT' ORDER BY user_id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) != 2 {
		t.Fatalf("%d students synced", len(ids))
	}
	return ids[0], ids[1]
}

func progressCount(t *testing.T, d syncedDistrict) int {
	t.Helper()
	var n int
	if err := openStore(t, d.env[envDatabaseURL]).SQL.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM progress_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProgressImportExport: `progress import` of a good file prints what it created, again prints it
// unchanged; `progress export` writes the records with the import's columns first, as given.
func TestProgressImportExport(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	a, b := progressStudents(t, d)
	good := writeFile(t, "good.csv", "Student Clever ID,activity_id,attempt_id,kind,score,max_score,completed_at,time_spent_seconds,section_id,data\n"+
		a+",lesson-1,,completed,8,10,2026-03-01T14:05:00Z,300,,\n"+
		a+",lesson-2,2,in_progress,,,2026-03-02,,,\"{\"\"hints\"\": 2}\"\n"+
		b+",lesson-1,,COMPLETED,10,10,2026-03-03T09:00:00Z,120,,\n")
	r := runCLI(t, t.Context(), d.env, "progress", "import", good)
	if r.code != exitOK || !strings.Contains(r.stdout, "progress: 3 records: 3 created, 0 updated, 0 unchanged") {
		t.Fatalf("import: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, t.Context(), d.env, "progress", "import", good)
	if r.code != exitOK || !strings.Contains(r.stdout, "progress: 3 records: 0 created, 0 updated, 3 unchanged") {
		t.Fatalf("import again: exit %d, stdout %q", r.code, r.stdout)
	}

	r = runCLI(t, t.Context(), d.env, "progress", "export", "--district", d.district)
	if r.code != exitOK {
		t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "student_clever_id,activity_id,attempt_id,kind,score,max_score,completed_at,time_spent_seconds,section_id,data," +
		"current_clever_id,district_id,resolved_section_id,school_id,term_id,grade,created_at,updated_at"
	if len(recs) != 4 || strings.Join(recs[0], ",") != want {
		t.Fatalf("export: %d rows, header %v; want 4 rows, header %s", len(recs), recs[0], want)
	}
	byKey := map[string][]string{}
	for _, rec := range recs[1:] {
		byKey[rec[0]+"/"+rec[1]+"/"+rec[2]] = rec
	}
	got := byKey[a+"/lesson-2/2"]
	if got == nil || got[3] != "IN_PROGRESS" || got[6] != "2026-03-02T00:00:00Z" || strings.ReplaceAll(got[9], " ", "") != `{"hints":2}` ||
		got[10] != a || got[11] != d.district {
		t.Errorf("exported lesson-2 of %s: %q", a, got)
	}
	if got := byKey[b+"/lesson-1/"]; got == nil || got[4] != "10" || got[5] != "10" || got[7] != "120" {
		t.Errorf("exported lesson-1 of %s: %q", b, got)
	}
}

// TestProgressImportBadFile: a file with bad lines exits non-zero, names each bad line and column, and
// writes nothing — its good lines included.
func TestProgressImportBadFile(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	a, _ := progressStudents(t, d)
	bad := writeFile(t, "bad.csv", "student_clever_id,activity_id,kind,completed_at\n"+
		a+",lesson-1,completed,2026-03-01\n"+
		a+",lesson-2,finished,2026-03-01\n"+
		"ffffffffffffffffffffffff,lesson-1,completed,2026-03-01\n"+
		a+",lesson-3,completed,yesterday\n")
	r := runCLI(t, t.Context(), d.env, "progress", "import", bad)
	if r.code == exitOK {
		t.Fatalf("import of a bad file: exit 0, stdout %q", r.stdout)
	}
	for _, want := range []string{"bad.csv", "nothing was changed", "line 3, column 3 (kind)", "line 5, column 4 (completed_at)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := progressCount(t, d); n != 0 {
		t.Errorf("%d records written by a refused file, want 0", n)
	}
	// Only the unknown student left: the database's check names its line.
	unknown := writeFile(t, "unknown.csv", "student_clever_id,activity_id,kind,completed_at\n"+
		a+",lesson-1,completed,2026-03-01\n"+
		"ffffffffffffffffffffffff,lesson-1,completed,2026-03-01\n")
	r = runCLI(t, t.Context(), d.env, "progress", "import", unknown)
	if r.code == exitOK || !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, "no student of the mirror") {
		t.Errorf("import naming an unknown student: exit %d\n%s", r.code, r.stderr)
	}
	if n := progressCount(t, d); n != 0 {
		t.Errorf("%d records written by a refused file, want 0", n)
	}
	if r := runCLI(t, t.Context(), d.env, "progress", "import"); r.code != exitUsage {
		t.Errorf("import without a file: exit %d, want %d", r.code, exitUsage)
	}
}
