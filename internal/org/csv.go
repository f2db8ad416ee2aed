package org

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/internal/csvin"
)

// The CSV file of `org import` (RFC 4180, read by internal/csvin): a header row naming the columns, then
// one organization per row. Columns are recognised whatever their case, with spaces, hyphens or other
// punctuation for underscores ("External ID"); external_id and name are required, the others optional:
// a column the file leaves out leaves that field of existing organizations as it is (a new organization
// gets the field's default).

// columns lists the columns an import file may have, in the order reports and errors use.
var columns = []string{colExternalID, colName, colMDRNumber, colNCESID, colState, colEmailDomains, colContactEmails, colAutoLinkInvites}

// requiredColumns must be in every file.
var requiredColumns = []string{colExternalID, colName}

// Limits of an import file.
const (
	// MaxRows is the most organizations one file may list.
	MaxRows = 100_000
	// MaxProblems is the most problems an ImportError lists; it counts the others.
	MaxProblems = csvin.MaxProblems
)

// Problem is one problem found in an import file, and where it is.
type Problem = csvin.Problem

// ImportError is the error of an import whose file has problems (the first MaxProblems, and a count of
// the others). Nothing was changed.
type ImportError = csvin.Error

// row is one organization of a file.
type row struct {
	line int
	f    fields
}

// file is a parsed import file.
type file struct {
	// has holds the columns the header names.
	has  map[string]bool
	rows []row
	// ignored are warnings about the header's columns that are not an organization's fields.
	ignored []string
}

// header is the file's first row: each column's name (canonical for a known column, "" for one without
// a name, ignoredColumn for one that is not an organization's field).
type header struct {
	names   []string
	ignored []string // a warning per ignored column
}

// ignoredColumn marks a column of the header that is not an organization's field: its values are not read.
const ignoredColumn = "\x00ignored"

// synonyms are the other names a CRM or billing export gives the columns (canonical form, as
// csvin.CanonicalColumn makes it).
var synonyms = map[string]string{
	"id": colExternalID, "account_id": colExternalID, "customer_id": colExternalID, "organization_id": colExternalID,
	"org_id": colExternalID, "crm_id": colExternalID,
	"account_name": colName, "customer_name": colName, "organization_name": colName, "organization": colName,
	"mdr": colMDRNumber, "mdr_id": colMDRNumber, "nces": colNCESID, "nces_district_id": colNCESID,
	"state_code": colState, "email_domain": colEmailDomains, "domains": colEmailDomains,
	"contact_email": colContactEmails, "contacts": colContactEmails,
}

