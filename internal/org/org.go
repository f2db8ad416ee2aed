// Package org keeps the app's organizations (its customers): created and updated by the GraphQL
// mutations and by `rostermirror org import`, with their identifiers normalised so that onboarding's
// signals (internal/link) compare like with like.
//
// Every change is audited in its own transaction, and onboarding is told of it (Signals) once it is
// committed. Telling onboarding is best effort: the change stands when it fails, the failure is logged,
// and onboarding's next evaluation (a sync, a sign-in) catches up.
package org

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Signals is told which organizations changed, so that onboarding re-evaluates its signals for them
// (internal/link's *Service).
type Signals interface {
	OrganizationsChanged(ctx context.Context, ids []string) error
}

// Service creates, updates and imports organizations.
type Service struct {
	db      *store.DB
	signals Signals
	log     *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithLogger makes the Service log to l (what it logs: onboarding failing to take a change in).
// Default: nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = cmp.Or(l, s.log) }
}

// New returns a Service over db; signals (may be nil) is told of every change.
func New(db *store.DB, signals Signals, opts ...Option) *Service {
	s := &Service{db: db, signals: signals, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s
}

var (
	// ErrInvalid is matched by the error of Create and Update when the input is not a valid
	// organization (an *InvalidError).
	ErrInvalid = errors.New("invalid organization")
	// ErrDuplicateExternalID is matched by the error of Create and Update when another organization
	// has the external id (a *DuplicateError).
	ErrDuplicateExternalID = errors.New("duplicate external id")
)

// InvalidError lists what is wrong with an organization's fields. It matches ErrInvalid.
type InvalidError struct {
	// Problems are the fields' problems, in the order of the fields, each "field: what is wrong".
	Problems []string
}

func (e *InvalidError) Error() string {
	return "invalid organization: " + strings.Join(e.Problems, "; ")
}

// Is makes an InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// DuplicateError is the error of a change that would give an organization another's external id. It
// matches ErrDuplicateExternalID.
type DuplicateError struct {
	// ExternalID is the external id both would have.
	ExternalID string
	// OtherID and OtherName are the organization that has it ("" when it was created concurrently and
	// is not known).
	OtherID, OtherName string

	cause error // the database's constraint error, when it told
}

func (e *DuplicateError) Error() string {
	if e.OtherID == "" {
		return fmt.Sprintf("external id %q is already another organization's", e.ExternalID)
	}
	return fmt.Sprintf("external id %q is already organization %q's (id %s)", e.ExternalID, e.OtherName, e.OtherID)
}

// Is makes a DuplicateError match ErrDuplicateExternalID.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicateExternalID }

// Unwrap returns the database's constraint error, when the database told of the duplicate (its text,
// SQL and all, is left out of Error).
func (e *DuplicateError) Unwrap() error { return e.cause }

// fields are an organization's writable fields, normalised.
type fields struct {
	ExternalID, Name, MDRNumber, NCESID, State string
	EmailDomains, ContactEmails                []string // sorted, de-duplicated; nil when none
	AutoLinkInvites                            bool
}

// fieldsOf are o's fields.
func fieldsOf(o *ent.Organization) fields {
	return fields{ExternalID: o.ExternalID, Name: o.Name, MDRNumber: o.MdrNumber, NCESID: o.NcesID, State: o.State,
		EmailDomains: nilIfEmpty(o.EmailDomains), ContactEmails: nilIfEmpty(o.ContactEmails), AutoLinkInvites: o.AutoLinkInvites}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// The fields' names, as the CSV's columns and the audit log name them.
const (
	colExternalID      = "external_id"
	colName            = "name"
	colMDRNumber       = "mdr_number"
	colNCESID          = "nces_id"
	colState           = "state"
	colEmailDomains    = "email_domains"
	colContactEmails   = "contact_emails"
	colAutoLinkInvites = "auto_link_invites"
)

// Longest values the schema stores.
const (
	maxExternalIDLen = 255
	maxNameLen       = 500
)

// normalizeText trims an external id or a name and checks it: required, at most max bytes, no control
// characters (Postgres refuses NUL; a line break or tab in a name is a mistake).
func normalizeText(s string, max int) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("required")
	}
	return csvin.CleanText(s, max)
}

