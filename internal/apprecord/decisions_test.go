package apprecord_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/ent/userrole"
	recs "github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// pick returns the first stored student record that satisfies ok and is none of the excluded ones.
func (e *env) pick(what string, ok func(r *ent.AppRecord) bool, exclude ...*ent.AppRecord) *ent.AppRecord {
	e.t.Helper()
	all := e.db.Client.AppRecord.Query().Where(apprecord.DistrictID(e.district), apprecord.TypeEQ(apprecord.TypeSTUDENT)).
		Order(ent.Asc(apprecord.FieldExternalID)).AllX(e.ctx)
next:
	for _, r := range all {
		for _, x := range exclude {
			if x != nil && x.ID == r.ID {
				continue next
			}
		}
		if ok(r) {
			return r
		}
	}
	e.t.Fatalf("no record %s", what)
	return nil
}

// TestDecisionsAreSticky: an admin's match, unmatch, accepted and rejected suggestions survive a
// re-import, an import that changes the decided rows, a rematch and a re-sync; a matched Clever record
// that is unshared keeps its match and shows as archived; every decision is audited and needs admin.
func TestDecisionsAreSticky(t *testing.T) {
	t.Parallel()
	ds, set := labelledDistrict(t, 5, 300)
	e := newEnv(t, ds)
	file := writeCSV(set.App, studentFields)
	_, err := e.importCSV(match.Student, file)
	must(t, err)
	ctx := admin(e.ctx)

	// A: matched automatically, then unmatched by the admin.
	a := e.pick("matched", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusMATCHED })
	aClever := *a.CleverID
	if _, err := e.svc.UnmatchRecord(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	// B: a suggestion accepted.
	b := e.pick("suggested", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusSUGGESTED }, a)
	bBest := e.open(b)[0]
	if _, err := e.svc.AcceptSuggestion(ctx, bBest.ID); err != nil {
		t.Fatal(err)
	}
	// C: the best of two suggestions rejected.
	c := e.pick("with two suggestions", func(r *ent.AppRecord) bool {
		return r.Status == apprecord.StatusSUGGESTED && len(e.open(r)) >= 2
	}, a, b)
	cOpen := e.open(c)
	cRejected := cOpen[0]
	if _, err := e.svc.RejectSuggestion(ctx, cRejected.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.record(match.Student, c.ExternalID); got.Status != apprecord.StatusSUGGESTED || !strings.Contains(got.Explanation, cOpen[1].CleverID) {
		t.Errorf("after the best suggestion is rejected the record shows the next one: %s %q", got.Status, got.Explanation)
	}
	// D: an app-only record matched by hand to a Clever record nobody has.
	held := map[string]bool{}
	for _, r := range e.db.Client.AppRecord.Query().Where(apprecord.CleverIDNotNil()).AllX(e.ctx) {
		held[*r.CleverID] = true
	}
	var x string
	for _, id := range set.CleverOnly {
		if !held[id] {
			x = id
			break
		}
	}
	d := e.pick("unmatched", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusUNMATCHED }, a, b, c)
	if _, err := e.svc.MatchRecord(ctx, d.ID, x); err != nil {
		t.Fatal(err)
	}
	// E takes F's automatic match by hand: F keeps it only as a suggestion that says whose it is.
	f := e.pick("matched", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusMATCHED }, a, b, c, d)
	fClever := *f.CleverID
	ee := e.pick("unmatched", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusUNMATCHED }, a, b, c, d, f)
	if _, err := e.svc.MatchRecord(ctx, ee.ID, fClever); err != nil {
		t.Fatal(err)
	}
	// A Clever record held by a decision cannot be matched again without unmatching it first.
	if _, err := e.svc.MatchRecord(ctx, f.ID, fClever); !errors.Is(err, recs.ErrInvalid) {
		t.Errorf("matching a Clever record another decision holds: %v, want ErrInvalid", err)
	}
	// Decisions need admin.
	read := auth.WithKey(e.ctx, auth.Key{ID: "x", Name: "reader", Scopes: []auth.Scope{auth.ScopeRead}})
	if _, err := e.svc.MatchRecord(read, d.ID, x); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("matchRecord with a read key: %v", err)
	}

	check := func(when string) {
		t.Helper()
		if r := e.record(match.Student, a.ExternalID); r.Status != apprecord.StatusUNMATCHED || r.CleverID != nil || r.DecidedBy == "" {
			t.Errorf("%s: unmatched record is %s %v by %q", when, r.Status, r.CleverID, r.DecidedBy)
		}
		if r := e.record(match.Student, b.ExternalID); r.Status != apprecord.StatusMATCHED || *r.CleverID != bBest.CleverID {
			t.Errorf("%s: accepted suggestion lost: %s %v", when, r.Status, r.CleverID)
		}
		r := e.record(match.Student, c.ExternalID)
		if r.CleverID != nil && *r.CleverID == cRejected.CleverID {
			t.Errorf("%s: rejected pair matched", when)
		}
		for _, s := range e.open(r) {
			if s.CleverID == cRejected.CleverID {
				t.Errorf("%s: rejected pair suggested again", when)
			}
		}
		if r := e.record(match.Student, d.ExternalID); r.Status != apprecord.StatusMATCHED || *r.CleverID != x || r.Method != recs.MethodManual {
			t.Errorf("%s: manual match lost: %s %v %s", when, r.Status, r.CleverID, r.Method)
		}
		if r := e.record(match.Student, ee.ExternalID); r.Status != apprecord.StatusMATCHED || *r.CleverID != fClever {
			t.Errorf("%s: manual match of a taken record lost: %s %v", when, r.Status, r.CleverID)
		}
		r = e.record(match.Student, f.ExternalID)
		if r.Status == apprecord.StatusMATCHED {
			t.Errorf("%s: %s matched again to %v, which a decision holds", when, f.ExternalID, *r.CleverID)
		}
		found := false
		for _, s := range e.open(r) {
			found = found || s.CleverID == fClever && strings.Contains(s.Explanation, "already matched to app record "+ee.ExternalID)
		}
		if !found {
			t.Errorf("%s: %s does not keep its old match as a suggestion that says whose it is", when, f.ExternalID)
		}
		// A was unmatched: no other record takes its old Clever record automatically either? It may;
		// but A itself never gets it back.
		_ = aClever
	}
	check("after the decisions")

	_, err = e.importCSV(match.Student, file)
	must(t, err)
	check("after a re-import")

	// The decided rows change in the app (a new e-mail): the decision still stands.
	changed := strings.NewReplacer()
	var lines []string
	for _, l := range strings.Split(file, "\n") {
		for _, r := range []*ent.AppRecord{a, b, d} {
			if strings.HasPrefix(l, r.ExternalID+",") {
				l += "x"
			}
		}
		lines = append(lines, changed.Replace(l))
	}
	imp, err := e.importCSV(match.Student, strings.Join(lines, "\n"))
	must(t, err)
	if imp.Changed != 3 {
		t.Errorf("changed rows: %d, want 3", imp.Changed)
	}
	check("after an import that changes the decided rows")

	_, err = e.svc.RematchAs(e.ctx, e.district, nil, "test")
	must(t, err)
	check("after a rematch")

	e.sync()
	check("after a re-sync")

	// X is unshared: D keeps its match, shown as archived (GraphQL cleverArchived, the export's column).
	must(t, e.sim.Unshare(cleversim.KindUsers, x))
	e.sync()
	check("after the matched Clever record is unshared")
	arch, err := e.svc.Archived(e.ctx, []string{d.ID, b.ID})
	must(t, err)
	if !arch[d.ID] || arch[b.ID] {
		t.Errorf("archived: %v, want %s only", arch, d.ExternalID)
	}
	_, rows := e.export(match.Student)
	for _, r := range rows {
		if r["app.app_id"] == d.ExternalID && (r["matchmaker_results"] != recs.ResultMatch || r["clever.id"] != x || r["clever_archived"] != "true") {
			t.Errorf("export of a match to an archived record: %v", r)
		}
	}

	// Every decision is in the audit log.
	for action, n := range map[string]int{"matchRecord": 2, "unmatchRecord": 1, "acceptSuggestion": 1, "rejectSuggestion": 1, "importAppRecords": 3} {
		if got := e.db.Client.AuditEntry.Query().Where(auditentry.Action(action)).CountX(e.ctx); got != n {
			t.Errorf("%d %s audit entries, want %d", got, action, n)
		}
	}
	// A decided suggestion cannot be decided again.
	if _, err := e.svc.RejectSuggestion(ctx, bBest.ID); !errors.Is(err, recs.ErrInvalid) {
		t.Errorf("rejecting an accepted suggestion: %v", err)
	}
	if s := e.db.Client.MatchSuggestion.GetX(e.ctx, cRejected.ID); s.Status != matchsuggestion.StatusREJECTED || s.DecidedBy == "" {
		t.Errorf("rejected suggestion is %s by %q", s.Status, s.DecidedBy)
	}
}

