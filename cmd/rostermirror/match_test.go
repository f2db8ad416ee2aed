package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/appimport"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/metrics"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// syncedDistrict is the demo district synced from the simulator into a database of the test's own.
type syncedDistrict struct {
	env      env
	sim      *cleversim.Server
	ds       *cleversim.Dataset
	district string
}

// syncDistrict starts the simulator with the demo district (simEnvData), lets prepare change what it
// shares, and syncs it with the CLI.
func syncDistrict(t *testing.T, prepare func(*cleversim.Server, *cleversim.Dataset)) syncedDistrict {
	t.Helper()
	e, sim, ds := simEnvData(t)
	if prepare != nil {
		prepare(sim, ds)
	}
	r := runCLI(t, t.Context(), e, "sync")
	if r.code != exitOK {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	rows := parseSummary(t, r.stdout)
	if len(rows) == 0 {
		t.Fatalf("sync printed no summary:\n%s", r.stdout)
	}
	return syncedDistrict{env: e, sim: sim, ds: ds, district: rows[0].district}
}

// openStore opens the database at url for the test.
func openStore(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// student is a student as the app knows it: the fields of its CSV row, and the Clever id it should match.
type student struct {
	cleverID, first, last, dob, sisID string
}

// mirrorStudents are the first n students of the district in the mirror that have a SIS id and a date of
// birth, by Clever id.
func mirrorStudents(t *testing.T, url, district string, n int) []student {
	t.Helper()
	ctx := t.Context()
	db := openStore(t, url)
	roles := db.Client.UserRole.Query().
		Where(userrole.DistrictID(district), userrole.RoleEQ(userrole.RoleStudent), userrole.SisIDNEQ(""), userrole.DobNotNil()).
		Order(ent.Asc(userrole.FieldUserID)).Limit(n).AllX(ctx)
	if len(roles) < n {
		t.Fatalf("the district has %d students with a SIS id and a date of birth, want %d", len(roles), n)
	}
	out := make([]student, len(roles))
	for i, r := range roles {
		u := db.Client.User.Query().Where(user.ID(r.UserID)).OnlyX(ctx)
		out[i] = student{cleverID: u.ID, first: u.FirstName, last: u.LastName, dob: r.Dob.Format("2006-01-02"), sisID: r.SisID}
	}
	return out
}

// countStudents is how many shared students the district has in the mirror.
func countStudents(t *testing.T, url, district string) int {
	t.Helper()
	db := openStore(t, url)
	return db.Client.UserRole.Query().Where(userrole.DistrictID(district), userrole.RoleEQ(userrole.RoleStudent),
		userrole.ArchivedAtIsNil()).CountX(t.Context())
}

// studentsCSV is the app's students file: app-1, app-2, … for students, each with a note, then the rows
// of extra as they are. Its date of birth column is "Birth Date", recognised as dob.
func studentsCSV(students []student, extra ...string) string {
	var b strings.Builder
	b.WriteString("app_id,First Name,last_name,Birth Date,sis_id,notes\n")
	for i, s := range students {
		fmt.Fprintf(&b, "app-%d,%s,%s,%s,%s,note %d\n", i+1, s.first, s.last, s.dob, s.sisID, i+1)
	}
	for _, row := range extra {
		b.WriteString(row + "\n")
	}
	return b.String()
}

// ghostRow is a student the district does not have.
const ghostRow = "app-ghost,Nobody,Atall,2001-02-03,S-000000,no such student"

// matchState writes the app records, imports, suggestions and audit entries in the database at url:
// equal when nothing was written.
func matchState(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	db := openStore(t, url)
	var b strings.Builder
	for _, r := range db.Client.AppRecord.Query().Order(ent.Asc(apprecord.FieldType), ent.Asc(apprecord.FieldExternalID)).AllX(ctx) {
		clever := ""
		if r.CleverID != nil {
			clever = *r.CleverID
		}
		fmt.Fprintf(&b, "record %s %s %s clever=%s fields=%v missing=%v updated=%s\n", r.Type, r.ExternalID, r.Status, clever,
			r.Fields, r.MissingSince != nil, r.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000"))
	}
	for _, i := range db.Client.AppImport.Query().Order(ent.Asc(appimport.FieldCreatedAt), ent.Asc(appimport.FieldID)).AllX(ctx) {
		fmt.Fprintf(&b, "import %s %s %s records=%d\n", i.ID, i.Type, i.FileName, i.Records)
	}
	fmt.Fprintf(&b, "suggestions %d\n", db.Client.MatchSuggestion.Query().CountX(ctx))
	for _, e := range db.Client.AuditEntry.Query().Order(ent.Asc(auditentry.FieldAt), ent.Asc(auditentry.FieldID)).AllX(ctx) {
		fmt.Fprintf(&b, "audit %s %s %s\n", e.Actor, e.Action, e.Outcome)
	}
	return b.String()
}

// readCSV parses a CSV the test expects to be well-formed.
func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, s)
	}
	if len(rows) == 0 {
		t.Fatal("the export is empty")
	}
	return rows
}

