package apprecord

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/appimport"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/match"
)

// ImportInput is one file of the app's records.
type ImportInput struct {
	DistrictID string
	Type       match.Type
	// Open opens the file; it is read twice (checked whole first, then applied), so it must give the
	// same bytes each time.
	Open func() (io.ReadCloser, error)
	// FileName names the file in the import's record ("" for none).
	FileName string
	Options  match.CSVOptions
}

// MaxMissingIDs is how many missing records an import names (it counts them all).
const MaxMissingIDs = 100

// ImportCSV is importAppRecords: the records of csv, imported by the request's API key (admin), with
// the id column and the fields' columns when given (Options).
func (s *Service) ImportCSV(ctx context.Context, districtID string, typ apprecord.Type, csv string, idColumn *string, columns map[string]string) (*ent.AppImport, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	opts, err := Options(idColumn, columns)
	if err != nil {
		return nil, err
	}
	return s.Import(ctx, ImportInput{DistrictID: districtID, Type: matchType(typ), Options: opts,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil }}, auth.Actor(ctx))
}

// Import loads the app's records of one type for a district and matches them, as actor (audited).
//
// The file is checked whole before anything is written: a file with any problem is a *csvin.Error
// naming each problem's line and column, and changes nothing. Then, in one transaction, a record new to
// rostermirror is created, one whose row differs is updated (its fields; a decision on it stands), one
// that an earlier import had and this file has not is kept and marked missingSince (counted and named
// in the result), and the type's undecided records are matched again. Importing the same file twice
// changes nothing the second time. Rows are read and written a batch at a time: a file's size is not
// held in memory, only its ids.
func (s *Service) Import(ctx context.Context, in ImportInput, actor string) (*ent.AppImport, error) {
	typ, err := ParseType(string(in.Type))
	if err != nil {
		return nil, err
	}
	ok, err := s.db.Client.District.Query().Where(district.ID(in.DistrictID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: district %q is not in the mirror (has it been synced?)", ErrNotFound, in.DistrictID)
	}
	start := time.Now()
	af, err := readWith(in, typ, nil)
	if err != nil {
		return nil, err
	}
	checked := time.Now()
	var imp *ent.AppImport
	err = s.inTx(ctx, func(tx *txn) error {
		if err := s.lockType(ctx, tx, in.DistrictID, typ); err != nil {
			return err
		}
		a := &applier{ctx: ctx, tx: tx, in: in, typ: typ, cols: columnKeys(af.Columns), now: s.nowUTC(), seen: map[string]struct{}{}}
		if a.prior, err = tx.AppRecord.Query().Where(apprecord.DistrictID(in.DistrictID), apprecord.TypeEQ(entType(typ))).Exist(ctx); err != nil {
			return err
		}
		if _, err := readWith(in, typ, a.add); err != nil {
			return err
		}
		if err := a.flush(ctx); err != nil {
			return err
		}
		if err := a.markMissing(ctx); err != nil {
			return err
		}
		s.log.DebugContext(ctx, "app records stored", "district", in.DistrictID, "type", string(typ), "records", af.Records,
			"check", checked.Sub(start), "store", time.Since(checked))
		// A file that changed nothing needs no matching: the sync that changed Clever's side rematched.
		var c Counts
		switch {
		case !a.prior:
			c, err = s.rematchOf(ctx, tx, in.DistrictID, typ, &firstImport{recs: a.fresh})
		case a.created+a.changed+a.gone > 0:
			c, err = s.rematch(ctx, tx, in.DistrictID, typ)
		default:
			c, err = counts(ctx, tx.Client, in.DistrictID, typ)
		}
		if err != nil {
			return err
		}
		mapping := map[string]string{}
		for f, col := range af.Fields {
			mapping[string(f)] = a.cols[col]
		}
		imp, err = tx.AppImport.Create().SetDistrictID(in.DistrictID).SetType(appimportType(typ)).
			SetFileName(in.FileName).SetColumns(a.cols).SetIDColumn(a.cols[af.IDColumn]).SetMapping(mapping).
			SetRecords(af.Records).SetCreated(a.created).SetChanged(a.changed).SetUnchanged(a.unchanged).
			SetMissing(a.missing).SetMissingIds(a.missingIDs).SetWarnings(warnings(af, typ)).
			SetMatched(c.Matched).SetSuggested(c.Suggested).SetUnmatched(c.Unmatched).SetDuplicate(c.Duplicate).
			SetImportedBy(actor).SetCreatedAt(a.now).Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: audit.ImportAppRecords, Target: in.DistrictID,
			Outcome: fmt.Sprintf("%d %s records: %d new, %d changed, %d unchanged, %d missing; %s", af.Records, typ,
				a.created, a.changed, a.unchanged, a.missing, c)})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "app records imported", "district", in.DistrictID, "type", string(typ), "records", imp.Records,
		"created", imp.Created, "changed", imp.Changed, "missing", imp.Missing, "matched", imp.Matched)
	return imp, nil
}