// TestRematchAfterSync: a student the app has and Clever does not yet is matched by the sync that brings
// it; a record the app no longer sends is kept and reported.
func TestRematchAfterSync(t *testing.T) {
	t.Parallel()
	ds, _ := labelledDistrict(t, 3, 120)
	e := newEnv(t, ds)
	// A student new to Clever, the template's shape with new ids.
	var u map[string]any
	must(t, json.Unmarshal(ds.Users[0], &u))
	u["id"] = "6a0000000000000000000001"
	u["name"] = map[string]any{"first": "Ximena", "last": "Quartermaine"}
	u["email"] = "xq@example.com"
	st := u["roles"].(map[string]any)["student"].(map[string]any)
	st["sis_id"], st["student_number"], st["state_id"], st["dob"] = "990001", "990001", "880001", "2/3/2014"
	st["credentials"] = map[string]any{"district_username": "xq"}
	file := "app_id,first_name,last_name,sis_id,dob\nS-1,Ximena,Quartermaine,00990001,2014-02-03\nS-2,Nobody,Known,123,2014-01-01\nS-3,Another,Nobody,124,\n"
	imp, err := e.importCSV(match.Student, file)
	must(t, err)
	if imp.Unmatched != 3 {
		t.Fatalf("before Clever has them: %+v", imp)
	}
	// A sync that changes nothing does not match again: the import saw the same records.
	rematches := func() int { return strings.Count(e.log.String(), `msg="app records rematched"`) }
	before := rematches()
	e.sync()
	if rematches() != before {
		t.Errorf("a sync that changed nothing rematched")
	}
	raw, err := json.Marshal(u)
	must(t, err)
	must(t, e.sim.Put(cleversim.KindUsers, raw))
	e.sync()
	if rematches() != before+1 {
		t.Errorf("the sync that brought a student did not rematch once: %d", rematches()-before)
	}
	r := e.record(match.Student, "S-1")
	if r.Status != apprecord.StatusMATCHED || *r.CleverID != "6a0000000000000000000001" || r.Method != "sis_id" {
		t.Fatalf("after the sync that brings the student: %s %v %s %q", r.Status, r.CleverID, r.Method, r.Explanation)
	}
	if !strings.Contains(r.Explanation, "sis id") {
		t.Errorf("explanation %q does not say what agrees", r.Explanation)
	}
	// S-3 is gone from the app's next file: kept, marked, reported.
	imp, err = e.importCSV(match.Student, "app_id,first_name,last_name,sis_id,dob\nS-1,Ximena,Quartermaine,00990001,2014-02-03\nS-2,Nobody,Known,123,2014-01-01\n")
	must(t, err)
	if imp.Missing != 1 || len(imp.MissingIds) != 1 || imp.MissingIds[0] != "S-3" || imp.Unchanged != 2 {
		t.Errorf("missing: %d %v, unchanged %d", imp.Missing, imp.MissingIds, imp.Unchanged)
	}
	if r := e.record(match.Student, "S-3"); r.MissingSince == nil {
		t.Error("a missing record must be marked, not dropped")
	}
	since := *e.record(match.Student, "S-3").MissingSince
	imp, err = e.importCSV(match.Student, "app_id,first_name,last_name,sis_id,dob\nS-1,Ximena,Quartermaine,00990001,2014-02-03\nS-2,Nobody,Known,123,2014-01-01\n")
	must(t, err)
	if imp.Missing != 1 || !e.record(match.Student, "S-3").MissingSince.Equal(since) {
		t.Errorf("the same shorter file again: %d missing (want it reported again, missing since the first time)", imp.Missing)
	}
	var b bytes.Buffer
	must(t, e.svc.Export(e.ctx, &b, e.district, match.Student))
	if strings.Contains(b.String(), "S-3") {
		t.Error("the export lists a record the app no longer has")
	}
	imp, err = e.importCSV(match.Student, file)
	must(t, err)
	if imp.Changed != 1 || imp.Missing != 0 || e.record(match.Student, "S-3").MissingSince != nil {
		t.Errorf("back again: %d changed, %d missing", imp.Changed, imp.Missing)
	}
}

