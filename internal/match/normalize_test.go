package match

import "testing"

func TestNormName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, compact string
		tokens      int
	}{
		{"  José  ", "jose", 1},
		{"O'Brien", "obrien", 1},
		{"D’Angelo", "dangelo", 1},
		{"Mary-Kate", "marykate", 2},
		{"mary kate", "marykate", 2},
		{"SMITH JR.", "smith", 1},
		{"Martin Luther King III", "martinlutherking", 3},
		{"Jr", "jr", 1},
		{"Łukasz", "lukasz", 1},
		{"Strauß", "strauss", 1},
		{"Zoë", "zoe", 1},
		{"J.", "j", 1},
		{"", "", 0},
		{"  -- ", "", 0},
		{"李 小龍", "李小龍", 2},
	}
	for _, tt := range tests {
		got := normName(tt.in)
		if got.compact != tt.compact || len(got.tokens) != tt.tokens {
			t.Errorf("normName(%q) = %q %v, want %q with %d words", tt.in, got.compact, got.tokens, tt.compact, tt.tokens)
		}
	}
	if !normName("J.").initial() || normName("Jo").initial() {
		t.Error("initial() wrong")
	}
}

func TestNormID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"00123", "123"},
		{" 123 ", "123"},
		{"S-0012", "s0012"},
		{"ab 12.34", "ab1234"},
		{"000", "0"},
		{"0", "0"},
		{"", ""},
		{"  ", ""},
		{"ABC-def", "abcdef"},
		{"0A1", "a1"},
	}
	for _, tt := range tests {
		if got := normID(tt.in); got != tt.want {
			t.Errorf("normID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, local, domain string }{
		{"A.Smith@School.ORG", "a.smith", "school.org"},
		{" a.smith+math@school.org ", "a.smith", "school.org"},
		{"mailto:bob@x.edu", "bob", "x.edu"},
		{"<bob@x.edu>", "bob", "x.edu"},
		{"bob@x.edu.", "bob", "x.edu"},
		{"bob", "", ""},
		{"@x.edu", "", ""},
		{"bob@", "", ""},
		{"a@b@c", "", ""},
		{"+tag@x.edu", "", ""},
		{"bob smith@x.edu", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got := normEmail(tt.in)
		if got.local != tt.local || got.domain != tt.domain {
			t.Errorf("normEmail(%q) = %q @ %q, want %q @ %q", tt.in, got.local, got.domain, tt.local, tt.domain)
		}
	}
}

func TestNormDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2010-03-04", "2010-03-04"},
		{"2010/3/4", "2010-03-04"},
		{"3/4/2010", "2010-03-04"},
		{"03/04/2010", "2010-03-04"},
		{"3-4-2010", "2010-03-04"},
		{"20100304", "2010-03-04"},
		{"2010-03-04T00:00:00Z", "2010-03-04"},
		{"2010-03-04T12:30:00.000-05:00", "2010-03-04"},
		{"2010-03-04 08:00", "2010-03-04"},
		{"3/4/10", "2010-03-04"},
		{"3/4/95", "1995-03-04"},
		{"2012-02-29", "2012-02-29"},
		{"2011-02-29", ""},
		{"2010-13-01", ""},
		{"13/13/2010", ""},
		{"2010-04-31", ""},
		{"0000-00-00", ""},
		{"1800-01-01", ""},
		{"not a date", ""},
		{"2010-03", ""},
		{"", ""},
		{"99999999", ""},
		{"2010--04", ""},
		{"-1/-1/2010", ""},
		{"12345/1/2010", ""},
		{"1/2/3/4", ""},
	}
	for _, tt := range tests {
		if got := normDate(tt.in).String(); got != tt.want {
			t.Errorf("normDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormDate(f *testing.F) {
	for _, s := range []string{"2010-03-04", "3/4/2010", "20100304", "T", "--", "1/1/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := normDate(s)
		if !d.empty() && normDate(d.String()) != d {
			t.Errorf("normDate(%q) = %v does not round-trip", s, d)
		}
	})
}

func TestNormGrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		level    int
	}{
		{"K", "k", 0},
		{"Kindergarten", "k", 0},
		{"KG", "k", 0},
		{"0", "k", 0},
		{"00", "k", 0},
		{"PK", "pk", -1},
		{"Pre-K", "pk", -1},
		{"PreKindergarten", "pk", -1},
		{"-1", "pk", -1},
		{"TransitionalKindergarten", "tk", 0},
		{"1", "1", 1},
		{"01", "1", 1},
		{"1st", "1", 1},
		{"Grade 3", "3", 3},
		{"3rd grade", "3", 3},
		{"Twelfth", "12", 12},
		{"12", "12", 12},
		{"13", "13", 13},
		{"PostGraduate", "pg", 14},
		{"Ungraded", "ug", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		got := normGrade(tt.in)
		if got.code != tt.want || got.level != tt.level {
			t.Errorf("normGrade(%q) = %q/%d, want %q/%d", tt.in, got.code, got.level, tt.want, tt.level)
		}
	}
}

func TestNormSchoolName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, core, kind string }{
		{"Lincoln Elementary School", "lincoln", "elementary"},
		{"Lincoln Elem.", "lincoln", "elementary"},
		{"LINCOLN ES", "lincoln", "elementary"},
		{"Lincoln", "lincoln", ""},
		{"Lincoln High School", "lincoln", "high"},
		{"Lincoln HS", "lincoln", "high"},
		{"Lincoln Jr. High", "lincoln", "middle"},
		{"Lincoln Middle School", "lincoln", "middle"},
		{"High Plains Elementary", "high plains", "elementary"},
		{"El Camino Real High", "el camino real", "high"},
		{"The School of Arts & Sciences", "arts and sciences", ""},
		{"St. Mary's Academy", "saint marys academy", ""},
		{"Mt. Vernon K-8", "mount vernon", "k8"},
		{"Success Academy Charter School", "success academy charter", ""},
		{"Élémentaire Saint-Joseph", "elementaire saint joseph", ""},
		{"High", "high", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got := normSchoolName(tt.in)
		if got.core != tt.core || got.kind != tt.kind {
			t.Errorf("normSchoolName(%q) = %q/%q, want %q/%q", tt.in, got.core, got.kind, tt.core, tt.kind)
		}
	}
}

