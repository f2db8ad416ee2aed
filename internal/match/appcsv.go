package match

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/internal/csvin"
)

// The app's records CSV (SPEC.md "Matching CSV"; Clever Matchmaker's input rules): RFC 4180, UTF-8
// with or without a byte order mark, a header row, any columns, one unique internal id column, one
// record per person (or school, or section). Columns are recognised by their header, whatever its
// case, spacing and punctuation ("First Name", "first_name" and "FirstName" are all first_name);
// CSVOptions.Map overrides. Every column is kept as it is, recognised or not, for the export's app.
// columns.

// CSVOptions are the options of `match import` that say how to read the file.
type CSVOptions struct {
	// IDColumn names the internal id column (--id-column). Default: the first of app_id, id,
	// internal_id and user_id the header has.
	IDColumn string
	// Map names the column of a field (--map FIELD=COL,…; see ParseMap), overriding the headers
	// recognised for it. A column mapped to a field is not recognised as any other field.
	Map map[Field]string
}

// DefaultIDColumns are the internal id columns looked for, in this order, when CSVOptions.IDColumn is
// empty.
var DefaultIDColumns = []string{"app_id", "id", "internal_id", "user_id"}

// AppRow is one record of the app's file.
type AppRow struct {
	// Line is the line on which the row starts.
	Line int
	// ID is the internal id (its spaces trimmed).
	ID string
	// Raw are the row's values, every column's, in the header's order (AppFile.Columns names them).
	Raw []string
	// Values are the recognised fields' values, spaces trimmed; an empty value is left out.
	Values map[Field]string
}

// Record is the row as matching takes it.
func (r AppRow) Record() Record { return Record{ID: r.ID, Values: r.Values} }

// AppFile is what ReadAppRecords found of a file as a whole.
type AppFile struct {
	// Columns are the header's names, spaces trimmed, in the file's order.
	Columns []string
	// IDColumn is the internal id column (0-based).
	IDColumn int
	// Fields are the recognised fields' columns (0-based).
	Fields map[Field]int
	// Records is the number of records read (rows not blank).
	Records int
}

// appColumn lists the headers recognised for a field, strongest claim first; types limits them to
// some record types (nil: every type).
type appColumn struct {
	field Field
	types []Type
	names []string
}

var (
	people        = []Type{Student, Teacher, Staff}
	notSchools    = []Type{Student, Teacher, Staff, Section}
	schoolOnly    = []Type{School}
	sectionOnly   = []Type{Section}
	gradedRecords = []Type{Student, Section}
)

// appColumns are the headers recognised, field by field, in the order fields claim columns.
var appColumns = []appColumn{
	{FirstName, people, []string{"first_name", "firstname", "given_name", "first"}},
	{MiddleName, people, []string{"middle_name", "middlename", "middle_initial", "middle"}},
	{LastName, people, []string{"last_name", "lastname", "surname", "family_name", "last"}},
	{DOB, people, []string{"dob", "birthdate", "birth_date", "date_of_birth", "birthday"}},
	{Email, nil, []string{"email", "email_address", "e_mail"}},
	{SISID, nil, []string{"sis_id"}},
	{StudentNumber, nil, []string{"student_number", "student_no"}},
	{StateID, nil, []string{"state_id"}},
	{TeacherNumber, nil, []string{"teacher_number", "teacher_no"}},
	{StaffID, nil, []string{"staff_id"}},
	{NCESID, nil, []string{"nces_id", "nces"}},
	{MDRNumber, nil, []string{"mdr_number", "mdr"}},
	{SchoolNumber, nil, []string{"school_number", "school_no"}},
	{Name, schoolOnly, []string{"name", "school_name", "school"}},
	{Name, sectionOnly, []string{"name", "section_name"}},
	{SchoolRef, notSchools, []string{"school", "school_id", "school_name", "school_sis_id", "building", "campus"}},
	{Grade, gradedRecords, []string{"grade", "grade_level"}},
	{State, schoolOnly, []string{"state", "state_code"}},
	{TeacherRef, sectionOnly, []string{"teacher", "teacher_id", "teacher_email", "teacher_name"}},
	{Period, sectionOnly, []string{"period"}},
	{SectionNumber, sectionOnly, []string{"section_number", "section_no"}},
}

// knownTypes are the record types, as CLI and errors name them.
var knownTypes = []Type{Student, Teacher, Staff, School, Section}

