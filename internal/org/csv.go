package org

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// The CSV file of `org import` (RFC 4180): a header row naming the columns, then one organization per
// row. Columns are recognised whatever their case, with spaces or hyphens for underscores ("External
// ID"); external_id and name are required, the others optional: a column the file leaves out leaves that
// field of existing organizations as it is (a new organization gets the field's default).

// columns lists the columns an import file may have, in the order reports and errors use.
var columns = []string{colExternalID, colName, colMDRNumber, colNCESID, colState, colEmailDomains, colContactEmails, colAutoLinkInvites}

// requiredColumns must be in every file.
var requiredColumns = []string{colExternalID, colName}

// Limits of an import file.
const (
	// MaxRows is the most organizations one file may list.
	MaxRows = 100_000
	// MaxProblems is the most problems an ImportError lists; it counts the others.
	MaxProblems = 50
)

// Problem is one problem found in an import file, and where it is.
type Problem struct {
	// Line is the 1-based line of the file (the line where the row starts, for a row); 0 for none.
	Line int `json:"line,omitempty"`
	// Column is the 1-based column (the field of the row: column 3 is a spreadsheet's C); 0 when the
	// problem is a whole row's or the file's.
	Column int `json:"column,omitempty"`
	// ColumnName is the column's name in the header ("" when it has none).
	ColumnName string `json:"columnName,omitempty"`
	// Message says what is wrong, and how to put it right when that is not plain.
	Message string `json:"message"`
}

// String writes the problem as `line 7, column 3 (mdr_number): message`.
func (p Problem) String() string {
	var where []string
	if p.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", p.Line))
	}
	if p.Column > 0 {
		c := fmt.Sprintf("column %d", p.Column)
		if p.ColumnName != "" {
			c += " (" + p.ColumnName + ")"
		}
		where = append(where, c)
	}
	if len(where) == 0 {
		return p.Message
	}
	return strings.Join(where, ", ") + ": " + p.Message
}

// ImportError is the error of an import whose file has problems. Nothing was changed.
type ImportError struct {
	// Problems are the first MaxProblems problems, in the order of the file.
	Problems []Problem
	// More is how many more problems were found.
	More int
}

func (e *ImportError) Error() string {
	var b strings.Builder
	n := len(e.Problems) + e.More
	fmt.Fprintf(&b, "the file has %d problem%s; nothing was changed:", n, plural(n))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// problemList collects a file's problems, keeping the first MaxProblems.
type problemList struct {
	list []Problem
	more int
}

func (l *problemList) add(p Problem) {
	if len(l.list) < MaxProblems {
		l.list = append(l.list, p)
	} else {
		l.more++
	}
}

func (l *problemList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	return &ImportError{Problems: l.list, More: l.more}
}

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
}

// header is the file's first row: each column's name (canonical for a known column, "" for one without
// a name) and the raw names, for messages.
type header struct {
	names []string
	raw   []string
}

// name is the name of column i (0-based) for messages: the canonical name, or "" beyond the header.
func (h header) name(i int) string {
	if i < len(h.names) {
		return h.names[i]
	}
	return ""
}

// canonicalColumn is a header's name as it is recognised: lower case, trimmed, spaces, hyphens and dots
// as underscores.
func canonicalColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '\t' {
			return '_'
		}
		return r
	}, s)
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	return strings.Trim(s, "_")
}

