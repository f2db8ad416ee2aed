package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
)

// TestMatchingThroughTheAPI is the review flow as an admin runs it in the playground: import the app's
// students, read the counts, work through the suggestions best first, accept one, match and unmatch by
// hand, and see the Clever ids on the app's records and the app's records on Clever's users — with each
// sensitive part closed to a read key.
func TestMatchingThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	ctx := context.Background()
	district := districtOf(a.data)
	students := a.db.Client.User.Query().Where(user.HasRolesWith(userrole.RoleEQ(userrole.RoleStudent))).
		WithRoles().Order(ent.Asc(user.FieldID)).Limit(12).AllX(ctx)
	var csv strings.Builder
	csv.WriteString("Student ID,First Name,Last Name,SIS ID,Birth Date\n")
	for i, u := range students[:10] {
		r := u.Edges.Roles[0]
		dob := ""
		if r.Dob != nil {
			dob = r.Dob.Format("01/02/2006")
		}
		fmt.Fprintf(&csv, "A-%d,%s,%s,%s,%s\n", i, u.FirstName, u.LastName, r.SisID, dob)
	}
	// Found by name and birth date only: a suggestion, never a match.
	u := students[10]
	dob := ""
	if d := u.Edges.Roles[0].Dob; d != nil {
		dob = d.Format("2006-01-02")
	}
	fmt.Fprintf(&csv, "A-10,%s,%s,,%s\n", u.FirstName, u.LastName, dob)
	csv.WriteString("A-11,Nobody,Atall,,\n")

	const imp = `mutation($d: ID!, $csv: String!) { importAppRecords(districtId: $d, type: STUDENT, csv: $csv, idColumn: "Student ID") {
		records created matched suggested unmatched duplicate idColumn mapping warnings } }`
	vars := map[string]any{"d": district, "csv": csv.String()}
	if r := a.do(a.keys["read"], imp, vars); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("importAppRecords with a read key: %+v", r.Errors)
	}
	bad := map[string]any{"d": district, "csv": "Student ID,First Name\nA-1,Ann\nA-1,Bob\n"}
	if r := a.do(a.keys["admin"], imp, bad); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_REQUEST" ||
		!strings.Contains(r.Errors[0].Message, "line 3") {
		t.Errorf("a file with a duplicate id: %+v", r.Errors)
	}
	var got struct {
		ImportAppRecords struct {
			Records, Created, Matched, Suggested, Unmatched, Duplicate int
			IDColumn                                                   string
			Mapping                                                    map[string]string
		}
	}
	a.query(a.keys["admin"], imp, vars, &got)
	if g := got.ImportAppRecords; g.Records != 12 || g.Matched != 10 || g.Suggested != 1 || g.Unmatched != 1 ||
		g.IDColumn != "Student ID" || g.Mapping["sis_id"] != "SIS ID" || g.Mapping["dob"] != "Birth Date" {
		t.Fatalf("import = %+v", g)
	}

	// A read key sees the records and their Clever ids, not the app's row or the explanations.
	var recs struct {
		AppRecords struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID, ExternalID, Status, Method string
					CleverID                       *string
					User                           *struct{ CleverID string }
				}
			}
		}
	}
	a.query(a.keys["read"], `{ appRecords(where: {type: STUDENT, status: MATCHED}, orderBy: {field: EXTERNAL_ID}) {
		totalCount edges { node { id externalId status method cleverId user { cleverId } } } } }`, nil, &recs)
	if recs.AppRecords.TotalCount != 10 {
		t.Fatalf("matched records: %d", recs.AppRecords.TotalCount)
	}
	for i, e := range recs.AppRecords.Edges {
		n := e.Node
		if n.CleverID == nil || *n.CleverID != students[i].ID || n.User == nil || n.User.CleverID != students[i].ID || n.Method != "sis_id" {
			t.Errorf("%s: %+v", n.ExternalID, n)
		}
	}
	for _, q := range []string{
		`{ appRecords { edges { node { fields } } } }`,
		`{ appRecords { edges { node { explanation } } } }`,
		`{ matchSuggestions { totalCount } }`,
	} {
		if r := a.do(a.keys["read"], q, nil); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Errorf("%s with a read key: %+v", q, r.Errors)
		}
	}

	// The review queue, best first, with what the admin needs to decide.
	var queue struct {
		MatchSuggestions struct {
			Edges []struct {
				Node struct {
					ID, Explanation string
					Score           float64
					AppRecord       struct {
						ExternalID string
						Fields     map[string]string
					}
					User struct{ CleverID, FirstName string }
				}
			}
		}
	}
	a.query(a.keys["admin"], `query($d: String!) { matchSuggestions(where: {districtID: $d, type: STUDENT, status: OPEN, scoreGTE: 0.1}, orderBy: {field: SCORE, direction: DESC}) {
		edges { node { id score explanation appRecord { externalId fields } user { cleverId firstName } } } } }`, map[string]any{"d": district}, &queue)
	if len(queue.MatchSuggestions.Edges) == 0 {
		t.Fatal("no suggestion in the queue")
	}
	top := queue.MatchSuggestions.Edges[0].Node
	if top.AppRecord.ExternalID != "A-10" || top.User.CleverID != u.ID || top.AppRecord.Fields["Last Name"] != u.LastName ||
		!strings.Contains(top.Explanation, "birth date") {
		t.Errorf("top suggestion = %+v, want A-10 → %s", top, u.ID)
	}

	var accepted struct {
		AcceptSuggestion struct {
			Status    string
			AppRecord struct {
				Status, DecidedBy string
				CleverID          string
			}
		}
	}
	a.query(a.keys["admin"], `mutation($id: ID!) { acceptSuggestion(id: $id) { status appRecord { status cleverId decidedBy } } }`,
		map[string]any{"id": top.ID}, &accepted)
	if s := accepted.AcceptSuggestion; s.Status != "ACCEPTED" || s.AppRecord.Status != "MATCHED" || s.AppRecord.CleverID != u.ID ||
		!strings.HasPrefix(s.AppRecord.DecidedBy, "apikey:admin") {
		t.Errorf("acceptSuggestion = %+v", s)
	}

	// The app keys its data on Clever ids from here: each Clever user shows the app's record.
	var byUser struct {
		Node struct {
			AppRecord *struct{ ExternalID, Status string }
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { ... on User { appRecord { externalId status } } } }`, map[string]any{"id": u.ID}, &byUser)
	if byUser.Node.AppRecord == nil || byUser.Node.AppRecord.ExternalID != "A-10" {
		t.Errorf("User.appRecord = %+v", byUser.Node.AppRecord)
	}

	// By hand: A-11 to a student nobody has, then undone; a made-up id is refused.
	id11 := recordID(t, a, "A-11")
	const matchRec = `mutation($r: ID!, $c: ID!) { matchRecord(appRecordId: $r, cleverId: $c) { status cleverId method cleverArchived user { cleverId } } }`
	if r := a.do(a.keys["admin"], matchRec, map[string]any{"r": id11, "c": "000000000000000000000000"}); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Errorf("matchRecord to an unknown Clever id: %+v", r.Errors)
	}
	var manual struct {
		MatchRecord struct {
			Status, CleverID, Method string
			CleverArchived           bool
			User                     struct{ CleverID string }
		}
	}
	a.query(a.keys["admin"], matchRec, map[string]any{"r": id11, "c": students[11].ID}, &manual)
	if m := manual.MatchRecord; m.Status != "MATCHED" || m.CleverID != students[11].ID || m.Method != "manual" || m.CleverArchived || m.User.CleverID != students[11].ID {
		t.Errorf("matchRecord = %+v", m)
	}
	var undone struct {
		UnmatchRecord struct {
			Status   string
			CleverID *string
		}
	}
	a.query(a.keys["admin"], `mutation($r: ID!) { unmatchRecord(appRecordId: $r) { status cleverId } }`, map[string]any{"r": id11}, &undone)
	if undone.UnmatchRecord.Status != "UNMATCHED" || undone.UnmatchRecord.CleverID != nil {
		t.Errorf("unmatchRecord = %+v", undone.UnmatchRecord)
	}

	var re struct {
		RematchAppRecords []struct {
			Type                                     string
			Matched, Suggested, Unmatched, Duplicate int
		}
	}
	a.query(a.keys["admin"], `mutation($d: ID!) { rematchAppRecords(districtId: $d) { type matched suggested unmatched duplicate } }`, map[string]any{"d": district}, &re)
	if len(re.RematchAppRecords) != 1 || re.RematchAppRecords[0].Type != "STUDENT" || re.RematchAppRecords[0].Matched != 11 || re.RematchAppRecords[0].Unmatched != 1 {
		t.Errorf("rematchAppRecords = %+v", re.RematchAppRecords)
	}
}

// recordID is the id of the app record with the external id.
func recordID(t *testing.T, a *api, ext string) string {
	t.Helper()
	var r struct {
		AppRecords struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.query(a.keys["admin"], `query($e: String!) { appRecords(where: {externalId: $e}) { edges { node { id } } } }`, map[string]any{"e": ext}, &r)
	if len(r.AppRecords.Edges) != 1 {
		t.Fatalf("app record %s: %+v", ext, r)
	}
	return r.AppRecords.Edges[0].Node.ID
}
