package synth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

var update = flag.Bool("update", false, "rewrite the committed datasets: testdata/demo-district.json from Demo(), testdata/onboarding-districts.json from Onboarding()")

// demoFile is the committed demo district, relative to this package.
const demoFile = "../../../testdata/demo-district.json"

// midSize is a mid-size district, big enough that every "1 in N" edge case occurs.
var midSize = synth.Config{
	Seed: 42, Schools: 12, Students: 5000, Teachers: 250, Staff: 40, DistrictAdmins: 4,
	Contacts: 2000, Sections: 400, Courses: 150, Terms: 12,
}

func encode(t testing.TB, d *cleversim.Dataset) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatalf("write dataset: %v", err)
	}
	return buf.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := synth.Config{Seed: 7, Schools: 6, Students: 1500, Teachers: 80, Sections: 120, Courses: 50}
	a, b := encode(t, synth.Generate(cfg)), encode(t, synth.Generate(cfg))
	if !bytes.Equal(a, b) {
		t.Fatal("two Generate calls with the same Config differ")
	}
	cfg.Seed = 8
	if c := encode(t, synth.Generate(cfg)); bytes.Equal(a, c) {
		t.Fatal("Generate with seeds 7 and 8 gave the same bytes")
	}
	if !bytes.Equal(encode(t, synth.Demo()), encode(t, synth.Demo())) {
		t.Fatal("two Demo calls differ")
	}
}