// TestFieldOrderIsConfigurable: with an order that leaves sis_id out, a record that only an SIS id would
// match is suggested, not matched; the default order matches it.
func TestFieldOrderIsConfigurable(t *testing.T) {
	t.Parallel()
	ds, set := labelledDistrict(t, 4, 60)
	e := newEnv(t, ds)
	c := set.Clever[0].Values
	file := "app_id,first_name,last_name,sis_id\nX," + c[match.FirstName] + "," + c[match.LastName] + "," + c[match.SISID] + "\n"
	imp, err := e.importCSV(match.Student, file)
	must(t, err)
	if imp.Matched != 1 {
		t.Fatalf("default order: %+v", imp)
	}
	custom := recs.New(e.db, recs.WithConfig(match.Student, match.Config{Order: []match.Field{match.StateID, match.DOB, match.Name}}))
	counts, err := custom.RematchAs(e.ctx, e.district, nil, "test")
	must(t, err)
	if len(counts) != 1 || counts[0].Matched != 0 {
		t.Errorf("without sis_id in the order: %+v", counts)
	}
}

// TestReKeyedImport: the app re-keys its records (the same students under new ids): the new records take
// the matches the old ones held automatically, the old ones leave the counts, the export and the review
// queue — while a match an admin made for an old record still holds its Clever record.
func TestReKeyedImport(t *testing.T) {
	t.Parallel()
	ds, set := labelledDistrict(t, 6, 120)
	e := newEnv(t, ds)
	old := writeCSV(set.App, studentFields)
	first, err := e.importCSV(match.Student, old)
	must(t, err)
	// An admin matches one suggested record by hand.
	s := e.pick("suggested", func(r *ent.AppRecord) bool { return r.Status == apprecord.StatusSUGGESTED })
	best := e.open(s)[0]
	_, err = e.svc.AcceptSuggestion(admin(e.ctx), best.ID)
	must(t, err)

	rekeyed := strings.ReplaceAll(old, "\napp-", "\nnew-")
	imp, err := e.importCSV(match.Student, rekeyed)
	must(t, err)
	if imp.Missing != len(set.App) || imp.Created != len(set.App) {
		t.Fatalf("re-keyed: %d created, %d missing", imp.Created, imp.Missing)
	}
	// The accepted pair stays with its old record; everything else matched as the first time.
	if imp.Matched != first.Matched || imp.Matched+imp.Suggested+imp.Unmatched+imp.Duplicate != len(set.App) {
		t.Errorf("re-keyed counts %d/%d/%d/%d, first import %d matched", imp.Matched, imp.Suggested, imp.Unmatched, imp.Duplicate, first.Matched)
	}
	newS := e.record(match.Student, "new-"+strings.TrimPrefix(s.ExternalID, "app-"))
	if newS.CleverID != nil && *newS.CleverID == best.CleverID {
		t.Errorf("the new record took the Clever record an admin gave to %s", s.ExternalID)
	}
	open := e.db.Client.MatchSuggestion.Query().Where(matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN),
		matchsuggestion.HasAppRecordWith(apprecord.MissingSinceNotNil())).CountX(e.ctx)
	if open != 0 {
		t.Errorf("%d open suggestions of records the app no longer has", open)
	}
	_, rows := e.export(match.Student)
	results := map[string]int{}
	for _, r := range rows {
		results[r["matchmaker_results"]]++
		if strings.HasPrefix(r["app.app_id"], "app-") {
			t.Fatalf("the export has an old record: %v", r)
		}
	}
	if results[recs.ResultMatch] != imp.Matched {
		t.Errorf("export %v, want %d matches", results, imp.Matched)
	}
}

