package match

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldRunes maps letters that carry no combining mark but still have a plain-ASCII spelling.
var foldRunes = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
	'ŀ': "l", 'ħ': "h",
}

// fold lower-cases s, strips accents (NFD, combining marks dropped), drops apostrophes and periods
// (O'Brien → obrien, J. → j) and turns every other run of non-letters-or-digits into one space. The
// result is trimmed. ASCII input takes a path without allocation beyond the result.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is pending
	emit := func(r rune) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFD.String(s)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			emit(r)
		case r >= 'A' && r <= 'Z':
			emit(r + ('a' - 'A'))
		case r == '\'' || r == '.' || r == '’' || r == '‘' || r == '`' || r == 'ʼ':
			// inside a word: O'Brien, J.R., D’Angelo
		case r < utf8.RuneSelf:
			space = true
		case unicode.Is(unicode.Mn, r):
			// a combining accent after NFD
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if f, ok := foldRunes[r]; ok {
				for _, fr := range f {
					emit(fr)
				}
				continue
			}
			emit(r)
		default:
			space = true
		}
	}
	return b.String()
}

// nameVal is a normalised personal name: its words and its compact form (the words run together, so
// "Mary-Kate", "Mary Kate" and "Marykate" agree).
type nameVal struct {
	tokens  []string
	compact string
	h       uint64  // strHash(compact)
	id      uint32  // compact's number in the Match call's strtab (set by prepare; 0 otherwise)
	isInit  bool    // a bare initial ("J", "J.")
	groups  []int32 // nickname groups of the name or its first word
	// forms are the name's blocking forms (set by prepare, once per distinct name; nil otherwise).
	forms *nameForms
}

// emptyName is the missing name.
var emptyName nameVal

func (n nameVal) empty() bool { return n.compact == "" }

// initial reports whether the name is a bare initial ("J", "J.").
func (n nameVal) initial() bool { return n.isInit }

// nameSuffixes are generational suffixes dropped from the end of a name with more than one word.
var nameSuffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true}

// normName normalises a personal name: case, accents, punctuation, hyphens and apostrophes, spaces;
// a trailing "Jr", "Sr", "II", "III" or "IV" is dropped.
func normName(s string) nameVal {
	f := fold(strings.TrimSpace(s))
	if f == "" {
		return nameVal{}
	}
	tokens := strings.Fields(f)
	for len(tokens) > 1 && nameSuffixes[tokens[len(tokens)-1]] {
		tokens = tokens[:len(tokens)-1]
	}
	n := nameVal{tokens: tokens, compact: strings.Join(tokens, "")}
	n.h = strHash(n.compact)
	n.isInit = len(tokens) == 1 && utf8.RuneCountInString(n.compact) == 1
	n.groups = nicknames[n.compact]
	if len(tokens) > 1 {
		for _, g := range nicknames[tokens[0]] {
			if !slices.Contains(n.groups, g) {
				n.groups = append(slices.Clip(n.groups), g)
			}
		}
	}
	return n
}

// normID normalises an identifier: trimmed, lower case, spaces and punctuation removed, leading zeros
// stripped ("00123" → "123", "S-0012" → "s0012"). An id of zeros only is "0".
func normID(s string) string {
	return string(appendID(nil, s))
}

// appendID appends normID(s) to dst; ASCII input takes a path without allocation.
func appendID(dst []byte, s string) []byte {
	if !isASCII(s) {
		return append(dst, normIDFolded(s)...)
	}
	n := len(dst)
	zero := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '1' && c <= '9':
		case c == '0':
			zero = true
			if len(dst) == n {
				continue
			}
		default: // punctuation and spaces: fold makes them spaces, or drops them
			continue
		}
		dst = append(dst, c)
	}
	if len(dst) == n && zero {
		dst = append(dst, '0')
	}
	return dst
}