// ParseMap reads --map: FIELD=COLUMN pairs separated by commas ("first_name=Given Name,dob=Birth").
// A field is named as SPEC.md does (first_name, dob, sis_id, school, …), in any case and with any
// punctuation; a column by its header, as the file has it. An empty s is no map.
func ParseMap(s string) (map[Field]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[Field]string{}
	for n, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("--map: entry %d is empty: want FIELD=COLUMN pairs separated by commas", n+1)
		}
		f, col, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--map: %q is not FIELD=COLUMN", part)
		}
		field, ok := fieldByName(f)
		if !ok {
			return nil, fmt.Errorf("--map: %q is not a field: want one of %s", strings.TrimSpace(f), fieldList())
		}
		col = strings.TrimSpace(col)
		if col == "" {
			return nil, fmt.Errorf("--map: %q names no column", part)
		}
		if prev, dup := m[field]; dup {
			return nil, fmt.Errorf("--map: %s is mapped twice (to %q and %q)", field, prev, col)
		}
		m[field] = col
	}
	return m, nil
}

// fieldByName finds a field by its name, case- and punctuation-insensitively.
func fieldByName(s string) (Field, bool) {
	k := csvin.ColumnKey(s)
	for _, f := range fieldNames {
		if csvin.ColumnKey(string(f)) == k {
			return f, true
		}
	}
	return "", false
}