func TestDemoFile(t *testing.T) {
	t.Parallel()
	got := encode(t, synth.Demo())
	if *update {
		if err := os.WriteFile(demoFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(demoFile)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./sync/cleversim/synth -run TestDemoFile -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not Demo(); review the change and rewrite it with: go test ./sync/cleversim/synth -run TestDemoFile -update", demoFile)
	}
}

func TestReadDataset(t *testing.T) {
	t.Parallel()
	want := synth.Demo()
	got, err := cleversim.ReadDataset(bytes.NewReader(encode(t, want)))
	if err != nil {
		t.Fatalf("ReadDataset: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want []json.RawMessage
	}{
		{"districts", got.Districts, want.Districts},
		{"schools", got.Schools, want.Schools},
		{"users", got.Users, want.Users},
		{"sections", got.Sections, want.Sections},
		{"terms", got.Terms, want.Terms},
		{"courses", got.Courses, want.Courses},
	} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s: read %d records, wrote %d", c.name, len(c.got), len(c.want))
			continue
		}
		for i := range c.got {
			if !bytes.Equal(c.got[i], c.want[i]) {
				t.Errorf("%s[%d] changed in the round trip", c.name, i)
			}
		}
	}
	if len(got.Events) != 0 {
		t.Errorf("read %d events, want none", len(got.Events))
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	f := check(t, synth.Demo(), sizes{
		schools: 4, students: 300, teachers: 16, staff: 6, admins: 2, contacts: 40,
		sections: 60, courses: 40, terms: 5,
	})
	if got := f.district["name"]; got != "#DEMO Rostermirror ISD" {
		t.Errorf("district name %q", got)
	}
	type school struct{ name, low, high, charter string }
	var got []school
	for _, s := range f.schools {
		got = append(got, school{s["name"].(string), s["low_grade"].(string), s["high_grade"].(string),
			s["ext"].(map[string]any)["charter_school"].(string)})
	}
	want := []school{
		{"Pineapple Elementary School", "TransitionalKindergarten", "5", "N"},
		{"Rockaway Beach Middle School", "6", "8", "Y"},
		{"Rockaway Beach Middle School Campus 2", "6", "8", ""},
		{"Rockaway Beach Middle School Campus 3", "6", "8", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("schools:\n got %v\nwant %v", got, want)
	}
	grades := map[string]bool{}
	for _, u := range f.students {
		grades[role(u, "student")["grade"].(string)] = true
	}
	for _, g := range []string{"TransitionalKindergarten", "Kindergarten", "1", "5", "6", "8"} {
		if !grades[g] {
			t.Errorf("no demo student in grade %q", g)
		}
	}
	// The demo is small, so it only guarantees the cases that matter most to a first look.
	f.requireEdges(t, "email without @", "no email", "null course", "null period", "long username",
		"short sis_id", "non-ASCII name", "apostrophe name", "hyphenated name", "no middle name",
		"empty enrollments", "dated enrollments", "student with two schools", "teacher+staff",
		"teacher+staff+district_admin", "pure staff", "pure district_admin", "co-teachers", "three teachers",
		"term date-only", "term datetime", "term without name", "course without number",
		"single-student section", "unknown key", "graduation_year empty", "contact with siblings")
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	f := check(t, synth.Generate(midSize), sizes{
		schools: 12, students: 5000, teachers: 250, staff: 40, admins: 4, contacts: 2000,
		sections: 400, courses: 150, terms: 12,
	})
	f.requireEdges(t, edgeNames...)
	if f.edges["eleven teachers"] == 0 {
		t.Error("no section with a primary teacher and 10 co-teachers")
	}
}

func TestDefaultsAndNone(t *testing.T) {
	t.Parallel()
	check(t, synth.Generate(synth.Config{Seed: 3}), sizes{
		schools: 4, students: 300, teachers: 16, staff: 6, admins: 2, contacts: 40,
		sections: 60, courses: 40, terms: 5,
	})
	check(t, synth.Generate(synth.Config{Seed: 3, Staff: -1, DistrictAdmins: -1, Contacts: -1, Courses: -1, Terms: -1}), sizes{
		schools: 4, students: 300, teachers: 16, sections: 60,
	})
	check(t, synth.Generate(synth.Config{Seed: 3, Students: -1}), sizes{
		schools: 4, teachers: 16, staff: 6, admins: 2, courses: 40, terms: 5,
	})
}

func TestSmallAndOddSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  synth.Config
		want sizes
	}{
		{"one of each", synth.Config{Seed: 1, Schools: 1, Students: 1, Teachers: 1, Staff: 1, DistrictAdmins: 1, Contacts: 1, Sections: 1, Courses: 1, Terms: 1},
			sizes{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"more schools than people", synth.Config{Seed: 2, Schools: 30, Students: 40, Teachers: 30, Sections: 50, Courses: 3, Terms: 2},
			sizes{30, 40, 30, 6, 2, 40, 50, 3, 2}},
		{"all teachers are admins", synth.Config{Seed: 3, Schools: 2, Students: 50, Teachers: 2, Staff: 9, DistrictAdmins: 9, Sections: 5},
			sizes{2, 50, 2, 9, 9, 40, 5, 40, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			check(t, synth.Generate(tc.cfg), tc.want)
		})
	}
}

// TestCheckCatchesCorruption makes sure the invariant checks above can fail.
func TestCheckCatchesCorruption(t *testing.T) {
	t.Parallel()
	demo := sizes{schools: 4, students: 300, teachers: 16, staff: 6, admins: 2, contacts: 40, sections: 60, courses: 40, terms: 5}
	for _, tc := range []struct {
		name    string
		corrupt func(d *cleversim.Dataset)
		want    string
	}{
		{"unknown student in a section", func(d *cleversim.Dataset) {
			students := jsonField(t, d.Sections[0], "students")[1:]
			d.Sections[0] = bytes.Replace(d.Sections[0], []byte(students[:26]), []byte(`"ffffffffffffffffffffffff"`), 1)
		}, "is not a student"},
		{"duplicate id", func(d *cleversim.Dataset) { d.Terms[1] = d.Terms[0] }, "already used"},
		{"unsorted", func(d *cleversim.Dataset) { d.Courses[0], d.Courses[1] = d.Courses[1], d.Courses[0] }, "not after"},
		{"section at another school", func(d *cleversim.Dataset) {
			school := jsonField(t, d.Sections[0], "school")
			other := jsonField(t, d.Schools[3], "id")
			if school == other {
				other = jsonField(t, d.Schools[2], "id")
			}
			d.Sections[0] = bytes.Replace(d.Sections[0], []byte(`"school":`+school), []byte(`"school":`+other), 1)
		}, "does not"},
		{"section name", func(d *cleversim.Dataset) {
			d.Sections[0] = bytes.Replace(d.Sections[0], []byte(`"name":"`), []byte(`"name":"X`), 1)
		}, "name"},
		{"missing user", func(d *cleversim.Dataset) { d.Users = d.Users[1:] }, "sizes"},
		{"bad timestamp", func(d *cleversim.Dataset) {
			d.Terms = nil
			d.Schools[0] = bytes.Replace(d.Schools[0], []byte(`Z","district"`), []byte(`","district"`), 1)
		}, "created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := synth.Demo()
			tc.corrupt(d)
			_, problems := inspect(d, demo)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentioning %q; got %q", tc.want, problems)
			}
		})
	}
}

