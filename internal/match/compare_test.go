package match

import (
	"math"
	"testing"
)

func TestJaroWinkler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.840},
		{"dixon", "dicksonx", 0.813},
		{"smith", "smith", 1},
		{"", "", 0},
		{"abc", "", 0},
		{"abc", "xyz", 0},
		{"zoë", "zoe", 0.822},
	}
	for _, tt := range tests {
		if got := jaroWinkler(tt.a, tt.b); math.Abs(got-tt.want) > 0.001 {
			t.Errorf("jaroWinkler(%q, %q) = %.3f, want %.3f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestOneEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"jon", "jom", true}, {"jon", "john", true}, {"john", "jon", true}, {"ann", "nna", false},
		{"anna", "anan", true}, {"abc", "abc", true}, {"abc", "xyz", false}, {"ab", "abcd", false},
	}
	for _, tt := range tests {
		if got := oneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCmpFirstName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want level
	}{
		{"Robert", "ROBERT", lvExact},
		{"Bob", "Robert", lvNickname},
		{"Liz", "Elizabeth", lvNickname},
		{"Elizabeth", "Beth", lvNickname},
		{"Jonathon", "Jonathan", lvFuzzy},
		{"Catherine", "Katherine", lvFuzzy},
		{"Mary Ann", "Mary", lvPartial},
		{"J", "John", lvInitial},
		{"J.", "Mary", lvDiffer},
		{"Mary-Kate", "Marykate", lvExact},
		{"Robert", "Alice", lvDiffer},
		{"", "Alice", lvMissing},
	}
	for _, tt := range tests {
		if got := cmpFirstName(normName(tt.a), normName(tt.b)); got != tt.want {
			t.Errorf("cmpFirstName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCmpLastName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want level
	}{
		{"Smith", "smith", lvExact},
		{"Smith", "Smyth", lvFuzzy},
		{"Garcia Lopez", "Garcia", lvPartial},
		{"García-López", "Garcia Lopez", lvExact},
		{"O'Connor", "OConnor", lvExact},
		{"Smith", "Jones", lvDiffer},
		{"Nguyen", "", lvMissing},
	}
	for _, tt := range tests {
		if got := cmpLastName(normName(tt.a), normName(tt.b)); got != tt.want {
			t.Errorf("cmpLastName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCmpEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want level
	}{
		{"A.Smith@x.org", "a.smith+math@X.org", lvExact},
		{"a.smith@old.org", "a.smith@new.org", lvPartial},
		{"a.smith@x.org", "asmith@x.org", lvFuzzy},
		{"a.smith@x.org", "bjones@x.org", lvDiffer},
		{"a.smith@x.org", "asmith@y.org", lvDiffer},
		{"a.smith@x.org", "", lvMissing},
	}
	for _, tt := range tests {
		if got := cmpEmail(normEmail(tt.a), normEmail(tt.b)); got != tt.want {
			t.Errorf("cmpEmail(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCmpDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want level
	}{
		{"2010-03-04", "3/4/2010", lvExact},
		{"2010-03-04", "2010-04-03", lvTransposed},
		{"2010-03-04", "2011-03-04", lvOneOff},
		{"2010-03-04", "2010-03-05", lvOneOff},
		{"2010-03-04", "2009-05-04", lvDiffer},
		{"2010-03-04", "garbage", lvMissing},
	}
	for _, tt := range tests {
		if got := cmpDate(normDate(tt.a), normDate(tt.b)); got != tt.want {
			t.Errorf("cmpDate(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCmpGradeSchoolTitle(t *testing.T) {
	t.Parallel()
	if got := cmpGrade(normGrade("K"), normGrade("1")); got != lvPartial {
		t.Errorf("K/1 = %v, want partial", got)
	}
	if got := cmpGrade(normGrade("3"), normGrade("5")); got != lvDiffer {
		t.Errorf("3/5 = %v, want differ", got)
	}
	schools := []struct {
		a, b string
		want level
	}{
		{"Lincoln Elementary", "Lincoln Elem School", lvExact},
		{"Lincoln Elementary", "Lincoln", lvPartial},
		{"Lincoln Elementary", "Lincoln High", lvDiffer},
		{"Lincon Elementary", "Lincoln Elementary", lvFuzzy},
		{"Lincoln Elementary", "Washington Elementary", lvDiffer},
	}
	for _, tt := range schools {
		if got := cmpSchoolName(normSchoolName(tt.a), normSchoolName(tt.b)); got != tt.want {
			t.Errorf("cmpSchoolName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := cmpTitle(normName("Algebra I - Period 3"), normName("Algebra I")); got != lvPartial {
		t.Errorf("title = %v, want partial", got)
	}
}

func TestWeightsFollowFrequency(t *testing.T) {
	t.Parallel()
	common, _ := valueWeights(fiLast, 1000, 100000)
	rare, differ := valueWeights(fiLast, 1, 100000)
	if !(rare > common+5 && common > 5) {
		t.Errorf("last name weights: common %.1f, rare %.1f bits", common, rare)
	}
	if differ >= -3 {
		t.Errorf("last name differs weighs %.1f bits", differ)
	}
	sharedDOB, _ := valueWeights(fiDOB, 40, 100000)
	loneDOB, _ := valueWeights(fiDOB, 1, 100000)
	if sharedDOB >= loneDOB {
		t.Errorf("a shared birthday (%.1f) should count less than a lone one (%.1f)", sharedDOB, loneDOB)
	}
	agree, differState := valueWeights(fiState, 100, 100)
	if agree < 0 || differState > 0 {
		t.Errorf("state weights %.1f/%.1f: agreement never negative, disagreement never positive", agree, differState)
	}
}