// FieldChange is one field's change, for reports and the audit log.
type FieldChange struct {
	// Field is the field's column in `org import`: name, mdr_number, …
	Field string `json:"field"`
	// Old and New are the values as an import file writes them (lists joined with ";"). Both are "" for
	// a sensitive field (contact_emails: admin only), which is named but not shown.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Sensitive is set for a field whose values are not shown.
	Sensitive bool `json:"sensitive,omitempty"`
}

// String writes `name: "old" → "new"`, or `contact_emails: changed` for a sensitive field.
func (c FieldChange) String() string {
	if c.Sensitive {
		return c.Field + ": changed"
	}
	return fmt.Sprintf("%s: %q → %q", c.Field, c.Old, c.New)
}

// changes lists the fields that differ between old and new, in the columns' order.
func changes(old, new fields) []FieldChange {
	var out []FieldChange
	str := func(field, o, n string) {
		if o != n {
			out = append(out, FieldChange{Field: field, Old: o, New: n})
		}
	}
	str(colExternalID, old.ExternalID, new.ExternalID)
	str(colName, old.Name, new.Name)
	str(colMDRNumber, old.MDRNumber, new.MDRNumber)
	str(colNCESID, old.NCESID, new.NCESID)
	str(colState, old.State, new.State)
	str(colEmailDomains, strings.Join(old.EmailDomains, ";"), strings.Join(new.EmailDomains, ";"))
	if !slices.Equal(old.ContactEmails, new.ContactEmails) {
		out = append(out, FieldChange{Field: colContactEmails, Sensitive: true})
	}
	str(colAutoLinkInvites, fmt.Sprint(old.AutoLinkInvites), fmt.Sprint(new.AutoLinkInvites))
	return out
}

// joinChanges writes changes as `a: "x" → "y", b: changed`.
func joinChanges(cs []FieldChange) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// updateInput is the input that turns old into new: only the fields that differ are set, lists are
// replaced whole (or cleared when empty) and never appended to.
func updateInput(old, new fields) ent.UpdateOrganizationInput {
	var in ent.UpdateOrganizationInput
	str := func(dst **string, o, n string) {
		if o != n {
			*dst = &n
		}
	}
	str(&in.ExternalID, old.ExternalID, new.ExternalID)
	str(&in.Name, old.Name, new.Name)
	str(&in.MdrNumber, old.MDRNumber, new.MDRNumber)
	str(&in.NcesID, old.NCESID, new.NCESID)
	str(&in.State, old.State, new.State)
	if !slices.Equal(old.EmailDomains, new.EmailDomains) {
		in.EmailDomains, in.ClearEmailDomains = new.EmailDomains, new.EmailDomains == nil
	}
	if !slices.Equal(old.ContactEmails, new.ContactEmails) {
		in.ContactEmails, in.ClearContactEmails = new.ContactEmails, new.ContactEmails == nil
	}
	if old.AutoLinkInvites != new.AutoLinkInvites {
		in.AutoLinkInvites = &new.AutoLinkInvites
	}
	return in
}

// createInput is the input that creates an organization with f.
func createInput(f fields) ent.CreateOrganizationInput {
	return ent.CreateOrganizationInput{ExternalID: f.ExternalID, Name: f.Name, MdrNumber: &f.MDRNumber, NcesID: &f.NCESID,
		State: &f.State, EmailDomains: f.EmailDomains, ContactEmails: f.ContactEmails, AutoLinkInvites: &f.AutoLinkInvites}
}

// problems collects the problems of an input's fields, each under the name the caller gives the field.
type problems []string