// normIDFolded is normID of any input, by way of fold.
func normIDFolded(s string) string {
	var b []byte
	for _, r := range fold(s) {
		if r == ' ' {
			continue
		}
		if r == '0' && len(b) == 0 {
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	if len(b) == 0 {
		for _, r := range s {
			if r == '0' {
				return "0"
			}
		}
		return ""
	}
	return string(b)
}

// emailVal is a normalised e-mail address, local part and domain kept apart for explanations.
type emailVal struct {
	local  string // lower case, "+tag" removed
	domain string
	bare   string // local without dots, hyphens and underscores
	lh, dh uint64 // hashes of local and domain
	bh     uint64 // hash of bare
	digits uint64 // digitsOf(bare)
	mask   uint64 // the bytes of bare, one bit per byte value mod 64 (see localsAlike)
	lid    uint32 // local's number in the Match call (numberKeys), 0 otherwise: equal numbers, equal parts
}

func (e emailVal) empty() bool { return e.local == "" }

// full is the normalised address.
func (e emailVal) full() string {
	if e.local == "" {
		return ""
	}
	return e.local + "@" + e.domain
}

// normEmail normalises an e-mail address: trimmed, "mailto:" and angle brackets removed, lower case,
// a "+tag" removed from the local part. A value without exactly one "@", or with an empty local part
// or domain, is treated as missing.
func normEmail(s string) emailVal {
	e, _ := splitEmail(s)
	if e.local != "" {
		e.bare = stripPunct(e.local)
		e.fill()
	}
	return e
}

// splitEmail is normEmail's first part: local part and domain (nothing else set), and the normalised
// string they were cut from (lower case, trimmed; it may still hold a +tag or a trailing dot).
func splitEmail(s string) (emailVal, string) {
	v := strings.TrimSpace(s)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			v = strings.ToLower(v)
			break
		}
	}
	v = strings.TrimPrefix(v, "mailto:")
	v = strings.Trim(v, "<> \t")
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.IndexByte(v[at+1:], '@') >= 0 || strings.ContainsAny(v, " \t,;") {
		return emailVal{}, ""
	}
	local, domain := v[:at], strings.TrimSuffix(v[at+1:], ".")
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	if local == "" || domain == "" {
		return emailVal{}, ""
	}
	return emailVal{local: local, domain: domain}, v
}

// fill sets the hashes, digits and mask from local, domain and bare.
func (e *emailVal) fill() {
	e.lh, e.dh, e.bh = strHash(e.local), strHash(e.domain), strHash(e.bare)
	e.digits = digitsOf(e.bare)
	e.mask = 0
	for i := 0; i < len(e.bare); i++ {
		e.mask |= 1 << (e.bare[i] & 63)
	}
}

// dateVal is a calendar date; the zero value is a missing or invalid date.
type dateVal struct {
	y    int16
	m, d int8
}

func (d dateVal) empty() bool { return d.y == 0 }

// String formats the date as YYYY-MM-DD, or "" when missing.
func (d dateVal) String() string {
	if d.empty() {
		return ""
	}
	var b [10]byte
	return string(d.format(&b))
}

// num is the date as a small number, 0 when missing: equal dates, equal numbers, all below dateSpace.
func (d dateVal) num() uint32 {
	if d.empty() {
		return 0
	}
	return (uint32(d.y-1900)*13+uint32(d.m))*32 + uint32(d.d) + 1
}

// dateSpace bounds dateVal.num (normDate's years are 1900–2100).
const dateSpace = (201*13)*32 + 1

// format writes the date as YYYY-MM-DD into b.
func (d dateVal) format(b *[10]byte) []byte {
	itoaPad(b[0:4], int(d.y))
	b[4] = '-'
	itoaPad(b[5:7], int(d.m))
	b[7] = '-'
	itoaPad(b[8:10], int(d.d))
	return b[:]
}