// utf8BOM is the byte order mark some programs (Excel's "CSV UTF-8") put at the start of a file.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// parseFile reads an import file row by row and returns its organizations, or an *ImportError listing
// every problem found (up to MaxProblems). An error reading r is returned as it is.
func parseFile(r io.Reader) (*file, error) {
	br := bufio.NewReader(r)
	if start, _ := br.Peek(3); bytes.HasPrefix(start, utf8BOM) {
		br.Discard(len(utf8BOM))
	} else if bytes.HasPrefix(start, []byte{0xff, 0xfe}) || bytes.HasPrefix(start, []byte{0xfe, 0xff}) {
		return nil, &ImportError{Problems: []Problem{{Line: 1, Message: `the file is UTF-16 text (Excel's "Unicode Text"): save it as "CSV UTF-8"`}}}
	}
	t := &tail{r: br}
	cr := csv.NewReader(t)
	cr.TrimLeadingSpace = true

	var problems problemList
	h, err := readHeader(cr, t, &problems)
	if err != nil {
		return nil, err
	}
	if err := problems.err(); err != nil {
		return nil, err // the rows cannot be read without their columns
	}
	f := &file{has: map[string]bool{}}
	for _, name := range h.names {
		if name != "" {
			f.has[name] = true
		}
	}
	seen := map[string]int{} // external id → line
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			problems.add(parseProblem(pe, rec, h, t))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue // a spreadsheet's empty row: ",,,,"
		}
		if rows++; rows > MaxRows {
			problems.add(Problem{Line: line, Message: fmt.Sprintf("more than %d organizations: split the file", MaxRows)})
			break
		}
		rw, ok := parseRow(cr, rec, h, &problems)
		if id := rw.f.ExternalID; id != "" { // a valid external id, whatever the row's other values
			if first, dup := seen[id]; dup {
				i := slices.Index(h.names, colExternalID)
				problems.add(Problem{Line: line, Column: i + 1, ColumnName: colExternalID,
					Message: fmt.Sprintf("%q is on line %d too: list each organization once", id, first)})
				ok = false
			} else {
				seen[id] = line
			}
		}
		if ok && len(problems.list) == 0 { // once the file has a problem, its rows are only checked
			f.rows = append(f.rows, rw)
		}
	}
	if err := problems.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// readHeader reads the header row and checks it: every column known (an unknown one is refused rather
// than ignored: a misspelt column would otherwise be dropped without a word), none twice, the required
// ones there.
func readHeader(cr *csv.Reader, t *tail, problems *problemList) (header, error) {
	rec, err := cr.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		problems.add(Problem{Line: 1, Message: "the file is empty: want a header row naming the columns, at least " + strings.Join(requiredColumns, " and ")})
		return header{}, nil
	case errors.As(err, &pe):
		problems.add(parseProblem(pe, rec, header{}, t))
		return header{}, nil
	case err != nil:
		return header{}, fmt.Errorf("read the file: %w", err)
	}
	line, _ := cr.FieldPos(0)
	h := header{names: make([]string, len(rec)), raw: rec}
	at := map[string]int{}
	for i, raw := range rec {
		if !utf8.ValidString(raw) {
			problems.add(utf8Problem(cr, i, raw, ""))
			continue
		}
		name := canonicalColumn(raw)
		switch {
		case name == "":
			continue // allowed while its every value is empty
		case !slices.Contains(columns, name):
			problems.add(Problem{Line: line, Column: i + 1, ColumnName: strings.TrimSpace(raw),
				Message: "unknown column: want " + strings.Join(columns, ", ")})
			continue
		}
		if first, dup := at[name]; dup {
			problems.add(Problem{Line: line, Column: i + 1, ColumnName: name, Message: fmt.Sprintf("column %d is %s too", first+1, name)})
			continue
		}
		at[name] = i
		h.names[i] = name
	}
	for _, req := range requiredColumns {
		if _, ok := at[req]; !ok {
			problems.add(Problem{Line: line, Message: fmt.Sprintf("no %s column: the header must name at least %s (it has %s)",
				req, strings.Join(requiredColumns, " and "), strings.Join(trimAll(rec), ", "))})
		}
	}
	return h, nil
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", strings.TrimSpace(s))
	}
	return out
}