func TestNormState(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"CA", "CA"}, {"ca", "CA"}, {"California", "CA"}, {" new  york ", "NY"}, {"N.Y.", "NY"},
		{"District of Columbia", "DC"}, {"Ontario", "ontario"}, {"", ""},
	}
	for _, tt := range tests {
		if got := normState(tt.in); got != tt.want {
			t.Errorf("normState(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSoundex(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"robert", "R163"}, {"rupert", "R163"}, {"rubin", "R150"}, {"ashcraft", "A261"},
		{"tymczak", "T522"}, {"pfister", "P236"}, {"smith", "S530"}, {"smyth", "S530"}, {"lee", "L000"},
		{"", ""}, {"123", ""},
	}
	for _, tt := range tests {
		if got := soundex(tt.in); got != tt.want {
			t.Errorf("soundex(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b   string
		school bool
		agree  bool
	}{
		{"Lincoln Elementary", "lincoln elem. school", true, true},
		{"Lincoln Elementary", "Lincoln High", true, false},
		{"5f1c2|0042|Lincoln Elementary", "42", true, true},
		{"5f1c2|0042|Lincoln Elementary", "Lincoln Elementary School", true, true},
		{"Smith, Jane", "Jane Smith", false, true},
		{"T-001|jane.smith@x.org|Jane Smith", "JANE.SMITH@X.ORG", false, true},
		{"T-001", "t1", false, false},
		{"T-001", "T001", false, true},
		{"", "T001", false, false},
	}
	for _, tt := range tests {
		lv := cmpRef(normRef(tt.a, tt.school), normRef(tt.b, tt.school))
		if (lv == lvExact) != tt.agree {
			t.Errorf("cmpRef(%q, %q) = %v, want agree=%v", tt.a, tt.b, lv, tt.agree)
		}
	}
}
