package match

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// labelled100k is the labelled set the product's benchmark (internal/apprecord's BenchmarkMatch100k)
// matches: 100,000 students of a synthetic district, 97% of them in the app, with the Clever side's
// schools given as the product gives them — the Clever id, SIS id, school number and name, separated
// by "|" — and the app side's as the labelled set has them.
func labelled100k(tb testing.TB) (app, clever []Record) {
	tb.Helper()
	ds := synth.Generate(synth.Config{Seed: 100, Students: 100_000, Teachers: 50, Staff: 5, DistrictAdmins: 1,
		Contacts: -1, Sections: -1, Courses: -1, Terms: -1})
	set := Labelled(100, LabelledOptions{Dataset: ds, AppShare: 0.97, AppOnly: 0.01})
	refs := schoolAlternatives(tb, ds)
	clever = make([]Record, len(set.Clever))
	for i, r := range set.Clever {
		v := labCloneValues(r.Values)
		if s, ok := refs[v[SchoolRef]]; ok {
			v[SchoolRef] = s
		}
		clever[i] = Record{ID: r.ID, Values: v}
	}
	return set.App, clever
}

// schoolAlternatives maps each school's Clever id to "id|sis_id|school_number|name", the non-empty
// values only, each once (as internal/apprecord's alternatives does).
func schoolAlternatives(tb testing.TB, ds *cleversim.Dataset) map[string]string {
	out := make(map[string]string, len(ds.Schools))
	for _, raw := range ds.Schools {
		var s struct {
			ID           string `json:"id"`
			SISID        string `json:"sis_id"`
			SchoolNumber string `json:"school_number"`
			Name         string `json:"name"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			tb.Fatal(err)
		}
		var alts []string
		for _, v := range []string{s.ID, s.SISID, s.SchoolNumber, s.Name} {
			v = strings.TrimSpace(strings.NewReplacer("|", " ", ";", " ").Replace(v))
			if v != "" && !slices.Contains(alts, v) {
				alts = append(alts, v)
			}
		}
		out[s.ID] = strings.Join(alts, "|")
	}
	return out
}

// BenchmarkMatchLabelled100k times Match alone on the product benchmark's labelled set: 100,000 app
// students against about 105,000 Clever students whose schools carry their alternatives.
func BenchmarkMatchLabelled100k(b *testing.B) {
	app, clever := labelled100k(b)
	b.ReportAllocs()
	b.ResetTimer()
	var o Outcome
	for b.Loop() {
		o = Match(Student, app, clever, Config{})
	}
	b.ReportMetric(float64(o.Stats.Pairs)/float64(len(app)), "pairs/record")
}
