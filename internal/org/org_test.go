package org_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/org"
)

type createInput = ent.CreateOrganizationInput

// entCreate returns the input creating an organization, changed by edit.
func entCreate(externalID, name string, edit ...func(*createInput)) createInput {
	in := createInput{ExternalID: externalID, Name: name}
	for _, e := range edit {
		e(&in)
	}
	return in
}

func ptr[T any](v T) *T { return &v }

func TestCreateAndUpdateNeedTheAdminScope(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	existing, err := svc.Create(admin(t), entCreate("ACME-1", "Acme ISD"))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, b.db)
	b.signals.told()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"no API key", t.Context(), auth.ErrInvalidKey},
		{"read key", as(t, auth.ScopeRead), auth.ErrForbidden},
		{"sensitive and metrics key", as(t, auth.ScopeSensitive, auth.ScopeMetrics), auth.ErrForbidden},
	} {
		if _, err := svc.Create(c.ctx, entCreate("NEW", "New ISD")); !errors.Is(err, c.want) {
			t.Errorf("create with %s: %v, want %v", c.name, err, c.want)
		}
		if _, err := svc.Update(c.ctx, existing.ID, ent.UpdateOrganizationInput{Name: ptr("Renamed")}); !errors.Is(err, c.want) {
			t.Errorf("update with %s: %v, want %v", c.name, err, c.want)
		}
	}
	var scopeErr *auth.ScopeError
	if _, err := svc.Create(as(t, auth.ScopeRead), entCreate("NEW", "New ISD")); !errors.As(err, &scopeErr) || scopeErr.Missing != auth.ScopeAdmin {
		t.Errorf("create with a read key: %v, want a ScopeError naming admin", err)
	}
	if after := snapshot(t, b.db); after != before {
		t.Errorf("refused calls wrote:\n%s", after)
	}
	if told := b.signals.told(); told != nil {
		t.Errorf("refused calls told onboarding of %v", told)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	o, err := svc.Create(admin(t), entCreate(" ACME-1 ", " Acme ISD ", func(in *createInput) {
		in.MdrNumber = ptr("MDR 01234567")
		in.NcesID = ptr("100005")
		in.State = ptr("texas")
		in.EmailDomains = []string{"@Acme.org", "acme.k12.tx.us", "acme.org"}
		in.ContactEmails = []string{"Jane@Acme.org"}
		in.AutoLinkInvites = ptr(true)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.ExternalID != "ACME-1" || o.Name != "Acme ISD" || o.MdrNumber != "01234567" || o.NcesID != "0100005" || o.State != "TX" ||
		!slices.Equal(o.EmailDomains, []string{"acme.k12.tx.us", "acme.org"}) || !slices.Equal(o.ContactEmails, []string{"jane@acme.org"}) ||
		!o.AutoLinkInvites {
		t.Errorf("created %+v, want its fields normalised", o)
	}
	if stored := byExternalID(t, b.db, "ACME-1"); stored.ID != o.ID || stored.State != "TX" {
		t.Errorf("stored %+v", stored)
	}
	entries := auditEntries(t, b.db, audit.CreateOrganization)
	if len(entries) != 1 || entries[0].Actor != adminActor || entries[0].Target != o.ID ||
		entries[0].Outcome != `created organization "Acme ISD" (external id "ACME-1")` {
		t.Errorf("audit entries %+v", entries)
	}
	if told := b.signals.told(); len(told) != 1 || !slices.Equal(told[0], []string{o.ID}) {
		t.Errorf("onboarding told %v, want [[%s]]", told, o.ID)
	}
}

func TestCreateRefusesInvalidInput(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	_, err := svc.Create(admin(t), entCreate("", "Acme\nISD", func(in *createInput) {
		in.MdrNumber = ptr("N/A")
		in.State = ptr("Texass")
		in.EmailDomains = []string{"gmail.com"}
		in.ContactEmails = []string{"jane"}
	}))
	if !errors.Is(err, org.ErrInvalid) {
		t.Fatalf("create with invalid fields: %v, want ErrInvalid", err)
	}
	want := `create organization: invalid organization: externalId: required; name: contains a control character (a line break, a tab, …); ` +
		`mdrNumber: "N/A" is not an MDR number: want its digits, such as 01234567; ` +
		`state: "Texass" is not a US state: want a two-letter code such as TX, or a name such as Texas; ` +
		`emailDomains: "gmail.com" is a public e-mail provider's domain: anyone can have an address there, so it tells nothing about an organization; ` +
		`contactEmails: "jane" is not an e-mail address`
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if snap := snapshot(t, b.db); snap != "" {
		t.Errorf("a refused create wrote:\n%s", snap)
	}
}

func TestCreateDuplicateExternalID(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	first, err := svc.Create(admin(t), entCreate("ACME-1", "Acme ISD"))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, b.db)
	_, err = svc.Create(admin(t), entCreate(" ACME-1", "Another Acme"))
	if !errors.Is(err, org.ErrDuplicateExternalID) {
		t.Fatalf("create with a taken external id: %v, want ErrDuplicateExternalID", err)
	}
	if want := `create organization: external id "ACME-1" is already organization "Acme ISD"'s (id ` + first.ID + ")"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if after := snapshot(t, b.db); after != before {
		t.Errorf("a refused create wrote:\n%s", after)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	o, err := svc.Create(admin(t), entCreate("ACME-1", "Acme ISD", func(in *createInput) {
		in.State = ptr("TX")
		in.EmailDomains = []string{"acme.org"}
		in.ContactEmails = []string{"jane@acme.org"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	b.signals.told()

	// Append to the domains (the generated Mutate appends the wrong list), rename, set the MDR number.
	u, err := svc.Update(admin(t), o.ID, ent.UpdateOrganizationInput{
		Name:                ptr("Acme Independent School District"),
		MdrNumber:           ptr("MDR 01234567"),
		AppendEmailDomains:  []string{"ACME.k12.tx.us", "acme.org"},
		AppendContactEmails: []string{"Bob@Acme.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Acme Independent School District" || u.MdrNumber != "01234567" || u.State != "TX" ||
		!slices.Equal(u.EmailDomains, []string{"acme.k12.tx.us", "acme.org"}) ||
		!slices.Equal(u.ContactEmails, []string{"bob@acme.org", "jane@acme.org"}) || !u.UpdatedAt.After(o.UpdatedAt) {
		t.Errorf("updated %+v", u)
	}
	entries := auditEntries(t, b.db, audit.UpdateOrganization)
	want := `updated organization "Acme Independent School District" (external id "ACME-1"): changed name: "Acme ISD" → "Acme Independent School District", ` +
		`mdr_number: "" → "01234567", email_domains: "acme.org" → "acme.k12.tx.us;acme.org", contact_emails: changed`
	if len(entries) != 1 || entries[0].Actor != adminActor || entries[0].Target != o.ID || entries[0].Outcome != want {
		t.Errorf("audit entries %+v, want one with outcome\n%s", entries, want)
	}
	if told := b.signals.told(); len(told) != 1 || !slices.Equal(told[0], []string{o.ID}) {
		t.Errorf("onboarding told %v", told)
	}

	// Clear one list, replace the other.
	u, err = svc.Update(admin(t), o.ID, ent.UpdateOrganizationInput{ClearEmailDomains: true, ContactEmails: []string{"ann@acme.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailDomains != nil || !slices.Equal(u.ContactEmails, []string{"ann@acme.org"}) {
		t.Errorf("after clearing the domains and replacing the contacts: %+v", u)
	}

	// An update that changes nothing writes nothing but its audit entry, and tells nobody.
	before := byExternalID(t, b.db, "ACME-1")
	b.signals.told()
	u, err = svc.Update(admin(t), o.ID, ent.UpdateOrganizationInput{Name: ptr(" Acme Independent School District "), State: ptr("Texas")})
	if err != nil {
		t.Fatal(err)
	}
	if after := byExternalID(t, b.db, "ACME-1"); !after.UpdatedAt.Equal(before.UpdatedAt) || !u.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("a no-op update wrote: updated_at %v → %v", before.UpdatedAt, after.UpdatedAt)
	}
	if entries := auditEntries(t, b.db, audit.UpdateOrganization); !strings.HasSuffix(entries[len(entries)-1].Outcome, ": no change") {
		t.Errorf("no-op update audited as %q", entries[len(entries)-1].Outcome)
	}
	if told := b.signals.told(); told != nil {
		t.Errorf("a no-op update told onboarding of %v", told)
	}
}

func TestUpdateRefusals(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	acme, err := svc.Create(admin(t), entCreate("ACME-1", "Acme ISD"))
	if err != nil {
		t.Fatal(err)
	}
	beta, err := svc.Create(admin(t), entCreate("BETA", "Beta"))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, b.db)

	_, err = svc.Update(admin(t), beta.ID, ent.UpdateOrganizationInput{ExternalID: ptr("ACME-1")})
	if !errors.Is(err, org.ErrDuplicateExternalID) ||
		err.Error() != "update organization "+beta.ID+`: external id "ACME-1" is already organization "Acme ISD"'s (id `+acme.ID+")" {
		t.Errorf("update to a taken external id: %v", err)
	}
	_, err = svc.Update(admin(t), beta.ID, ent.UpdateOrganizationInput{Name: ptr(" "), NcesID: ptr("12")})
	if !errors.Is(err, org.ErrInvalid) || !strings.Contains(err.Error(), "invalid organization: name: required; ncesId: ") {
		t.Errorf("update with invalid fields: %v", err)
	}
	_, err = svc.Update(admin(t), "nosuchid", ent.UpdateOrganizationInput{Name: ptr("X")})
	if !ent.IsNotFound(err) {
		t.Errorf("update of an unknown organization: %v, want not found", err)
	}
	if after := snapshot(t, b.db); after != before {
		t.Errorf("refused updates wrote:\n%s", after)
	}
}

// TestDuplicateFoundByTheDatabase has another organization take the external id between the check and
// the insert (an ent hook inserts it in the same transaction, just before): the unique constraint's
// error is reported as a duplicate, without the database's text, and nothing is left written.
func TestDuplicateFoundByTheDatabase(t *testing.T) {
	t.Parallel()
	svc, b := setup(t)
	sneaking := false
	b.db.Client.Organization.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			om := m.(*ent.OrganizationMutation)
			if id, ok := om.ExternalID(); ok && m.Op().Is(ent.OpCreate) && !sneaking {
				sneaking = true
				err := om.Client().Organization.Create().SetExternalID(id).SetName("Sneaky").Exec(ctx)
				sneaking = false
				if err != nil {
					return nil, err
				}
			}
			return next.Mutate(ctx, m)
		})
	})

	_, err := svc.Create(admin(t), entCreate("ACME-1", "Acme ISD"))
	if !errors.Is(err, org.ErrDuplicateExternalID) || !ent.IsConstraintError(err) ||
		err.Error() != `create organization: external id "ACME-1" is already another organization's` {
		t.Errorf("create raced by another: %v, want a duplicate error wrapping the constraint's", err)
	}
	_, err = svc.Import(t.Context(), strings.NewReader("external_id,name\nACME-1,Acme ISD\n"), "cli:test")
	if !errors.Is(err, org.ErrDuplicateExternalID) ||
		err.Error() != `import organizations: line 2: create organization "ACME-1": external id "ACME-1" is already another organization's` {
		t.Errorf("import raced by another: %v", err)
	}
	if snap := snapshot(t, b.db); snap != "" {
		t.Errorf("the raced writes left:\n%s", snap)
	}
}
