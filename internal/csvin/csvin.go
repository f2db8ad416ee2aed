// Package csvin reads the CSV files people hand to rostermirror (RFC 4180, UTF-8 with or without a
// byte order mark) row by row, and says precisely what is wrong with one: each problem with its
// 1-based line and column, the column's name, and how to put it right. It knows nothing of what the
// columns mean: the packages that read a kind of file (org import, match import) check the header and
// the values, and collect their problems in the same list.
//
// A Reader streams: it holds one row at a time, whatever the file's size.
package csvin

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// MaxProblems is the most problems an Error lists; it counts the others.
const MaxProblems = 50

// Problem is one problem found in a file, and where it is.
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

// Error is the error of a file that has problems: whatever the file was for, nothing was changed.
type Error struct {
	// Problems are the first MaxProblems problems, in the order of the file.
	Problems []Problem
	// More is how many more problems were found.
	More int
}

func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Problems) + e.More
	fmt.Fprintf(&b, "the file has %d problem%s; nothing was changed:", n, Plural(n))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	return b.String()
}

// Plural is "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Problems collects a file's problems, keeping the first MaxProblems and counting the others. The zero
// value is empty and ready.
type Problems struct {
	list []Problem
	more int
}

// Add adds a problem.
func (l *Problems) Add(p Problem) {
	if len(l.list) < MaxProblems {
		l.list = append(l.list, p)
	} else {
		l.more++
	}
}

// Len is how many problems were added, kept or counted.
func (l *Problems) Len() int { return len(l.list) + l.more }

// List is the problems kept, in the order added.
func (l *Problems) List() []Problem { return l.list }

// Err is nil when no problem was added, else an *Error listing them.
func (l *Problems) Err() error {
	if l.Len() == 0 {
		return nil
	}
	return &Error{Problems: l.list, More: l.more}
}

// Merge is the problems of a and b in the order of their lines (a's first on the same line), the
// first MaxProblems kept and the others counted: a file's problems found by two readers of it (its
// parser, and the checks of its records against a database).
func Merge(a, b Problems) Problems {
	all := append(slices.Clone(a.list), b.list...)
	slices.SortStableFunc(all, func(x, y Problem) int { return cmp.Compare(x.Line, y.Line) })
	var m Problems
	for _, p := range all {
		m.Add(p)
	}
	m.more += a.more + b.more
	return m
}

// CanonicalColumn is a header's name as it is recognised: lower case, trimmed, each run of spaces,
// hyphens, dots and other punctuation as one underscore ("External ID" and "external-id" are
// external_id).
func CanonicalColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, s)
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	return strings.Trim(s, "_")
}

// ColumnKey is a header's name with case, spaces and punctuation dropped altogether, for files whose
// columns are named every which way: "First Name", "first_name", "FirstName" and "first-name" are all
// "firstname".
func ColumnKey(s string) string {
	return strings.ReplaceAll(CanonicalColumn(s), "_", "")
}

// CleanText trims a name-like value people hand in (a CSV value, a mutation's argument) and checks it:
// at most max bytes, no control characters (Postgres refuses NUL; a line break or tab in a name is a
// mistake). An empty value is the caller's to refuse when it must be given.
func CleanText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) > max:
		return "", fmt.Errorf("too long: %d bytes, at most %d", len(s), max)
	case strings.ContainsFunc(s, isControl):
		return "", errors.New("contains a control character (a line break, a tab, …)")
	}
	return s, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// Blank reports whether every value of rec is empty or spaces (a spreadsheet's empty row: ",,,,").
func Blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Quoted writes each of names trimmed and in double quotes, separated by commas: `"a", "b"`.
func Quoted(names []string) string {
	out := make([]string, len(names))
	for i, s := range names {
		out[i] = fmt.Sprintf("%q", strings.TrimSpace(s))
	}
	return strings.Join(out, ", ")
}
