package apprecord

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/appimport"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/match"
)

// Matchmaker's results (SPEC.md "Matching CSV").
const (
	ResultMatch           = "match"
	ResultAppNoMatch      = "from app, no match"
	ResultAppDuplicate    = "from app, duplicate"
	ResultCleverNoMatch   = "from Clever, no match"
	ResultCleverDuplicate = "from Clever, duplicate"
)

// cleverColumns are the Clever fields the export shows for a type, after clever.id.
var cleverColumns = map[match.Type][]match.Field{
	match.Student: {match.SISID, match.StudentNumber, match.StateID, match.FirstName, match.MiddleName, match.LastName, match.DOB, match.Email, match.SchoolRef, match.Grade},
	match.Teacher: {match.Email, match.SISID, match.TeacherNumber, match.StateID, match.FirstName, match.MiddleName, match.LastName, match.SchoolRef},
	match.Staff:   {match.Email, match.StaffID, match.SISID, match.FirstName, match.MiddleName, match.LastName, match.SchoolRef},
	match.School:  {match.NCESID, match.MDRNumber, match.SISID, match.SchoolNumber, match.Name, match.State},
	match.Section: {match.SISID, match.Name, match.SchoolRef, match.TeacherRef, match.Period, match.SectionNumber, match.Grade},
}

// OwnColumns are the columns rostermirror adds after Matchmaker's: the match's method, score and
// explanation, the record's status (MATCHED, SUGGESTED, UNMATCHED, DUPLICATE), who decided it, whether
// the matched Clever record is archived, and a suggested record's open suggestions ("id (0.87); …").
var OwnColumns = []string{"method", "score", "explanation", "status", "decided_by", "clever_archived", "suggestions"}

// exportPage is how many app records the export reads at once.
const exportPage = 2000

// ExportCSV is /match/export: Export for the request's API key (admin).
func (s *Service) ExportCSV(ctx context.Context, w io.Writer, districtID string, typ match.Type) error {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	return s.Export(ctx, w, districtID, typ)
}

