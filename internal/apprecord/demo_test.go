package apprecord_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

var update = flag.Bool("update", false, "rewrite testdata/match-students.csv")

// demoFile is the README's sample of an app's students for the demo district: the app's own export of
// the students it had before Clever, with the noise such exports carry (typos, nicknames, reformatted
// ids and dates, changed e-mails, students entered twice, students Clever does not have), the school
// given by name, and headers as a student information system writes them.
const demoFile = "../../testdata/match-students.csv"

func demoStudents(t *testing.T) []byte {
	ds := synth.Demo()
	set := match.Labelled(2026, match.LabelledOptions{Dataset: ds, AppShare: 0.85})
	schools := map[string]string{}
	for _, raw := range ds.Schools {
		var s struct{ ID, Name string }
		must(t, json.Unmarshal(raw, &s))
		schools[s.ID] = s.Name
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"Student ID", "First Name", "Middle Name", "Last Name", "Birth Date", "Email", "SIS ID", "State ID", "School", "Grade"})
	for _, r := range set.App {
		v := r.Values
		school := v[match.SchoolRef]
		if n, ok := schools[school]; ok {
			school = n
		}
		w.Write([]string{r.ID, v[match.FirstName], v[match.MiddleName], v[match.LastName], v[match.DOB], v[match.Email],
			v[match.SISID], v[match.StateID], school, v[match.Grade]})
	}
	w.Flush()
	return b.Bytes()
}

// TestDemoStudentsFile keeps testdata/match-students.csv what the generator makes (go test -run
// DemoStudentsFile -update rewrites it), and checks what the README says of it: imported into the demo
// district, most students match, the rest are suggested, duplicates are reported, and the students the
// app has that Clever does not stay unmatched.
func TestDemoStudentsFile(t *testing.T) {
	t.Parallel()
	want := demoStudents(t)
	if *update {
		must(t, os.WriteFile(demoFile, want, 0o644))
	}
	got, err := os.ReadFile(demoFile)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the generator makes: go test ./internal/apprecord -run DemoStudentsFile -update", demoFile)
	}
	e := newEnv(t, synth.Demo())
	imp, err := e.svc.Import(e.ctx, recsInput(e, match.Student, string(got), "Student ID"), "test")
	must(t, err)
	t.Logf("demo file: %d records: %d matched, %d suggested, %d unmatched, %d duplicate", imp.Records, imp.Matched, imp.Suggested, imp.Unmatched, imp.Duplicate)
	if imp.Matched < imp.Records*6/10 || imp.Suggested == 0 || imp.Unmatched == 0 || imp.Duplicate == 0 {
		t.Errorf("the demo file should show every outcome, most matched: %+v", imp)
	}
}
