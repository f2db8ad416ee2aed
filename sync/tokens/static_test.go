package tokens_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

func TestParseStatic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    map[string]clever.Token
		wantErr string // substring of the error; "" for success
	}{
		{in: "", want: map[string]clever.Token{}},
		{in: "   ", want: map[string]clever.Token{}},
		{in: "d1=tok1", want: map[string]clever.Token{"d1": "tok1"}},
		{in: " d1=tok1 , d2=tok2 ", want: map[string]clever.Token{"d1": "tok1", "d2": "tok2"}},
		{in: "d1 = tok1", want: map[string]clever.Token{"d1": "tok1"}},
		{in: "d1=tok=with=equals", want: map[string]clever.Token{"d1": "tok=with=equals"}},
		{in: "SECRET1", wantErr: `item 1 has no "="`},
		{in: "d1=SECRET1,SECRET2", wantErr: `item 2 has no "="`},
		{in: "=SECRET1", wantErr: "item 1 has an empty district id"},
		{in: " = SECRET1", wantErr: "item 1 has an empty district id"},
		{in: "d1=", wantErr: "item 1 (district d1) has an empty token"},
		{in: "d1=SECRET1,,d2=SECRET2", wantErr: "item 2 is empty"},
		{in: "d1=SECRET1,", wantErr: "item 2 is empty"},
		{in: "d1=SECRET1,d2=SECRET2,d1=SECRET3", wantErr: "item 3 (district d1): the district already has a token in item 1"},
		{in: "d1=SECRET 1", wantErr: "item 1 (district d1): the token contains spaces"},
		{in: strings.Repeat("SECRET", 11) + "=tok", wantErr: "item 1: the district id is not a Clever id"},
		{in: "SECRET 1=tok", wantErr: "item 1: the district id is not a Clever id"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := tokens.ParseStatic(tt.in)
			if tt.wantErr == "" {
				if err != nil || !maps.Equal(got, tt.want) {
					t.Fatalf("ParseStatic(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseStatic(%q) succeeded", tt.in)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error reveals a token: %q", err)
			}
		})
	}
}