// TestExportKeepsEveryColumnAndIsInert: a header that repeats a name or leaves one empty loses no value,
// and no value of the export runs as a spreadsheet formula.
func TestExportKeepsEveryColumnAndIsInert(t *testing.T) {
	t.Parallel()
	ds, _ := labelledDistrict(t, 8, 30)
	e := newEnv(t, ds)
	_, err := e.importCSV(match.Student, "app_id,first_name,Note,Note,\nA1,=HYPERLINK(1),first,second,last\nA2,-12,+1,@me,-Ann\n")
	must(t, err)
	head, rows := e.export(match.Student)
	want := []string{"app.app_id", "app.first_name", "app.Note", "app.Note (column 4)", "app.column 5"}
	if !slices.Equal(head[:5], want) {
		t.Errorf("header %q, want it to start %q", head, want)
	}
	a1, a2 := rows[0], rows[1]
	if a1["app.Note"] != "first" || a1["app.Note (column 4)"] != "second" || a1["app.column 5"] != "last" {
		t.Errorf("row A1 %v", a1)
	}
	if a1["app.first_name"] != "'=HYPERLINK(1)" || a2["app.first_name"] != "-12" || a2["app.Note"] != "'+1" ||
		a2["app.Note (column 4)"] != "'@me" || a2["app.column 5"] != "'-Ann" {
		t.Errorf("formulas not made inert: %v %v", a1, a2)
	}
}

