package match

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// labSets caches the default sets: generating one takes a few hundred milliseconds.
var labSets = map[Type]LabelledSet{}

func labDefault(t testing.TB, typ Type) LabelledSet {
	t.Helper()
	if s, ok := labSets[typ]; ok {
		return s
	}
	opts := LabelledOptions{Type: typ}
	if typ == Staff {
		opts.Staff = 400 // enough staff for every category
	}
	s := Labelled(1, opts)
	labSets[typ] = s
	return s
}

func TestLabelledDeterministic(t *testing.T) {
	a := Labelled(7, LabelledOptions{Students: 400, Teachers: 60})
	b := Labelled(7, LabelledOptions{Students: 400, Teachers: 60})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different sets")
	}
	c := Labelled(8, LabelledOptions{Students: 400, Teachers: 60})
	if reflect.DeepEqual(a.App, c.App) {
		t.Fatal("different seeds gave the same app records")
	}
}

// labWant lists the categories each type's default set must contain.
func labWant(typ Type) []Noise {
	all := slices.Clone(labNoiseOrder)
	switch typ {
	case Teacher, Staff: // no birth dates
		all = slices.DeleteFunc(all, func(n Noise) bool { return n == NoiseDateFormat || n == NoiseSameNameDOB })
	}
	return all
}

func TestLabelledCategories(t *testing.T) {
	for _, typ := range []Type{Student, Teacher, Staff} {
		t.Run(string(typ), func(t *testing.T) {
			s := labDefault(t, typ)
			counts := s.Counts()
			t.Logf("%s: %d Clever records (%d Clever-only, %d duplicate groups, %d same-name-school groups, %d same-name-dob groups), %d app records",
				typ, len(s.Clever), len(s.CleverOnly), len(s.CleverDuplicates), len(s.SameNameSchool), len(s.SameNameDOB), len(s.App))
			primary := map[Noise]int{}
			for _, e := range s.Expected {
				primary[e.Noise[0]]++
			}
			for _, n := range labNoiseOrder {
				t.Logf("  %-18s %5d records (%d as primary noise)", n, counts[n], primary[n])
			}
			for _, n := range labWant(typ) {
				if counts[n] == 0 {
					t.Errorf("no app record in category %s", n)
				}
			}
			if len(s.CleverOnly) == 0 || len(s.CleverDuplicates) == 0 || len(s.SameNameSchool) == 0 {
				t.Errorf("missing Clever-side cases: %d Clever-only, %d duplicate groups, %d same-name groups",
					len(s.CleverOnly), len(s.CleverDuplicates), len(s.SameNameSchool))
			}
			if typ == Student && len(s.SameNameDOB) == 0 {
				t.Error("no same-name-same-birthday group")
			}
			// Sub-kinds the brief asks for.
			var zerosAdded, zerosRemoved, dashes, iso, compact, padded, tags, upper, typo, swapped bool
			clever := map[string]Record{}
			for _, c := range s.Clever {
				clever[c.ID] = c
			}
			for i, e := range s.Expected {
				if e.CleverID == "" {
					continue
				}
				a, c := s.App[i].Values, clever[e.CleverID].Values
				for _, f := range StrongFields(typ) {
					switch {
					case f == Email:
					case a[f] != "" && strings.HasPrefix(a[f], "0") && !strings.HasPrefix(c[f], "0"):
						zerosAdded = true
					case a[f] != "" && strings.HasPrefix(c[f], "0") && !strings.HasPrefix(a[f], "0"):
						zerosRemoved = true
					case strings.ContainsAny(a[f], "- "):
						dashes = true
					}
				}
				switch d := a[DOB]; {
				case d == c[DOB]:
				case regexp.MustCompile(`^\d{4}-\d\d-\d\d$`).MatchString(d):
					iso = true
				case regexp.MustCompile(`^\d{8}$`).MatchString(d):
					compact = true
				case regexp.MustCompile(`^\d\d/\d\d/\d{4}$`).MatchString(d):
					padded = true
				}
				tags = tags || strings.Contains(a[Email], "+")
				upper = upper || a[Email] != c[Email] && strings.EqualFold(a[Email], c[Email])
				if e.Noise[0] == NoiseNameTypo {
					typo = true
					if labEdits(a[FirstName], c[FirstName])+labEdits(a[LastName], c[LastName]) != 1 {
						t.Errorf("%s: typo is not one edit: %q %q vs %q %q", e.AppID, a[FirstName], a[LastName], c[FirstName], c[LastName])
					}
				}
				if e.Noise[0] == NoiseSwapped {
					swapped = true
					if a[FirstName] != c[LastName] || a[LastName] != c[FirstName] {
						t.Errorf("%s: names not swapped", e.AppID)
					}
				}
			}
			kinds := map[string]bool{"zeros added": zerosAdded, "zeros removed": zerosRemoved, "dashes or spaces": dashes,
				"+tag": tags, "case": upper, "typo": typo, "swap": swapped}
			if typ == Student {
				kinds["YYYY-MM-DD"], kinds["YYYYMMDD"], kinds["MM/DD/YYYY"] = iso, compact, padded
			}
			for k, ok := range kinds {
				if !ok {
					t.Errorf("no %s", k)
				}
			}
		})
	}
}