// blank reports whether every value of rec is empty or spaces.
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// parseRow reads one organization from rec, the row just read from cr, adding each of its problems.
func parseRow(cr *csv.Reader, rec []string, h header, problems *problemList) (row, bool) {
	line, _ := cr.FieldPos(0)
	rw := row{line: line}
	ok := true
	for i, v := range rec {
		name := h.names[i]
		fail := func(err error) {
			if err != nil {
				l, _ := cr.FieldPos(i)
				problems.add(Problem{Line: l, Column: i + 1, ColumnName: name, Message: err.Error()})
				ok = false
			}
		}
		if !utf8.ValidString(v) {
			problems.add(utf8Problem(cr, i, v, name))
			ok = false
			continue
		}
		var err error
		switch name {
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

// utf8Problem says where the first byte of value i of the row just read from cr is not UTF-8.
func utf8Problem(cr *csv.Reader, i int, v, name string) Problem {
	line, _ := cr.FieldPos(i)
	bad := 0
	for bad < len(v) {
		r, size := utf8.DecodeRuneInString(v[bad:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		bad += size
	}
	before := v[:bad]
	of := "the value"
	if n := strings.Count(before, "\n"); n > 0 { // a quoted value over several lines: say which
		line += n
		of = "the value's line"
	}
	char := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return Problem{Line: line, Column: i + 1, ColumnName: name,
		Message: fmt.Sprintf(`not UTF-8 text: byte 0x%02X at character %d of %s; save the file as "CSV UTF-8"`, v[bad], char, of)}
}

// parseProblem explains a CSV syntax error. The record csv.Reader returns with it holds the fields read
// before the error, so the field at fault is the next one.
func parseProblem(pe *csv.ParseError, rec []string, h header, t *tail) Problem {
	col := len(rec) + 1
	p := Problem{Line: pe.StartLine, Column: col, ColumnName: h.name(col - 1)}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		n := len(h.names)
		if len(rec) < n {
			p.Message = fmt.Sprintf("missing: the row has %d values, the header %d", len(rec), n)
		} else {
			p.Column, p.ColumnName = n+1, ""
			p.Message = fmt.Sprintf("%d value%s too many: the row has %d values, the header %d (a value with a comma in it must be enclosed in double quotes)",
				len(rec)-n, plural(len(rec)-n), len(rec), n)
		}
	case errors.Is(pe.Err, csv.ErrBareQuote):
		p.Line = pe.Line
		p.Message = fmt.Sprintf(`a " in a value not enclosed in double quotes (byte %d of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && t.atEnd(pe.Line, pe.Column):
		p.Message = `a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine:
		p.Message = fmt.Sprintf(`a value in double quotes starts here and is not closed before line %d (byte %d): its closing " is missing, or a " in it is not doubled`, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		p.Message = fmt.Sprintf(`a " in a value enclosed in double quotes is not doubled, or its closing " is not followed by a comma (byte %d of the line): write it as in "The ""Best"" ISD"`, pe.Column)
	default:
		p.Line, p.Message = pe.Line, pe.Err.Error()
	}
	return p
}

// tail watches what csv.Reader reads, to tell a quoted value that runs to the end of the file (csv says
// ErrQuote at the end of the last line) from a stray quote (ErrQuote at the quote).
type tail struct {
	r   io.Reader
	eof bool
	// lines is how many line ends were read; cur the bytes read since the last, prev the length of the
	// line it ended (without "\r\n" or "\n").
	lines, cur, prev int
}

func (t *tail) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for _, c := range p[:n] {
		switch c {
		case '\n':
			t.lines++
			t.prev, t.cur = t.cur, 0
		case '\r': // csv.Reader drops it before a line end, and counts columns without it
		default:
			t.cur++
		}
	}
	if errors.Is(err, io.EOF) {
		t.eof = true
	}
	return n, err
}

// atEnd reports whether line and column (1-based byte) are past the last character of the file, which
// was read to its end.
func (t *tail) atEnd(line, column int) bool {
	if !t.eof {
		return false
	}
	last, length := t.lines+1, t.cur // a last line without a line end
	if t.cur == 0 {
		last, length = t.lines, t.prev
	}
	return line == last && column > length
}
