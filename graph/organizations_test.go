package graph_test

import (
	"slices"
	"strings"
	"testing"
)

// TestOrganizationMutations drives createOrganization and updateOrganization through the API: values
// normalised, refusals answered with their code and a message that says what is wrong (never a database
// error), every change in the audit log.
func TestOrganizationMutations(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	const create = `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id externalId name mdrNumber state emailDomains } }`
	acme := map[string]any{"externalId": "ACME-1", "name": "Acme ISD", "mdrNumber": "MDR 01234567", "state": "Texas", "emailDomains": []string{"@ACME.org"}}
	var created struct {
		CreateOrganization struct {
			ID, ExternalID, Name, MdrNumber, State string
			EmailDomains                           []string
		}
	}
	a.query(a.keys["admin"], create, map[string]any{"input": acme}, &created)
	if o := created.CreateOrganization; o.ID == "" || o.MdrNumber != "01234567" || o.State != "TX" || !slices.Equal(o.EmailDomains, []string{"acme.org"}) {
		t.Errorf("createOrganization = %+v, want its identifiers normalised", o)
	}

	for _, c := range []struct {
		name, key string
		input     map[string]any
		code      string
		message   string
	}{
		{"duplicate externalId", "admin", acme, "CONFLICT", `external id "ACME-1" is already organization "Acme ISD"'s (id ` + created.CreateOrganization.ID + ")"},
		{"invalid MDR number", "admin", map[string]any{"externalId": "NEW", "name": "New", "mdrNumber": "N/A"}, "BAD_REQUEST",
			`invalid organization: mdrNumber: "N/A" is not an MDR number`},
		{"read key", "read", map[string]any{"externalId": "NEW", "name": "New"}, "FORBIDDEN", `lacks the "admin" scope`},
	} {
		r := a.do(a.keys[c.key], create, map[string]any{"input": c.input})
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != c.code || !strings.Contains(r.Errors[0].Message, c.message) {
			t.Errorf("%s: errors %+v, want %s with %q", c.name, r.Errors, c.code, c.message)
		}
		if len(r.Errors) > 0 && strings.Contains(strings.ToLower(r.Errors[0].Message), "constraint") {
			t.Errorf("%s: the message shows the database's error: %q", c.name, r.Errors[0].Message)
		}
	}

	var updated struct {
		UpdateOrganization struct{ EmailDomains []string }
	}
	a.query(a.keys["admin"], `mutation($id: ID!) { updateOrganization(id: $id, input: {appendEmailDomains: ["acme.k12.tx.us"]}) { emailDomains } }`,
		map[string]any{"id": created.CreateOrganization.ID}, &updated)
	if got := updated.UpdateOrganization.EmailDomains; !slices.Equal(got, []string{"acme.k12.tx.us", "acme.org"}) {
		t.Errorf("after appending a domain: %q", got)
	}

	var log struct {
		AuditEntries struct {
			Edges []struct {
				Node struct{ Actor, Action, Target string }
			}
		}
	}
	a.query(a.keys["admin"], `{ auditEntries(orderBy: {field: AT}) { edges { node { actor action target } } } }`, nil, &log)
	var actions []string
	for _, e := range log.AuditEntries.Edges {
		actions = append(actions, e.Node.Action)
		if !strings.HasPrefix(e.Node.Actor, "apikey:admin") || e.Node.Target != created.CreateOrganization.ID {
			t.Errorf("audit entry %+v, want the admin key acting on the organization", e.Node)
		}
	}
	if strings.Join(actions, ",") != "createOrganization,updateOrganization" {
		t.Errorf("audit log = %v", actions)
	}
}