// labEdits is the Damerau–Levenshtein distance of a and b, in runes, capped at 3.
func labEdits(a, b string) int {
	x, y := []rune(a), []rune(b)
	if len(x)-len(y) > 2 || len(y)-len(x) > 2 {
		return 3
	}
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return min(d[len(x)][len(y)], 3)
}

func TestLabelledLabels(t *testing.T) {
	hex24 := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for _, typ := range []Type{Student, Teacher, Staff} {
		t.Run(string(typ), func(t *testing.T) {
			s := labDefault(t, typ)
			if len(s.App) != len(s.Expected) {
				t.Fatalf("%d app records, %d labels", len(s.App), len(s.Expected))
			}
			clever := map[string]Record{}
			for _, c := range s.Clever {
				if !hex24.MatchString(c.ID) {
					t.Errorf("Clever id %q", c.ID)
				}
				if _, dup := clever[c.ID]; dup {
					t.Errorf("Clever id %s twice", c.ID)
				}
				clever[c.ID] = c
			}
			// The person of each Clever record, and which people each normalised strong value belongs to.
			person := map[string]string{}
			for _, c := range s.Clever {
				person[c.ID] = c.ID
			}
			for _, g := range s.CleverDuplicates {
				for _, id := range g {
					person[id] = g[0]
				}
			}
			owners := map[string]map[string]bool{}
			for _, c := range s.Clever {
				for _, f := range StrongFields(typ) {
					if k := labNormStrong(f, c.Values[f]); k != "" {
						key := string(f) + ":" + k
						if owners[key] == nil {
							owners[key] = map[string]bool{}
						}
						owners[key][person[c.ID]] = true
					}
				}
			}
			for k, ps := range owners {
				if len(ps) > 1 {
					t.Errorf("strong value %s belongs to %d people", k, len(ps))
				}
			}
			cleverOnly := map[string]bool{}
			for _, id := range s.CleverOnly {
				cleverOnly[id] = true
			}
			appIDs := map[string]bool{}
			withApp := map[string]bool{}
			for i, e := range s.Expected {
				a := s.App[i]
				if a.ID != e.AppID || a.ID == "" || appIDs[a.ID] {
					t.Fatalf("app record %d: id %q, label %q", i, a.ID, e.AppID)
				}
				appIDs[a.ID] = true
				// No strong value of an app record points at another person.
				for _, f := range StrongFields(typ) {
					if k := labNormStrong(f, a.Values[f]); k != "" {
						for p := range owners[string(f)+":"+k] {
							if e.CleverID == "" || p != person[e.CleverID] {
								t.Errorf("%s %v: %s %q is another person's (%s)", a.ID, e.Noise, f, a.Values[f], p)
							}
						}
					}
				}
				if e.CleverID == "" {
					if !e.Has(NoiseAppOnly) || len(e.CleverIDs) != 0 || e.Strong() || e.Status != Unmatched {
						t.Errorf("%s: app-only label %+v", a.ID, e)
					}
					continue
				}
				if e.Has(NoiseAppOnly) || len(e.CleverIDs) == 0 || e.CleverIDs[0] != e.CleverID {
					t.Errorf("%s: label %+v", a.ID, e)
				}
				c, ok := clever[e.CleverID]
				if !ok {
					t.Fatalf("%s: Clever record %s missing", a.ID, e.CleverID)
				}
				for _, id := range e.CleverIDs {
					withApp[id] = true
					if person[id] != person[e.CleverID] {
						t.Errorf("%s: Clever records %v are not one person", a.ID, e.CleverIDs)
					}
				}
				shared, conflicting := labCompareStrong(typ, a, c)
				if !slices.Equal(shared, e.Shared) || !slices.Equal(conflicting, e.Conflicting) {
					t.Errorf("%s: shared %v conflicting %v, labelled %v %v", a.ID, shared, conflicting, e.Shared, e.Conflicting)
				}
				switch e.Noise[0] {
				case NoiseClean:
					if len(e.Noise) == 1 && !reflect.DeepEqual(a.Values, c.Values) {
						t.Errorf("%s: clean record differs: %v vs %v", a.ID, a.Values, c.Values)
					}
				case NoiseNoIDs:
					if e.Strong() {
						t.Errorf("%s: no_ids record shares %v", a.ID, e.Shared)
					}
				case NoiseIDChanged:
					if len(e.Conflicting) == 0 {
						t.Errorf("%s: id_changed record has no conflict", a.ID)
					}
				case NoiseEmailTag, NoiseEmailCase:
					if typ != Student && !slices.Contains(e.Shared, Email) {
						t.Errorf("%s: %s e-mail %q does not normalise to %q", a.ID, e.Noise[0], a.Values[Email], c.Values[Email])
					}
				case NoiseEmailNew, NoiseEmailDomain:
					if typ != Student && !slices.Contains(e.Conflicting, Email) {
						t.Errorf("%s: %s e-mail %q agrees with %q", a.ID, e.Noise[0], a.Values[Email], c.Values[Email])
					}
				case NoiseIDFormat:
					if len(e.Conflicting) != 0 {
						t.Errorf("%s: reformatted id conflicts: %v vs %v", a.ID, a.Values, c.Values)
					}
				}
				if e.Has(NoiseAppDuplicate) != (len(e.AppDuplicates) > 0) || e.Has(NoiseCleverDuplicate) != (len(e.CleverIDs) > 1) {
					t.Errorf("%s: duplicate labels %+v", a.ID, e)
				}
			}
			// Duplicates are symmetric and point at the same person.
			label := map[string]Expectation{}
			for _, e := range s.Expected {
				label[e.AppID] = e
			}
			for _, e := range s.Expected {
				for _, o := range e.AppDuplicates {
					if !slices.Contains(label[o].AppDuplicates, e.AppID) || label[o].CleverID != e.CleverID {
						t.Errorf("%s and %s: asymmetric duplicates", e.AppID, o)
					}
				}
			}
			for _, id := range s.CleverOnly {
				if withApp[id] {
					t.Errorf("Clever-only %s has an app record", id)
				}
			}
			for _, c := range s.Clever {
				if !withApp[c.ID] && !cleverOnly[c.ID] {
					t.Errorf("Clever record %s neither has an app record nor is Clever-only", c.ID)
				}
			}
			for _, g := range append(slices.Clone(s.SameNameSchool), s.SameNameDOB...) {
				first := clever[g[0]].Values
				for _, id := range g[1:] {
					v := clever[id].Values
					if labNormName(v[FirstName]) != labNormName(first[FirstName]) || labNormName(v[LastName]) != labNormName(first[LastName]) {
						t.Errorf("same-name group %v: different names", g)
					}
					if person[id] == person[g[0]] {
						t.Errorf("same-name group %v: one person", g)
					}
				}
			}
			for _, g := range s.SameNameDOB {
				d0, _ := labParseDate(clever[g[0]].Values[DOB])
				for _, id := range g[1:] {
					if d, _ := labParseDate(clever[id].Values[DOB]); !d.Equal(d0) {
						t.Errorf("same-name-dob group %v: different dates", g)
					}
				}
			}
		})
	}
}