func (p *problems) add(field string, err error) {
	if err != nil {
		*p = append(*p, field+": "+err.Error())
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &InvalidError{Problems: p}
}

// Create creates an organization (admin scope; audited). Its fields are normalised (NormalizeMDR, …);
// an invalid field is an error matching ErrInvalid, an external id another organization has one
// matching ErrDuplicateExternalID.
func (s *Service) Create(ctx context.Context, in ent.CreateOrganizationInput) (*ent.Organization, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	var f fields
	var p problems
	var err error
	f.ExternalID, err = normalizeText(in.ExternalID, maxExternalIDLen)
	p.add("externalId", err)
	f.Name, err = normalizeText(in.Name, maxNameLen)
	p.add("name", err)
	f.MDRNumber, err = NormalizeMDR(deref(in.MdrNumber))
	p.add("mdrNumber", err)
	f.NCESID, err = NormalizeNCES(deref(in.NcesID))
	p.add("ncesId", err)
	f.State, err = NormalizeState(deref(in.State))
	p.add("state", err)
	f.EmailDomains, err = NormalizeEmailDomains(in.EmailDomains)
	p.add("emailDomains", err)
	f.ContactEmails, err = NormalizeContactEmails(in.ContactEmails)
	p.add("contactEmails", err)
	f.AutoLinkInvites = in.AutoLinkInvites != nil && *in.AutoLinkInvites
	if err := p.err(); err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}

	var created *ent.Organization
	err = s.write(ctx, func(tx *ent.Tx) error {
		if err := s.checkExternalID(ctx, tx, f.ExternalID, ""); err != nil {
			return err
		}
		o, err := tx.Organization.Create().SetInput(createInput(f)).Save(ctx)
		if err != nil {
			return saveError(err, f.ExternalID)
		}
		created = o
		return audit.Record(ctx, tx.Client(), audit.Entry{Actor: auth.Actor(ctx), Action: audit.CreateOrganization, Target: o.ID,
			Outcome: fmt.Sprintf("created organization %q (external id %q)", o.Name, o.ExternalID)})
	})
	if err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	s.tell(ctx, []string{created.ID})
	return created, nil
}

// Update changes an organization (admin scope; audited): the fields the input sets, normalised as by
// Create. Lists are replaced by their new value, cleared, or appended to, as the input says, and the
// result normalised. An update that changes nothing writes nothing but its audit entry.
func (s *Service) Update(ctx context.Context, id string, in ent.UpdateOrganizationInput) (*ent.Organization, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	var updated *ent.Organization
	var cs []FieldChange
	err := s.write(ctx, func(tx *ent.Tx) error {
		o, err := lockRows(tx.Organization.Query().Where(organization.ID(id)), s.db.Dialect).Only(ctx)
		if err != nil {
			return err
		}
		old := fieldsOf(o)
		f, err := applyUpdate(old, in)
		if err != nil {
			return err
		}
		if f.ExternalID != old.ExternalID {
			if err := s.checkExternalID(ctx, tx, f.ExternalID, o.ID); err != nil {
				return err
			}
		}
		cs = changes(old, f)
		updated = o
		outcome := "no change"
		if len(cs) > 0 {
			if updated, err = tx.Organization.UpdateOneID(o.ID).SetInput(updateInput(old, f)).Save(ctx); err != nil {
				return saveError(err, f.ExternalID)
			}
			outcome = "changed " + joinChanges(cs)
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{Actor: auth.Actor(ctx), Action: audit.UpdateOrganization, Target: o.ID,
			Outcome: fmt.Sprintf("updated organization %q (external id %q): %s", updated.Name, updated.ExternalID, outcome)})
	})
	if err != nil {
		return nil, fmt.Errorf("update organization %s: %w", id, err)
	}
	if len(cs) > 0 {
		s.tell(ctx, []string{updated.ID})
	}
	return updated, nil
}