// Export writes the district's records of one type in Clever Matchmaker's format: the columns of the
// latest import prefixed "app.", in the order of the records' ids, then clever.id and the Clever fields compared prefixed "clever.", then
// matchmaker_results, then OwnColumns. One row per app record of the latest import ("match" when
// MATCHED, "from app, duplicate" when DUPLICATE, "from app, no match" otherwise: a suggestion is not a
// match), then one per shared Clever record no app record is matched to ("from Clever, duplicate" when
// it looks like another Clever record, "from Clever, no match" otherwise). Records are streamed a page
// at a time.
func (s *Service) Export(ctx context.Context, w io.Writer, districtID string, typ match.Type) error {
	typ, err := ParseType(string(typ))
	if err != nil {
		return err
	}
	// One snapshot: an import or a sync that commits meanwhile is either all in the file or not at all.
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.Dialect == dialect.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.SQL.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c := s.db.OnTx(tx)
	imp, err := c.AppImport.Query().Where(appimport.DistrictID(districtID), appimport.TypeEQ(appimportType(typ))).
		Order(ent.Desc(appimport.FieldCreatedAt), ent.Desc(appimport.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return fmt.Errorf("%w: no %s records have been imported for district %q", ErrNotFound, typ, districtID)
	}
	if err != nil {
		return err
	}
	clever, err := cleverRecords(ctx, c, districtID, typ)
	if err != nil {
		return err
	}
	byID := make(map[string]*cleverRecord, len(clever))
	var active []match.Record
	for i := range clever {
		byID[clever[i].ID] = &clever[i]
		if !clever[i].archived {
			active = append(active, clever[i].Record)
		}
	}
	dup := map[string]bool{}
	for _, g := range match.Match(typ, nil, active, s.cfg[typ]).CleverDuplicates {
		for _, id := range g {
			dup[id] = true
		}
	}

	cw := csv.NewWriter(w)
	fields := cleverColumns[typ]
	header := make([]string, 0, len(imp.Columns)+len(fields)+2+len(OwnColumns))
	for _, col := range imp.Columns {
		header = append(header, "app."+col)
	}
	header = append(header, "clever.id")
	for _, f := range fields {
		header = append(header, "clever."+string(f))
	}
	header = append(header, "matchmaker_results")
	header = append(header, OwnColumns...)
	if err := cw.Write(inert(header)); err != nil {
		return err
	}
	row := make([]string, len(header))
	cleverCells := func(id string) {
		base := len(imp.Columns)
		row[base] = id
		r := byID[id]
		for k, f := range fields {
			v := ""
			if r != nil {
				v = r.Values[f]
				if f == match.SchoolRef || f == match.TeacherRef {
					v, _, _ = strings.Cut(v, "|") // the Clever id, not its alternatives
				}
			}
			row[base+1+k] = v
		}
	}
	// The Clever records the app's records hold — its current ones', and by an admin's decision those
	// of records it no longer sends (as rematch sees it): none of them is "from Clever".
	held, err := c.AppRecord.Query().Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(entType(typ)),
		apprecord.StatusEQ(apprecord.StatusMATCHED), apprecord.CleverIDNotNil(),
		apprecord.Or(apprecord.MissingSinceIsNil(), apprecord.DecidedByNEQ(""))).Select(apprecord.FieldCleverID).Strings(ctx)
	if err != nil {
		return err
	}
	matched := make(map[string]bool, len(held))
	for _, id := range held {
		matched[id] = true
	}
	after := ""
	for {
		page, err := c.AppRecord.Query().
			Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(entType(typ)), apprecord.MissingSinceIsNil(), apprecord.ExternalIDGT(after)).
			Order(ent.Asc(apprecord.FieldExternalID)).Limit(exportPage).All(ctx)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ExternalID
		open, err := openSuggestions(ctx, c, page)
		if err != nil {
			return err
		}
		for _, r := range page {
			clear(row)
			for k, col := range imp.Columns {
				row[k] = r.Fields[col]
			}
			result := ResultAppNoMatch
			switch r.Status {
			case apprecord.StatusMATCHED:
				result = ResultMatch
				if r.CleverID != nil {
					cleverCells(*r.CleverID)
				}
			case apprecord.StatusDUPLICATE:
				result = ResultAppDuplicate
			}
			archived := ""
			if r.CleverID != nil {
				archived = strconv.FormatBool(byID[*r.CleverID] == nil || byID[*r.CleverID].archived)
			}
			s.own(row, len(header), result, r.Method, strconv.FormatFloat(r.Score, 'f', -1, 64), r.Explanation,
				string(r.Status), r.DecidedBy, archived, open[r.ID])
			if err := cw.Write(inert(row)); err != nil {
				return err
			}
		}
	}
	for _, r := range clever {
		if r.archived || matched[r.ID] {
			continue
		}
		clear(row)
		cleverCells(r.ID)
		result := ResultCleverNoMatch
		if dup[r.ID] {
			result = ResultCleverDuplicate
		}
		s.own(row, len(header), result, "", "", "", "", "", "", "")
		if err := cw.Write(inert(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// inert keeps a spreadsheet from running the file's values as formulas (CSV injection): a value that
// starts with =, +, @, a tab or a carriage return, or with - and is not a number, gets a leading '.
// The row is changed in place.
func inert(row []string) []string {
	for i, v := range row {
		if v == "" {
			continue
		}
		switch v[0] {
		case '=', '+', '@', '\t', '\r':
			row[i] = "'" + v
		case '-':
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				row[i] = "'" + v
			}
		}
	}
	return row
}

// own fills the row's last columns: matchmaker_results, then OwnColumns.
func (s *Service) own(row []string, n int, result string, own ...string) {
	base := n - len(OwnColumns) - 1
	row[base] = result
	copy(row[base+1:], own)
}

// openSuggestions are the page's open suggestions, "id (score)" best first, by app record.
func openSuggestions(ctx context.Context, c *ent.Client, page []*ent.AppRecord) (map[string]string, error) {
	ids := make([]string, 0, len(page))
	for _, r := range page {
		if r.Status == apprecord.StatusSUGGESTED || r.Status == apprecord.StatusDUPLICATE {
			ids = append(ids, r.ID)
		}
	}
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	sg, err := c.MatchSuggestion.Query().Where(matchsuggestion.AppRecordIDIn(ids...), matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN)).
		Order(ent.Asc(matchsuggestion.FieldAppRecordID), ent.Asc(matchsuggestion.FieldRank), ent.Asc(matchsuggestion.FieldCleverID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, x := range sg {
		if out[x.AppRecordID] != "" {
			out[x.AppRecordID] += "; "
		}
		out[x.AppRecordID] += fmt.Sprintf("%s (%.2f)", x.CleverID, x.Score)
	}
	return out, nil
}