// jsonField returns the raw JSON of one top-level field of a record.
func jsonField(t *testing.T, rec json.RawMessage, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatal(err)
	}
	return string(m[key])
}

func BenchmarkGenerate(b *testing.B) {
	cfg := synth.Config{
		Seed: 1, Schools: 60, Students: 100_000, Teachers: 5_000, Staff: 400, DistrictAdmins: 10,
		Contacts: 20_000, Sections: 4_000, Courses: 3_000, Terms: 20,
	}
	b.ReportAllocs()
	var out int
	for b.Loop() {
		d := synth.Generate(cfg)
		out = 0
		for _, recs := range [][]json.RawMessage{d.Districts, d.Schools, d.Users, d.Sections, d.Terms, d.Courses} {
			for _, r := range recs {
				out += len(r)
			}
		}
	}
	b.ReportMetric(float64(out)/1e6, "MB-records")
}

// sizes are the record counts a dataset must have; users are counted per role.
type sizes struct {
	schools, students, teachers, staff, admins, contacts, sections, courses, terms int
}

// edgeNames are the edge cases every mid-size district carries.
var edgeNames = []string{
	"email without @", "no email", "empty email", "null course", "null term_id", "null period", "empty period",
	"null grade", "empty subject", "long username", "empty username", "no credentials", "short sis_id",
	"long sis_id", "non-ASCII name", "apostrophe name", "hyphenated name", "no middle name",
	"empty enrollments", "dated enrollments", "student with two schools", "student with three schools",
	"teacher+staff", "teacher+district_admin", "teacher+staff+district_admin", "pure staff",
	"pure district_admin", "co-teachers", "three teachers", "term date-only", "term datetime",
	"term without name", "course without number", "course number missing", "single-student section",
	"unknown key", "graduation_year empty", "contact with siblings",
	"no sensitive fields", "null dob", "null title", "student email in role", "section without ext",
	"grade outside school range", "teacher with two schools",
}

// facts are what check learned about a dataset, for further assertions.
type facts struct {
	district map[string]any
	schools  []map[string]any
	students []map[string]any
	edges    map[string]int
}

func (f *facts) requireEdges(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if f.edges[n] == 0 {
			t.Errorf("edge case %q does not occur", n)
		}
	}
}