func fieldList() string {
	names := make([]string, len(fieldNames))
	for i, f := range fieldNames {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// ValidateAppRecords reads the whole file and reports every problem it has, keeping no row: only the
// set of ids, to find duplicates. It is ReadAppRecords without a callback.
func ValidateAppRecords(r io.Reader, typ Type, opts CSVOptions) (*AppFile, error) {
	return ReadAppRecords(r, typ, opts, nil)
}

// ReadAppRecords streams the app's records of type typ from r, calling fn (when not nil) with each
// record in the file's order. It holds one row at a time; besides it, only the ids seen so far (to
// name duplicates), so a file of any size reads in memory proportional to its ids, not its rows.
//
// A file with problems is an *csvin.Error listing every problem found in the one pass (up to
// csvin.MaxProblems, the rest counted), each with its line and column: a row that is not valid CSV (a
// stray or unclosed quote, more or fewer values than the header), a value that is not UTF-8, a missing
// or empty id, an id on two lines, a header without the id column or a --map column, an empty file, a
// file with no record under its header. UTF-16 is refused, a UTF-8 byte order mark skipped.
//
// Two passes: fn sees rows before the file's later rows are checked, and is not called again once a
// problem is found. So a caller that must change nothing when the file has a problem reads it twice:
// ValidateAppRecords (or ReadAppRecords with a fn that keeps nothing) first, and only when that returns
// no error, ReadAppRecords again, applying each row. An error fn returns ends reading and is returned
// as it is; an error reading r is returned wrapped.
func ReadAppRecords(r io.Reader, typ Type, opts CSVOptions, fn func(AppRow) error) (*AppFile, error) {
	if !slices.Contains(knownTypes, typ) {
		return nil, fmt.Errorf("unknown record type %q: want student, teacher, staff, school or section", typ)
	}
	for f := range opts.Map {
		if _, ok := fieldIndex(f); !ok {
			return nil, fmt.Errorf("--map: %q is not a field: want one of %s", f, fieldList())
		}
	}
	cr, err := csvin.NewReader(r)
	if err != nil {
		return nil, err
	}
	var problems csvin.Problems
	af, err := readAppHeader(cr, typ, opts, &problems)
	if err != nil {
		return nil, err
	}
	if err := problems.Err(); err != nil {
		return nil, err // the rows cannot be read without their id
	}
	cr.SetColumnNames(af.Columns)
	idName := af.Columns[af.IDColumn]
	seen := map[string]int{} // id → line
	for {
		rec, prob, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if prob != nil {
			af.Records++ // a row all the same: the file is not header only
			problems.Add(*prob)
			continue
		}
		if csvin.Blank(rec) {
			continue // a spreadsheet's empty row: ",,,,"
		}
		af.Records++
		line := cr.Line()
		ok := true
		for i, v := range rec {
			if p, bad := cr.UTF8Problem(i, v); bad {
				problems.Add(p)
				ok = false
			}
		}
		id := strings.TrimSpace(rec[af.IDColumn])
		switch first, dup := seen[id]; {
		case id == "":
			problems.Add(csvin.Problem{Line: cr.FieldLine(af.IDColumn), Column: af.IDColumn + 1, ColumnName: idName,
				Message: "empty id: every record needs its internal id"})
			ok = false
		case dup:
			problems.Add(csvin.Problem{Line: cr.FieldLine(af.IDColumn), Column: af.IDColumn + 1, ColumnName: idName,
				Message: fmt.Sprintf("id %q is on line %d too: list each record once", id, first)})
			ok = false
		case ok:
			// A value is a substring of the whole row's string: keep a copy, not the row.
			seen[strings.Clone(id)] = line
		}
		if !ok || fn == nil || problems.Len() > 0 {
			continue // once the file has a problem, its rows are only checked
		}
		row := AppRow{Line: line, ID: id, Raw: rec, Values: make(map[Field]string, len(af.Fields))}
		for f, i := range af.Fields {
			if v := strings.TrimSpace(rec[i]); v != "" {
				row.Values[f] = v
			}
		}
		if err := fn(row); err != nil {
			return nil, err
		}
	}
	if af.Records == 0 && problems.Len() == 0 {
		problems.Add(csvin.Problem{Line: 2, Message: fmt.Sprintf("no records: the file has a header row and nothing under it; want one row per %s", typ)})
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return af, nil
}

// readAppHeader reads the header row, finds the id column and the fields' columns, and adds the
// header's problems.
func readAppHeader(cr *csvin.Reader, typ Type, opts CSVOptions, problems *csvin.Problems) (*AppFile, error) {
	rec, prob, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		problems.Add(csvin.Problem{Line: 1, Message: fmt.Sprintf("the file is empty: want a header row naming the columns, one of them the internal id (%s, or the column --id-column names)",
			strings.Join(DefaultIDColumns, ", "))})
		return nil, nil
	case err != nil:
		return nil, err
	case prob != nil:
		problems.Add(*prob)
		return nil, nil
	}
	line := cr.Line()
	af := &AppFile{Columns: make([]string, len(rec)), Fields: map[Field]int{}}
	keys := make([]string, len(rec))
	for i, raw := range rec {
		if p, bad := cr.UTF8Problem(i, raw); bad {
			problems.Add(p)
			continue
		}
		af.Columns[i] = strings.TrimSpace(raw)
		keys[i] = csvin.ColumnKey(raw)
	}
	columnsOf := func(key string) []int {
		var at []int
		for i, k := range keys {
			if k != "" && k == key {
				at = append(at, i)
			}
		}
		return at
	}

	// The id column.
	af.IDColumn = -1
	idFlag := ""
	var at []int
	if opts.IDColumn != "" {
		idFlag = " (--id-column)"
		at = columnsOf(csvin.ColumnKey(opts.IDColumn))
		if len(at) == 0 {
			problems.Add(csvin.Problem{Line: line, Message: fmt.Sprintf("no id column %q%s: the header has %s", strings.TrimSpace(opts.IDColumn), idFlag, csvin.Quoted(rec))})
		}
	} else {
		for _, name := range DefaultIDColumns {
			if at = columnsOf(csvin.ColumnKey(name)); len(at) > 0 {
				break
			}
		}
		if len(at) == 0 {
			problems.Add(csvin.Problem{Line: line, Message: fmt.Sprintf("no internal id column: want one of %s, or name yours with --id-column (the header has %s)",
				strings.Join(DefaultIDColumns, ", "), csvin.Quoted(rec))})
		}
	}
	if len(at) > 0 {
		af.IDColumn = at[0]
		for _, i := range at[1:] {
			problems.Add(csvin.Problem{Line: line, Column: i + 1, ColumnName: af.Columns[i],
				Message: fmt.Sprintf("column %d is the id column %s%s too: name one internal id column, once", at[0]+1, af.Columns[at[0]], idFlag)})
		}
	}

	// The fields: --map first, in the fields' order, then the headers recognised.
	taken := make([]bool, len(rec))
	for _, f := range fieldNames {
		col, ok := opts.Map[f]
		if !ok {
			continue
		}
		at := columnsOf(csvin.ColumnKey(col))
		if len(at) == 0 {
			problems.Add(csvin.Problem{Line: line, Message: fmt.Sprintf("--map %s=%s: the header has no column %q (it has %s)", f, col, col, csvin.Quoted(rec))})
			continue
		}
		af.Fields[f] = at[0]
		taken[at[0]] = true
	}
	for _, c := range appColumns {
		if _, done := af.Fields[c.field]; done || (c.types != nil && !slices.Contains(c.types, typ)) {
			continue
		}
	names:
		for _, name := range c.names {
			for _, i := range columnsOf(csvin.ColumnKey(name)) {
				if !taken[i] {
					af.Fields[c.field] = i
					taken[i] = true
					break names
				}
			}
		}
	}
	return af, nil
}
