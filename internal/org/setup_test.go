package org_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/org"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// bundle is what a test works with besides the service.
type bundle struct {
	db      *store.DB
	signals *signals
	log     *testlog.Log
}

// setup returns a Service over a database of the test's own, telling a recording Signals.
func setup(t *testing.T) (*org.Service, *bundle) {
	t.Helper()
	db := dbtest.New(t)
	sig := &signals{}
	logger, log := testlog.New(t)
	return org.New(db, sig, org.WithLogger(logger)), &bundle{db: db, signals: sig, log: log}
}

// signals records what onboarding is told; fail makes it fail.
type signals struct {
	mu    sync.Mutex
	calls [][]string
	fail  error
}

func (s *signals) OrganizationsChanged(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, slices.Clone(ids))
	return s.fail
}

// told returns the calls so far and forgets them.
func (s *signals) told() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

// as returns a context carrying an API key with scopes.
func as(t *testing.T, scopes ...auth.Scope) context.Context {
	return auth.WithKey(t.Context(), auth.Key{ID: "key1", Name: "ops", Scopes: scopes})
}

// admin is the context of a request with an admin key; its actor in the audit log is adminActor.
func admin(t *testing.T) context.Context { return as(t, auth.ScopeAdmin) }

const adminActor = "apikey:ops (key1)"

// snapshot writes every organization, every field and time included, and every audit entry: two
// snapshots are equal when nothing was written in between.
func snapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	orgs, err := db.Client.Organization.Query().Order(ent.Asc(organization.FieldExternalID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range orgs {
		fmt.Fprintf(&b, "%s %q %q mdr=%q nces=%q state=%q domains=%q contacts=%q auto=%v created=%s updated=%s\n",
			o.ID, o.ExternalID, o.Name, o.MdrNumber, o.NcesID, o.State, o.EmailDomains, o.ContactEmails, o.AutoLinkInvites,
			o.CreatedAt.UTC().Format(time.RFC3339Nano), o.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
	entries, err := db.Client.AuditEntry.Query().Order(ent.Asc(auditentry.FieldAt), ent.Asc(auditentry.FieldID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "audit %s %s %s %s\n", e.Actor, e.Action, e.Target, e.Outcome)
	}
	return b.String()
}

// byExternalID returns the organization with the external id.
func byExternalID(t *testing.T, db *store.DB, externalID string) *ent.Organization {
	t.Helper()
	o, err := db.Client.Organization.Query().Where(organization.ExternalID(externalID)).Only(context.Background())
	if err != nil {
		t.Fatalf("organization %s: %v", externalID, err)
	}
	return o
}

// auditEntries returns the audit entries of an action, oldest first.
func auditEntries(t *testing.T, db *store.DB, action string) []*ent.AuditEntry {
	t.Helper()
	entries, err := db.Client.AuditEntry.Query().Where(auditentry.Action(action)).
		Order(ent.Asc(auditentry.FieldAt), ent.Asc(auditentry.FieldID)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
