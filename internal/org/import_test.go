package org_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rostermirror/rostermirror/ent/organization"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/org"
)

// seedCSV is the organizations the import tests start from.
const seedCSV = `external_id,name,mdr_number,nces_id,state,email_domains
ACME-1,Acme ISD,01234567,4819650,TX,acme.k12.tx.us
BETA,Beta Public Schools,,0100005,AL,beta.org
`

const header6 = "external_id,name,mdr_number,nces_id,state,email_domains\n"

// seed imports seedCSV.
func seed(t *testing.T, svc *org.Service, b *bundle) {
	t.Helper()
	if _, err := svc.Import(t.Context(), strings.NewReader(seedCSV), "cli:seed"); err != nil {
		t.Fatalf("seed: %v", err)
	}
	b.signals.told()
}

func utf16File(s string) string {
	var b []byte
	b = append(b, 0xff, 0xfe)
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func TestImportRefusesMalformedFiles(t *testing.T) {
	t.Parallel()
	const columns = "external_id, name, mdr_number, nces_id, state, email_domains, contact_emails, auto_link_invites"
	tests := []struct {
		name string
		csv  string
		want []string // the problems, exactly
	}{
		{name: "ragged row, too few values",
			csv:  header6 + "ACME-1,Acme ISD,01234567,4819650,TX,acme.k12.tx.us\nNEW,New ISD,7654321\n",
			want: []string{"line 3, column 4 (nces_id): missing: the row has 3 values, the header 6"}},
		{name: "ragged row, too many values",
			csv:  header6 + "ACME-1,Acme ISD, Texas,01234567,4819650,TX,acme.org\n",
			want: []string{"line 2, column 7: 1 value too many: the row has 7 values, the header 6 (a value with a comma in it must be enclosed in double quotes)"}},
		{name: "bare quote",
			csv:  header6 + `NEW,The "Best" ISD,,,TX,` + "\n",
			want: []string{`line 2, column 2 (name): a " in a value not enclosed in double quotes (byte 9 of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`}},
		{name: "stray quote in a quoted value",
			csv:  header6 + `NEW,"New "ISD",,,TX,` + "\n",
			want: []string{`line 2, column 2 (name): a " in a value enclosed in double quotes is not doubled, or its closing " is not followed by a comma (byte 10 of the line): write it as in "The ""Best"" ISD"`}},
		{name: "quote never closed",
			csv:  header6 + "ACME-1,Acme ISD,01234567,4819650,TX,acme.k12.tx.us\n" + `NEW,"New ISD,,,TX,` + "\nOTHER,Other,,,TX,\n",
			want: []string{`line 3, column 2 (name): a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`}},
		{name: "quote closed lines later",
			csv:  header6 + `NEW,"New ISD,,,TX,` + "\nOTHER,\"Other\" x,,,TX,\nLAST,Last,,,TX,\n",
			want: []string{`line 2, column 2 (name): a value in double quotes starts here and is not closed before line 3 (byte 7): its closing " is missing, or a " in it is not doubled`}},
		{name: "duplicate external ids",
			csv: header6 + "ACME-1,Acme ISD,,,TX,\nBETA,Beta,,,AL,\nACME-1 ,Acme again,,,TX,\nBETA,Beta again,,,AL,\n",
			want: []string{
				`line 4, column 1 (external_id): "ACME-1" is on line 2 too: list each organization once`,
				`line 5, column 1 (external_id): "BETA" is on line 3 too: list each organization once`,
			}},
		{name: "duplicate external id of a row with another problem",
			csv: header6 + "ACME-1,Acme ISD,N/A,,TX,\nACME-1,Acme again,,,TX,\n",
			want: []string{
				`line 2, column 3 (mdr_number): "N/A" is not an MDR number: want its digits, such as 01234567`,
				`line 3, column 1 (external_id): "ACME-1" is on line 2 too: list each organization once`,
			}},
		{name: "not UTF-8",
			csv:  header6 + "ACME-1,Acme ISD,,,TX,\nNEW,Caf\xe9 ISD,,,TX,\n",
			want: []string{`line 3, column 2 (name): not UTF-8 text: byte 0xE9 at character 4 of the value; save the file as "CSV UTF-8"`}},
		{name: "not UTF-8 on the second line of a value",
			csv:  header6 + "NEW,\"New\nCaf\xe9 ISD\",,,TX,\n",
			want: []string{`line 3, column 2 (name): not UTF-8 text: byte 0xE9 at character 4 of the value's line; save the file as "CSV UTF-8"`}},
		{name: "not UTF-8 in the header",
			csv: "external_id,n\xe4me\nA,B\n",
			want: []string{
				`line 1, column 2: not UTF-8 text: byte 0xE4 at character 2 of the value; save the file as "CSV UTF-8"`,
				`line 1: no name column: the header must name at least external_id and name (it has "external_id", "n\xe4me")`,
			}},
		{name: "UTF-16",
			csv:  utf16File(header6 + "NEW,New ISD,,,TX,\n"),
			want: []string{`line 1: the file is UTF-16 text (Excel's "Unicode Text"): save it as "CSV UTF-8"`}},
		{name: "empty file", csv: "",
			want: []string{"line 1: the file is empty: want a header row naming the columns, at least external_id and name"}},
		{name: "byte order mark only", csv: "\xef\xbb\xbf",
			want: []string{"line 1: the file is empty: want a header row naming the columns, at least external_id and name"}},
		{name: "blank lines only", csv: "\n\r\n\n",
			want: []string{"line 1: the file is empty: want a header row naming the columns, at least external_id and name"}},
		{name: "missing required column",
			csv:  "External ID,mdr_number\nNEW,01234567\n",
			want: []string{`line 1: no name column: the header must name at least external_id and name (it has "External ID", "mdr_number")`}},
		{name: "column twice",
			csv:  "external_id,Name,name\nNEW,New ISD,New ISD\n",
			want: []string{"line 1, column 3 (name): column 2 is name too"}},
		{name: "every bad value of a row",
			csv: "external_id,name,mdr_number,nces_id,state,email_domains,contact_emails,auto_link_invites\n" +
				"NEW,,N/A,12345,Tex,gmail.com;new.org,jane,maybe\n",
			want: []string{
				"line 2, column 2 (name): required",
				`line 2, column 3 (mdr_number): "N/A" is not an MDR number: want its digits, such as 01234567`,
				`line 2, column 4 (nces_id): "12345" is not an NCES id: want 7 digits (a district) or 12 (a school), not 5`,
				`line 2, column 5 (state): "Tex" is not a US state: want a two-letter code such as TX, or a name such as Texas`,
				`line 2, column 6 (email_domains): "gmail.com" is a public e-mail provider's domain: anyone can have an address there, so it tells nothing about an organization`,
				`line 2, column 7 (contact_emails): "jane" is not an e-mail address`,
				`line 2, column 8 (auto_link_invites): "maybe" is not a yes/no value: want true, false, yes, no, 1, 0 or empty (false)`,
			}},
		{name: "value in a column without a name",
			csv:  "external_id,name,\nNEW,New ISD,\nOTHER,Other,x\n",
			want: []string{"line 3, column 3: a value in a column without a name: name the column (one of " + columns + ") or leave it empty"}},
		{name: "line numbers with CRLF and a value over two lines",
			csv: "external_id,name,state\r\nNEW,\"New\r\nISD\",TX\r\nOTHER,Other,ZZ\r\n",
			want: []string{
				"line 2, column 2 (name): contains a control character (a line break, a tab, …)",
				`line 4, column 3 (state): "ZZ" is not a US state: want a two-letter code such as TX`,
			}},
		{name: "a problem of every kind, all reported",
			csv: header6 + "A,A,,,TX,\nB,B,,,TX\nC,\"C\" c,,,TX,\nA,A2,,,TX,\nD,D\xff,,,TX,\nE,E,,,Texass,\n",
			want: []string{
				"line 3, column 6 (email_domains): missing: the row has 5 values, the header 6",
				`line 4, column 2 (name): a " in a value enclosed in double quotes is not doubled, or its closing " is not followed by a comma (byte 5 of the line): write it as in "The ""Best"" ISD"`,
				`line 5, column 1 (external_id): "A" is on line 2 too: list each organization once`,
				`line 6, column 2 (name): not UTF-8 text: byte 0xFF at character 2 of the value; save the file as "CSV UTF-8"`,
				`line 7, column 5 (state): "Texass" is not a US state: want a two-letter code such as TX, or a name such as Texas`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, b := setup(t)
			seed(t, svc, b)
			before := snapshot(t, b.db)

			for _, dry := range []bool{true, false} {
				var err error
				if dry {
					_, err = svc.DryRun(t.Context(), strings.NewReader(tt.csv))
				} else {
					_, err = svc.Import(t.Context(), strings.NewReader(tt.csv), "cli:test")
				}
				var ie *org.ImportError
				if !errors.As(err, &ie) {
					t.Fatalf("dry run %v: error %v, want an *org.ImportError", dry, err)
				}
				var got []string
				for _, p := range ie.Problems {
					got = append(got, p.String())
				}
				if !slices.Equal(got, tt.want) || ie.More != 0 {
					t.Errorf("dry run %v: problems\n%s\nwant\n%s", dry, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				if !strings.Contains(err.Error(), "nothing was changed:\n  "+tt.want[0]) {
					t.Errorf("dry run %v: error %q does not say nothing was changed and list the problems", dry, err)
				}
			}
			if after := snapshot(t, b.db); after != before {
				t.Errorf("a refused file changed the database:\nbefore\n%s\nafter\n%s", before, after)
			}
			if told := b.signals.told(); told != nil {
				t.Errorf("a refused file told onboarding of %v", told)
			}
		})
	}
}

func TestImportListsFiftyProblemsAndCountsTheRest(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	var file strings.Builder
	file.WriteString("external_id,name,state\n")
	for i := range 60 {
		fmt.Fprintf(&file, "ORG-%d,Org %d,ZZ\n", i, i)
	}
	_, err := svc.Import(t.Context(), strings.NewReader(file.String()), "cli:test")
	var ie *org.ImportError
	if !errors.As(err, &ie) || len(ie.Problems) != org.MaxProblems || ie.More != 10 {
		t.Fatalf("import of 60 bad rows: %v; want 50 problems listed and 10 more counted", err)
	}
	if last := ie.Problems[49].String(); !strings.HasPrefix(last, "line 51, column 3 (state): ") {
		t.Errorf("50th problem %q, want line 51's", last)
	}
	if msg := err.Error(); !strings.Contains(msg, "the file has 60 problems; nothing was changed") || !strings.HasSuffix(msg, "\n  … and 10 more") {
		t.Errorf("error %q, want the total and the count of those not listed", msg)
	}
	if n := b.db.Client.Organization.Query().CountX(t.Context()); n != 0 {
		t.Errorf("%d organizations after a refused import, want 0", n)
	}
}

func TestImportCreatesThenIsIdempotent(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	// A byte order mark, CRLF, headers in another case and order, spaces, a column without a name
	// that is empty throughout, values to normalise, an empty row.
	file := "\xef\xbb\xbfName , External ID,MDR Number,NCES-ID,State,Email Domains,contact_emails,auto_link_invites,\r\n" +
		"  Acme ISD ,ACME-1,MDR 01234567,4819650,texas,ACME.k12.tx.us; @acme.org ;acme.org,Jane Doe <Jane@Acme.org>;bob@acme.org,yes,\r\n" +
		",,,,,,,,\r\n" +
		`"Beta ""Public"" Schools",BETA,,100005,Alabama,beta.org,,,` + "\r\n" +
		"Gamma,GAMMA,,,,,,,\r\n"

	rep, err := svc.Import(t.Context(), strings.NewReader(file), "cli:alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Summary(); got != "3 created, 0 updated, 0 unchanged, 0 not in file" {
		t.Errorf("first import: %s", got)
	}
	if got := entries(rep.Created); got != "2:ACME-1:Acme ISD 4:BETA:Beta \"Public\" Schools 5:GAMMA:Gamma" {
		t.Errorf("created %s", got)
	}
	acme := byExternalID(t, b.db, "ACME-1")
	if acme.Name != "Acme ISD" || acme.MdrNumber != "01234567" || acme.NcesID != "4819650" || acme.State != "TX" ||
		!slices.Equal(acme.EmailDomains, []string{"acme.k12.tx.us", "acme.org"}) ||
		!slices.Equal(acme.ContactEmails, []string{"bob@acme.org", "jane@acme.org"}) || !acme.AutoLinkInvites {
		t.Errorf("ACME-1 stored as %+v, want its values normalised", acme)
	}
	if beta := byExternalID(t, b.db, "BETA"); beta.NcesID != "0100005" || beta.State != "AL" || beta.MdrNumber != "" {
		t.Errorf("BETA stored as %+v", beta)
	}
	if rep.Created[0].ID != acme.ID {
		t.Errorf("report's id of ACME-1 %q, want %q", rep.Created[0].ID, acme.ID)
	}
	if told := b.signals.told(); len(told) != 1 || len(told[0]) != 3 || told[0][0] != acme.ID {
		t.Errorf("onboarding told %v, want the 3 created organizations once", told)
	}

	// Again: nothing changes, not even updated_at; the report says so.
	before := snapshot(t, b.db)
	rep, err = svc.Import(t.Context(), strings.NewReader(file), "cli:alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Summary(); got != "0 created, 0 updated, 3 unchanged, 0 not in file" {
		t.Errorf("second import: %s", got)
	}
	after := snapshot(t, b.db)
	if orgsOf(after) != orgsOf(before) {
		t.Errorf("re-import wrote organizations:\nbefore\n%s\nafter\n%s", before, after)
	}
	if told := b.signals.told(); told != nil {
		t.Errorf("re-import told onboarding of %v, want nothing", told)
	}
	// The import itself is audited, with its counts.
	imports := auditEntries(t, b.db, audit.ImportOrganizations)
	if len(imports) != 2 || imports[1].Actor != "cli:alice" || imports[1].Target != "organizations" ||
		imports[1].Outcome != "imported organizations: 0 created, 0 updated, 3 unchanged, 0 not in file" {
		t.Errorf("audit entries %+v, want one per import naming the actor and the counts", imports)
	}
}

// entries writes report entries as "line:external id:name …".
func entries(es []org.Entry) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = fmt.Sprintf("%d:%s:%s", e.Line, e.ExternalID, e.Name)
	}
	return strings.Join(s, " ")
}

// orgsOf is the organizations' part of a snapshot.
func orgsOf(snap string) string {
	var lines []string
	for l := range strings.SplitSeq(snap, "\n") {
		if !strings.HasPrefix(l, "audit ") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func TestImportUpdatesWhatChanged(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	seed(t, svc, b)
	gamma, err := svc.Create(admin(t), entCreate("GAMMA", "Gamma", func(in *createInput) {
		in.ContactEmails = []string{"jane@gamma.org"}
		in.EmailDomains = []string{"gamma.org"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	b.signals.told()
	beta := byExternalID(t, b.db, "BETA")
	gamma = byExternalID(t, b.db, "GAMMA") // as stored: Postgres keeps microseconds
	acmeBefore := byExternalID(t, b.db, "ACME-1")

	// ACME-1 gets a new name and state; BETA is left out; GAMMA's file lacks the optional columns it has
	// values in (contact_emails), and lists its domain again; NEW is new.
	file := header6 +
		"ACME-1,Acme Independent School District,01234567,4819650,NM,acme.k12.tx.us\n" +
		"GAMMA,Gamma,,,,gamma.org\n" +
		"NEW,New ISD,,,TX,new.org\n"
	rep, err := svc.Import(t.Context(), strings.NewReader(file), "cli:alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Summary(); got != "1 created, 1 updated, 1 unchanged, 1 not in file" {
		t.Errorf("import: %s", got)
	}
	if len(rep.Updated) != 1 || rep.Updated[0].ExternalID != "ACME-1" || rep.Updated[0].Line != 2 {
		t.Fatalf("updated %+v, want ACME-1 on line 2", rep.Updated)
	}
	wantChanges := []org.FieldChange{
		{Field: "name", Old: "Acme ISD", New: "Acme Independent School District"},
		{Field: "state", Old: "TX", New: "NM"},
	}
	if !slices.Equal(rep.Updated[0].Changes, wantChanges) {
		t.Errorf("changes %+v, want %+v", rep.Updated[0].Changes, wantChanges)
	}
	if got := entries(rep.Unchanged) + " | " + entries(rep.NotInFile) + " | " + entries(rep.Created); got != "3:GAMMA:Gamma | 0:BETA:Beta Public Schools | 4:NEW:New ISD" {
		t.Errorf("unchanged | not in file | created: %s", got)
	}

	// Only ACME-1 was written; BETA (not in the file) and GAMMA are as they were, GAMMA's contacts kept.
	acme := byExternalID(t, b.db, "ACME-1")
	if acme.Name != "Acme Independent School District" || acme.State != "NM" || !acme.UpdatedAt.After(acmeBefore.UpdatedAt) {
		t.Errorf("ACME-1 after the import: %+v", acme)
	}
	if after := byExternalID(t, b.db, "BETA"); !after.UpdatedAt.Equal(beta.UpdatedAt) {
		t.Errorf("BETA, not in the file, was written: updated_at %v → %v", beta.UpdatedAt, after.UpdatedAt)
	}
	if after := byExternalID(t, b.db, "GAMMA"); !after.UpdatedAt.Equal(gamma.UpdatedAt) || !slices.Equal(after.ContactEmails, []string{"jane@gamma.org"}) {
		t.Errorf("GAMMA after an import without its contacts' column: %+v", after)
	}
	newOrg := byExternalID(t, b.db, "NEW")
	if told := b.signals.told(); len(told) != 1 || !slices.Equal(told[0], []string{newOrg.ID, acme.ID}) {
		t.Errorf("onboarding told %v, want the created and the updated organization", told)
	}

	// The audit entry carries the changes.
	imports := auditEntries(t, b.db, audit.ImportOrganizations)
	last := imports[len(imports)-1]
	var details struct {
		Created, Updated []org.Entry
		Unchanged        int
		NotInFile        int
	}
	if err := json.Unmarshal(last.Details, &details); err != nil {
		t.Fatal(err)
	}
	if last.Actor != "cli:alice" || len(details.Created) != 1 || details.Created[0].ID != newOrg.ID ||
		len(details.Updated) != 1 || !slices.Equal(details.Updated[0].Changes, wantChanges) || details.Unchanged != 1 || details.NotInFile != 1 {
		t.Errorf("audit entry %s %s, details %s", last.Actor, last.Outcome, last.Details)
	}
}

func TestImportSensitiveAndListChanges(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	file := "external_id,name,email_domains,contact_emails,auto_link_invites\nA,A,a.org,jane@a.org,no\n"
	if _, err := svc.Import(t.Context(), strings.NewReader(file), "cli:test"); err != nil {
		t.Fatal(err)
	}
	file = "external_id,name,email_domains,contact_emails,auto_link_invites\nA,A,b.org;a.org,bob@a.org,1\n"
	rep, err := svc.Import(t.Context(), strings.NewReader(file), "cli:test")
	if err != nil {
		t.Fatal(err)
	}
	want := []org.FieldChange{
		{Field: "email_domains", Old: "a.org", New: "a.org;b.org"},
		{Field: "contact_emails", Sensitive: true},
		{Field: "auto_link_invites", Old: "false", New: "true"},
	}
	if len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Changes, want) {
		t.Fatalf("updated %+v, want changes %+v", rep.Updated, want)
	}
	if s := rep.Updated[0].Changes[1].String(); s != "contact_emails: changed" {
		t.Errorf("a contact e-mails change reads %q, want it named without the addresses", s)
	}
	imports := auditEntries(t, b.db, audit.ImportOrganizations)
	if d := string(imports[1].Details); strings.Contains(d, "jane@") || strings.Contains(d, "bob@") {
		t.Errorf("audit details show contact e-mails: %s", d)
	}

	// Emptying the columns clears the values.
	file = "external_id,name,email_domains,contact_emails,auto_link_invites\nA,A,,,\n"
	if _, err := svc.Import(t.Context(), strings.NewReader(file), "cli:test"); err != nil {
		t.Fatal(err)
	}
	if a := byExternalID(t, b.db, "A"); a.EmailDomains != nil || a.ContactEmails != nil || a.AutoLinkInvites {
		t.Errorf("after emptying the columns: %+v", a)
	}
}

func TestImportKeepsLeadingZerosOfMDR(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	seed(t, svc, b) // ACME-1 has MDR 01234567
	importMDR := func(mdr string) *org.Report {
		t.Helper()
		rep, err := svc.Import(t.Context(), strings.NewReader("external_id,name,mdr_number\nACME-1,Acme ISD,"+mdr+"\n"), "cli:test")
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// A spreadsheet dropped the zero: the same MDR number, unchanged.
	if rep := importMDR("1234567"); len(rep.Unchanged) != 1 || byExternalID(t, b.db, "ACME-1").MdrNumber != "01234567" {
		t.Errorf("MDR without its leading zero: %s, stored %q; want unchanged 01234567", rep.Summary(), byExternalID(t, b.db, "ACME-1").MdrNumber)
	}
	// Another MDR number is a change.
	if rep := importMDR("7654321"); len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Changes, []org.FieldChange{{Field: "mdr_number", Old: "01234567", New: "7654321"}}) {
		t.Errorf("another MDR number: %+v", rep.Updated)
	}
	// Zeros a spreadsheet had dropped are put back.
	if rep := importMDR("07654321"); len(rep.Updated) != 1 || byExternalID(t, b.db, "ACME-1").MdrNumber != "07654321" {
		t.Errorf("MDR with its leading zero back: %s, stored %q", rep.Summary(), byExternalID(t, b.db, "ACME-1").MdrNumber)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	seed(t, svc, b)
	before := snapshot(t, b.db)
	rep, err := svc.DryRun(t.Context(), strings.NewReader(header6+"ACME-1,Acme,01234567,4819650,TX,acme.k12.tx.us\nNEW,New ISD,,,TX,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.Summary() != "1 created, 1 updated, 0 unchanged, 1 not in file" || rep.Created[0].ID != "" {
		t.Errorf("dry run report %+v", rep)
	}
	if after := snapshot(t, b.db); after != before {
		t.Errorf("a dry run wrote:\n%s", after)
	}
	if told := b.signals.told(); told != nil {
		t.Errorf("a dry run told onboarding of %v", told)
	}
}

func TestImportWarnsOfSharedIdentifiers(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	seed(t, svc, b) // ACME-1: MDR 01234567, NCES 4819650
	rep, err := svc.Import(t.Context(), strings.NewReader("external_id,name,mdr_number,nces_id\nACME-2,Acme Two,1234567,4819650\n"), "cli:test")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`mdr_number 1234567 is shared by organizations "ACME-2" (line 2), "ACME-1": a district with it will be proposed for each, a conflict for an admin to resolve`,
		`nces_id 4819650 is shared by organizations "ACME-2" (line 2), "ACME-1": a district with it will be proposed for each, a conflict for an admin to resolve`,
	}
	if !slices.Equal(rep.Warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(rep.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if rep.Summary() != "1 created, 0 updated, 0 unchanged, 2 not in file" {
		t.Errorf("import with warnings: %s; want it applied", rep.Summary())
	}
}

func TestImportSignalsFailureKeepsTheImport(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	b.signals.fail = errors.New("onboarding is down")
	rep, err := svc.Import(t.Context(), strings.NewReader(seedCSV), "cli:test")
	if err != nil || len(rep.Created) != 2 {
		t.Fatalf("import while onboarding fails: %v, %+v; want it applied", err, rep)
	}
	if n := b.db.Client.Organization.Query().CountX(t.Context()); n != 2 {
		t.Errorf("%d organizations, want 2", n)
	}
	if !strings.Contains(b.log.String(), "onboarding is down") {
		t.Errorf("the failure to tell onboarding was not logged: %s", b.log.String())
	}
}

func TestImportRowLimit(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	var file strings.Builder
	file.WriteString("external_id,name\n")
	for i := range org.MaxRows + 1 {
		fmt.Fprintf(&file, "ORG-%d,Org\n", i)
	}
	_, err := svc.Import(t.Context(), strings.NewReader(file.String()), "cli:test")
	var ie *org.ImportError
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].String() != "line 100002: more than 100000 organizations: split the file" {
		t.Fatalf("import of %d rows: %v", org.MaxRows+1, err)
	}
	if n := b.db.Client.Organization.Query().CountX(t.Context()); n != 0 {
		t.Errorf("%d organizations after a refused import, want 0", n)
	}
}

func TestImportHeaderOnly(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	seed(t, svc, b)
	before := orgsOf(snapshot(t, b.db))
	rep, err := svc.Import(t.Context(), strings.NewReader("external_id,name\n"), "cli:test")
	if err != nil || rep.Summary() != "0 created, 0 updated, 0 unchanged, 2 not in file" {
		t.Fatalf("import of a header alone: %v, %+v", err, rep)
	}
	if after := orgsOf(snapshot(t, b.db)); after != before {
		t.Errorf("an import listing nobody changed organizations:\n%s", after)
	}
}

// TestImportCRMExport: a file as a CRM exports it — Excel's BOM and CRLF, its own names for the columns,
// columns that are not an organization's, a full state name, a value with a comma — is read, and the
// columns it ignores are named in the report's warnings rather than dropped without a word.
func TestImportCRMExport(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	export := "\ufeffAccount ID,Account Name,MDR Number,NCES ID,State,Email Domains,Account Owner,Notes\r\n" +
		"cust-1,\"Springfield Public Schools (IL)\",00618843,1799101,Illinois,\"springfield.k12.il.us; SPRINGFIELD.K12.IL.US\",Dana,\"renewal, Q3\"\r\n" +
		"cust-2,Riverbend USD,,,CA,@riverbend.k12.ca.us,Lee,\r\n"
	rep, err := svc.Import(t.Context(), strings.NewReader(export), "cli:test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary() != "2 created, 0 updated, 0 unchanged, 0 not in file" {
		t.Errorf("report %s", rep.Summary())
	}
	const columns = "external_id, name, mdr_number, nces_id, state, email_domains, contact_emails, auto_link_invites"
	want := []string{
		"line 1, column 7 (Account Owner): not an organization's field: ignored (the fields are " + columns + ")",
		"line 1, column 8 (Notes): not an organization's field: ignored (the fields are " + columns + ")",
	}
	if !slices.Equal(rep.Warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(rep.Warnings, "\n"), strings.Join(want, "\n"))
	}
	o := b.db.Client.Organization.Query().Where(organization.ExternalID("cust-1")).OnlyX(t.Context())
	if o.Name != "Springfield Public Schools (IL)" || o.MdrNumber != "00618843" || o.State != "IL" || strings.Join(o.EmailDomains, ",") != "springfield.k12.il.us" {
		t.Errorf("cust-1 imported as %+v", o)
	}
}