// parseFile reads an import file row by row and returns its organizations, or an *ImportError listing
// every problem found (up to MaxProblems). An error reading r is returned as it is.
func parseFile(r io.Reader) (*file, error) {
	cr, err := csvin.NewReader(r)
	if err != nil {
		return nil, err
	}
	var problems csvin.Problems
	h, err := readHeader(cr, &problems)
	if err != nil {
		return nil, err
	}
	if err := problems.Err(); err != nil {
		return nil, err // the rows cannot be read without their columns
	}
	cr.SetColumnNames(h.names)
	f := &file{has: map[string]bool{}, ignored: h.ignored}
	for _, name := range h.names {
		if name != "" && name != ignoredColumn {
			f.has[name] = true
		}
	}
	seen := map[string]int{} // external id → line
	rows := 0
	for {
		rec, prob, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if prob != nil {
			problems.Add(*prob)
			continue
		}
		line := cr.Line()
		if csvin.Blank(rec) {
			continue // a spreadsheet's empty row: ",,,,"
		}
		if rows++; rows > MaxRows {
			problems.Add(Problem{Line: line, Message: fmt.Sprintf("more than %d organizations: split the file", MaxRows)})
			break
		}
		rw, ok := parseRow(cr, rec, h, &problems)
		if id := rw.f.ExternalID; id != "" { // a valid external id, whatever the row's other values
			if first, dup := seen[id]; dup {
				i := slices.Index(h.names, colExternalID)
				problems.Add(Problem{Line: line, Column: i + 1, ColumnName: colExternalID,
					Message: fmt.Sprintf("%q is on line %d too: list each organization once", id, first)})
				ok = false
			} else {
				seen[id] = line
			}
		}
		if ok && problems.Len() == 0 { // once the file has a problem, its rows are only checked
			f.rows = append(f.rows, rw)
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// readHeader reads the header row and checks it: none twice, the required ones there. A column that is
// not an organization's field (an export's "Account Owner", "Notes") is ignored with a warning, so that a
// misspelt column is not dropped without a word.
func readHeader(cr *csvin.Reader, problems *csvin.Problems) (header, error) {
	rec, prob, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		problems.Add(Problem{Line: 1, Message: "the file is empty: want a header row naming the columns, at least " + strings.Join(requiredColumns, " and ")})
		return header{}, nil
	case err != nil:
		return header{}, err
	case prob != nil:
		problems.Add(*prob)
		return header{}, nil
	}
	line := cr.Line()
	h := header{names: make([]string, len(rec))}
	at := map[string]int{}
	for i, raw := range rec {
		if p, bad := cr.UTF8Problem(i, raw); bad {
			problems.Add(p)
			continue
		}
		name := csvin.CanonicalColumn(raw)
		if syn, ok := synonyms[name]; ok {
			name = syn
		}
		switch {
		case name == "":
			continue // allowed while its every value is empty
		case !slices.Contains(columns, name):
			h.names[i] = ignoredColumn
			h.ignored = append(h.ignored, Problem{Line: line, Column: i + 1, ColumnName: strings.TrimSpace(raw),
				Message: "not an organization's field: ignored (the fields are " + strings.Join(columns, ", ") + ")"}.String())
			continue
		}
		if first, dup := at[name]; dup {
			problems.Add(Problem{Line: line, Column: i + 1, ColumnName: name, Message: fmt.Sprintf("column %d is %s too", first+1, name)})
			continue
		}
		at[name] = i
		h.names[i] = name
	}
	for _, req := range requiredColumns {
		if _, ok := at[req]; !ok {
			problems.Add(Problem{Line: line, Message: fmt.Sprintf("no %s column: the header must name at least %s (it has %s)",
				req, strings.Join(requiredColumns, " and "), csvin.Quoted(rec))})
		}
	}
	return h, nil
}

// parseRow reads one organization from rec, the row just read from cr, adding each of its problems.
func parseRow(cr *csvin.Reader, rec []string, h header, problems *csvin.Problems) (row, bool) {
	rw := row{line: cr.Line()}
	ok := true
	for i, v := range rec {
		name := h.names[i]
		fail := func(err error) {
			if err != nil {
				problems.Add(Problem{Line: cr.FieldLine(i), Column: i + 1, ColumnName: name, Message: err.Error()})
				ok = false
			}
		}
		if p, bad := cr.UTF8Problem(i, v); bad {
			problems.Add(p)
			ok = false
			continue
		}
		var err error
		switch name {
		case ignoredColumn:
		case "":
			if strings.TrimSpace(v) != "" {
				err = fmt.Errorf("a value in a column without a name: name the column (one of %s) or leave it empty", strings.Join(columns, ", "))
			}
		case colExternalID:
			rw.f.ExternalID, err = normalizeText(v, maxExternalIDLen)
		case colName:
			rw.f.Name, err = normalizeText(v, maxNameLen)
		case colMDRNumber:
			rw.f.MDRNumber, err = NormalizeMDR(v)
		case colNCESID:
			rw.f.NCESID, err = NormalizeNCES(v)
		case colState:
			rw.f.State, err = NormalizeState(v)
		case colEmailDomains:
			rw.f.EmailDomains, err = NormalizeEmailDomains(splitList(v))
		case colContactEmails:
			rw.f.ContactEmails, err = NormalizeContactEmails(splitList(v))
		case colAutoLinkInvites:
			rw.f.AutoLinkInvites, err = parseBool(v)
		}
		fail(err)
	}
	return rw, ok
}
