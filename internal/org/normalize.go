package org

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// The identifiers of an organization are stored normalised, so that onboarding's signals compare like
// with like: an MDR number or NCES id as digits, a state as its two-letter code, e-mail domains and
// addresses in lower case, de-duplicated and sorted. Each Normalize function accepts "" (unknown) and
// returns "" for it; its error says what is wrong with the value, without naming the field (the caller
// does: a CSV column, a GraphQL argument).

// NormalizeMDR returns an MDR number as its digits, leading zeros kept (spreadsheets lose them, so they
// are never added: compare with MDRKey). It accepts an "MDR" label before the digits ("MDR 01234567",
// "MDR#01234567") and returns "" for "". Anything else that is not digits is an error: a value that
// cannot be read is refused, not guessed at.
func NormalizeMDR(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	digits := mdrLabel.ReplaceAllString(s, "")
	if !isDigits(digits) {
		return "", fmt.Errorf("%q is not an MDR number: want its digits, such as 01234567%s", s, spreadsheetHint(s))
	}
	if strings.Trim(digits, "0") == "" {
		return "", fmt.Errorf("%q is not an MDR number: it has no digit other than 0 (leave it empty when unknown)", s)
	}
	if len(digits) > maxIDLen {
		return "", fmt.Errorf("%q is not an MDR number: more than %d digits", s, maxIDLen)
	}
	return digits, nil
}

// mdrLabel is the label NormalizeMDR accepts before an MDR number's digits.
var mdrLabel = regexp.MustCompile(`^(?i:mdr)\s*(?:(?i:no)\.?|#|:|-)?\s*`)

// maxIDLen is the most digits an MDR number or NCES id may have (the schema's limit).
const maxIDLen = 32

// MDRKey is an MDR number reduced to what identifies it: its digits without leading zeros; "" when it
// has none (a missing MDR number is no signal). It reads what NormalizeMDR accepts ("MDR 01234567" →
// "1234567"); anything else, such as "N/A", gives "": a value that cannot be read never matches.
func MDRKey(mdr string) string {
	digits, err := NormalizeMDR(mdr)
	if err != nil {
		return ""
	}
	return strings.TrimLeft(digits, "0")
}

// NormalizeNCES returns an NCES id as its digits: the 7-digit id of a district (LEA: state FIPS code and
// 5 digits) or the 12-digit id of a school. A 6- or 11-digit id is one whose leading zero a spreadsheet
// dropped (the FIPS codes of Alabama to Connecticut start with 0): the zero is put back. "" gives "".
func NormalizeNCES(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !isDigits(s) {
		return "", fmt.Errorf("%q is not an NCES id: want its digits, such as 4819650%s", s, spreadsheetHint(s))
	}
	switch len(s) {
	case 7, 12:
		return s, nil
	case 6, 11:
		return "0" + s, nil
	}
	return "", fmt.Errorf("%q is not an NCES id: want 7 digits (a district) or 12 (a school), not %d", s, len(s))
}

// NormalizeState returns a US state, district or territory as its two-letter USPS code, upper case. It
// accepts the code in any case ("tx") and the full name ("Texas", "district of columbia"); "" gives "".
func NormalizeState(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if code := strings.ToUpper(s); len(code) == 2 {
		if _, ok := stateNames[code]; ok {
			return code, nil
		}
		return "", fmt.Errorf("%q is not a US state: want a two-letter code such as TX", s)
	}
	if code, ok := stateCodes[stateKey(s)]; ok {
		return code, nil
	}
	return "", fmt.Errorf("%q is not a US state: want a two-letter code such as TX, or a name such as Texas", s)
}

// stateKey is a state's name as it is looked up: lower case, without dots, single spaces.
func stateKey(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(name, ".", ""))), " ")
}

// stateNames are the USPS codes of the states, the District of Columbia and the territories (those of
// the freely associated states included: they have public schools in NCES' data).
var stateNames = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
	"HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
	"KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
	"MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
	"MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
	"NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
	"OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
	"SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
	"VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
	"DC": "District of Columbia",
	"AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
	"VI": "U.S. Virgin Islands", "FM": "Federated States of Micronesia", "MH": "Marshall Islands",
	"PW": "Palau",
}

// stateCodes maps stateKey of each name in stateNames, and a few other spellings, to its code.
var stateCodes = func() map[string]string {
	m := map[string]string{"virgin islands": "VI", "washington dc": "DC", "micronesia": "FM"}
	for code, name := range stateNames {
		m[stateKey(name)] = code
	}
	return m
}()

// NormalizeEmailDomain returns an e-mail domain in lower case, without a leading "@" or a trailing dot.
// It must look like a domain (two labels or more of letters, digits and hyphens, a top-level label that
// is not all digits); internationalised domains are given in their ASCII (xn--) form. The domains of
// public e-mail providers (gmail.com, outlook.com, …) are refused: they say nothing about whose users
// have them, and would match every district. "" gives "".
func NormalizeEmailDomain(s string) (string, error) {
	d, err := domain(s)
	if err != nil || d == "" {
		return d, err
	}
	if publicEmailDomains[d] {
		return "", fmt.Errorf("%q is a public e-mail provider's domain: anyone can have an address there, so it tells nothing about an organization", d)
	}
	return d, nil
}

