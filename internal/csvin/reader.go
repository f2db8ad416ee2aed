package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// utf8BOM is the byte order mark some programs (Excel's "CSV UTF-8") put at the start of a file.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Reader reads a CSV file one row at a time: RFC 4180, leading spaces of a value dropped, every row as
// many values as the first (the header). It turns the file's syntax errors into Problems that say
// where they are and how to put them right.
type Reader struct {
	cr    *csv.Reader
	t     *tail
	names []string
}

// NewReader starts reading r. It skips a UTF-8 byte order mark, and refuses a UTF-16 file (Excel's
// "Unicode Text") with an *Error: no row of it can be read as UTF-8.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	if start, _ := br.Peek(3); bytes.HasPrefix(start, utf8BOM) {
		br.Discard(len(utf8BOM))
	} else if bytes.HasPrefix(start, []byte{0xff, 0xfe}) || bytes.HasPrefix(start, []byte{0xfe, 0xff}) {
		return nil, &Error{Problems: []Problem{{Line: 1, Message: `the file is UTF-16 text (Excel's "Unicode Text"): save it as "CSV UTF-8"`}}}
	}
	t := &tail{r: br}
	cr := csv.NewReader(t)
	cr.TrimLeadingSpace = true
	return &Reader{cr: cr, t: t}, nil
}

// SetColumnNames sets the names problems give the columns (by 0-based index; "" for a column without
// one), once the header is read. Until then problems name no column.
func (r *Reader) SetColumnNames(names []string) { r.names = names }

// ColumnName is the name of column i (0-based) for problems: "" beyond the names set.
func (r *Reader) ColumnName(i int) string {
	if i < len(r.names) {
		return r.names[i]
	}
	return ""
}

// Read reads the next row. It returns io.EOF at the end of the file. A row that is not valid CSV (a
// stray quote, a quoted value never closed, more or fewer values than the header) comes back as a
// Problem, and reading goes on with the next row; any other error is reading's, and ends the file.
//
// The values of a row are substrings of one string: keep a value past the next Read with
// strings.Clone, or the whole row stays in memory with it.
func (r *Reader) Read() (rec []string, prob *Problem, err error) {
	rec, err = r.cr.Read()
	var pe *csv.ParseError
	switch {
	case err == nil:
		return rec, nil, nil
	case errors.Is(err, io.EOF):
		return nil, nil, io.EOF
	case errors.As(err, &pe):
		p := r.parseProblem(pe, rec)
		return nil, &p, nil
	default:
		return nil, nil, fmt.Errorf("read the file: %w", err)
	}
}

// Line is the line on which the row just read starts.
func (r *Reader) Line() int {
	line, _ := r.cr.FieldPos(0)
	return line
}

// FieldLine is the line on which value i (0-based) of the row just read starts.
func (r *Reader) FieldLine(i int) int {
	line, _ := r.cr.FieldPos(i)
	return line
}

// UTF8Problem checks that value i (0-based) of the row just read, v, is UTF-8 text, and otherwise says
// where its first byte that is not is.
func (r *Reader) UTF8Problem(i int, v string) (Problem, bool) {
	if utf8.ValidString(v) {
		return Problem{}, false
	}
	line := r.FieldLine(i)
	bad := 0
	for bad < len(v) {
		c, size := utf8.DecodeRuneInString(v[bad:])
		if c == utf8.RuneError && size <= 1 {
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
	return Problem{Line: line, Column: i + 1, ColumnName: r.ColumnName(i),
		Message: fmt.Sprintf(`not UTF-8 text: byte 0x%02X at character %d of %s; save the file as "CSV UTF-8"`, v[bad], char, of)}, true
}

// parseProblem explains a CSV syntax error. The record csv.Reader returns with it holds the fields read
// before the error, so the field at fault is the next one.
func (r *Reader) parseProblem(pe *csv.ParseError, rec []string) Problem {
	col := len(rec) + 1
	p := Problem{Line: pe.StartLine, Column: col, ColumnName: r.ColumnName(col - 1)}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		n := r.cr.FieldsPerRecord
		if len(rec) < n {
			p.Message = fmt.Sprintf("missing: the row has %d values, the header %d", len(rec), n)
		} else {
			p.Column, p.ColumnName = n+1, ""
			p.Message = fmt.Sprintf("%d value%s too many: the row has %d values, the header %d (a value with a comma in it must be enclosed in double quotes)",
				len(rec)-n, Plural(len(rec)-n), len(rec), n)
		}
	case errors.Is(pe.Err, csv.ErrBareQuote):
		p.Line = pe.Line
		p.Message = fmt.Sprintf(`a " in a value not enclosed in double quotes (byte %d of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && r.t.atEnd(pe.Line, pe.Column):
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