// appimportType is the AppImport enum value of a record type.
func appimportType(t match.Type) appimport.Type { return appimport.Type(entType(t)) }

// readWith reads the file once through match.ReadAppRecords.
func readWith(in ImportInput, typ match.Type, fn func(match.AppRow) error) (*match.AppFile, error) {
	r, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return match.ReadAppRecords(r, typ, in.Options, fn)
}

// warnings are what an admin should know of a file that imported: columns that are not compared.
func warnings(af *match.AppFile, typ match.Type) []string {
	used := map[int]bool{af.IDColumn: true}
	for _, c := range af.Fields {
		used[c] = true
	}
	var other []string
	for i, c := range af.Columns {
		if !used[i] {
			other = append(other, fmt.Sprintf("%q", c))
		}
	}
	var out []string
	if len(af.Fields) == 0 {
		out = append(out, fmt.Sprintf("no column is a field matching compares (%s): every record will be unmatched; name them with --map FIELD=COLUMN",
			strings.Join(fieldNames(match.DefaultOrder(typ)), ", ")))
	}
	if len(other) > 0 {
		out = append(out, "not compared, kept for the export: "+strings.Join(other, ", "))
	}
	return out
}

func fieldNames(fs []match.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// freshTable stages the records of a type's first import (bulk.TempLike).
const freshTable = "stage_fresh_app_records"

// importBatch is how many rows of a file are looked up and written at once.
const importBatch = 5000

// applier writes a file's rows a batch at a time.
type applier struct {
	ctx  context.Context
	tx   *txn
	in   ImportInput
	typ  match.Type
	now  time.Time
	rows []match.AppRow
	seen map[string]struct{} // the app records the file has (rostermirror's ids)
	// prior says whether earlier imports stored records of the type; without, the new records are
	// staged in freshTable and kept (their ids and values) in fresh for matching.
	prior bool
	fresh []*ent.AppRecord

	created, changed, unchanged, missing int
	gone                                 int // newly missing
	missingIDs                           []string
	cols                                 []string
}

func (a *applier) add(row match.AppRow) error {
	a.rows = append(a.rows, row)
	if len(a.rows) >= importBatch {
		return a.flush(a.ctx)
	}
	return nil
}

// columnKeys are the names the file's columns are stored and exported under: their header names, made
// unique — an unnamed column is "column N", a name the header repeats is "NAME (column N)" after its first
// use — so that no value is lost under another column's name.
func columnKeys(cols []string) []string {
	out := make([]string, len(cols))
	used := map[string]bool{}
	for i, c := range cols {
		k := c
		switch {
		case c == "":
			k = fmt.Sprintf("column %d", i+1)
		case used[c]:
			k = fmt.Sprintf("%s (column %d)", c, i+1)
		}
		used[k] = true
		out[i] = k
	}
	return out
}

// fieldsOf is a row's values by column.
func fieldsOf(cols []string, raw []string) map[string]string {
	m := make(map[string]string, len(cols))
	for i, c := range cols {
		if i < len(raw) {
			m[c] = raw[i]
		}
	}
	return m
}

func valuesOf(v map[match.Field]string) map[string]string {
	m := make(map[string]string, len(v))
	for f, x := range v {
		m[string(f)] = x
	}
	return m
}

func (a *applier) flush(ctx context.Context) error {
	if len(a.rows) == 0 {
		return nil
	}
	ids := make([]string, len(a.rows))
	for i, r := range a.rows {
		ids[i] = r.ID
	}
	c := a.tx.Client
	var existing []*ent.AppRecord
	if a.prior { // the first import of the type has nothing to look up
		var err error
		existing, err = c.AppRecord.Query().
			Where(apprecord.DistrictID(a.in.DistrictID), apprecord.TypeEQ(entType(a.typ)), apprecord.ExternalIDIn(ids...)).
			Select(apprecord.FieldID, apprecord.FieldExternalID, apprecord.FieldFields, apprecord.FieldMatchValues, apprecord.FieldMissingSince).
			All(ctx)
		if err != nil {
			return err
		}
	}
	byExt := make(map[string]*ent.AppRecord, len(existing))
	for _, r := range existing {
		byExt[r.ExternalID] = r
	}
	var creates [][]any
	for _, row := range a.rows {
		fields, vals := fieldsOf(a.cols, row.Raw), valuesOf(row.Values)
		old := byExt[row.ID]
		if old == nil {
			id := apprecord.DefaultID()
			fj, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			vj, err := json.Marshal(vals)
			if err != nil {
				return err
			}
			creates = append(creates, []any{id, a.in.DistrictID, string(entType(a.typ)), row.ID, string(fj), string(vj),
				string(apprecord.StatusUNMATCHED), "", 0.0, "", "", a.now, a.now})
			a.seen[id] = struct{}{}
			a.created++
			if !a.prior {
				a.fresh = append(a.fresh, &ent.AppRecord{ID: id, ExternalID: row.ID, MatchValues: vals, Status: apprecord.StatusUNMATCHED})
			}
			continue
		}
		a.seen[old.ID] = struct{}{}
		if maps.Equal(old.Fields, fields) && maps.Equal(old.MatchValues, vals) && old.MissingSince == nil {
			a.unchanged++
			continue
		}
		if err := c.AppRecord.UpdateOneID(old.ID).SetFields(fields).SetMatchValues(vals).ClearMissingSince().
			SetUpdatedAt(a.now).Exec(ctx); err != nil {
			return err
		}
		a.changed++
	}
	table := apprecord.Table
	if !a.prior {
		// The first import of the type: the new records are staged and go into the table once matched,
		// with their results (one write, not an insert and an update).
		table = freshTable
		if err := a.tx.bulk.TempLike(ctx, table, apprecord.Table); err != nil {
			return err
		}
	}
	if err := a.tx.bulk.Insert(ctx, table, []string{apprecord.FieldID, apprecord.FieldDistrictID, apprecord.FieldType,
		apprecord.FieldExternalID, apprecord.FieldFields, apprecord.FieldMatchValues, apprecord.FieldStatus, apprecord.FieldMethod,
		apprecord.FieldScore, apprecord.FieldExplanation, apprecord.FieldDecidedBy, apprecord.FieldCreatedAt, apprecord.FieldUpdatedAt}, creates); err != nil {
		return fmt.Errorf("store app records: %w", err)
	}
	a.rows = a.rows[:0]
	return nil
}

// markMissing counts the records of earlier imports that this file does not have, and marks those
// newly missing; their open suggestions are closed.
func (a *applier) markMissing(ctx context.Context) error {
	if !a.prior {
		return nil
	}
	prior, err := a.tx.AppRecord.Query().
		Where(apprecord.DistrictID(a.in.DistrictID), apprecord.TypeEQ(entType(a.typ))).
		Select(apprecord.FieldID, apprecord.FieldExternalID, apprecord.FieldMissingSince).Order(ent.Asc(apprecord.FieldExternalID)).All(ctx)
	if err != nil {
		return err
	}
	var gone []string
	for _, r := range prior {
		if _, ok := a.seen[r.ID]; ok {
			continue
		}
		a.missing++
		if len(a.missingIDs) < MaxMissingIDs {
			a.missingIDs = append(a.missingIDs, r.ExternalID)
		}
		if r.MissingSince == nil {
			gone = append(gone, r.ID)
		}
	}
	a.gone = len(gone)
	if _, err := a.tx.bulk.ExecIn(ctx, "UPDATE "+apprecord.Table+" SET missing_since = ? WHERE %s", []any{a.now}, apprecord.FieldID, gone); err != nil {
		return err
	}
	// Their suggestions leave the review queue (a rematch raises them again if the record comes back).
	_, err = a.tx.bulk.ExecIn(ctx, "UPDATE "+matchsuggestion.Table+" SET status = ?, updated_at = ? WHERE status = ? AND %s",
		[]any{string(matchsuggestion.StatusSUPERSEDED), a.now, string(matchsuggestion.StatusOPEN)}, matchsuggestion.FieldAppRecordID, gone)
	return err
}
