package apprecord_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	recs "github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// studentFields are the columns of the app's student files in these tests.
var studentFields = []match.Field{match.FirstName, match.MiddleName, match.LastName, match.DOB, match.Email, match.SISID,
	match.StudentNumber, match.StateID, match.SchoolRef, match.Grade}

// labelledDistrict is a synthetic district with a labelled set of its students, the set's added Clever
// records (second records of one person, same-name people) put into the district as Clever users, so
// that the simulator serves exactly the set's Clever side.
func labelledDistrict(t *testing.T, seed int64, students int) (*cleversim.Dataset, match.LabelledSet) {
	t.Helper()
	ds := synth.Generate(synth.Config{Seed: seed, Students: students, Teachers: 40, Staff: 10, Contacts: -1, Sections: 20, Courses: 5, Terms: 2})
	set := match.Labelled(seed, match.LabelledOptions{Dataset: ds})
	ds, err := set.WithCleverRecords(ds)
	must(t, err)
	return ds, set
}

// outcome reads the stored results of the set's app records back as a match.Outcome, for match.Evaluate.
func (e *env) outcome(set match.LabelledSet) match.Outcome {
	e.t.Helper()
	all, err := e.db.Client.AppRecord.Query().Where(apprecord.DistrictID(e.district), apprecord.TypeEQ(apprecord.TypeSTUDENT)).
		WithSuggestions().All(e.ctx)
	must(e.t, err)
	byExt := map[string]*ent.AppRecord{}
	for _, r := range all {
		byExt[r.ExternalID] = r
	}
	var out match.Outcome
	for _, a := range set.App {
		r := byExt[a.ID]
		if r == nil {
			e.t.Fatalf("app record %s not stored", a.ID)
		}
		res := match.Result{AppID: a.ID, Status: match.Status(r.Status)}
		if r.CleverID != nil {
			res.CleverID = *r.CleverID
			res.Candidates = append(res.Candidates, match.Candidate{CleverID: *r.CleverID})
		}
		for _, s := range r.Edges.Suggestions {
			if s.Status == matchsuggestion.StatusOPEN {
				res.Candidates = append(res.Candidates, match.Candidate{CleverID: s.CleverID, Score: s.Score})
			}
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// TestLabelledSetThroughTheMirror takes a labelled set through the product's path — the Clever side served
// by the simulator and synced into the mirror, the app side imported from its CSV — and holds the stored
// results to the quality the matching library promises: no wrong automatic match, automatic recall of at
// least 95% of the records that share a strong identifier, every other true match among the suggestions.
// The export carries each of Matchmaker's five results.
func TestLabelledSetThroughTheMirror(t *testing.T) {
	t.Parallel()
	ds, set := labelledDistrict(t, 11, 800)
	e := newEnv(t, ds)
	imp, err := e.importCSV(match.Student, writeCSV(set.App, studentFields))
	must(t, err)
	if imp.Records != len(set.App) || imp.Created != len(set.App) {
		t.Fatalf("import: %d records, %d created; want %d", imp.Records, imp.Created, len(set.App))
	}
	m := match.Evaluate(set, e.outcome(set))
	for _, line := range m.Report() {
		t.Log(line)
	}
	if m.Wrong != 0 || m.Precision != 1 {
		t.Errorf("%d wrong automatic matches: %v", m.Wrong, m.Mistakes)
	}
	if m.AutoRecall < 0.95 {
		t.Errorf("automatic recall %.3f, want ≥ 0.95", m.AutoRecall)
	}
	if m.SuggestionRecall < 0.99 {
		t.Errorf("suggestion recall %.3f, want ≥ 0.99", m.SuggestionRecall)
	}
	if m.MatchedNoStrong != 0 || m.SameNameDOBMatchedNoStrong != 0 {
		t.Errorf("matched without a strong identifier: %d (same name and birthday: %d)", m.MatchedNoStrong, m.SameNameDOBMatchedNoStrong)
	}
	if got := imp.Matched + imp.Suggested + imp.Unmatched + imp.Duplicate; got != len(set.App) {
		t.Errorf("import counts add to %d, want %d", got, len(set.App))
	}

	head, rows := e.export(match.Student)
	want := []string{"app.app_id", "app.first_name", "clever.id", "clever.sis_id", "matchmaker_results", "method", "score", "explanation"}
	for _, h := range want {
		if !slices.Contains(head, h) {
			t.Errorf("export header %v lacks %s", head, h)
		}
	}
	if i, j := slices.Index(head, "matchmaker_results"), slices.Index(head, "method"); i > j {
		t.Errorf("our columns must follow Matchmaker's: %v", head)
	}
	results := map[string]int{}
	for _, r := range rows {
		results[r["matchmaker_results"]]++
		if r["matchmaker_results"] == recs.ResultMatch && (r["clever.id"] == "" || r["app.app_id"] == "" || r["explanation"] == "") {
			t.Errorf("a match without its ids or explanation: %v", r)
		}
	}
	for _, res := range []string{recs.ResultMatch, recs.ResultAppNoMatch, recs.ResultAppDuplicate, recs.ResultCleverNoMatch, recs.ResultCleverDuplicate} {
		if results[res] == 0 {
			t.Errorf("export has no %q row: %v", res, results)
		}
	}
	if results[recs.ResultMatch] != imp.Matched || results[recs.ResultAppDuplicate] != imp.Duplicate {
		t.Errorf("export %v disagrees with the import's counts %+v", results, imp)
	}

	// The same file again changes nothing: no record, suggestion or result is rewritten.
	before := e.db.Client.AppRecord.Query().Order(ent.Asc(apprecord.FieldID)).AllX(e.ctx)
	again, err := e.importCSV(match.Student, writeCSV(set.App, studentFields))
	must(t, err)
	if again.Unchanged != len(set.App) || again.Created+again.Changed+again.Missing != 0 {
		t.Errorf("re-import: %d unchanged, %d created, %d changed, %d missing", again.Unchanged, again.Created, again.Changed, again.Missing)
	}
	after := e.db.Client.AppRecord.Query().Order(ent.Asc(apprecord.FieldID)).AllX(e.ctx)
	for i := range before {
		if !before[i].UpdatedAt.Equal(after[i].UpdatedAt) || before[i].Status != after[i].Status {
			t.Fatalf("re-import rewrote %s", before[i].ExternalID)
		}
	}
}

var _ = errors.Is