var (
	idRE        = regexp.MustCompile(`^[0-9a-f]{24}$`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	dateRE      = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)
	// enrollmentDateRE: SchoolEnrollment dates are datetimes in the spec.
	enrollmentDateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT00:00:00\.000Z$`)
	dobRE            = regexp.MustCompile(`^[1-9]\d?/[1-9]\d?/\d{4}$`)
	digitsRE         = regexp.MustCompile(`^\d+$`)
)

// Enums from API-NOTES §3.
var (
	gradeEnum    = enum("InfantToddler", "Preschool", "PreKindergarten", "TransitionalKindergarten", "Kindergarten", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "PostGraduate", "Ungraded", "Other", "")
	subjectEnum  = enum("english/language arts", "math", "science", "social studies", "language", "homeroom/advisory", "interventions/online learning", "technology and engineering", "PE and health", "arts and music", "other", "")
	genderEnum   = enum("M", "F", "X", "")
	raceEnum     = enum("Caucasian", "Asian", "Black or African American", "American Indian", "Hawaiian or Other Pacific Islander", "Two or More Races", "Unknown", "")
	ynEnum       = enum("Y", "N", "")
	frlEnum      = enum("Free", "Reduced", "Paid", "")
	phoneEnum    = enum("Cell", "Home", "Work", "Other", "")
	relEnum      = enum("Parent", "Grandparent", "Self", "Aunt/Uncle", "Sibling", "Other", "")
	relTypeEnum  = enum("Parent/Guardian", "Emergency", "Primary", "Secondary", "Family", "Other", "")
	stateEnum    = enum("running", "pending", "error", "paused", "success", "")
	loginEnum    = enum("Clever Badges", "Canvas", "Clever Passwords", "Google", "LDAP", "SAML", "Other")
	gradeOrdinal = map[string]int{"PreKindergarten": -2, "TransitionalKindergarten": -1, "Kindergarten": 0}
)

// Keys that Clever v3.0 documents per record type; anything else counts as an unknown key.
var knownKeys = map[string]map[string]bool{
	"school":  enum("id", "district", "name", "created", "last_modified", "sis_id", "school_number", "state_id", "nces_id", "mdr_number", "phone", "low_grade", "high_grade", "principal", "location", "ext"),
	"section": enum("id", "district", "school", "created", "last_modified", "name", "sis_id", "subject", "students", "teacher", "teachers", "grade", "course", "term_id", "period", "section_number", "ext"),
	"student": enum("school", "schools", "enrollments", "sis_id", "student_number", "state_id", "dob", "gender", "grade", "graduation_year", "race", "hispanic_ethnicity", "ell_status", "frl_status", "iep_status", "home_language", "location", "credentials", "legacy_id", "ext", "email"),
	"ext":     enum("gifted_status", "charter_school"),
}

func enum(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

func decode(kind string, recs []json.RawMessage) ([]map[string]any, error) {
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", kind, i, err)
		}
	}
	return out, nil
}

// role returns one role object of a user, nil when the user or the role does not exist.
func role(u map[string]any, name string) map[string]any {
	roles, _ := u["roles"].(map[string]any)
	r, _ := roles[name].(map[string]any)
	return r
}

// strs reads a JSON array of strings.
func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// check reports every broken invariant of a generated district and returns what it learned.
func check(t *testing.T, d *cleversim.Dataset, want sizes) *facts {
	t.Helper()
	f, problems := inspect(d, want)
	for i, p := range problems {
		if i == 25 {
			t.Errorf("… and %d more problems", len(problems)-25)
			break
		}
		t.Error(p)
	}
	return f
}

// inspect verifies every invariant of a generated district, counts its edge cases, and returns the
// broken invariants.
func inspect(d *cleversim.Dataset, want sizes) (_ *facts, problems []string) {
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	f := &facts{edges: map[string]int{}}
	edge := func(name string, ok bool) {
		if ok {
			f.edges[name]++
		}
	}

	districts, err1 := decode("districts", d.Districts)
	schools, err2 := decode("schools", d.Schools)
	users, err3 := decode("users", d.Users)
	sections, err4 := decode("sections", d.Sections)
	terms, err5 := decode("terms", d.Terms)
	courses, err6 := decode("courses", d.Courses)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		fail("%v", err)
		return f, problems
	}
	if len(districts) != 1 {
		fail("%d districts, want 1", len(districts))
		return f, problems
	}
	if len(d.Events) != 0 {
		fail("%d events, want none", len(d.Events))
	}
	f.district, f.schools = districts[0], schools
	districtID, _ := f.district["id"].(string)

	// Ids: 24 lower-case hex, unique across types, arrays sorted.
	all := map[string]string{}
	for _, c := range []struct {
		kind string
		recs []map[string]any
	}{{"districts", districts}, {"schools", schools}, {"users", users}, {"sections", sections}, {"terms", terms}, {"courses", courses}} {
		prev := ""
		for i, r := range c.recs {
			id, _ := r["id"].(string)
			if !idRE.MatchString(id) {
				fail("%s[%d]: id %q is not 24 lower-case hex digits", c.kind, i, id)
			}
			if other, dup := all[id]; dup {
				fail("%s[%d]: id %s already used by %s", c.kind, i, id, other)
			}
			all[id] = c.kind
			if id <= prev {
				fail("%s[%d]: id %s not after %s", c.kind, i, id, prev)
			}
			prev = id
			if c.kind != "districts" && r["district"] != districtID {
				fail("%s %s: district %v, want %s", c.kind, id, r["district"], districtID)
			}
			for _, k := range []string{"created", "last_modified"} {
				if v, ok := r[k]; ok && !timestampRE.MatchString(v.(string)) {
					fail("%s %s: %s %q", c.kind, id, k, v)
				}
			}
			if cr, ok := r["created"].(string); ok && r["last_modified"].(string) < cr {
				fail("%s %s: last_modified before created", c.kind, id)
			}
		}
	}

	// District.
	dc, _ := f.district["district_contact"].(map[string]any)
	if dc == nil || dc["district"] != districtID || !idRE.MatchString(dc["id"].(string)) || all[dc["id"].(string)] != "" {
		fail("district_contact %v", dc)
	}
	// mdr_number and nces_id are nullable and may be absent (Clever's certification district has neither).
	for _, k := range []string{"name", "sis_type", "launch_date", "portal_url", "login_methods", "state", "error", "last_sync"} {
		if _, ok := f.district[k]; !ok {
			fail("district has no %s", k)
		}
	}
	for _, k := range []string{"mdr_number", "nces_id"} {
		if v, ok := f.district[k]; ok && v != nil {
			if s, isStr := v.(string); !isStr || s != "" && !digitsRE.MatchString(s) {
				fail("district %s %v is neither null, \"\" nor digits", k, v)
			}
		}
	}
	if !dateRE.MatchString(f.district["launch_date"].(string)) || !timestampRE.MatchString(f.district["last_sync"].(string)) {
		fail("district dates %v %v", f.district["launch_date"], f.district["last_sync"])
	}
	if !stateEnum[f.district["state"].(string)] || !strings.HasPrefix(f.district["portal_url"].(string), "https://clever.com/in/") {
		fail("district state %v, portal_url %v", f.district["state"], f.district["portal_url"])
	}
	methods := strs(f.district["login_methods"])
	if len(methods) == 0 {
		fail("district has no login_methods")
	}
	for _, m := range methods {
		if !loginEnum[m] {
			fail("login method %q", m)
		}
	}

	// Schools.
	schoolByID := map[string]map[string]any{}
	for _, s := range schools {
		id := s["id"].(string)
		schoolByID[id] = s
		low, high := s["low_grade"].(string), s["high_grade"].(string)
		if !gradeEnum[low] || !gradeEnum[high] || grade(low) > grade(high) {
			fail("school %s: grades %q–%q", id, low, high)
		}
		ext, _ := s["ext"].(map[string]any)
		if !ynEnum[ext["charter_school"].(string)] {
			fail("school %s: charter_school %v", id, ext["charter_school"])
		}
		for k := range s {
			edge("unknown key", !knownKeys["school"][k])
		}
		for k := range ext {
			edge("unknown key", !knownKeys["ext"][k])
		}
		if s["name"] == "" || s["sis_id"] == "" || s["school_number"] == "" {
			fail("school %s lacks name, sis_id or school_number", id)
		}
	}
	inSchools := func(what string, v any) []string {
		ids := strs(v)
		if len(ids) == 0 {
			fail("%s: no schools", what)
		}
		for _, id := range ids {
			if schoolByID[id] == nil {
				fail("%s: school %s does not exist", what, id)
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
			fail("%s: repeated school in %v", what, ids)
		}
		return ids
	}

	// Users.
	var got sizes
	got.schools, got.sections, got.courses, got.terms = len(schools), len(sections), len(courses), len(terms)
	userByID := map[string]map[string]any{}
	sisIDs := map[string]string{} // role+sis_id → user
	for _, u := range users {
		id := u["id"].(string)
		userByID[id] = u
		for _, rn := range []string{"student", "teacher"} {
			if sis, ok := role(u, rn)["sis_id"].(string); ok {
				if other, dup := sisIDs[rn+sis]; dup {
					fail("%s %s: sis_id %q already used by %s", rn, id, sis, other)
				}
				sisIDs[rn+sis] = id
			}
		}
	}
	for _, u := range users {
		id := u["id"].(string)
		rs := u["roles"].(map[string]any)
		var names []string
		for k := range rs {
			names = append(names, k)
		}
		slices.Sort(names)
		combo := strings.Join(names, "+")
		name := u["name"].(map[string]any)
		email, hasEmail := u["email"].(string)
		edge("no email", !hasEmail)
		edge("empty email", hasEmail && email == "")
		edge("email without @", email != "" && !strings.Contains(email, "@"))
		full := ""
		for _, k := range []string{"first", "middle", "last"} {
			s, _ := name[k].(string)
			full += s
		}
		edge("non-ASCII name", !isASCII(full))
		edge("apostrophe name", strings.Contains(full, "'"))
		last, _ := name["last"].(string)
		edge("hyphenated name", strings.Contains(last, "-"))
		if last == "" {
			fail("user %s: empty name.last", id)
		}
		for _, rn := range []string{"teacher", "staff"} {
			if c, ok := role(u, rn)["credentials"].(map[string]any); ok {
				edge("long username", len(c["district_username"].(string)) >= 50)
			}
		}
		if r := role(u, "teacher"); r != nil {
			title, ok := r["title"]
			edge("null title", ok && title == nil)
		}

		switch combo {
		case "student":
			got.students++
			f.students = append(f.students, u)
			checkStudent(u, schoolByID, inSchools, fail, edge)
			if _, ok := name["first"]; !ok {
				fail("student %s has no name.first", id)
			}
			_, hasMiddle := name["middle"]
			edge("no middle name", !hasMiddle)
		case "contact":
			got.contacts++
			if _, ok := name["first"]; ok {
				fail("contact %s has a name.first; Clever puts the full name in last", id)
			}
			c := role(u, "contact")
			if !phoneEnum[c["phone_type"].(string)] {
				fail("contact %s: phone_type %v", id, c["phone_type"])
			}
			rels, _ := c["student_relationships"].([]any)
			if len(rels) == 0 {
				fail("contact %s has no student_relationships", id)
			}
			edge("contact with siblings", len(rels) > 1)
			for _, v2 := range []string{"relationship", "type", "students"} {
				if _, ok := c[v2]; ok {
					fail("contact %s has the v2-era key %q, which only old event payloads carry", id, v2)
				}
			}
			for _, x := range rels {
				rel := x.(map[string]any)
				if s := userByID[rel["student"].(string)]; s == nil || role(s, "student") == nil {
					fail("contact %s: student %v is not a student", id, rel["student"])
				}
				if !relEnum[rel["relationship"].(string)] || !relTypeEnum[rel["type"].(string)] {
					fail("contact %s: relationship %v / type %v", id, rel["relationship"], rel["type"])
				}
			}
		default:
			if strings.Contains(combo, "student") || strings.Contains(combo, "contact") {
				fail("user %s has roles %s: students and contacts never hold other roles", id, combo)
			}
			if r := role(u, "teacher"); r != nil {
				got.teachers++
				ids := inSchools("teacher "+id, r["schools"])
				edge("teacher with two schools", len(ids) > 1)
				if r["school"] != ids[0] {
					fail("teacher %s: school %v is not schools[0]", id, r["school"])
				}
				if r["sis_id"] == "" {
					fail("teacher %s: no sis_id", id)
				}
			}
			if r := role(u, "staff"); r != nil {
				got.staff++
				inSchools("staff "+id, r["schools"])
				if _, ok := r["roles"].([]any); !ok || r["staff_id"] == "" {
					fail("staff %s: roles %v, staff_id %v", id, r["roles"], r["staff_id"])
				}
			}
			if role(u, "district_admin") != nil {
				got.admins++
			}
			edge(map[string]string{
				"staff+teacher": "teacher+staff", "district_admin+teacher": "teacher+district_admin",
				"district_admin+staff+teacher": "teacher+staff+district_admin", "staff": "pure staff",
				"district_admin": "pure district_admin",
			}[combo], true)
		}
	}
	delete(f.edges, "")

	// Terms and courses.
	termByID := map[string]bool{}
	for _, tm := range terms {
		termByID[tm["id"].(string)] = true
		for _, k := range []string{"start_date", "end_date"} {
			v, _ := tm[k].(string)
			edge("term date-only", dateRE.MatchString(v))
			edge("term datetime", timestampRE.MatchString(v))
			if !dateRE.MatchString(v) && !timestampRE.MatchString(v) {
				fail("term %v: %s %q", tm["id"], k, v)
			}
		}
		if tm["start_date"].(string)[:10] > tm["end_date"].(string)[:10] {
			fail("term %v ends before it starts", tm["id"])
		}
		edge("term without name", tm["name"] == "")
	}
	courseByID := map[string]map[string]any{}
	for _, c := range courses {
		courseByID[c["id"].(string)] = c
		n, ok := c["number"]
		edge("course without number", n == "")
		edge("course number missing", !ok)
	}

	// Sections.
	usedCourses := map[string]bool{}
	for _, s := range sections {
		id := s["id"].(string)
		school, _ := s["school"].(string)
		if schoolByID[school] == nil {
			fail("section %s: school %q does not exist", id, school)
		}
		for k := range s {
			edge("unknown key", !knownKeys["section"][k])
		}
		for _, k := range []string{"course", "term_id", "period", "grade"} {
			if _, ok := s[k]; !ok {
				fail("section %s has no %s key", id, k)
			}
		}
		edge("null course", s["course"] == nil)
		edge("null term_id", s["term_id"] == nil)
		edge("null period", s["period"] == nil)
		edge("empty period", s["period"] == "")
		edge("null grade", s["grade"] == nil)
		edge("empty subject", s["subject"] == "")
		_, hasExt := s["ext"]
		edge("section without ext", !hasExt)
		if g, ok := s["grade"].(string); ok && !gradeEnum[g] {
			fail("section %s: grade %q", id, g)
		}
		if !subjectEnum[s["subject"].(string)] {
			fail("section %s: subject %q", id, s["subject"])
		}

		teachers := strs(s["teachers"])
		if len(teachers) == 0 || s["teacher"] != teachers[0] {
			fail("section %s: teacher %v is not teachers[0] of %v", id, s["teacher"], teachers)
		}
		edge("co-teachers", len(teachers) >= 2)
		edge("three teachers", len(teachers) >= 3)
		edge("eleven teachers", len(teachers) == 11)
		if len(slices.Compact(slices.Sorted(slices.Values(teachers)))) != len(teachers) {
			fail("section %s: repeated teacher", id)
		}
		for _, tid := range teachers {
			tr := role(userByID[tid], "teacher")
			if tr == nil {
				fail("section %s: teacher %s is not a teacher", id, tid)
			} else if !slices.Contains(strs(tr["schools"]), school) {
				fail("section %s: teacher %s does not teach at school %s", id, tid, school)
			}
		}
		students := strs(s["students"])
		if len(students) == 0 {
			fail("section %s has no students", id)
		}
		edge("single-student section", len(students) == 1)
		if !slices.IsSorted(students) || len(slices.Compact(slices.Clone(students))) != len(students) {
			fail("section %s: students not sorted and distinct", id)
		}
		for _, sid := range students {
			sr := role(userByID[sid], "student")
			if sr == nil {
				fail("section %s: student %s is not a student", id, sid)
			} else if !slices.Contains(strs(sr["schools"]), school) {
				fail("section %s: student %s does not attend school %s", id, sid, school)
			}
		}
		if c, ok := s["course"].(string); ok {
			usedCourses[c] = true
			course := courseByID[c]
			if course == nil {
				fail("section %s: course %s does not exist", id, c)
			} else if cn, _ := course["name"].(string); cn != "" {
				primary, _ := userByID[teachers[0]]["name"].(map[string]any)
				last, _ := primary["last"].(string)
				want := cn + " - " + last
				if p, _ := s["period"].(string); p != "" {
					want += " - " + p
				}
				if s["name"] != want {
					fail("section %s: name %q, want %q", id, s["name"], want)
				}
			}
		}
		if tm, ok := s["term_id"].(string); ok && !termByID[tm] {
			fail("section %s: term %s does not exist", id, tm)
		}
	}
	if len(sections) >= 2*len(courses) && len(usedCourses) != len(courses) {
		fail("%d sections use only %d of %d courses", len(sections), len(usedCourses), len(courses))
	}

	if got != want {
		fail("sizes:\n got %+v\nwant %+v", got, want)
	}
	return f, problems
}

// checkStudent verifies one student role.
func checkStudent(u map[string]any, schoolByID map[string]map[string]any, inSchools func(string, any) []string,
	fail func(string, ...any), edge func(string, bool)) {
	id := u["id"].(string)
	r := role(u, "student")
	ids := inSchools("student "+id, r["schools"])
	if r["school"] != ids[0] {
		fail("student %s: school %v is not schools[0]", id, r["school"])
	}
	edge("student with two schools", len(ids) == 2)
	edge("student with three schools", len(ids) == 3)
	for k := range r {
		edge("unknown key", !knownKeys["student"][k])
	}
	if ext, ok := r["ext"].(map[string]any); !ok || !ynEnum[ext["gifted_status"].(string)] {
		fail("student %s: ext %v", id, r["ext"])
	} else {
		for k := range ext {
			edge("unknown key", !knownKeys["ext"][k])
		}
	}
	for _, c := range []struct {
		key    string
		values map[string]bool
	}{{"gender", genderEnum}, {"race", raceEnum}, {"hispanic_ethnicity", ynEnum}, {"grade", gradeEnum},
		{"ell_status", ynEnum}, {"iep_status", ynEnum}, {"frl_status", frlEnum}} {
		v, ok := r[c.key]
		if !ok && (c.key == "ell_status" || c.key == "iep_status" || c.key == "frl_status") {
			continue
		}
		if s, _ := v.(string); !c.values[s] {
			fail("student %s: %s %v", id, c.key, v)
		}
	}
	if s := schoolByID[ids[0]]; s != nil {
		g := grade(r["grade"].(string))
		edge("grade outside school range", g < grade(s["low_grade"].(string)) || g > grade(s["high_grade"].(string)))
	}
	sis, _ := r["sis_id"].(string)
	if !digitsRE.MatchString(sis) {
		fail("student %s: sis_id %q", id, sis)
	}
	edge("short sis_id", len(sis) <= 2)
	edge("long sis_id", len(sis) >= 20)
	if dob, ok := r["dob"].(string); ok && dob != "" && !dobRE.MatchString(dob) {
		fail("student %s: dob %q", id, dob)
	}
	dob, hasDOB := r["dob"]
	edge("null dob", hasDOB && dob == nil)
	enr, ok := r["enrollments"].([]any)
	if !ok {
		fail("student %s: enrollments %v is not an array", id, r["enrollments"])
	}
	edge("empty enrollments", ok && len(enr) == 0)
	edge("dated enrollments", len(enr) > 0)
	for _, e := range enr {
		em := e.(map[string]any)
		end, _ := em["end_date"].(string)
		if !slices.Contains(ids, em["school"].(string)) || !enrollmentDateRE.MatchString(em["start_date"].(string)) ||
			(end != "" && !enrollmentDateRE.MatchString(end)) {
			fail("student %s: enrollment %v", id, em)
		}
	}
	_, sensitive := r["ell_status"]
	edge("no sensitive fields", !sensitive)
	edge("graduation_year empty", r["graduation_year"] == "")
	_, roleEmail := r["email"]
	edge("student email in role", roleEmail)
	if c, ok := r["credentials"].(map[string]any); ok {
		n := len(c["district_username"].(string))
		edge("long username", n >= 50)
		edge("empty username", n == 0)
	} else {
		edge("no credentials", true)
	}
}

// grade orders Clever grade names; names outside PreK–12 sort last.
func grade(name string) int {
	if o, ok := gradeOrdinal[name]; ok {
		return o
	}
	n := 0
	for _, c := range name {
		if c < '0' || c > '9' {
			return 100
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
