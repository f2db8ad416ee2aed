package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// writeFile writes content to a file in the test's temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// orgState writes every organization and audit entry in the database at url: equal when nothing was
// written.
func orgState(t *testing.T, url string) string {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var b strings.Builder
	for _, o := range db.Client.Organization.Query().Order(ent.Asc(organization.FieldExternalID)).AllX(ctx) {
		fmt.Fprintf(&b, "%s %q mdr=%q state=%q domains=%q updated=%s\n", o.ExternalID, o.Name, o.MdrNumber, o.State, o.EmailDomains,
			o.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
	for _, e := range db.Client.AuditEntry.Query().Order(ent.Asc(auditentry.FieldAt)).AllX(ctx) {
		fmt.Fprintf(&b, "audit %s %s %s\n", e.Actor, e.Action, e.Outcome)
	}
	return b.String()
}

const orgsCSV = `external_id,name,mdr_number,nces_id,state,email_domains
ACME-1,Acme ISD,MDR 01234567,4819650,Texas,acme.k12.tx.us;acme.org
BETA,Beta Public Schools,,0100005,AL,beta.org
`

func TestOrgImport(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	e := env{envDatabaseURL: url, "USER": "alice"}
	ctx := t.Context()
	file := writeFile(t, "orgs.csv", orgsCSV)

	first := runCLI(t, ctx, e, "org", "import", file)
	want := "organizations: 2 created, 0 updated, 0 unchanged, 0 not in file\n" +
		"created  ACME-1  Acme ISD (line 2)\n" +
		"created  BETA    Beta Public Schools (line 3)\n"
	if first.code != exitOK || first.stdout != want || first.stderr != "" {
		t.Fatalf("first import: exit %d, stdout %q, stderr %q; want 0 and\n%s", first.code, first.stdout, first.stderr, want)
	}
	if state := orgState(t, url); !strings.Contains(state, `ACME-1 "Acme ISD" mdr="01234567" state="TX" domains=["acme.k12.tx.us" "acme.org"]`) ||
		!strings.Contains(state, "audit cli:alice importOrganizations imported organizations: 2 created") {
		t.Errorf("after the first import:\n%s", state)
	}

	// Again: nothing changes.
	before := orgState(t, url)
	again := runCLI(t, ctx, e, "org", "import", file)
	if again.code != exitOK || again.stdout != "organizations: 0 created, 0 updated, 2 unchanged, 0 not in file\n" {
		t.Errorf("second import: exit %d, stdout %q", again.code, again.stdout)
	}
	if after := orgState(t, url); orgLines(after) != orgLines(before) {
		t.Errorf("the second import wrote organizations:\n%s\nthen\n%s", before, after)
	}

	// A dry run of a changed file reports the changes and writes nothing.
	changed := writeFile(t, "changed.csv", "external_id,name,state\nACME-1,Acme Independent School District,NM\nGAMMA,Gamma,CA\n")
	before = orgState(t, url)
	dry := runCLI(t, ctx, e, "org", "import", "--dry-run", changed)
	want = "dry run: nothing was written; the import would give\n" +
		"organizations: 1 created, 1 updated, 0 unchanged, 1 not in file\n" +
		"created      GAMMA   Gamma (line 3)\n" +
		`updated      ACME-1  Acme Independent School District (line 2): name: "Acme ISD" → "Acme Independent School District", state: "TX" → "NM"` + "\n" +
		"not in file  BETA    Beta Public Schools: kept\n"
	if dry.code != exitOK || dry.stdout != want {
		t.Errorf("dry run: exit %d, stdout\n%s\nwant\n%s", dry.code, dry.stdout, want)
	}
	if after := orgState(t, url); after != before {
		t.Errorf("the dry run wrote:\n%s", after)
	}

	// The same file for real, from stdin.
	var stdout, stderr testlog.Buffer
	code := run(ctx, []string{"org", "import", "-"}, strings.NewReader(mustRead(t, changed)), &stdout, &stderr, e.get)
	if code != exitOK || stdout.String() != strings.TrimPrefix(want, "dry run: nothing was written; the import would give\n") {
		t.Errorf("import from stdin: exit %d, stdout\n%s\nstderr %s", code, stdout.String(), stderr.String())
	}
	if after := orgState(t, url); !strings.Contains(after, `ACME-1 "Acme Independent School District" mdr="01234567" state="NM"`) {
		t.Errorf("after importing the changed file:\n%s", after)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// orgLines is the organizations' part of an orgState.
func orgLines(state string) string {
	var out []string
	for l := range strings.SplitSeq(state, "\n") {
		if !strings.HasPrefix(l, "audit ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestOrgImportRefusesMalformedFile(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	e := env{envDatabaseURL: url}
	if r := runCLI(t, t.Context(), e, "org", "import", writeFile(t, "orgs.csv", orgsCSV)); r.code != exitOK {
		t.Fatalf("seed import: exit %d", r.code)
	}
	tests := []struct {
		name, csv string
		want      []string // the problems' lines on stderr
	}{
		{"ragged row", "external_id,name,state\nACME-1,Acme ISD,TX\nNEW,New ISD\n",
			[]string{"line 3, column 3 (state): missing: the row has 2 values, the header 3"}},
		{"bad quotes", "external_id,name,state\nACME-1,Acme \"ISD\",TX\nNEW,\"New ISD,TX\n",
			[]string{
				`line 2, column 2 (name): a " in a value not enclosed in double quotes (byte 13 of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`,
				`line 3, column 2 (name): a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`,
			}},
		{"duplicate external ids", "external_id,name\nNEW,New ISD\nACME-1,Acme\nNEW,New again\n",
			[]string{`line 4, column 1 (external_id): "NEW" is on line 2 too: list each organization once`}},
		{"not UTF-8", "external_id,name\nNEW,Se\xf1or ISD\n",
			[]string{`line 2, column 2 (name): not UTF-8 text: byte 0xF1 at character 3 of the value; save the file as "CSV UTF-8"`}},
	}
	for _, tt := range tests {
		before := orgState(t, url)
		path := writeFile(t, "bad.csv", tt.csv)
		for _, args := range [][]string{{"org", "import", path}, {"org", "import", "--dry-run", path}} {
			r := runCLI(t, t.Context(), e, args...)
			want := fmt.Sprintf("error: %s: %s organizations: the file has %d problem%s; nothing was changed:\n  %s\n",
				path, map[bool]string{false: "import", true: "check"}[len(args) == 4], len(tt.want), map[bool]string{false: "", true: "s"}[len(tt.want) > 1],
				strings.Join(tt.want, "\n  "))
			if r.code != exitFailure || r.stdout != "" || r.stderr != want {
				t.Errorf("%s: %s: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", tt.name, strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
			}
		}
		if after := orgState(t, url); after != before {
			t.Errorf("%s: the refused file changed the database:\n%s\nthen\n%s", tt.name, before, after)
		}
	}
}

func TestOrgImportUsageAndSetupErrors(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.URL(t)}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"org", "import"}, exitUsage, "org import needs one file (or - for stdin), got 0 arguments"},
		{[]string{"org", "import", "a.csv", "b.csv"}, exitUsage, "got 2 arguments"},
		{[]string{"org", "import", "--frob", "a.csv"}, exitUsage, "unknown flag: --frob"},
		{[]string{"org"}, exitUsage, "org needs a subcommand: import"},
		{[]string{"org", "import", filepath.Join(t.TempDir(), "missing.csv")}, exitFailure, "missing.csv: no such file or directory"},
	} {
		r := runCLI(t, t.Context(), e, c.args...)
		if r.code != c.code || r.stdout != "" || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.code, c.want)
		}
	}

	unmigrated := env{envDatabaseURL: dbtest.EmptyURL(t)}
	r := runCLI(t, t.Context(), unmigrated, "org", "import", writeFile(t, "orgs.csv", orgsCSV))
	if r.code != exitFailure || !strings.Contains(r.stderr, "database is not migrated: run `rostermirror migrate`") {
		t.Errorf("import into an unmigrated database: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestOrgImportPrintsWarnings(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.URL(t)}
	r := runCLI(t, t.Context(), e, "org", "import", writeFile(t, "orgs.csv", "external_id,name,mdr_number\nA,A,0123\nB,B,123\n"))
	want := `warning: mdr_number 123 is shared by organizations "A" (line 2), "B" (line 3): a district with it will be proposed for each, a conflict for an admin to resolve` + "\n"
	if r.code != exitOK || r.stderr != want || !strings.HasPrefix(r.stdout, "organizations: 2 created") {
		t.Errorf("import of a shared MDR number: exit %d, stdout %q, stderr %q; want 0, the import, and\n%s", r.code, r.stdout, r.stderr, want)
	}
}