// byColumn returns the value of a row's column, by the header's name.
func byColumn(t *testing.T, header []string) func(row []string, col string) string {
	t.Helper()
	return func(row []string, col string) string {
		i := slices.Index(header, col)
		if i < 0 {
			t.Fatalf("the export has no column %q: %q", col, header)
		}
		return row[i]
	}
}

func TestMatchImportAndExport(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	url := d.env[envDatabaseURL]
	students := mirrorStudents(t, url, d.district, 8)
	file := writeFile(t, "students.csv", studentsCSV(students, ghostRow))
	args := []string{"match", "import", "--district", d.district, "--type", "student", file}

	first := runCLI(t, t.Context(), d.env, args...)
	want := "student records of district " + d.district + ": 9 in the file: 9 new, 0 changed, 0 unchanged, 0 missing\n" +
		"after matching, the district's student records: 8 matched, 0 suggested, 1 unmatched, 0 duplicate\n"
	if first.code != exitOK || first.stdout != want || first.stderr != "warning: not compared, kept for the export: \"notes\"\n" {
		t.Fatalf("first import: exit %d, stdout\n%s\nstderr %q; want 0 and\n%s", first.code, first.stdout, first.stderr, want)
	}
	state := matchState(t, url)
	if !strings.Contains(state, "audit cli:tester importAppRecords 9 student records: 9 new, 0 changed, 0 unchanged, 0 missing") ||
		!strings.Contains(state, "import ") || !strings.Contains(state, "STUDENT students.csv records=9") {
		t.Errorf("after the first import:\n%s", state)
	}

	// The same file again: every record unchanged, nothing written but the import's own record.
	again := runCLI(t, t.Context(), d.env, args...)
	want = "student records of district " + d.district + ": 9 in the file: 0 new, 0 changed, 9 unchanged, 0 missing\n" +
		"after matching, the district's student records: 8 matched, 0 suggested, 1 unmatched, 0 duplicate\n"
	if again.code != exitOK || again.stdout != want {
		t.Errorf("second import: exit %d, stdout\n%s\nwant\n%s", again.code, again.stdout, want)
	}
	if after := matchState(t, url); recordLines(after) != recordLines(state) {
		t.Errorf("the second import changed records:\n%s\nthen\n%s", state, after)
	}

	// The export: Matchmaker's header, one row per app record, then the district's other students.
	out := filepath.Join(t.TempDir(), "matchmaker.csv")
	exp := runCLI(t, t.Context(), d.env, "match", "export", "--district", d.district, "--type", "student", "--out", out)
	if exp.code != exitOK || exp.stdout != "" {
		t.Fatalf("export: exit %d, stdout %q, stderr %q", exp.code, exp.stdout, exp.stderr)
	}
	written := mustRead(t, out)
	rows := readCSV(t, written)
	header := rows[0]
	for i, col := range []string{"app.app_id", "app.First Name", "app.last_name", "app.Birth Date", "app.sis_id", "app.notes", "clever.id"} {
		if header[i] != col {
			t.Errorf("export header column %d: %q, want %q (header %q)", i+1, header[i], col, header)
		}
	}
	for _, col := range []string{"clever.first_name", "clever.last_name", "clever.dob", "clever.sis_id", "matchmaker_results", "method", "score", "explanation"} {
		if !slices.Contains(header, col) {
			t.Errorf("export header lacks %q: %q", col, header)
		}
	}
	col := byColumn(t, header)
	results := map[string]int{}
	for _, row := range rows[1:] {
		results[col(row, "matchmaker_results")]++
		switch id := col(row, "app.app_id"); {
		case id == "app-ghost":
			if col(row, "matchmaker_results") != "from app, no match" || col(row, "clever.id") != "" {
				t.Errorf("the student with no counterpart: %q", row)
			}
		case id != "":
			var n int
			fmt.Sscanf(id, "app-%d", &n)
			if s := students[n-1]; col(row, "matchmaker_results") != "match" || col(row, "clever.id") != s.cleverID ||
				col(row, "clever.sis_id") != s.sisID || col(row, "method") == "" || col(row, "explanation") == "" || col(row, "app.notes") != fmt.Sprintf("note %d", n) {
				t.Errorf("%s: %q; want a match to %s", id, row, s.cleverID)
			}
		default:
			if col(row, "matchmaker_results") != "from Clever, no match" || col(row, "clever.id") == "" {
				t.Errorf("a Clever row: %q", row)
			}
		}
	}
	others := countStudents(t, url, d.district) - len(students)
	if want := map[string]int{"match": 8, "from app, no match": 1, "from Clever, no match": others}; !maps.Equal(results, want) {
		t.Errorf("export results %v, want %v", results, want)
	}

	// To stdout, the same bytes.
	if r := runCLI(t, t.Context(), d.env, "match", "export", "--district", d.district, "--type", "student"); r.code != exitOK || r.stdout != written {
		t.Errorf("export to stdout: exit %d, and %d bytes where --out wrote %d", r.code, len(r.stdout), len(written))
	}

	// An export that fails leaves no file, and an existing one as it was.
	for _, path := range []string{filepath.Join(t.TempDir(), "new.csv"), out} {
		r := runCLI(t, t.Context(), d.env, "match", "export", "--district", d.district, "--type", "teacher", "--out", path)
		if r.code != exitFailure || !strings.Contains(r.stderr, `error: export teacher records: not found: no teacher records have been imported for district "`+d.district+`"`) {
			t.Errorf("export of a type never imported: exit %d, stderr %q", r.code, r.stderr)
		}
		if path == out {
			if got := mustRead(t, out); got != written {
				t.Error("a failed export changed the existing file")
			}
		} else if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("a failed export left %s: %v", path, err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) > 1 || (len(entries) == 1 && entries[0].Name() != filepath.Base(out)) {
			t.Errorf("a failed export left files behind: %v", entries)
		}
	}

	// Rematch: nothing changed, the same counts; recorded in the audit log.
	re := runCLI(t, t.Context(), d.env, "match", "rematch", "--district", d.district)
	if re.code != exitOK || re.stdout != "student: 8 matched, 0 suggested, 1 unmatched, 0 duplicate\n" {
		t.Errorf("rematch: exit %d, stdout %q", re.code, re.stdout)
	}
	if state := matchState(t, url); !strings.Contains(state, "audit cli:tester rematchAppRecords student: 8 matched") {
		t.Errorf("the rematch is not in the audit log:\n%s", state)
	}
	re = runCLI(t, t.Context(), d.env, "match", "rematch", "--district", d.district, "--type", "TEACHER")
	if re.code != exitOK || re.stdout != "teacher: 0 matched, 0 suggested, 0 unmatched, 0 duplicate\n" {
		t.Errorf("rematch of teachers: exit %d, stdout %q", re.code, re.stdout)
	}
	re = runCLI(t, t.Context(), d.env, "match", "rematch", "--district", "000000000000000000000000")
	if re.code != exitFailure || !strings.Contains(re.stderr, `district "000000000000000000000000" is not in the mirror`) {
		t.Errorf("rematch of a district not in the mirror: exit %d, stderr %q", re.code, re.stderr)
	}
}