func TestLabelledDataset(t *testing.T) {
	// A given dataset is used as is; Limit bounds it.
	base := Labelled(3, LabelledOptions{Students: 200, Teachers: 20})
	s := Labelled(3, LabelledOptions{Students: 200, Teachers: 20, Limit: 100, CleverDuplicates: -1, SameNameSchool: -1,
		SameNameDOB: -1, AppDuplicates: -1, AppOnly: -1, AppShare: 1, SecondNoise: -1, Mix: map[Noise]float64{NoiseClean: 1}})
	if len(s.Clever) != 100 || len(s.App) != 100 || len(s.CleverOnly) != 0 {
		t.Fatalf("%d Clever, %d app, %d Clever-only records", len(s.Clever), len(s.App), len(s.CleverOnly))
	}
	for i, e := range s.Expected {
		if !e.AutoEligible() || e.Status != Matched || !reflect.DeepEqual(s.App[i].Values, labFind(s.Clever, e.CleverID)) {
			t.Fatalf("%s: %+v", e.AppID, e)
		}
	}
	if len(base.Clever) <= 200 {
		t.Errorf("default options added no Clever records: %d", len(base.Clever))
	}
}

// labExactSIS is a throwaway matcher: a match when the raw sis_id equals exactly one Clever record's.
func labExactSIS(app, clever []Record) Outcome {
	by := map[string][]string{}
	for _, c := range clever {
		if s := c.Values[SISID]; s != "" {
			by[s] = append(by[s], c.ID)
		}
	}
	var out Outcome
	for _, a := range app {
		r := Result{AppID: a.ID, Status: Unmatched}
		if ids := by[a.Values[SISID]]; a.Values[SISID] != "" && len(ids) == 1 {
			r.Status, r.CleverID = Matched, ids[0]
			r.Candidates = []Candidate{{CleverID: ids[0], Method: "sis_id", Strong: true}}
		}
		out.Results = append(out.Results, r)
	}
	return out
}

