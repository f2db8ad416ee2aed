package clever

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDateForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json    string
		raw     string
		want    time.Time
		wantErr bool
	}{
		{`"2012-12-01"`, "2012-12-01", time.Date(2012, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{`"2013-06-01T00:00:00.000Z"`, "2013-06-01T00:00:00.000Z", time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{`"2023-04-12T23:05:01.315Z"`, "2023-04-12T23:05:01.315Z", time.Date(2023, 4, 12, 23, 5, 1, 315e6, time.UTC), false},
		{`"2023-04-12T23:05:01+02:00"`, "2023-04-12T23:05:01+02:00", time.Date(2023, 4, 12, 21, 5, 1, 0, time.UTC), false},
		{`"6/18/1998"`, "6/18/1998", time.Date(1998, 6, 18, 0, 0, 0, 0, time.UTC), false},
		{`"12/1/2007"`, "12/1/2007", time.Date(2007, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{`""`, "", time.Time{}, false},
		{`null`, "", time.Time{}, false},
		{`1682376275`, "2023-04-24T22:44:35Z", time.Date(2023, 4, 24, 22, 44, 35, 0, time.UTC), false},
		{`"13/45/2020"`, "13/45/2020", time.Time{}, true},
		{`"soon"`, "soon", time.Time{}, true},
	}
	for _, tt := range tests {
		var d Date
		if err := json.Unmarshal([]byte(tt.json), &d); err != nil {
			t.Fatalf("unmarshal %s: %v", tt.json, err)
		}
		if d.Raw != tt.raw {
			t.Errorf("%s: Raw = %q, want %q", tt.json, d.Raw, tt.raw)
		}
		got, err := d.Parse()
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: Parse error = %v, want error %v", tt.json, err, tt.wantErr)
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s: Parse = %v, want %v", tt.json, got, tt.want)
		}
		if tt.wantErr && err != nil && !strings.Contains(err.Error(), tt.raw) {
			t.Errorf("%s: error %q does not name the value", tt.json, err)
		}
	}
	var d Date
	if err := json.Unmarshal([]byte(`{"a":1}`), &d); err == nil {
		t.Error("an object decoded as a date")
	}
}

func TestTextAcceptsScalars(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Text{`"40.7"`: "40.7", `40.7`: "40.7", `null`: "", `true`: "true", `""`: ""} {
		var got Text
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("Text(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	var bad Text
	if err := json.Unmarshal([]byte(`[1]`), &bad); err == nil {
		t.Error("an array decoded as text")
	}
}

// TestUnquoteAsEncodingJSON: the fast path of dates and texts (a string without escapes taken as it is)
// reads every string as encoding/json does, escapes and invalid UTF-8 included.
func TestUnquoteAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"2013-06-01"`, `""`, `"\u0032013-06-01"`, `"a\"b"`, `"tab\there"`, `"caf\u00e9"`, `"café"`, "\"bad \xff utf-8\"", `"\\"`} {
		var want, got string
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := unquote([]byte(in), &got)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("unquote(%s) = %q, %v; encoding/json gives %q, %v", in, got, gotErr, want, wantErr)
		}
		for _, decoder := range []func([]byte, any) error{json.Unmarshal, unmarshal} {
			var d Date
			if err := decoder([]byte(in), &d); err != nil || d.Raw != want {
				t.Errorf("Date(%s) = %q, %v; want %q", in, d.Raw, err, want)
			}
		}
	}
}
