package apprecord_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	recs "github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// snapshot is what an import may change, to compare before and after a refused one.
type snapshot struct {
	records, imports, suggestions, audit int
	updated                              string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	var b strings.Builder
	for _, r := range e.db.Client.AppRecord.Query().Order(ent.Asc(apprecord.FieldID)).AllX(e.ctx) {
		fmt.Fprintf(&b, "%s %s %s %v %d;", r.ExternalID, r.Status, r.UpdatedAt, r.MissingSince, len(r.Fields))
	}
	return snapshot{
		records:     e.db.Client.AppRecord.Query().CountX(e.ctx),
		imports:     e.db.Client.AppImport.Query().CountX(e.ctx),
		suggestions: e.db.Client.MatchSuggestion.Query().CountX(e.ctx),
		audit:       e.db.Client.AuditEntry.Query().CountX(e.ctx),
		updated:     b.String(),
	}
}

// TestMalformedFilesChangeNothing: every kind of bad file is refused with its line (and column), after an
// import has stored records, and leaves records, results, imports and the audit log exactly as they were.
func TestMalformedFilesChangeNothing(t *testing.T) {
	t.Parallel()
	ds, _ := labelledDistrict(t, 9, 60)
	e := newEnv(t, ds)
	_, err := e.importCSV(match.Student, "app_id,first_name,last_name,sis_id\n1,Ann,Lee,1\n2,Bob,Ray,2\n")
	must(t, err)
	before := e.snapshot()
	for _, tc := range []struct{ name, file, want string }{
		{"ragged row", "app_id,first_name,last_name\n1,Ann,Lee\n2,Bob\n3,Cy,Dee\n", "line 3, column 3"},
		{"too many values", "app_id,first_name,last_name\n1,Ann,Lee,x\n", "line 2, column 4"},
		{"bad quoting", "app_id,first_name,last_name\n1,\"Ann,Lee\n", "line 2"},
		{"stray quote", "app_id,first_name,last_name\n1,An\"n,Lee\n", "line 2, column 2"},
		{"missing id column", "first_name,last_name\nAnn,Lee\n", "line 1"},
		{"empty id", "app_id,first_name\n1,Ann\n,Bob\n", "line 3, column 1"},
		{"duplicate ids", "app_id,first_name\n7,Ann\n8,Bob\n7,Cy\n", "line 4"},
		{"not UTF-8", "app_id,first_name\n1,Jos\xe9\n", "line 2, column 2"},
		{"UTF-16", "\xff\xfea\x00p\x00p\x00", "UTF-16"},
		{"empty file", "", "empty"},
		{"header only", "app_id,first_name,last_name\n", "no record"},
		{"a good start and a bad end", "app_id,first_name\n1,Ann\n2,Bob\n3,\"Cy\n", "line 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.importCSV(match.Student, tc.file)
			var ce *csvin.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want the file's problems", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("a refused file changed the database:\n%+v\n%+v", before, after)
			}
		})
	}
	// Options that name what the file does not have are refused the same way.
	_, err = e.svc.Import(e.ctx, recs.ImportInput{DistrictID: e.district, Type: match.Student, Options: match.CSVOptions{IDColumn: "student_key"},
		Open: openString("app_id,first_name\n1,Ann\n")}, "test")
	if err == nil || !strings.Contains(err.Error(), "student_key") {
		t.Errorf("--id-column not in the file: %v", err)
	}
	if _, err := e.importCSV(match.Type("pupil"), "app_id\n1\n"); !errors.Is(err, recs.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	_, err = e.svc.Import(e.ctx, recs.ImportInput{DistrictID: "nope", Type: match.Student, Open: openString("app_id\n1\n")}, "test")
	if !errors.Is(err, recs.ErrNotFound) {
		t.Errorf("unknown district: %v", err)
	}
	if after := e.snapshot(); after != before {
		t.Error("a refused import changed the database")
	}
}