// applyUpdate returns old with in applied, or an *InvalidError. Only the fields in sets are normalised
// and checked: an update of a name does not fail on a domain stored before a rule was tightened.
func applyUpdate(old fields, in ent.UpdateOrganizationInput) (fields, error) {
	f := old
	var p problems
	var err error
	if in.ExternalID != nil {
		f.ExternalID, err = normalizeText(*in.ExternalID, maxExternalIDLen)
		p.add("externalId", err)
	}
	if in.Name != nil {
		f.Name, err = normalizeText(*in.Name, maxNameLen)
		p.add("name", err)
	}
	if in.MdrNumber != nil {
		f.MDRNumber, err = NormalizeMDR(*in.MdrNumber)
		p.add("mdrNumber", err)
	}
	if in.NcesID != nil {
		f.NCESID, err = NormalizeNCES(*in.NcesID)
		p.add("ncesId", err)
	}
	if in.State != nil {
		f.State, err = NormalizeState(*in.State)
		p.add("state", err)
	}
	if in.ClearEmailDomains || in.EmailDomains != nil || in.AppendEmailDomains != nil {
		f.EmailDomains, err = NormalizeEmailDomains(applyList(old.EmailDomains, in.ClearEmailDomains, in.EmailDomains, in.AppendEmailDomains))
		p.add("emailDomains", err)
	}
	if in.ClearContactEmails || in.ContactEmails != nil || in.AppendContactEmails != nil {
		f.ContactEmails, err = NormalizeContactEmails(applyList(old.ContactEmails, in.ClearContactEmails, in.ContactEmails, in.AppendContactEmails))
		p.add("contactEmails", err)
	}
	if in.AutoLinkInvites != nil {
		f.AutoLinkInvites = *in.AutoLinkInvites
	}
	return f, p.err()
}

// applyList is a list after an update: cleared, then replaced by set (when not nil), then appended to.
// (The generated UpdateOrganizationInput.Mutate appends the set list instead of the appended one, so
// Update resolves lists here and hands Mutate whole lists.)
func applyList(old []string, clear bool, set, appended []string) []string {
	out := old
	if clear {
		out = nil
	}
	if set != nil {
		out = set
	}
	return append(slices.Clone(out), appended...)
}

// checkExternalID returns a *DuplicateError when an organization other than self has externalID.
func (s *Service) checkExternalID(ctx context.Context, tx *ent.Tx, externalID, self string) error {
	other, err := tx.Organization.Query().Where(organization.ExternalID(externalID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("look up external id %q: %w", externalID, err)
	case other.ID == self:
		return nil
	}
	return &DuplicateError{ExternalID: externalID, OtherID: other.ID, OtherName: other.Name}
}

// saveError explains an error of saving an organization: a unique constraint can only be its external
// id, taken by an organization created since it was checked.
func saveError(err error, externalID string) error {
	if ent.IsConstraintError(err) {
		return &DuplicateError{ExternalID: externalID, cause: err}
	}
	return err
}

// write runs fn in a transaction.
func (s *Service) write(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (and roll back: %w)", err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// lockRows makes q lock the rows it reads on Postgres, so that concurrent changes of an organization
// happen one after the other. SQLite transactions already take the write lock when they begin.
func lockRows(q *ent.OrganizationQuery, d string) *ent.OrganizationQuery {
	if d == dialect.Postgres {
		q.Modify(func(s *sql.Selector) { s.ForUpdate() })
	}
	return q
}

// tell tells onboarding that the organizations ids changed, after their change was committed. A
// failure is logged: the change stands, and onboarding catches up at its next evaluation.
func (s *Service) tell(ctx context.Context, ids []string) {
	if s.signals == nil || len(ids) == 0 {
		return
	}
	if err := s.signals.OrganizationsChanged(ctx, ids); err != nil {
		s.log.ErrorContext(ctx, "tell onboarding of changed organizations", slog.Int("organizations", len(ids)),
			slog.String("error", err.Error()))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