// domain is NormalizeEmailDomain without the rule on public providers (a contact's address may be at
// one).
func domain(s string) (string, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "@")
	s = strings.TrimSuffix(s, ".")
	switch {
	case s == "":
		return "", nil
	case strings.Contains(s, "://") || strings.Contains(s, "/"):
		return "", fmt.Errorf("%q is a URL, not an e-mail domain: want only the domain, such as example.org", orig)
	case strings.Contains(s, "@"):
		return "", fmt.Errorf("%q is an e-mail address, not a domain: want the part after @", orig)
	case strings.ContainsAny(s, ", \t"):
		return "", fmt.Errorf("%q is not one e-mail domain: separate domains with ;", orig)
	case len(s) > 253:
		return "", fmt.Errorf("%q is not an e-mail domain: longer than 253 characters", orig)
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q is not an e-mail domain: want a name and a top-level domain, such as example.org", orig)
	}
	for _, l := range labels {
		if !isLabel(l) {
			hint := ""
			if strings.ContainsFunc(l, func(r rune) bool { return r > unicode.MaxASCII }) {
				hint = " (give an internationalised domain in its xn-- form)"
			}
			return "", fmt.Errorf("%q is not an e-mail domain: %q is not a domain label%s", orig, l, hint)
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return "", fmt.Errorf("%q is not an e-mail domain: an IP address or a top-level domain of digits", orig)
	}
	return s, nil
}

// isLabel reports whether l is a domain label: 1 to 63 ASCII letters, digits and hyphens, neither first
// nor last a hyphen. l is lower case.
func isLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := range len(l) {
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// publicEmailDomains are well-known public e-mail providers, refused as an organization's domains.
var publicEmailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "yahoo.com": true, "ymail.com": true, "hotmail.com": true,
	"outlook.com": true, "live.com": true, "msn.com": true, "icloud.com": true, "me.com": true,
	"mac.com": true, "aol.com": true, "protonmail.com": true, "proton.me": true, "gmx.com": true,
	"mail.com": true, "zoho.com": true, "yandex.com": true,
}

// IsPublicEmailDomain reports whether domain (normalised) is a public e-mail provider's: anyone can have
// an address there, so it says nothing about whose users are on it.
func IsPublicEmailDomain(domain string) bool { return publicEmailDomains[domain] }

// NormalizeEmailDomains normalises each domain (NormalizeEmailDomain), drops empty ones, and returns
// them de-duplicated and sorted; nil when none is left. The error names every bad domain.
func NormalizeEmailDomains(domains []string) ([]string, error) {
	return normalizeList(domains, NormalizeEmailDomain)
}

// EmailDomainOf returns the normalised domain of an e-mail address, "" when it has none that
// NormalizeEmailDomain accepts (a public provider's included): what onboarding compares with
// organizations' domains.
func EmailDomainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	d, err := NormalizeEmailDomain(email[i+1:])
	if err != nil {
		return ""
	}
	return d
}

// NormalizeContactEmail returns an e-mail address in lower case. It must parse as an address (net/mail;
// "Jane Doe <jane@example.org>" gives jane@example.org) at a domain that looks like one. "" gives "".
func NormalizeContactEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	addr := strings.ToLower(a.Address)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	if _, err := domain(addr[at+1:]); err != nil {
		return "", fmt.Errorf("%q is not an e-mail address: its domain is not one", s)
	}
	return addr, nil
}

// NormalizeContactEmails normalises each address (NormalizeContactEmail), drops empty ones, and returns
// them de-duplicated and sorted; nil when none is left. The error names every bad address.
func NormalizeContactEmails(emails []string) ([]string, error) {
	return normalizeList(emails, NormalizeContactEmail)
}

// normalizeList applies norm to each item, drops empty results, sorts and de-duplicates; nil when none
// is left. Its error joins every item's.
func normalizeList(items []string, norm func(string) (string, error)) ([]string, error) {
	var out []string
	var errs []error
	for _, it := range items {
		v, err := norm(it)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v != "" {
			out = append(out, v)
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// joinErrors joins errors on one line, separated by "; ".
func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// splitList splits a CSV cell of several values at ';'.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// parseBool reads a yes/no cell: true, yes, 1; false, no, 0 or empty (any case).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a yes/no value: want true, false, yes, no, 1, 0 or empty (false)", s)
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// spreadsheetNumber is a number as a spreadsheet shows one it took for a number: 1.23457E+07, 1234567.0.
var spreadsheetNumber = regexp.MustCompile(`^\d+(\.\d+)?(?i:e\+\d+)?$`)

// spreadsheetHint explains a value a spreadsheet turned into a number.
func spreadsheetHint(s string) string {
	if spreadsheetNumber.MatchString(s) {
		return " (a spreadsheet turned it into a number: format the column as text and type it again)"
	}
	return ""
}
