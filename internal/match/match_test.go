package match

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// rec builds a record from field/value pairs.
func rec(id string, kv ...string) Record {
	r := Record{ID: id, Values: map[Field]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Values[Field(kv[i])] = kv[i+1]
	}
	return r
}

// district is a small Clever side of students around which the decision tests are built.
func district() []Record {
	return []Record{
		rec("c-ann", "sis_id", "1001", "state_id", "S1001", "first_name", "Ann", "last_name", "Lee", "dob", "2012-05-01", "email", "ann.lee@d.org", "school", "Lincoln Elementary", "grade", "4"),
		rec("c-bob", "sis_id", "1002", "state_id", "S1002", "first_name", "Robert", "last_name", "Okafor", "dob", "2011-09-14", "email", "robert.okafor@d.org", "school", "Lincoln Elementary", "grade", "5"),
		rec("c-kim", "sis_id", "1003", "state_id", "S1003", "first_name", "Min-jun", "last_name", "Kim", "dob", "2013-01-20", "school", "Lincoln Elementary", "grade", "3"),
		rec("c-maria1", "sis_id", "1004", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02", "school", "Washington Middle"),
		rec("c-maria2", "sis_id", "1005", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02", "school", "Washington Middle"),
		rec("c-zed", "sis_id", "1006", "first_name", "Zed", "last_name", "Quist", "dob", "2010-07-07", "school", "Washington Middle"),
		rec("c-smith", "sis_id", "1007", "state_id", "S1007", "first_name", "Alexandra", "last_name", "Smith", "dob", "2012-11-30", "email", "asmith@d.org"),
		rec("c-lone", "sis_id", "1008", "first_name", "Xavier", "last_name", "Ubermann", "dob", "2009-12-12"),
	}
}

func resultOf(t *testing.T, o Outcome, appID string) Result {
	t.Helper()
	for _, r := range o.Results {
		if r.AppID == appID {
			return r
		}
	}
	t.Fatalf("no result for %s", appID)
	return Result{}
}

func candidateIDs(r Result) []string {
	var ids []string
	for _, c := range r.Candidates {
		ids = append(ids, c.CleverID)
	}
	return ids
}

func TestMatchStudents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		app     Record
		status  Status
		clever  string // the match, or a candidate that must be listed
		explain string // a substring of that candidate's explanation
		method  string
		also    []string // other candidates that must be listed
	}{
		{"unique sis id", rec("a", "sis_id", "01001", "first_name", "Ann", "last_name", "Lee"), Matched, "c-ann", "sis id", "sis_id", nil},
		{"sis id, birth date off", rec("a", "sis_id", "1001", "first_name", "Ann", "last_name", "Lee", "dob", "2012-06-01"), Matched, "c-ann", "birth date one part off", "sis_id", nil},
		{"state id only", rec("a", "state_id", "s-1002", "first_name", "Bobby", "last_name", "Okafor"), Matched, "c-bob", "", "state_id", nil},
		{"e-mail changed, sis agrees", rec("a", "sis_id", "1007", "first_name", "Alexandra", "last_name", "Smith", "email", "alex.smith@other.org"), Matched, "c-smith", "e-mail differs", "sis_id", nil},
		{"sis agrees, state id differs", rec("a", "sis_id", "1001", "state_id", "S9999", "first_name", "Ann", "last_name", "Lee"), Suggested, "c-ann", "state id differs: S9999 vs S1001", "sis_id", nil},
		{"sis agrees, everything else differs", rec("a", "sis_id", "1001", "first_name", "Peter", "last_name", "Jones", "dob", "2008-01-09"), Suggested, "c-ann", "held for review: the other fields disagree", "sis_id", nil},
		{"name and birth date only", rec("a", "first_name", "Ann", "last_name", "Lee", "dob", "5/1/2012"), Suggested, "c-ann", "birth date and name agree", "name+dob", nil},
		{"same name, same birthday twice", rec("a", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02"), Suggested, "c-maria1", "", "name+dob", []string{"c-maria2"}},
		{"swapped names", rec("a", "first_name", "Okafor", "last_name", "Robert", "dob", "2011-09-14"), Suggested, "c-bob", "first and last names swapped", "name+dob", nil},
		{"nickname", rec("a", "first_name", "Bob", "last_name", "Okafor", "dob", "2011-09-14"), Suggested, "c-bob", "nickname: Bob / Robert", "name+dob", nil},
		{"typo in last name", rec("a", "first_name", "Xavier", "last_name", "Uberman", "dob", "2009-12-12"), Suggested, "c-lone", "last name spelt differently: Uberman / Ubermann", "name+dob", nil},
		{"typo in first name, no birth date", rec("a", "first_name", "Xaiver", "last_name", "Ubermann"), Suggested, "c-lone", "first name spelt differently", "name", nil},
		{"changed e-mail only", rec("a", "first_name", "Alexandra", "last_name", "Smith", "email", "a.smith@d.org"), Suggested, "c-smith", "e-mail alike: a.smith@ / asmith@", "name", nil},
		{"day and month swapped", rec("a", "first_name", "Zed", "last_name", "Quist", "dob", "2010-07-07"), Suggested, "c-zed", "", "name+dob", nil},
		{"hyphenated name spelt apart", rec("a", "first_name", "Min Jun", "last_name", "KIM", "dob", "20130120"), Suggested, "c-kim", "birth date and name agree", "name+dob", nil},
		{"nobody", rec("a", "first_name", "Quentin", "last_name", "Blake", "dob", "2001-01-01"), Unmatched, "", "", "", nil},
		{"placeholder id", rec("a", "sis_id", "N/A", "first_name", "Quentin", "last_name", "Blake"), Unmatched, "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := Match(Student, []Record{tt.app}, district(), Config{})
			r := o.Results[0]
			if r.Status != tt.status {
				t.Fatalf("status %s, want %s; candidates %+v", r.Status, tt.status, r.Candidates)
			}
			if tt.status == Matched && r.CleverID != tt.clever {
				t.Errorf("matched %s, want %s", r.CleverID, tt.clever)
			}
			if tt.status != Matched && r.CleverID != "" {
				t.Errorf("CleverID %q set on a %s result", r.CleverID, r.Status)
			}
			if tt.clever == "" {
				if len(r.Candidates) != 0 {
					t.Errorf("candidates %+v, want none", r.Candidates)
				}
				return
			}
			k := slices.IndexFunc(r.Candidates, func(c Candidate) bool { return c.CleverID == tt.clever })
			if k < 0 {
				t.Fatalf("%s not among candidates %v", tt.clever, candidateIDs(r))
			}
			c := r.Candidates[k]
			if !strings.Contains(c.Explanation, tt.explain) {
				t.Errorf("explanation %q, want it to contain %q", c.Explanation, tt.explain)
			}
			if c.Method != tt.method {
				t.Errorf("method %q, want %q", c.Method, tt.method)
			}
			if c.Score <= 0 || c.Score > 1 {
				t.Errorf("score %v out of (0, 1]", c.Score)
			}
			for _, id := range tt.also {
				if !slices.Contains(candidateIDs(r), id) {
					t.Errorf("%s not among candidates %v", id, candidateIDs(r))
				}
			}
			if tt.status == Suggested && k != 0 && len(tt.also) == 0 {
				t.Errorf("the true record is candidate %d, want it first: %v", k, candidateIDs(r))
			}
		})
	}
}

func TestNameNeverEnough(t *testing.T) {
	t.Parallel()
	// Even a unique name with a unique birth date, every field agreeing but ids missing, is a suggestion.
	app := []Record{rec("a", "first_name", "Xavier", "middle_name", "Q", "last_name", "Ubermann", "dob", "2009-12-12", "school", "Lincoln", "grade", "9")}
	clever := []Record{rec("c", "first_name", "Xavier", "middle_name", "Q", "last_name", "Ubermann", "dob", "2009-12-12", "school", "Lincoln", "grade", "9")}
	r := Match(Student, app, clever, Config{}).Results[0]
	if r.Status != Suggested || r.Candidates[0].Strong {
		t.Fatalf("got %s %+v, want a suggestion that isn't strong", r.Status, r.Candidates)
	}
	if r.Candidates[0].Score < 0.9 {
		t.Errorf("score %v for a full agreement, want ≥ 0.9", r.Candidates[0].Score)
	}
}

func TestAppDuplicates(t *testing.T) {
	t.Parallel()
	app := []Record{
		rec("a1", "sis_id", "1001", "first_name", "Ann", "last_name", "Lee"),
		rec("a2", "sis_id", "001001", "first_name", "Anne", "last_name", "Lee"),
		rec("a3", "first_name", "Zed", "last_name", "Quist", "dob", "2010-07-07", "school", "Washington Middle School"),
		rec("a4", "first_name", "zed", "last_name", "QUIST", "dob", "7/7/2010", "school", "Washington Middle"),
		// same name and birthday but different sis ids: two students, not duplicates
		rec("a5", "sis_id", "1004", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02"),
		rec("a6", "sis_id", "1005", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02"),
	}
	o := Match(Student, app, district(), Config{})
	for _, tt := range []struct {
		id  string
		dup []string
	}{{"a1", []string{"a2"}}, {"a2", []string{"a1"}}, {"a3", []string{"a4"}}, {"a4", []string{"a3"}}} {
		r := resultOf(t, o, tt.id)
		if r.Status != Duplicate || !reflect.DeepEqual(r.DuplicateOf, tt.dup) {
			t.Errorf("%s: %s duplicate of %v, want DUPLICATE of %v", tt.id, r.Status, r.DuplicateOf, tt.dup)
		}
		if len(r.Candidates) == 0 {
			t.Errorf("%s: a duplicate still shows its candidates", tt.id)
		}
	}
	for id, want := range map[string]string{"a5": "c-maria1", "a6": "c-maria2"} {
		if r := resultOf(t, o, id); r.Status != Matched || r.CleverID != want {
			t.Errorf("%s: %s %s, want MATCHED %s", id, r.Status, r.CleverID, want)
		}
	}
}

func TestCleverDuplicates(t *testing.T) {
	t.Parallel()
	clever := append(district(),
		rec("c-ann2", "sis_id", "1001", "first_name", "Ann", "last_name", "Lee", "dob", "2012-05-01"),
		rec("c-zed2", "first_name", "Zed", "last_name", "Quist", "dob", "2010-07-07", "school", "Washington Middle"),
	)
	o := Match(Student, []Record{rec("a", "sis_id", "1001")}, clever, Config{})
	want := [][]string{{"c-ann", "c-ann2"}, {"c-zed", "c-zed2"}}
	if !reflect.DeepEqual(o.CleverDuplicates, want) {
		t.Errorf("CleverDuplicates %v, want %v (same-name same-birthday students with different ids are not duplicates)", o.CleverDuplicates, want)
	}
	r := o.Results[0]
	if r.Status != Suggested || !reflect.DeepEqual(candidateIDs(r), []string{"c-ann", "c-ann2"}) {
		t.Errorf("got %s %v, want SUGGESTED [c-ann c-ann2]", r.Status, candidateIDs(r))
	}
	if !strings.Contains(r.Candidates[0].Explanation, "2 Clever records qualify") {
		t.Errorf("explanation %q", r.Candidates[0].Explanation)
	}
}

func TestTwoAppRecordsClaimOne(t *testing.T) {
	t.Parallel()
	app := []Record{
		rec("a1", "sis_id", "1001", "first_name", "Ann", "last_name", "Lee"),
		rec("a2", "state_id", "S1001", "first_name", "Anna", "last_name", "Li"),
	}
	o := Match(Student, app, district(), Config{})
	for _, tt := range []struct{ id, other string }{{"a1", "a2"}, {"a2", "a1"}} {
		r := resultOf(t, o, tt.id)
		if r.Status != Suggested || !reflect.DeepEqual(r.DuplicateOf, []string{tt.other}) || r.Candidates[0].CleverID != "c-ann" {
			t.Errorf("%s: %s dup of %v candidates %v, want SUGGESTED c-ann, claimed also by %s", tt.id, r.Status, r.DuplicateOf, candidateIDs(r), tt.other)
		}
	}
}

func TestCleverUnmatched(t *testing.T) {
	t.Parallel()
	o := Match(Student, []Record{rec("a", "sis_id", "1001"), rec("b", "first_name", "Zed", "last_name", "Quist")}, district(), Config{})
	want := []string{"c-bob", "c-kim", "c-lone", "c-maria1", "c-maria2", "c-smith"}
	if !reflect.DeepEqual(o.CleverUnmatched, want) {
		t.Errorf("CleverUnmatched %v, want %v", o.CleverUnmatched, want)
	}
}

func TestTeachers(t *testing.T) {
	t.Parallel()
	clever := []Record{
		rec("t1", "email", "jane.doe@d.org", "sis_id", "T-17", "first_name", "Jane", "last_name", "Doe"),
		rec("t2", "email", "john.roe@d.org", "sis_id", "T-18", "first_name", "John", "last_name", "Roe"),
	}
	app := []Record{
		rec("e", "email", "Jane.Doe+class@D.org", "first_name", "Jane", "last_name", "Doe"),
		rec("s", "sis_id", "t18", "first_name", "Johnny", "last_name", "Roe", "email", "jroe@old.org"),
		rec("d", "email", "jane.doe@newdistrict.org", "first_name", "Jane", "last_name", "Doe"),
	}
	o := Match(Teacher, app, clever, Config{})
	if r := resultOf(t, o, "e"); r.Status != Matched || r.CleverID != "t1" || r.Candidates[0].Method != "email" {
		t.Errorf("e: %s %s %+v", r.Status, r.CleverID, r.Candidates)
	}
	// A teacher's e-mail is strong: a differing e-mail holds back the agreeing sis id.
	if r := resultOf(t, o, "s"); r.Status != Suggested || r.Candidates[0].CleverID != "t2" {
		t.Errorf("s: %s %v", r.Status, candidateIDs(r))
	}
	if r := resultOf(t, o, "d"); r.Status != Suggested || r.Candidates[0].CleverID != "t1" ||
		!strings.Contains(r.Candidates[0].Explanation, "same e-mail user at another domain: @newdistrict.org / @d.org") {
		t.Errorf("d: %s %+v", r.Status, r.Candidates)
	}
}

func TestOrderOverride(t *testing.T) {
	t.Parallel()
	app := []Record{rec("a", "email", "ann.lee@d.org", "first_name", "Ann", "last_name", "Lee", "sis_id", "999")}
	// By default a student's e-mail is not strong.
	if r := Match(Student, app, district(), Config{}).Results[0]; r.Status != Suggested {
		t.Errorf("default order: %s, want SUGGESTED", r.Status)
	}
	// With e-mail first it is, and sis_id, left out, is not compared.
	r := Match(Student, app, district(), Config{Order: []Field{Email, Name, DOB}}).Results[0]
	if r.Status != Matched || r.CleverID != "c-ann" || r.Candidates[0].Method != "email" {
		t.Errorf("email order: %s %+v", r.Status, r.Candidates)
	}
}

func TestSchools(t *testing.T) {
	t.Parallel()
	clever := []Record{
		rec("s1", "name", "Lincoln Elementary School", "nces_id", "060000100001", "state", "CA", "school_number", "101"),
		rec("s2", "name", "Lincoln High School", "nces_id", "060000100002", "state", "CA", "school_number", "102"),
		rec("s3", "name", "Washington Middle", "state", "CA", "school_number", "103"),
	}
	app := []Record{
		rec("n", "nces_id", "60000100001", "name", "Lincoln El"),
		rec("h", "name", "Lincoln HS", "state", "California"),
		rec("w", "name", "Washington Middle School", "state", "ca"),
		rec("x", "name", "Lincoln Elementary", "state", "CA", "nces_id", "060000100002"),
	}
	o := Match(School, app, clever, Config{})
	if r := resultOf(t, o, "n"); r.Status != Matched || r.CleverID != "s1" || r.Candidates[0].Method != "nces_id" {
		t.Errorf("n: %s %+v", r.Status, r.Candidates)
	}
	for id, want := range map[string]string{"h": "s2", "w": "s3"} {
		r := resultOf(t, o, id)
		if r.Status != Suggested || r.Candidates[0].CleverID != want || r.Candidates[0].Method != "name+state" {
			t.Errorf("%s: %s %+v, want SUGGESTED %s by name+state", id, r.Status, r.Candidates, want)
		}
	}
	// The NCES id says High, the name says Elementary: the NCES id is strong, the name is not (schools
	// get renamed), so it matches and the explanation says what differs.
	if r := resultOf(t, o, "x"); r.Status != Matched || r.CleverID != "s2" ||
		!strings.Contains(r.Candidates[0].Explanation, "name differs: Lincoln Elementary vs Lincoln High School") {
		t.Errorf("x: %s %+v", r.Status, r.Candidates)
	}
}

func TestSections(t *testing.T) {
	t.Parallel()
	clever := []Record{
		rec("sec1", "school", "sch-1|101|Lincoln Elementary", "teacher", "t1|T-17|jane.doe@d.org|Jane Doe", "name", "Math 4", "period", "1"),
		rec("sec2", "school", "sch-1|101|Lincoln Elementary", "teacher", "t1|T-17|jane.doe@d.org|Jane Doe", "name", "Math 4", "period", "2"),
		rec("sec3", "school", "sch-1|101|Lincoln Elementary", "teacher", "t2|T-18|John Roe", "name", "Reading 4", "period", "1"),
	}
	app := []Record{
		rec("p2", "school", "Lincoln Elementary School", "teacher", "Doe, Jane", "name", "Math 4", "period", "02"),
		rec("any", "school", "101", "teacher", "jane.doe@d.org", "name", "Math 4"),
		rec("roe", "school", "Lincoln Elementary", "teacher", "T18", "name", "Reading"),
	}
	o := Match(Section, app, clever, Config{})
	if r := resultOf(t, o, "p2"); r.Status != Matched || r.CleverID != "sec2" || r.Candidates[0].Method != "school+teacher" {
		t.Errorf("p2: %s %+v", r.Status, r.Candidates)
	}
	if r := resultOf(t, o, "any"); r.Status != Suggested || !reflect.DeepEqual(candidateIDs(r), []string{"sec1", "sec2"}) {
		t.Errorf("any: %s %v, want SUGGESTED [sec1 sec2]", r.Status, candidateIDs(r))
	}
	if r := resultOf(t, o, "roe"); r.Status != Suggested || r.Candidates[0].CleverID != "sec3" {
		t.Errorf("roe: %s %+v", r.Status, r.Candidates)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	app := []Record{
		rec("a", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02"),
		rec("b", "sis_id", "1001"),
		rec("c", "first_name", "Bob", "last_name", "Okafor"),
	}
	want := Match(Student, app, district(), Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		cl := district()
		rng.Shuffle(len(cl), func(i, j int) { cl[i], cl[j] = cl[j], cl[i] })
		if got := Match(Student, app, cl, Config{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("outcome depends on the Clever records' order:\n%+v\n%+v", got, want)
		}
	}
}

func TestMaxCandidates(t *testing.T) {
	t.Parallel()
	var clever []Record
	for i := range 10 {
		clever = append(clever, rec(string(rune('a'+i)), "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02", "sis_id", string(rune('a'+i))))
	}
	r := Match(Student, []Record{rec("x", "first_name", "Maria", "last_name", "Garcia", "dob", "2012-02-02")}, clever, Config{MaxCandidates: 3}).Results[0]
	if got := candidateIDs(r); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("candidates %v, want the first three by id", got)
	}
}

func TestEmptyInput(t *testing.T) {
	t.Parallel()
	o := Match(Student, nil, nil, Config{})
	if len(o.Results) != 0 || len(o.CleverUnmatched) != 0 {
		t.Errorf("%+v", o)
	}
	o = Match(Student, []Record{{ID: "a"}}, []Record{{ID: "c"}}, Config{})
	if o.Results[0].Status != Unmatched || !reflect.DeepEqual(o.CleverUnmatched, []string{"c"}) {
		t.Errorf("%+v", o)
	}
}