// labExactName is a throwaway matcher that matches on first and last name alone: the harness must catch
// its wrong matches.
func labExactName(app, clever []Record) Outcome {
	by := map[string][]string{}
	for _, c := range clever {
		k := labNormName(c.Values[FirstName]) + "|" + labNormName(c.Values[LastName])
		by[k] = append(by[k], c.ID)
	}
	var out Outcome
	for _, a := range app {
		r := Result{AppID: a.ID, Status: Unmatched}
		if ids := by[labNormName(a.Values[FirstName])+"|"+labNormName(a.Values[LastName])]; len(ids) > 0 {
			r.Status, r.CleverID = Matched, ids[0]
			for _, id := range ids {
				r.Candidates = append(r.Candidates, Candidate{CleverID: id, Method: "name"})
			}
		}
		out.Results = append(out.Results, r)
	}
	return out
}

func TestLabelledHarness(t *testing.T) {
	for _, typ := range []Type{Student, Teacher} {
		t.Run(string(typ), func(t *testing.T) {
			s := labDefault(t, typ)
			m := Evaluate(s, labExactSIS(s.App, s.Clever))
			t.Log("exact sis_id matcher:")
			for _, l := range m.Report() {
				t.Log("  " + l)
			}
			if m.Wrong != 0 || m.Precision != 1 || m.MatchedNoStrong != 0 || m.AppOnlyMatched != 0 || m.MatchedCleverOnly != 0 {
				t.Errorf("exact sis_id: precision %.4f, %d wrong, %d without a strong id, %d app-only, %d Clever-only matched",
					m.Precision, m.Wrong, m.MatchedNoStrong, m.AppOnlyMatched, m.MatchedCleverOnly)
			}
			if m.AutoRecall >= 0.95 || m.SuggestionRecall >= 0.99 {
				t.Errorf("exact sis_id reaches the targets: auto recall %.4f, suggestion recall %.4f", m.AutoRecall, m.SuggestionRecall)
			}
			if m.DoubleMatched == 0 {
				t.Error("exact sis_id matched no Clever record twice, yet app duplicates share sis_ids")
			}

			m = Evaluate(s, labExactName(s.App, s.Clever))
			t.Logf("exact name matcher: precision %.4f (%d wrong of %d), %d without a strong id, %d same-name-dob, %d app-only matched",
				m.Precision, m.Wrong, m.Matched, m.MatchedNoStrong, m.SameNameDOBMatchedNoStrong, m.AppOnlyMatched)
			if m.Wrong == 0 || m.MatchedNoStrong == 0 || len(m.Mistakes) == 0 {
				t.Errorf("the harness let a name-only matcher through: %d wrong, %d without a strong id", m.Wrong, m.MatchedNoStrong)
			}
			if typ == Student && m.SameNameDOBMatchedNoStrong == 0 {
				t.Error("no same-name-same-birthday record matched by name alone")
			}
		})
	}
}

