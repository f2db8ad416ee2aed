package graph_test

import (
	"strings"
	"testing"
)

// TestOnboardingThroughTheAPI takes the demo district from DISCOVERED to LINKED the way an admin would in
// the playground — create the customer, see the MDR proposal, accept it, pause, move, unlink — with the
// natural queries a frontend and an admin write, and checks who may do what.
func TestOnboardingThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	district := districtOf(a.data)
	codeOf := func(r response) any {
		if len(r.Errors) == 0 {
			return nil
		}
		return r.Errors[0].Extensions["code"]
	}

	create := `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { id name externalId mdrNumber state emailDomains } }`
	in := map[string]any{"in": map[string]any{"externalId": "cust-42", "name": "Rostermirror Demo Customer",
		"mdrNumber": "4839360", "state": "ny", "emailDomains": []string{"Demo-Customer.EDU"}, "contactEmails": []string{"Boss@Example.com"}}}
	if r := a.do(a.keys["read"], create, in); codeOf(r) != "FORBIDDEN" {
		t.Errorf("createOrganization with a read key: %+v", r.Errors)
	}
	var created struct {
		CreateOrganization struct {
			ID, Name, ExternalID, MdrNumber, State string
			EmailDomains                           []string
		}
	}
	a.query(a.keys["admin"], create, in, &created)
	o := created.CreateOrganization
	if o.ExternalID != "cust-42" || o.State != "NY" || strings.Join(o.EmailDomains, ",") != "demo-customer.edu" {
		t.Errorf("created %+v: identifiers are normalised", o)
	}
	if r := a.do(a.keys["admin"], create, in); codeOf(r) != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "cust-42") {
		t.Errorf("a second organization with the same externalId: %+v", r.Errors)
	}

	// The frontend's view: which customer is this district? Not linked yet, but proposed by MDR number.
	districts := `{ districts { edges { node { cleverId name linkState organization { name externalId } } } } }`
	var ds struct {
		Districts struct {
			Edges []struct {
				Node struct {
					CleverID, Name, LinkState string
					Organization              *struct{ Name, ExternalID string }
				}
			}
		}
	}
	a.query(a.keys["read"], districts, nil, &ds)
	if n := ds.Districts.Edges[0].Node; n.LinkState != "PROPOSED" || n.Organization != nil {
		t.Errorf("district after the customer was created: %+v, want PROPOSED with no organization", n)
	}

	// The admin's review queue.
	queue := `{ linkProposals(where: {status: OPEN}) { edges { node { id signal evidence score conflict district { name } organization { externalId } } } } }`
	if r := a.do(a.keys["read"], queue, nil); codeOf(r) != "FORBIDDEN" {
		t.Errorf("linkProposals with a read key: %+v", r.Errors)
	}
	var q struct {
		LinkProposals struct {
			Edges []struct {
				Node struct {
					ID, Signal, Evidence string
					Score                float64
					Conflict             bool
					Organization         struct{ ExternalID string }
				}
			}
		}
	}
	a.query(a.keys["admin"], queue, nil, &q)
	if len(q.LinkProposals.Edges) != 1 {
		t.Fatalf("open proposals: %+v, want the MDR one", q.LinkProposals.Edges)
	}
	p := q.LinkProposals.Edges[0].Node
	if p.Signal != "MDR_NUMBER" || p.Conflict || p.Organization.ExternalID != "cust-42" || !strings.Contains(p.Evidence, "04839360") {
		t.Errorf("proposal %+v", p)
	}

	// Both new types are Relay nodes; a proposal only for an admin key.
	var node struct {
		Node struct {
			Typename string `json:"__typename"`
		}
	}
	a.query(a.keys["read"], `query($id: ID!) { node(id: $id) { __typename } }`, map[string]any{"id": o.ID}, &node)
	if node.Node.Typename != "Organization" {
		t.Errorf("node(organization) = %+v", node)
	}
	if r := a.do(a.keys["read"], `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": p.ID}); codeOf(r) != "FORBIDDEN" {
		t.Errorf("node(link proposal) with a read key: %+v", r.Errors)
	}
	a.query(a.keys["admin"], `query($id: ID!) { node(id: $id) { __typename } }`, map[string]any{"id": p.ID}, &node)
	if node.Node.Typename != "LinkProposal" {
		t.Errorf("node(link proposal) with an admin key = %+v", node)
	}

	// The pick-list is the admin's too.
	cands := `query($o: ID!) { districtLinkCandidates(organizationId: $o) { district { cleverId } score state mdrNumber ncesId schoolCount reason } }`
	if r := a.do(a.keys["read"], cands, map[string]any{"o": o.ID}); codeOf(r) != "FORBIDDEN" {
		t.Errorf("districtLinkCandidates with a read key: %+v", r.Errors)
	}
	var cs struct {
		DistrictLinkCandidates []struct {
			District    struct{ CleverID string }
			Score       float64
			State       string
			SchoolCount int
			Reason      string
		}
	}
	a.query(a.keys["admin"], cands, map[string]any{"o": o.ID}, &cs)
	if len(cs.DistrictLinkCandidates) != 1 || cs.DistrictLinkCandidates[0].State != "NY" || cs.DistrictLinkCandidates[0].SchoolCount != 4 ||
		!strings.Contains(cs.DistrictLinkCandidates[0].Reason, "same MDR number") {
		t.Errorf("candidates %+v", cs.DistrictLinkCandidates)
	}

	// The pick-list is costed by its first: 100 candidates of 1,000 users each is refused before it runs.
	if r := a.do(a.keys["admin"], `query($o: ID!) { districtLinkCandidates(organizationId: $o, first: 100) { district { users(first: 1000) { edges { node { id } } } } } }`,
		map[string]any{"o": o.ID}); codeOf(r) != "QUERY_TOO_COMPLEX" {
		t.Errorf("an expensive pick-list: %+v", r.Errors)
	}
	if r := a.do(a.keys["admin"], `query($o: ID!, $s: String) { districtLinkCandidates(organizationId: $o, search: $s) { score } }`,
		map[string]any{"o": o.ID, "s": strings.Repeat("x", 201)}); codeOf(r) != "BAD_REQUEST" {
		t.Errorf("a 201-byte search: %+v", r.Errors)
	}

	// Accept: LINKED, and the organization lists the district.
	if r := a.do(a.keys["read"], `mutation($id: ID!) { acceptLinkProposal(id: $id) { status } }`, map[string]any{"id": p.ID}); codeOf(r) != "FORBIDDEN" {
		t.Errorf("acceptLinkProposal with a read key: %+v", r.Errors)
	}
	var acc struct{ AcceptLinkProposal struct{ Status string } }
	a.query(a.keys["admin"], `mutation($id: ID!) { acceptLinkProposal(id: $id) { status } }`, map[string]any{"id": p.ID}, &acc)
	if acc.AcceptLinkProposal.Status != "ACCEPTED" {
		t.Errorf("accepted: %+v", acc)
	}
	if r := a.do(a.keys["admin"], `mutation($id: ID!) { rejectLinkProposal(id: $id) { status } }`, map[string]any{"id": p.ID}); codeOf(r) != "BAD_REQUEST" {
		t.Errorf("rejecting a decided proposal: %+v", r.Errors)
	}
	var orgs struct {
		Organizations struct {
			Edges []struct {
				Node struct {
					ContactEmails []string
					Districts     struct {
						TotalCount int
						Edges      []struct{ Node struct{ LinkState string } }
					}
				}
			}
		}
	}
	a.query(a.keys["read"], `{ organizations { edges { node { contactEmails districts { totalCount edges { node { linkState } } } } } } }`, nil, &orgs)
	n := orgs.Organizations.Edges[0].Node
	if n.Districts.TotalCount != 1 || n.Districts.Edges[0].Node.LinkState != "LINKED" || n.ContactEmails != nil {
		t.Errorf("organization as a reader sees it: %+v (contactEmails is admin only)", n)
	}

	// Paused: the status says so, and when.
	var paused struct {
		PauseDistrict struct{ Status struct{ Summary string } }
	}
	a.query(a.keys["admin"], `mutation($d: ID!) { pauseDistrict(districtId: $d) { status { summary } } }`, map[string]any{"d": district}, &paused)
	if !strings.Contains(paused.PauseDistrict.Status.Summary, "scheduled syncs paused since") {
		t.Errorf("status of a paused district: %q", paused.PauseDistrict.Status.Summary)
	}

	// Pause and resume; then move the district to another customer and unlink it.
	for _, step := range []struct{ mutation, want string }{
		{`pauseDistrict(districtId: $d) { linkState }`, "PAUSED"},
		{`resumeDistrict(districtId: $d) { linkState }`, "LINKED"},
		{`unlinkDistrict(districtId: $d) { linkState }`, "DISCOVERED"},
	} {
		var out map[string]struct{ LinkState string }
		a.query(a.keys["admin"], `mutation($d: ID!) { `+step.mutation+` }`, map[string]any{"d": district}, &out)
		for name, v := range out {
			if v.LinkState != step.want {
				t.Errorf("%s: %s, want %s", name, v.LinkState, step.want)
			}
		}
	}
	if r := a.do(a.keys["admin"], `mutation($d: ID!, $o: ID!) { linkDistrict(districtId: $d, organizationId: $o) { linkState } }`,
		map[string]any{"d": "no-such-district", "o": o.ID}); codeOf(r) != "NOT_FOUND" {
		t.Errorf("linking an unknown district: %+v", r.Errors)
	}
	if r := a.do(a.keys["admin"], `mutation($o: ID!) { createDistrictInvite(organizationId: $o) { url } }`, map[string]any{"o": o.ID}); codeOf(r) != "BAD_REQUEST" {
		t.Errorf("an invite without the login endpoints set up: %+v", r.Errors)
	}
	var log struct {
		AuditEntries struct {
			Edges []struct{ Node struct{ Action string } }
		}
	}
	a.query(a.keys["admin"], `{ auditEntries(orderBy: {field: AT}) { edges { node { action } } } }`, nil, &log)
	var actions []string
	for _, e := range log.AuditEntries.Edges {
		actions = append(actions, e.Node.Action)
	}
	if want := "createOrganization,acceptLinkProposal,pauseDistrict,pauseDistrict,resumeDistrict,unlinkDistrict"; strings.Join(actions, ",") != want {
		t.Errorf("audit log %v, want %s", actions, want)
	}
}
