package org

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/audit"
)

// Report is what an import did, or would do (DryRun).
type Report struct {
	// DryRun is set when the file was only checked: nothing was written.
	DryRun bool
	// Created are the organizations the file added, in the file's order.
	Created []Entry
	// Updated are the organizations whose fields the file changed, in the file's order, with the changes.
	Updated []Entry
	// Unchanged are the organizations the file lists as they already were, in the file's order.
	Unchanged []Entry
	// NotInFile are the organizations the file does not list, by external id. An import never deletes:
	// they are kept as they are.
	NotInFile []Entry
	// Warnings are things to check that are not errors: organizations sharing an MDR number or NCES id
	// (a district with it would be proposed for each, a conflict an admin resolves).
	Warnings []string
}

// auditDetails are the details of an import's audit entry: what it changed, and how much it left.
type auditDetails struct {
	Created   []Entry  `json:"created"`
	Updated   []Entry  `json:"updated"`
	Unchanged int      `json:"unchanged"`
	NotInFile int      `json:"notInFile"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Entry is one organization in a Report.
type Entry struct {
	// Line is the organization's line in the file; 0 for one not in the file.
	Line int `json:"line,omitempty"`
	// ID is the organization's id ("" for one a dry run would create).
	ID string `json:"id,omitempty"`
	// ExternalID and Name are the organization's, after the import.
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
	// Changes are an updated organization's changed fields, in the columns' order.
	Changes []FieldChange `json:"changes,omitempty"`
}

// Summary writes the counts: "2 created, 1 updated, 5 unchanged, 1 not in file".
func (r *Report) Summary() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged, %d not in file", len(r.Created), len(r.Updated), len(r.Unchanged), len(r.NotInFile))
}

// Import creates or updates the organizations of a CSV file, all or nothing, in one transaction.
//
// The file (RFC 4180, UTF-8 with or without a byte order mark) has a header row naming its columns:
// external_id and name, required; mdr_number, nces_id, state, email_domains (separated by ";"),
// contact_emails (separated by ";") and auto_link_invites (true, false, yes, no, 1, 0 or empty),
// optional. Values are normalised as by Create. An organization is found by its external id: one that
// does not exist is created; one that does gets the file's values for the columns the file has, and is
// written only when one of them differs, so that importing a file again changes nothing. An MDR number
// that differs from the stored one only by leading zeros the file lacks (a spreadsheet drops them) is
// left as it is. Organizations the file does not list are kept, and reported as not in file.
//
// A file with any problem changes nothing: the error is an *ImportError listing every problem (up to
// MaxProblems) with its line and column. An applied import is audited once, as actor (the command-line
// user: Import checks no API key), and onboarding is told of the organizations it created or updated.
func (s *Service) Import(ctx context.Context, r io.Reader, actor string) (*Report, error) {
	f, err := parseFile(r)
	if err != nil {
		return nil, fmt.Errorf("import organizations: %w", err)
	}
	var rep *Report
	err = s.write(ctx, func(tx *ent.Tx) error {
		existing, err := lockRows(tx.Organization.Query(), s.db.Dialect).All(ctx)
		if err != nil {
			return fmt.Errorf("read organizations: %w", err)
		}
		var ops []op
		rep, ops = plan(f, existing)
		if err := apply(ctx, tx, ops, rep); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{Actor: actor, Action: audit.ImportOrganizations, Target: "organizations",
			Outcome: "imported organizations: " + rep.Summary(),
			Details: auditDetails{Created: rep.Created, Updated: rep.Updated, Unchanged: len(rep.Unchanged), NotInFile: len(rep.NotInFile),
				Warnings: rep.Warnings}})
	})
	if err != nil {
		return nil, fmt.Errorf("import organizations: %w", err)
	}
	var ids []string
	for _, e := range slices.Concat(rep.Created, rep.Updated) {
		ids = append(ids, e.ID)
	}
	s.tell(ctx, ids)
	return rep, nil
}

// DryRun checks a CSV file as Import does and reports what Import would do, writing nothing.
func (s *Service) DryRun(ctx context.Context, r io.Reader) (*Report, error) {
	f, err := parseFile(r)
	if err != nil {
		return nil, fmt.Errorf("check organizations: %w", err)
	}
	existing, err := s.db.Client.Organization.Query().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("check organizations: read organizations: %w", err)
	}
	rep, _ := plan(f, existing)
	rep.DryRun = true
	return rep, nil
}

// op is one write of an import: a creation (org nil) or an update of org.
type op struct {
	row     row
	org     *ent.Organization
	created int // a creation's index in Report.Created, where its id goes
	input   ent.UpdateOrganizationInput
}

// plan works out what importing f over the existing organizations does.
func plan(f *file, existing []*ent.Organization) (*Report, []op) {
	byExternalID := make(map[string]*ent.Organization, len(existing))
	for _, o := range existing {
		byExternalID[o.ExternalID] = o
	}
	rep := &Report{}
	var ops []op
	final := make([]planned, 0, len(existing)+len(f.rows)) // every organization after the import
	inFile := map[string]bool{}
	for _, rw := range f.rows {
		inFile[rw.f.ExternalID] = true
		o := byExternalID[rw.f.ExternalID]
		if o == nil {
			ops = append(ops, op{row: rw, created: len(rep.Created)})
			rep.Created = append(rep.Created, Entry{Line: rw.line, ExternalID: rw.f.ExternalID, Name: rw.f.Name})
			final = append(final, planned{rw.f, rw.line})
			continue
		}
		old := fieldsOf(o)
		new := merge(old, rw.f, f.has)
		final = append(final, planned{new, rw.line})
		e := Entry{Line: rw.line, ID: o.ID, ExternalID: new.ExternalID, Name: new.Name, Changes: changes(old, new)}
		if len(e.Changes) == 0 {
			rep.Unchanged = append(rep.Unchanged, e)
			continue
		}
		rep.Updated = append(rep.Updated, e)
		ops = append(ops, op{row: rw, org: o, input: updateInput(old, new)})
	}
	for _, o := range existing {
		if !inFile[o.ExternalID] {
			rep.NotInFile = append(rep.NotInFile, Entry{ID: o.ID, ExternalID: o.ExternalID, Name: o.Name})
			final = append(final, planned{fieldsOf(o), 0})
		}
	}
	slices.SortFunc(rep.NotInFile, func(a, b Entry) int { return cmp.Compare(a.ExternalID, b.ExternalID) })
	rep.Warnings = append(slices.Clone(f.ignored), shared(final)...)
	return rep, ops
}

// merge is old with the values of the columns the file has.
func merge(old, file fields, has map[string]bool) fields {
	f := old
	f.Name = file.Name
	if has[colMDRNumber] && !(MDRKey(old.MDRNumber) == MDRKey(file.MDRNumber) && len(old.MDRNumber) >= len(file.MDRNumber)) {
		f.MDRNumber = file.MDRNumber
	}
	if has[colNCESID] {
		f.NCESID = file.NCESID
	}
	if has[colState] {
		f.State = file.State
	}
	if has[colEmailDomains] {
		f.EmailDomains = file.EmailDomains
	}
	if has[colContactEmails] {
		f.ContactEmails = file.ContactEmails
	}
	if has[colAutoLinkInvites] {
		f.AutoLinkInvites = file.AutoLinkInvites
	}
	return f
}

// planned is an organization as an import leaves it, with its line in the file (0 when not in it).
type planned struct {
	f    fields
	line int
}

// shared warns of MDR numbers and NCES ids that several organizations have after an import, when one of
// them is in the file.
func shared(orgs []planned) []string {
	var warnings []string
	check := func(column string, key func(fields) string) {
		groups := map[string][]planned{}
		var keys []string
		for _, p := range orgs {
			k := key(p.f)
			if k == "" {
				continue
			}
			if groups[k] == nil {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], p)
		}
		for _, k := range keys {
			g := groups[k]
			if len(g) < 2 || !slices.ContainsFunc(g, func(p planned) bool { return p.line > 0 }) {
				continue
			}
			names := make([]string, len(g))
			for i, p := range g {
				names[i] = fmt.Sprintf("%q", p.f.ExternalID)
				if p.line > 0 {
					names[i] += fmt.Sprintf(" (line %d)", p.line)
				}
			}
			warnings = append(warnings, fmt.Sprintf("%s %s is shared by organizations %s: a district with it will be proposed for each, a conflict for an admin to resolve",
				column, k, strings.Join(names, ", ")))
		}
	}
	check(colMDRNumber, func(f fields) string { return MDRKey(f.MDRNumber) })
	check(colNCESID, func(f fields) string { return f.NCESID })
	return warnings
}

// apply carries out ops in tx and fills in the ids of the organizations it creates.
func apply(ctx context.Context, tx *ent.Tx, ops []op, rep *Report) error {
	for _, o := range ops {
		if o.org == nil {
			created, err := tx.Organization.Create().SetInput(createInput(o.row.f)).Save(ctx)
			if err != nil {
				return fmt.Errorf("line %d: create organization %q: %w", o.row.line, o.row.f.ExternalID, saveError(err, o.row.f.ExternalID))
			}
			rep.Created[o.created].ID = created.ID
			continue
		}
		if err := tx.Organization.UpdateOneID(o.org.ID).SetInput(o.input).Exec(ctx); err != nil {
			return fmt.Errorf("line %d: update organization %q: %w", o.row.line, o.row.f.ExternalID, saveError(err, o.row.f.ExternalID))
		}
	}
	return nil
}
