package clever

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Date is a date or timestamp exactly as Clever sent it. Real data mixes forms within one district, so
// Date accepts all of them and keeps the original text: "2013-06-01", "2013-06-01T00:00:00.000Z" (and any
// RFC 3339 time), and "6/18/1998" (M/D/YYYY, the form of a student's dob). A value that is none of these
// is kept in Raw and reported by Parse, never dropped and never a decoding failure.
type Date struct {
	// Raw is the string Clever sent; "" for an absent, null or empty value.
	Raw string
}

// dateLayouts are tried in order; the first that parses wins.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
	"1/2/2006",
}

// IsZero reports whether Clever sent no value.
func (d Date) IsZero() bool { return d.Raw == "" }

// Parse returns the instant (UTC; midnight for a plain date). It fails with a message naming the value for
// text that is no date; a zero Date parses to the zero time without error.
func (d Date) Parse() (time.Time, error) {
	if d.Raw == "" {
		return time.Time{}, nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, d.Raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse date %q: not YYYY-MM-DD, an ISO 8601 datetime or M/D/YYYY", d.Raw)
}

// Time returns the parsed instant and whether there was a valid one.
func (d Date) Time() (time.Time, bool) {
	t, err := d.Parse()
	return t, err == nil && !t.IsZero()
}

// UnmarshalJSON accepts a string, null, or a number (unix seconds, seen in no recording but cheap to take).
func (d *Date) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		d.Raw = ""
	case len(b) > 0 && b[0] == '"':
		return unquote(b, &d.Raw)
	default:
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("decode date: %s is not a string", b)
		}
		d.Raw = time.Unix(n, 0).UTC().Format(time.RFC3339)
	}
	return nil
}

// MarshalJSON writes the original text back.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.Raw) }

// Text is a string field that real data may send as a string, number, boolean or null (for example
// location lat/lon); it keeps the value's text so nothing is lost.
type Text string

// UnmarshalJSON accepts any JSON scalar.
func (t *Text) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := unquote(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("decode text: got a JSON %s where a scalar belongs", map[byte]string{'{': "object", '[': "array"}[b[0]])
	default:
		*t = Text(b)
	}
	return nil
}

// unquote decodes the JSON string b into s. A string without escapes, the form of every date, is taken
// as it is.
func unquote(b []byte, s *string) error {
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 && utf8.Valid(b) {
		*s = string(b[1 : len(b)-1])
		return nil
	}
	return json.Unmarshal(b, s)
}