// TestRematchAfterApprovedHeldRun: the archives of a run the guard held are applied when an admin
// approves it; AfterApproval then matches the district's undecided app records again — once, and not
// for a run still held.
func TestRematchAfterApprovedHeldRun(t *testing.T) {
	t.Parallel()
	ds, _ := labelledDistrict(t, 3, 120)
	e := newEnv(t, ds)
	_, err := e.importCSV(match.Student, "app_id,first_name,last_name,sis_id,dob\nS-2,Nobody,Known,123,2014-01-01\n")
	must(t, err)
	students, err := e.db.Client.UserRole.Query().Where(userrole.RoleEQ(userrole.RoleStudent)).Select(userrole.FieldUserID).Strings(e.ctx)
	must(t, err)
	for _, id := range students[:len(students)/2] {
		must(t, e.sim.Unshare(cleversim.KindUsers, id))
	}
	held, err := e.syncer.SyncDistrict(e.ctx, e.district, mirror.Options{})
	must(t, err)
	if held.Status != mirror.StatusHeld {
		t.Fatalf("unsharing half the students: %s, want HELD", held.Status)
	}
	rematches := func() int { return strings.Count(e.log.String(), `msg="app records rematched after a sync"`) }
	before := rematches()
	e.svc.AfterApproval(e.ctx, held)
	if rematches() != before {
		t.Errorf("a run still held was followed by a rematch")
	}
	approved, err := e.engine.ApproveHeld(e.ctx, held.RunID, "test:admin")
	must(t, err)
	e.svc.AfterApproval(e.ctx, approved)
	if rematches() != before+1 {
		t.Errorf("the approval was followed by %d rematches, want 1", rematches()-before)
	}
}