func itoaPad(dst []byte, v int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// normDate parses a date in one of the forms districts export: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD,
// M/D/YYYY, MM/DD/YYYY, M-D-YYYY, M/D/YY (years 00–39 read as 20xx, 40–99 as 19xx), and ISO 8601 with
// a time ("2010-03-04T00:00:00Z"; the time is ignored). Anything else, or an impossible date, gives
// the zero dateVal — never a panic.
func normDate(s string) dateVal {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "T "); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return dateVal{}
	}
	var parts [3]string
	switch {
	case strings.IndexByte(s, '-') >= 0:
		if !split3(s, '-', &parts) {
			return dateVal{}
		}
	case strings.IndexByte(s, '/') >= 0:
		if !split3(s, '/', &parts) {
			return dateVal{}
		}
	case strings.IndexByte(s, '.') >= 0:
		if !split3(s, '.', &parts) {
			return dateVal{}
		}
	case len(s) == 8:
		parts = [3]string{s[0:4], s[4:6], s[6:8]}
	default:
		return dateVal{}
	}
	n := [3]int{}
	for i, p := range parts {
		if p == "" || len(p) > 4 {
			return dateVal{}
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return dateVal{}
		}
		n[i] = v
	}
	var y, m, d int
	switch {
	case len(parts[0]) == 4: // year first
		y, m, d = n[0], n[1], n[2]
	case len(parts[2]) == 4: // US order, month first
		m, d, y = n[0], n[1], n[2]
	case len(parts[2]) == 2 && len(parts[0]) <= 2:
		m, d, y = n[0], n[1], n[2]
		if y < 40 {
			y += 2000
		} else {
			y += 1900
		}
	default:
		return dateVal{}
	}
	if y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return dateVal{}
	}
	return dateVal{int16(y), int8(m), int8(d)}
}