func TestMatchmakerRows(t *testing.T) {
	clever := []Record{{ID: "c1"}, {ID: "c2"}, {ID: "c3"}, {ID: "c4"}, {ID: "c5"}}
	out := Outcome{
		Results: []Result{
			{AppID: "a1", Status: Matched, CleverID: "c1"},
			{AppID: "a2", Status: Suggested, Candidates: []Candidate{{CleverID: "c2"}}},
			{AppID: "a3", Status: Unmatched},
			{AppID: "a4", Status: Duplicate, DuplicateOf: []string{"a5"}},
			{AppID: "a5", Status: Duplicate, DuplicateOf: []string{"a4"}},
		},
		CleverDuplicates: [][]string{{"c1", "c3"}},
		CleverUnmatched:  []string{"c4", "c5"},
	}
	got := MatchmakerRows(out, clever)
	want := []MatchmakerRow{
		{"a1", "c1", MatchmakerMatch},
		{"a2", "", MatchmakerAppNoMatch},
		{"a3", "", MatchmakerAppNoMatch},
		{"a4", "", MatchmakerAppDuplicate},
		{"a5", "", MatchmakerAppDuplicate},
		{"", "c2", MatchmakerCleverNoMatch},
		{"", "c3", MatchmakerCleverDuplicate},
		{"", "c4", MatchmakerCleverNoMatch},
		{"", "c5", MatchmakerCleverNoMatch},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n%v\nwant\n%v", got, want)
	}
	n := MatchmakerResults(out, clever)
	if fmt.Sprint(n) != "map[from Clever, duplicate:1 from Clever, no match:3 from app, duplicate:2 from app, no match:2 match:1]" {
		t.Fatalf("counts %v", n)
	}
}

// TestLabelledQuality runs Match on the default labelled sets and checks the targets: no wrong
// automatic match, automatic recall ≥ 95% of the records that should match, the true record among the
// suggestions for ≥ 99% of the records with one, duplicates and records without counterparts never
// matched, a name and birth date never enough, and Matchmaker's five results all produced.
func TestLabelledQuality(t *testing.T) {
	for _, typ := range []Type{Student, Teacher} {
		t.Run(string(typ), func(t *testing.T) {
			s := labDefault(t, typ)
			out := Match(typ, s.App, s.Clever, Config{})
			if len(out.Results) != len(s.App) {
				t.Fatalf("%d results for %d app records", len(out.Results), len(s.App))
			}
			m := Evaluate(s, out)
			for _, l := range m.Report() {
				t.Log(l)
			}
			for _, l := range m.Mistakes {
				t.Log("mistake: " + l)
			}
			if m.Wrong != 0 {
				t.Errorf("precision %.4f: %d wrong automatic matches of %d", m.Precision, m.Wrong, m.Matched)
			}
			if m.AutoRecall < 0.95 {
				t.Errorf("automatic recall %.4f < 95%% (%d of %d)", m.AutoRecall, m.EligibleMatched, m.Eligible)
			}
			if m.SuggestionRecall < 0.99 {
				t.Errorf("suggestion recall %.4f < 99%% (%d of %d)", m.SuggestionRecall, m.Found, m.Findable)
			}
			if m.AppOnlyMatched != 0 || m.MatchedCleverOnly != 0 {
				t.Errorf("records without counterparts matched: %d app-only, %d Clever-only", m.AppOnlyMatched, m.MatchedCleverOnly)
			}
			if m.MatchedNoStrong != 0 || m.SameNameDOBMatchedNoStrong != 0 {
				t.Errorf("%d matched without a strong identifier (%d same name and birth date)", m.MatchedNoStrong, m.SameNameDOBMatchedNoStrong)
			}
			for _, r := range out.Results {
				if r.Status == Matched && (len(r.Candidates) == 0 || r.Candidates[0].CleverID != r.CleverID || !r.Candidates[0].Strong) {
					t.Errorf("%s matched to %s without a strong first candidate: %+v", r.AppID, r.CleverID, r.Candidates)
				}
			}
			if m.DoubleMatched != 0 {
				t.Errorf("%d Clever records matched by more than one app record", m.DoubleMatched)
			}
			if m.AppDuplicatesFlagged == 0 {
				t.Errorf("no app duplicate reported DUPLICATE (%d app records of people entered twice)", m.AppDuplicates)
			}
			for _, r := range []string{MatchmakerMatch, MatchmakerAppNoMatch, MatchmakerAppDuplicate, MatchmakerCleverNoMatch, MatchmakerCleverDuplicate} {
				if m.Matchmaker[r] == 0 {
					t.Errorf("no %q row", r)
				}
			}
		})
	}
}
