package org_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/org"
)

// normCase is one input of a Normalize function: the value it must give, or words its error must have.
type normCase struct {
	in, want string
	err      string // "" when the input is valid
}

func testNormalize(t *testing.T, name string, f func(string) (string, error), cases []normCase) {
	t.Helper()
	for _, c := range cases {
		got, err := f(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s(%q): %v, want %q", name, c.in, err, c.want)
		case c.err == "" && got != c.want:
			t.Errorf("%s(%q) = %q, want %q", name, c.in, got, c.want)
		case c.err != "" && err == nil:
			t.Errorf("%s(%q) = %q, want an error with %q", name, c.in, got, c.err)
		case c.err != "" && !strings.Contains(err.Error(), c.err):
			t.Errorf("%s(%q): %v, want an error with %q", name, c.in, err, c.err)
		case c.err != "" && got != "":
			t.Errorf("%s(%q) = %q with its error, want \"\"", name, c.in, got)
		}
	}
}

func TestNormalizeMDR(t *testing.T) {
	t.Parallel()
	testNormalize(t, "NormalizeMDR", org.NormalizeMDR, []normCase{
		{in: "", want: ""},
		{in: "   ", want: ""},
		{in: "01234567", want: "01234567"},
		{in: " 1234567 ", want: "1234567"},
		{in: "MDR 01234567", want: "01234567"},
		{in: "mdr#01234567", want: "01234567"},
		{in: "MDR: 01234567", want: "01234567"},
		{in: "MDR No. 01234567", want: "01234567"},
		{in: "N/A", err: `"N/A" is not an MDR number: want its digits`},
		{in: "MDR", err: "is not an MDR number"},
		{in: "0123-4567", err: "is not an MDR number"},
		{in: "0123 4567", err: "is not an MDR number"},
		{in: "0000", err: "no digit other than 0"},
		{in: "1.23457E+07", err: "a spreadsheet turned it into a number"},
		{in: "1234567.0", err: "a spreadsheet turned it into a number"},
		{in: strings.Repeat("1", 33), err: "more than 32 digits"},
	})
}

func TestMDRKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":             "",
		"01234567":     "1234567",
		"1234567":      "1234567",
		"0001234567":   "1234567",
		"MDR 01234567": "1234567",
		"N/A":          "", // unreadable: never matches
		"0000":         "", // no number: never matches on zero
		"12-34":        "",
	} {
		if got := org.MDRKey(in); got != want {
			t.Errorf("MDRKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeNCES(t *testing.T) {
	t.Parallel()
	testNormalize(t, "NormalizeNCES", org.NormalizeNCES, []normCase{
		{in: "", want: ""},
		{in: "4819650", want: "4819650"},
		{in: " 0100005 ", want: "0100005"},
		{in: "100005", want: "0100005"},            // Alabama's leading zero, dropped by a spreadsheet
		{in: "481965000001", want: "481965000001"}, // a school
		{in: "10000500001", want: "010000500001"},
		{in: "12345", err: "want 7 digits (a district) or 12 (a school), not 5"},
		{in: "48-19650", err: `"48-19650" is not an NCES id`},
		{in: "4.81965E+06", err: "a spreadsheet turned it into a number"},
	})
}

func TestNormalizeState(t *testing.T) {
	t.Parallel()
	testNormalize(t, "NormalizeState", org.NormalizeState, []normCase{
		{in: "", want: ""},
		{in: "TX", want: "TX"},
		{in: " tx ", want: "TX"},
		{in: "Texas", want: "TX"},
		{in: "NEW   york", want: "NY"},
		{in: "District of Columbia", want: "DC"},
		{in: "Washington D.C.", want: "DC"},
		{in: "Washington", want: "WA"},
		{in: "Puerto Rico", want: "PR"},
		{in: "U.S. Virgin Islands", want: "VI"},
		{in: "gu", want: "GU"},
		{in: "XX", err: `"XX" is not a US state: want a two-letter code such as TX`},
		{in: "Tex", err: `"Tex" is not a US state`},
		{in: "Ontario", err: "is not a US state"},
	})
}

func TestNormalizeEmailDomain(t *testing.T) {
	t.Parallel()
	testNormalize(t, "NormalizeEmailDomain", org.NormalizeEmailDomain, []normCase{
		{in: "", want: ""},
		{in: "Example.ORG", want: "example.org"},
		{in: " @example.org ", want: "example.org"},
		{in: "example.org.", want: "example.org"},
		{in: "houstonisd.k12.tx.us", want: "houstonisd.k12.tx.us"},
		{in: "my-district.org", want: "my-district.org"},
		{in: "xn--bcher-kva.de", want: "xn--bcher-kva.de"},
		{in: "bücher.de", err: "xn-- form"},
		{in: "example", err: "want a name and a top-level domain"},
		{in: "jane@example.org", err: "is an e-mail address, not a domain"},
		{in: "https://example.org", err: "is a URL"},
		{in: "example.org/staff", err: "is a URL"},
		{in: "a.org,b.org", err: "separate domains with ;"},
		{in: "a.org b.org", err: "separate domains with ;"},
		{in: "-bad.org", err: `"-bad" is not a domain label`},
		{in: "a..org", err: `"" is not a domain label`},
		{in: "10.0.0.1", err: "an IP address"},
		{in: "Gmail.com", err: "public e-mail provider"},
		{in: "outlook.com", err: "public e-mail provider"},
	})
}

func TestNormalizeLists(t *testing.T) {
	t.Parallel()
	domains, err := org.NormalizeEmailDomains([]string{" B.org", "a.org", "@b.org", "", "  "})
	if want := []string{"a.org", "b.org"}; err != nil || !slices.Equal(domains, want) {
		t.Errorf("NormalizeEmailDomains = %q, %v; want %q (lower case, de-duplicated, sorted, empties dropped)", domains, err, want)
	}
	if domains, err := org.NormalizeEmailDomains([]string{"", " "}); err != nil || domains != nil {
		t.Errorf("NormalizeEmailDomains of empties = %#v, %v; want nil", domains, err)
	}
	_, err = org.NormalizeEmailDomains([]string{"ok.org", "bad", "gmail.com"})
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), `"gmail.com"`) {
		t.Errorf("NormalizeEmailDomains of two bad domains: %v, want both named", err)
	}

	emails, err := org.NormalizeContactEmails([]string{"Jane@Example.org", " jane@example.org", "Bob Smith <Bob@X.org>", "kid@gmail.com", ""})
	if want := []string{"bob@x.org", "jane@example.org", "kid@gmail.com"}; err != nil || !slices.Equal(emails, want) {
		t.Errorf("NormalizeContactEmails = %q, %v; want %q", emails, err, want)
	}
	for _, bad := range []string{"not an address", "jane@localhost", "jane@", "@example.org", "jane@exa mple.org"} {
		if got, err := org.NormalizeContactEmail(bad); err == nil {
			t.Errorf("NormalizeContactEmail(%q) = %q, want an error", bad, got)
		}
	}
}

func TestEmailDomainOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Jane@Acme.K12.TX.us": "acme.k12.tx.us",
		"jane@gmail.com":      "", // a public provider's domain is no signal
		"no address":          "",
		"jane@":               "",
		"":                    "",
	} {
		if got := org.EmailDomainOf(in); got != want {
			t.Errorf("EmailDomainOf(%q) = %q, want %q", in, got, want)
		}
	}
}