// split3 splits s around sep into exactly three parts, reporting false when it has another number of
// parts.
func split3(s string, sep byte, parts *[3]string) bool {
	i := strings.IndexByte(s, sep)
	if i < 0 {
		return false
	}
	j := strings.IndexByte(s[i+1:], sep)
	if j < 0 {
		return false
	}
	j += i + 1
	if strings.IndexByte(s[j+1:], sep) >= 0 {
		return false
	}
	*parts = [3]string{s[:i], s[i+1 : j], s[j+1:]}
	return true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// gradeVal is a normalised grade: a canonical code and, when it has one, a position on the grade ladder
// (pre-K -1, K 0, 1–13) for "one grade apart".
type gradeVal struct {
	code  string
	level int
	ok    bool // level is meaningful
}

var gradeWords = map[string]gradeVal{
	"k": {"k", 0, true}, "kg": {"k", 0, true}, "kindergarten": {"k", 0, true}, "kinder": {"k", 0, true},
	"pk": {"pk", -1, true}, "prek": {"pk", -1, true}, "prekindergarten": {"pk", -1, true}, "pre kindergarten": {"pk", -1, true},
	"pre k": {"pk", -1, true}, "preschool": {"ps", -2, true}, "ps": {"ps", -2, true}, "infanttoddler": {"it", -3, true},
	"tk": {"tk", 0, true}, "transitionalkindergarten": {"tk", 0, true}, "transitional kindergarten": {"tk", 0, true},
	"postgraduate": {"pg", 14, true}, "pg": {"pg", 14, true}, "ungraded": {"ug", 0, false}, "ug": {"ug", 0, false},
	"other": {"other", 0, false},
	"first": {"1", 1, true}, "second": {"2", 2, true}, "third": {"3", 3, true}, "fourth": {"4", 4, true},
	"fifth": {"5", 5, true}, "sixth": {"6", 6, true}, "seventh": {"7", 7, true}, "eighth": {"8", 8, true},
	"ninth": {"9", 9, true}, "tenth": {"10", 10, true}, "eleventh": {"11", 11, true}, "twelfth": {"12", 12, true},
}

// normGrade normalises a grade: "K", "KG", "Kindergarten", "0" → k; "PK", "Pre-K", "PreKindergarten",
// "-1" → pk; "1", "01", "1st", "Grade 1", "First" → 1; Clever's other grade names to short codes.
func normGrade(s string) gradeVal {
	f := fold(s)
	f = strings.TrimPrefix(f, "grade ")
	f = strings.TrimSuffix(f, " grade")
	if f == "" {
		return gradeVal{}
	}
	if g, ok := gradeWords[f]; ok {
		return g
	}
	if g, ok := gradeWords[strings.ReplaceAll(f, " ", "")]; ok {
		return g
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-1") {
		return gradeWords["pk"]
	}
	num := strings.TrimRight(f, "stndrh ")
	if v, err := strconv.Atoi(num); err == nil && v >= 0 && v <= 13 {
		if v == 0 {
			return gradeWords["k"]
		}
		return gradeVal{strconv.Itoa(v), v, true}
	}
	return gradeVal{code: strings.ReplaceAll(f, " ", "")}
}

// schoolNameVal is a normalised school name: its distinctive core ("lincoln") and its kind
// ("elementary", "middle", "high", "k8", or "" when the name doesn't say), kept apart so that
// "Lincoln Elementary" and "Lincoln Elem. School" agree while "Lincoln Elementary" and "Lincoln High"
// don't.
type schoolNameVal struct {
	raw  string
	core string // words joined by spaces
	kind string
}

func (s schoolNameVal) empty() bool { return s.core == "" && s.kind == "" }

// key is the exact-comparison form.
func (s schoolNameVal) key() string { return s.core + "|" + s.kind }

// schoolKindWords are the words that say what kind of school it is; they are read only at the end of
// the name ("High Plains Elementary" is an elementary school; "El Camino Real High" keeps its "el").
var schoolKindWords = map[string]string{
	"elementary": "elementary", "elem": "elementary", "el": "elementary", "es": "elementary", "primary": "elementary",
	"middle": "middle", "ms": "middle", "intermediate": "middle", "jhs": "middle", "junior": "junior", "jr": "junior",
	"high": "high", "hs": "high", "shs": "high", "senior": "senior", "sr": "senior",
	"k8": "k8", "k12": "k12",
}

// schoolStopWords carry nothing in a school name.
var schoolStopWords = map[string]bool{"school": true, "schl": true, "sch": true, "the": true, "of": true}

// schoolAbbrev expands the usual abbreviations.
var schoolAbbrev = map[string]string{
	"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "acad": "academy", "ctr": "center",
	"centre": "center", "intl": "international", "prep": "preparatory", "cs": "charter", "chtr": "charter",
	"mlk": "martin luther king", "jfk": "john f kennedy",
}

// normSchoolName normalises a school's name. "School", "the" and "of" are dropped anywhere; the kind
// words are read from the end of the name; "St." → saint, "Mt." → mount, "&" → and. "Academy",
// "Charter" and "Magnet" stay in the core: they often are the name.
func normSchoolName(s string) schoolNameVal {
	raw := strings.TrimSpace(s)
	f := fold(strings.ReplaceAll(strings.ReplaceAll(raw, "&", " and "), "K-8", "K8"))
	f = strings.ReplaceAll(f, "k 8", "k8")
	f = strings.ReplaceAll(f, "k 12", "k12")
	var words []string
	for _, w := range strings.Fields(f) {
		if schoolStopWords[w] {
			continue
		}
		if e, ok := schoolAbbrev[w]; ok {
			w = e
		}
		words = append(words, strings.Fields(w)...)
	}
	kinds := map[string]bool{}
	end := len(words)
	for end > 1 { // keep at least one word of core
		k, ok := schoolKindWords[words[end-1]]
		if !ok {
			break
		}
		kinds[k] = true
		end--
	}
	kind := ""
	switch {
	case kinds["k8"]:
		kind = "k8"
	case kinds["k12"]:
		kind = "k12"
	case kinds["middle"], kinds["junior"] && kinds["high"]:
		kind = "middle"
	case kinds["high"]:
		kind = "high"
	case kinds["elementary"]:
		kind = "elementary"
	case kinds["junior"]:
		kind = "middle"
	case kinds["senior"]:
		kind = "high"
	}
	return schoolNameVal{raw: raw, core: strings.Join(words[:end], " "), kind: kind}
}

// usStates maps folded state names and codes to two-letter USPS codes.
var usStates = func() map[string]string {
	names := map[string]string{
		"AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california",
		"CO": "colorado", "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia",
		"HI": "hawaii", "ID": "idaho", "IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas",
		"KY": "kentucky", "LA": "louisiana", "ME": "maine", "MD": "maryland", "MA": "massachusetts",
		"MI": "michigan", "MN": "minnesota", "MS": "mississippi", "MO": "missouri", "MT": "montana",
		"NE": "nebraska", "NV": "nevada", "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico",
		"NY": "new york", "NC": "north carolina", "ND": "north dakota", "OH": "ohio", "OK": "oklahoma",
		"OR": "oregon", "PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina",
		"SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah", "VT": "vermont",
		"VA": "virginia", "WA": "washington", "WV": "west virginia", "WI": "wisconsin", "WY": "wyoming",
		"DC": "district of columbia", "PR": "puerto rico", "GU": "guam", "VI": "virgin islands",
		"AS": "american samoa", "MP": "northern mariana islands", "DD": "dodea", "BI": "bureau of indian education",
	}
	m := make(map[string]string, 2*len(names)+2)
	for code, name := range names {
		m[strings.ToLower(code)] = code
		m[name] = code
	}
	m["washington dc"] = "DC"
	m["us virgin islands"] = "VI"
	return m
}()

// normState normalises a US state to its two-letter code ("California", "ca", "CA" → CA). An unknown
// value is kept folded, so two equal unknown values still agree.
func normState(s string) string {
	f := fold(s)
	if c, ok := usStates[f]; ok {
		return c
	}
	return f
}

// soundex is American Soundex of s's letters (a-z after fold), "" when s has none: a phonetic key for
// blocking on surnames spelt differently ("Smith", "Smyth").
func soundex(s string) string {
	b, n := soundexCode(s)
	if n == 0 {
		return ""
	}
	return string(b[:])
}

// soundexCode is soundex's code in a fixed array; n is 0 when s has no letter, else 4.
func soundexCode(s string) (out [4]byte, n int) {
	const codes = "01230120022455012623010202" // a..z
	var last byte
	for i := 0; i < len(s) && n < 4; i++ {
		c := s[i]
		if c < 'a' || c > 'z' {
			continue
		}
		code := codes[c-'a']
		if n == 0 {
			out[0] = c - 'a' + 'A'
			n = 1
			last = code
			continue
		}
		switch {
		case c == 'h' || c == 'w':
			// h and w don't separate equal codes
		case code == '0':
			last = '0'
		case code != last:
			out[n] = code
			n++
			last = code
		}
	}
	if n == 0 {
		return out, 0
	}
	for n < 4 {
		out[n] = '0'
		n++
	}
	return out, n
}

// refVal is a reference to another record (a person's school, a section's school or teacher) as a set of
// normalised keys: a value may list alternatives separated by "|" or ";" ("cleverid|sis id|name"),
// and each alternative is read as an id, an e-mail, a school name or a person's name as fits. Two refs
// agree when they share a key.
type refVal struct {
	raw  string
	keys []string // sorted, distinct
	hs   []uint64 // the keys' hashes, sorted: compared pair by pair
	ids  []uint32 // the keys' numbers in the Match call's strtab (set by prepare), in keys' order
}

// emptyRef is the missing reference.
var emptyRef refVal

func (r refVal) empty() bool { return len(r.keys) == 0 }

// normRef normalises a reference; school says whether it names a school (else a person).
func normRef(s string, school bool) refVal {
	raw := strings.TrimSpace(s)
	var keys []string
	for _, alt := range strings.FieldsFunc(raw, func(r rune) bool { return r == '|' || r == ';' }) {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			continue
		}
		if e := normEmail(alt); !e.empty() {
			keys = append(keys, "e:"+e.full())
			continue
		}
		if id := normID(alt); id != "" {
			keys = append(keys, "i:"+id)
		}
		if !strings.ContainsAny(alt, " ,") {
			continue
		}
		if school {
			if n := normSchoolName(alt); !n.empty() {
				keys = append(keys, "s:"+n.key())
			}
			continue
		}
		// A person as "Last, First" or "First Last": the words sorted, so both orders agree.
		words := strings.Fields(fold(alt))
		if len(words) > 1 {
			sortStrings(words)
			keys = append(keys, "p:"+strings.Join(words, " "))
		}
	}
	sortStrings(keys)
	keys = dedupSorted(keys)
	var hs []uint64
	for _, k := range keys {
		hs = append(hs, uint64(hash64(fnvOffset).str(k)))
	}
	slices.Sort(hs)
	return refVal{raw: raw, keys: keys, hs: hs}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ { // short slices: insertion sort, no allocation
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func dedupSorted(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}