// TestSchoolsTeachersAndSections: schools match on NCES id (and by name and state only as a suggestion);
// teachers on e-mail; sections on school and teacher given as the app's own ids — resolved through the
// app's matched schools and teachers — and the section's name.
func TestSchoolsTeachersAndSections(t *testing.T) {
	t.Parallel()
	ds := synth.Generate(synth.Config{Seed: 21, Students: 200, Teachers: 12, Staff: 4, Contacts: -1, Sections: 12, Courses: 4, Terms: 1})
	e := newEnv(t, ds)
	c := e.db.Client
	schools := c.School.Query().Where(school.DistrictID(e.district)).Order(ent.Asc(school.FieldID)).AllX(e.ctx)
	var sf strings.Builder
	sf.WriteString("School ID,School Name,NCES,MDR,State\n")
	for i, s := range schools {
		nces, mdr := s.NcesID, s.MdrNumber
		if i == 0 {
			nces, mdr = "", "" // found by its name and state only: a suggestion
		}
		fmt.Fprintf(&sf, "SCH-%d,%q,%s,%s,%s\n", i, strings.ToUpper(s.Name), nces, mdr, s.State)
	}
	imp, err := e.svc.Import(e.ctx, recs.ImportInput{DistrictID: e.district, Type: match.School, Options: match.CSVOptions{IDColumn: "School ID"},
		Open: openString(sf.String())}, "test")
	must(t, err)
	if imp.Matched != len(schools)-1 || imp.Suggested != 1 {
		t.Fatalf("schools: %d matched, %d suggested of %d; want all but one matched", imp.Matched, imp.Suggested, len(schools))
	}
	if r := e.record(match.School, "SCH-0"); len(e.open(r)) == 0 || e.open(r)[0].CleverID != schools[0].ID {
		t.Errorf("the school without NCES id is not suggested by name: %s %q", r.Status, r.Explanation)
	}
	// The admin accepts it.
	_, err = e.svc.AcceptSuggestion(admin(e.ctx), e.open(e.record(match.School, "SCH-0"))[0].ID)
	must(t, err)

	teachers := c.User.Query().Where(user.DistrictID(e.district), user.HasRolesWith(userrole.RoleEQ(userrole.RoleTeacher))).
		Order(ent.Asc(user.FieldID)).AllX(e.ctx)
	var tf strings.Builder
	tf.WriteString("id,email,first_name,last_name\n")
	for i, u := range teachers {
		fmt.Fprintf(&tf, "T-%d,%s,%s,%s\n", i, strings.ToUpper(u.Email), u.FirstName, u.LastName)
	}
	imp, err = e.importCSV(match.Teacher, tf.String())
	must(t, err)
	withEmail := 0
	for _, u := range teachers {
		if strings.Contains(u.Email, "@") {
			withEmail++
		}
	}
	if imp.Matched != withEmail || imp.Suggested != len(teachers)-withEmail {
		t.Fatalf("teachers: %d matched, %d suggested of %d, %d with an e-mail address", imp.Matched, imp.Suggested, len(teachers), withEmail)
	}
	// Those without one (Clever sends e-mails without an @, or none) are found by name; the admin accepts.
	for i := range teachers {
		if r := e.record(match.Teacher, fmt.Sprintf("T-%d", i)); r.Status == apprecord.StatusSUGGESTED {
			if !strings.Contains(r.Explanation, "name agrees") {
				t.Errorf("T-%d: %q", i, r.Explanation)
			}
			_, err := e.svc.AcceptSuggestion(admin(e.ctx), e.open(r)[0].ID)
			must(t, err)
		}
	}

	// Sections named by the app's own school and teacher ids.
	schoolApp := map[string]string{}
	for i, s := range schools {
		schoolApp[s.ID] = fmt.Sprintf("SCH-%d", i)
	}
	teacherApp := map[string]string{}
	for i, u := range teachers {
		teacherApp[u.ID] = fmt.Sprintf("T-%d", i)
	}
	sections := c.Section.Query().Where(section.DistrictID(e.district)).Order(ent.Asc(section.FieldID)).AllX(e.ctx)
	var secf strings.Builder
	secf.WriteString("id,name,school,teacher,period\n")
	want := 0
	for i, s := range sections {
		st, err := c.SectionTeacher.Query().Where(sectionteacher.SectionID(s.ID), sectionteacher.EndedAtIsNil()).
			Order(ent.Asc(sectionteacher.FieldPosition)).First(e.ctx)
		if err != nil || s.SchoolID == nil {
			continue
		}
		want++
		fmt.Fprintf(&secf, "SEC-%d,%q,%s,%s,%s\n", i, s.Name, schoolApp[*s.SchoolID], teacherApp[st.UserID], s.Period)
	}
	imp, err = e.importCSV(match.Section, secf.String())
	must(t, err)
	t.Logf("sections: %d matched, %d suggested of %d", imp.Matched, imp.Suggested, want)
	if want == 0 || imp.Matched+imp.Suggested != want || imp.Matched < want/2 {
		t.Errorf("sections: %d matched, %d suggested of %d (%+v)", imp.Matched, imp.Suggested, want, imp)
	}
	for i, s := range sections {
		r, err := c.AppRecord.Query().Where(apprecord.ExternalID(fmt.Sprintf("SEC-%d", i)), apprecord.TypeEQ(apprecord.TypeSECTION)).Only(e.ctx)
		if err != nil {
			continue
		}
		if r.Status == apprecord.StatusMATCHED && *r.CleverID != s.ID {
			t.Errorf("section SEC-%d matched to %s, want %s", i, *r.CleverID, s.ID)
		}
	}
}