// recordLines is the app records' part of a matchState.
func recordLines(state string) string {
	var out []string
	for l := range strings.SplitSeq(state, "\n") {
		if strings.HasPrefix(l, "record ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMatchImportFromStdin: "-" reads stdin (read twice: spooled); --map and --id-column name columns the
// headers do not; the records an earlier import had and this one has not are kept and named.
func TestMatchImportFromStdin(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	url := d.env[envDatabaseURL]
	students := mirrorStudents(t, url, d.district, 6)
	if r := runCLI(t, t.Context(), d.env, "match", "import", "--district", d.district, "--type", "student",
		writeFile(t, "students.csv", studentsCSV(students))); r.code != exitOK {
		t.Fatalf("first import: exit %d\n%s", r.code, r.stderr)
	}

	// The same students under other names, the last two left out.
	var b strings.Builder
	b.WriteString("Geburtsdatum;Vorname;Nachname;Kennung;Schülernummer\n")
	for i, s := range students[:4] {
		fmt.Fprintf(&b, "%s;%s;%s;%s;app-%d\n", s.dob, s.first, s.last, s.sisID, i+1)
	}
	csvText := strings.ReplaceAll(b.String(), ";", ",")
	var stdout, stderr testlog.Buffer
	code := run(t.Context(), []string{"match", "import", "--district", d.district, "--type", "student", "--id-column", "schülernummer",
		"--map", "dob=Geburtsdatum,first_name=Vorname", "--map", "last_name=Nachname", "--map", "sis_id=Kennung", "-"},
		strings.NewReader(csvText), &stdout, &stderr, d.env.get)
	want := "student records of district " + d.district + ": 4 in the file: 0 new, 4 changed, 0 unchanged, 2 missing\n" +
		"after matching, the district's student records: 4 matched, 0 suggested, 0 unmatched, 0 duplicate\n" +
		"missing (kept, left out of the export): app-5, app-6\n"
	if code != exitOK || stdout.String() != want || stderr.String() != "" {
		t.Errorf("import from stdin: exit %d, stdout\n%s\nstderr %q; want 0 and\n%s", code, stdout.String(), stderr.String(), want)
	}
	state := matchState(t, url)
	for _, line := range []string{"STUDENT stdin records=4", "app-5 MATCHED clever=" + students[4].cleverID} {
		if !strings.Contains(state, line) {
			t.Errorf("after the import from stdin, the database lacks %q:\n%s", line, state)
		}
	}
	exp := runCLI(t, t.Context(), d.env, "match", "export", "--district", d.district, "--type", "student", "--out", "-")
	rows := readCSV(t, exp.stdout)
	if want := []string{"app.Geburtsdatum", "app.Vorname", "app.Nachname", "app.Kennung", "app.Schülernummer", "clever.id"}; !slices.Equal(rows[0][:6], want) {
		t.Errorf("export header %q, want it to start %q", rows[0], want)
	}
	matched := 0
	col := byColumn(t, rows[0])
	for _, row := range rows[1:] {
		if col(row, "app.Schülernummer") == "app-5" || col(row, "app.Schülernummer") == "app-6" {
			t.Errorf("the export has a missing record: %q", row)
		}
		if col(row, "matchmaker_results") == "match" {
			matched++
		}
	}
	if matched != 4 {
		t.Errorf("the export has %d matches, want the 4 records of the latest import", matched)
	}
}

// TestMatchImportRefusesMalformedFile: a file with a problem changes nothing — no record, no import, no
// audit entry — and every problem is printed with its line (and column).
func TestMatchImportRefusesMalformedFile(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	url := d.env[envDatabaseURL]
	students := mirrorStudents(t, url, d.district, 3)
	if r := runCLI(t, t.Context(), d.env, "match", "import", "--district", d.district, "--type", "student",
		writeFile(t, "students.csv", studentsCSV(students))); r.code != exitOK {
		t.Fatalf("seed import: exit %d\n%s", r.code, r.stderr)
	}
	s := students[0]
	good := fmt.Sprintf("app-9,%s,%s,%s,%s,x", s.first, s.last, s.dob, s.sisID) // a row that would change the records
	const header = "app_id,First Name,last_name,Birth Date,sis_id,notes"
	tests := []struct {
		name, csv string
		flags     []string
		want      []string // the problems, as printed
	}{
		{"ragged row", header + "\n" + good + "\napp-10,Ann,Lee\n", nil,
			[]string{"line 3, column 4 (Birth Date): missing: the row has 3 values, the header 6"}},
		{"too many values", header + "\n" + good + "\napp-10,Ann,Lee,2010-01-01,S1,x,extra\n", nil,
			[]string{"line 3, column 7: 1 value too many: the row has 7 values, the header 6 (a value with a comma in it must be enclosed in double quotes)"}},
		{"bad quotes", header + "\n" + good + "\napp-10,Ann \"Annie\",Lee,2010-01-01,S1,x\napp-11,\"Bob,Lee,2010-01-01,S2,x\n", nil,
			[]string{
				`line 3, column 2 (First Name): a " in a value not enclosed in double quotes (byte 12 of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`,
				`line 4, column 2 (First Name): a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`,
			}},
		{"no id column", "First Name,last_name\nAnn,Lee\n", nil,
			[]string{`line 1: no internal id column: want one of app_id, id, internal_id, user_id, or name yours with --id-column (the header has "First Name", "last_name")`}},
		{"--id-column not in the header", header + "\n" + good + "\n", []string{"--id-column", "student_key"},
			[]string{`line 1: no id column "student_key" (--id-column): the header has "app_id", "First Name", "last_name", "Birth Date", "sis_id", "notes"`}},
		{"--map column not in the header", header + "\n" + good + "\n", []string{"--map", "dob=Born"},
			[]string{`line 1: --map dob=Born: the header has no column "Born" (it has "app_id", "First Name", "last_name", "Birth Date", "sis_id", "notes")`}},
		{"duplicate ids", header + "\n" + good + "\napp-10,Ann,Lee,2010-01-01,S1,x\napp-9,Bob,Lee,2010-01-01,S2,x\n", nil,
			[]string{`line 4, column 1 (app_id): id "app-9" is on line 2 too: list each record once`}},
		{"empty id", header + "\n" + good + "\n ,Ann,Lee,2010-01-01,S1,x\n", nil,
			[]string{`line 3, column 1 (app_id): empty id: every record needs its internal id`}},
		{"not UTF-8", header + "\n" + good + "\napp-10,Se\xf1or,Lee,2010-01-01,S1,x\n", nil,
			[]string{`line 3, column 2 (First Name): not UTF-8 text: byte 0xF1 at character 3 of the value; save the file as "CSV UTF-8"`}},
		{"empty file", "", nil,
			[]string{"line 1: the file is empty: want a header row naming the columns, one of them the internal id (app_id, id, internal_id, user_id, or the column --id-column names)"}},
		{"header only", header + "\n", nil,
			[]string{"line 2: no records: the file has a header row and nothing under it; want one row per student"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := matchState(t, url)
			path := writeFile(t, "bad.csv", tt.csv)
			wantErr := fmt.Sprintf("the file has %d problem%s; nothing was changed:\n  %s\n", len(tt.want),
				map[bool]string{false: "", true: "s"}[len(tt.want) > 1], strings.Join(tt.want, "\n  "))
			args := append([]string{"match", "import", "--district", d.district, "--type", "student"}, tt.flags...)
			r := runCLI(t, t.Context(), d.env, append(args, path)...)
			if want := "error: " + path + ": " + wantErr; r.code != exitFailure || r.stdout != "" || r.stderr != want {
				t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", r.code, r.stdout, r.stderr, want)
			}
			var stdout, stderr testlog.Buffer
			code := run(t.Context(), append(args, "-"), strings.NewReader(tt.csv), &stdout, &stderr, d.env.get)
			if want := "error: stdin: " + wantErr; code != exitFailure || stdout.String() != "" || stderr.String() != want {
				t.Errorf("from stdin: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, stdout.String(), stderr.String(), want)
			}
			if after := matchState(t, url); after != before {
				t.Errorf("the refused file changed the database:\n%s\nthen\n%s", before, after)
			}
		})
	}
}

func TestMatchUsageAndSetupErrors(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	e := env{envDatabaseURL: url}
	file := writeFile(t, "students.csv", "app_id,first_name\na1,Ann\n")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"match"}, exitUsage, "match needs a subcommand: import, export or rematch"},
		{[]string{"match", "import", "--district", "d", "--type", "student"}, exitUsage, "match import needs one file (or - for stdin), got 0 arguments"},
		{[]string{"match", "import", "--type", "student", file}, exitUsage, "--district is required"},
		{[]string{"match", "import", "--district", "d", file}, exitUsage, "--type is required: student, teacher, staff, school or section"},
		{[]string{"match", "import", "--district", "d", "--type", "parent", file}, exitUsage, `--type: unknown record type "parent"`},
		{[]string{"match", "import", "--district", "d", "--type", "student", "--map", "shoe_size=Shoes", file}, exitUsage, `--map: "shoe_size" is not a field`},
		{[]string{"match", "import", "--district", "d", "--type", "student", "--map", "dob", file}, exitUsage, `--map: "dob" is not FIELD=COLUMN`},
		{[]string{"match", "import", "--district", "d", "--type", "student", "--map", "dob=A", "--map", "dob=B", file}, exitUsage, "--map: dob is mapped twice"},
		{[]string{"match", "export", "--district", "d"}, exitUsage, "--type is required"},
		{[]string{"match", "export", "--type", "student"}, exitUsage, "--district is required"},
		{[]string{"match", "rematch", "--district", "d", "--type", "pupil"}, exitUsage, `--type: unknown record type "pupil"`},
		{[]string{"match", "rematch"}, exitUsage, "--district is required"},
		{[]string{"match", "import", "--district", "d", "--type", "student", filepath.Join(t.TempDir(), "missing.csv")}, exitFailure, "missing.csv: no such file or directory"},
		{[]string{"match", "import", "--district", "d", "--type", "student", t.TempDir()}, exitFailure, "is a directory: name a CSV file, or - for stdin"},
		{[]string{"match", "import", "--district", "d", "--type", "student", file}, exitFailure,
			`error: import student records: not found: district "d" is not in the mirror (has it been synced?)`},
		{[]string{"match", "export", "--district", "d", "--type", "school"}, exitFailure,
			`error: export school records: not found: no school records have been imported for district "d"`},
	} {
		r := runCLI(t, t.Context(), e, c.args...)
		if r.code != c.code || r.stdout != "" || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.code, c.want)
		}
	}
	if state := matchState(t, url); state != "suggestions 0\n" {
		t.Errorf("the refused commands wrote:\n%s", state)
	}

	badOrder := env{envDatabaseURL: url, envMatchOrder: "student=sis_id,shoe_size"}
	if r := runCLI(t, t.Context(), badOrder, "match", "rematch", "--district", "d"); r.code != exitFailure ||
		!strings.Contains(r.stderr, `ROSTERMIRROR_MATCH_ORDER: student: "shoe_size" is not a field`) {
		t.Errorf("a bad ROSTERMIRROR_MATCH_ORDER: exit %d, stderr %q", r.code, r.stderr)
	}

	unmigrated := env{envDatabaseURL: dbtest.EmptyURL(t)}
	for _, args := range [][]string{
		{"match", "import", "--district", "d", "--type", "student", file},
		{"match", "export", "--district", "d", "--type", "student"},
		{"match", "rematch", "--district", "d"},
	} {
		r := runCLI(t, t.Context(), unmigrated, args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "database is not migrated: run `rostermirror migrate`") {
			t.Errorf("%s on an unmigrated database: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// TestMatchExportHTTP is GET /match/export through the server's real handler: an admin key only, the CSV
// the CLI writes, 400 for a bad request and 404 for a district with no import of the type.
func TestMatchExportHTTP(t *testing.T) {
	t.Parallel()
	d := syncDistrict(t, nil)
	url := d.env[envDatabaseURL]
	students := mirrorStudents(t, url, d.district, 5)
	if r := runCLI(t, t.Context(), d.env, "match", "import", "--district", d.district, "--type", "student",
		writeFile(t, "students.csv", studentsCSV(students, ghostRow))); r.code != exitOK {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	cli := runCLI(t, t.Context(), d.env, "match", "export", "--district", d.district, "--type", "student")
	if cli.code != exitOK {
		t.Fatalf("export: exit %d\n%s", cli.code, cli.stderr)
	}

	db := openStore(t, url)
	keys := auth.NewStore(db, nil)
	newKey := func(scopes ...auth.Scope) string {
		k, _, err := keys.Create(t.Context(), "test "+string(scopes[0]), scopes, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	admin, read, scrape := newKey(auth.ScopeAdmin), newKey(auth.ScopeRead, auth.ScopeSensitive), newKey(auth.ScopeMetrics)
	srv := httptest.NewServer(newHTTPHandler(handlerDeps{DB: db, Logger: discardLogger(), Metrics: metrics.New(), Keys: keys}))
	t.Cleanup(srv.Close)

	path := "/match/export?district=" + d.district + "&type=student"
	tests := []struct {
		name, key, path string
		code            int
		body            string // the body, or a part of it for an error
	}{
		{"no key", "", path, http.StatusUnauthorized, "missing API key"},
		{"unknown key", "rmk_nonsense", path, http.StatusUnauthorized, "invalid API key"},
		{"read key", read, path, http.StatusForbidden, `lacks the \"admin\" scope`},
		{"metrics key", scrape, path, http.StatusForbidden, "FORBIDDEN"},
		{"admin key", admin, path, http.StatusOK, cli.stdout},
		{"type in upper case", admin, "/match/export?district=" + d.district + "&type=STUDENT", http.StatusOK, cli.stdout},
		{"unknown type", admin, "/match/export?district=" + d.district + "&type=parent", http.StatusBadRequest,
			`unknown record type "parent": want student, teacher, staff, school or section`},
		{"no type", admin, "/match/export?district=" + d.district, http.StatusBadRequest, "missing type"},
		{"no district", admin, "/match/export?type=student", http.StatusBadRequest, "missing district"},
		{"no import of the type", admin, "/match/export?district=" + d.district + "&type=teacher", http.StatusNotFound,
			`no teacher records have been imported for district "` + d.district + `"`},
		{"unknown district", admin, "/match/export?district=nope&type=student", http.StatusNotFound, `district "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+tt.path, nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tt.code {
				t.Fatalf("%d %q, want %d", resp.StatusCode, body, tt.code)
			}
			if tt.code != http.StatusOK {
				if !strings.Contains(body, tt.body) || strings.Contains(body, "app-ghost") {
					t.Errorf("body %q, want it to contain %q", body, tt.body)
				}
				return
			}
			if body != tt.body {
				t.Errorf("the CSV differs from the CLI's export:\n%s\nwant\n%s", body, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] != "matchmaker-"+d.district+"-student.csv" {
				t.Errorf("Content-Disposition %q: %v", resp.Header.Get("Content-Disposition"), err)
			}
			if resp.ContentLength != int64(len(tt.body)) {
				t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(tt.body))
			}
		})
	}

	// The requests are counted under their path.
	code, m := getWithKey(t, srv.URL+"/metrics", scrape)
	for _, line := range []string{
		`rostermirror_http_requests_total{code="200",path="/match/export"} 2`,
		`rostermirror_http_requests_total{code="404",path="/match/export"} 2`,
	} {
		if code != http.StatusOK || !strings.Contains(m, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// lateStudent is a student of the demo district that Clever shares only later.
type lateStudent struct {
	ID    string
	Name  struct{ First, Last string }
	Roles struct {
		Student *struct {
			SISID string `json:"sis_id"`
			DOB   string `json:"dob"`
		}
	}
}

// withLateStudent syncs the demo district with one of its students (with a SIS id and a date of birth)
// unshared, imports the app's students with that one among them (unmatched), then shares it again.
func withLateStudent(t *testing.T) (syncedDistrict, lateStudent) {
	t.Helper()
	var late lateStudent
	d := syncDistrict(t, func(sim *cleversim.Server, ds *cleversim.Dataset) {
		for _, raw := range ds.Users {
			late.Roles.Student = nil
			if err := json.Unmarshal(raw, &late); err != nil {
				t.Fatal(err)
			}
			if s := late.Roles.Student; s != nil && s.SISID != "" && s.DOB != "" {
				break
			}
		}
		if err := sim.Unshare(cleversim.KindUsers, late.ID); err != nil {
			t.Fatal(err)
		}
	})
	students := mirrorStudents(t, d.env[envDatabaseURL], d.district, 3)
	row := fmt.Sprintf("app-late,%s,%s,%s,%s,shared later", late.Name.First, late.Name.Last, late.Roles.Student.DOB, late.Roles.Student.SISID)
	imp := runCLI(t, t.Context(), d.env, "match", "import", "--district", d.district, "--type", "student",
		writeFile(t, "students.csv", studentsCSV(students, row)))
	if imp.code != exitOK || !strings.Contains(imp.stdout, "after matching, the district's student records: 3 matched, 0 suggested, 1 unmatched, 0 duplicate\n") {
		t.Fatalf("import: exit %d, stdout %q", imp.code, imp.stdout)
	}
	if err := d.sim.Reshare(cleversim.KindUsers, late.ID); err != nil {
		t.Fatal(err)
	}
	return d, late
}

// startServe runs `rostermirror serve` for the test and returns its base URL once it is ready.
// postGraphQL posts a GraphQL request to serve at base with an API key; it returns the status and body.
func postGraphQL(t *testing.T, base, key, query string, variables map[string]any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func startServe(t *testing.T, e env) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() { done <- runCLI(t, ctx, e, "serve", "--addr", addr) }()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			t.Errorf("serve exited %d:\n%s", r.code, r.stderr)
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not become ready")
		}
	}
}

// TestSyncRematches: a student the app has but Clever did not share is unmatched; once Clever shares it,
// the next sync matches it (apprecord.Service.Syncer) — a sync from the command line, and one that
// serve runs (started through the API, like the scheduler's), after which /match/export shows the match.
func TestSyncRematches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sync func(t *testing.T, d syncedDistrict) (check func(t *testing.T))
	}{
		{"sync command", func(t *testing.T, d syncedDistrict) func(*testing.T) {
			if r := runCLI(t, t.Context(), d.env, "sync", "--district", d.district); r.code != exitOK {
				t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
			}
			return nil
		}},
		{"serve", func(t *testing.T, d syncedDistrict) func(*testing.T) {
			created := runCLI(t, t.Context(), d.env, "apikey", "create", "--name", "ops", "--scope", "admin")
			key := strings.TrimSpace(created.stdout)
			base := startServe(t, d.env)
			if code, b := postGraphQL(t, base, key, "mutation($id: ID!) { syncDistrict(id: $id) { id } }", map[string]any{"id": d.district}); code != http.StatusOK || strings.Contains(b, `"errors"`) {
				t.Fatalf("syncDistrict: %d %s", code, b)
			}
			// The run goes on in the background: wait for the rematch that follows it.
			for deadline := time.Now().Add(20 * time.Second); !strings.Contains(matchState(t, d.env[envDatabaseURL]), "app-late MATCHED"); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no rematch after the sync serve ran")
				}
			}
			return func(t *testing.T) {
				code, csvText := getWithKey(t, base+"/match/export?district="+d.district+"&type=student", key)
				if code != http.StatusOK || !strings.Contains(csvText, "\napp-late,") {
					t.Fatalf("/match/export: %d\n%s", code, csvText)
				}
				// The metrics count the app's records by type and status.
				if code, metrics := getWithKey(t, base+"/metrics", key); code != http.StatusOK ||
					!strings.Contains(metrics, "\n"+`rostermirror_app_records{status="MATCHED",type="student"} `) ||
					!strings.Contains(metrics, "\nrostermirror_match_suggestions_open ") {
					t.Errorf("/metrics lacks matching's gauges: %d\n%s", code, metrics)
				}
				rows := readCSV(t, csvText)
				col := byColumn(t, rows[0])
				for _, row := range rows[1:] {
					if col(row, "app.app_id") == "app-late" && (col(row, "matchmaker_results") != "match" || col(row, "clever.id") == "") {
						t.Errorf("/match/export after the sync: %q", row)
					}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, late := withLateStudent(t)
			check := tt.sync(t, d)
			state := matchState(t, d.env[envDatabaseURL])
			if !strings.Contains(state, "record STUDENT app-late MATCHED clever="+late.ID+" ") {
				t.Errorf("the sync did not match the student Clever shared:\n%s", state)
			}
			if strings.Contains(state, "rematchAppRecords") {
				t.Errorf("a sync's rematch is audited as an admin's:\n%s", state)
			}
			if check != nil {
				check(t)
			}
		})
	}
}
