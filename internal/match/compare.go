package match

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// level is how far two values of one field agree. Each field uses the levels that make sense for it;
// each level has its own agreement weight (weights.go).
type level uint8

const (
	lvMissing    level = iota // one side or both lack the value: no information, weight 0
	lvExact                   // equal after normalisation
	lvNickname                // first names in one nickname group: Bob / Robert
	lvPartial                 // one name's words are part of the other's (Garcia / Garcia Lopez); same e-mail local part at another domain; same school name, kind missing on one side; one grade apart
	lvFuzzy                   // similar spelling (Jaro–Winkler ≥ fuzzyThreshold); e-mail local parts alike
	lvInitial                 // one side is a bare initial and it agrees
	lvTransposed              // a date with day and month swapped
	lvOneOff                  // a date with one of year, month, day different
	lvDiffer                  // present on both sides and different
	numLevels
)

// fuzzyThreshold is the Jaro–Winkler similarity from which two spellings count as a typo of each other.
const fuzzyThreshold = 0.92

// jaroWinkler is the Jaro–Winkler similarity of a and b (0 to 1, prefix scale 0.1, prefix up to 4).
// It works on bytes when both are ASCII and on runes otherwise; it doesn't allocate for short ASCII
// strings.
func jaroWinkler(a, b string) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	if isASCII(a) && isASCII(b) {
		return jwBytes(a, b)
	}
	ra, rb := []rune(a), []rune(b)
	return jwGeneric(ra, rb)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jwBytes is jaroWinkler of ASCII strings, without allocating for names up to 64 bytes.
func jwBytes(a, b string) float64 {
	if len(a) <= 64 && len(b) <= 64 {
		var ba, bb [64]byte
		var fa, fb [64]bool
		return jw(ba[:copy(ba[:], a)], bb[:copy(bb[:], b)], fa[:len(a)], fb[:len(b)])
	}
	return jw([]byte(a), []byte(b), make([]bool, len(a)), make([]bool, len(b)))
}

// jwGeneric is jaroWinkler of any runes.
func jwGeneric(a, b []rune) float64 { return jw(a, b, make([]bool, len(a)), make([]bool, len(b))) }

// jw is the Jaro–Winkler similarity of a and b (bytes or runes); ma and mb are zeroed scratch space of
// their lengths.
func jw[T byte | rune](a, b []T, ma, mb []bool) float64 {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(max(la, lb)/2-1, 0)
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb, i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	trans, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			trans++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(trans)/2)/m) / 3
	prefix := 0
	for prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// similar reports whether two different non-empty spellings are a likely typo of each other: a
// Jaro–Winkler similarity of at least fuzzyThreshold, or one edit apart for short names (where
// Jaro–Winkler is harsh: "Jon" / "Jom").
func similar(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	// Jaro–Winkler ≥ 0.92 needs the shorter at least 0.6 of the longer's length.
	if la, lb := len(a), len(b); 10*min(la, lb) >= 6*max(la, lb) && jaroWinkler(a, b) >= fuzzyThreshold {
		return true
	}
	if la, lb := len(a), len(b); la >= 3 && lb >= 3 && la <= 5 && lb <= 5 {
		return oneEdit(a, b)
	}
	return false
}

// oneEdit reports whether a and b (bytes) are one substitution, insertion, deletion or adjacent
// transposition apart.
func oneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		diff := -1
		for i := 0; i < len(a); i++ {
			if a[i] != b[i] {
				if diff >= 0 {
					// a second difference: only an adjacent transposition is still one edit
					return diff == i-1 && a[diff] == b[i] && a[i] == b[diff] && a[i+1:] == b[i+1:]
				}
				diff = i
			}
		}
		return true
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}

// cmpFirstName is cmpFirst of two values.
func cmpFirstName(a, b nameVal) level { return cmpFirst(&a, &b) }

// cmpFirst compares first names: exact, nickname, fuzzy, the words of one within the other's,
// a bare initial, or different.
func cmpFirst(a, b *nameVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a.h == b.h && a.compact == b.compact:
		return lvExact
	case a.initial() || b.initial():
		if a.compact[0] == b.compact[0] {
			return lvInitial
		}
		return lvDiffer
	case sharesGroup(a.groups, b.groups):
		return lvNickname
	case similar(a.compact, b.compact):
		return lvFuzzy
	case wordsWithin(a.tokens, b.tokens, 2):
		return lvPartial
	}
	return lvDiffer
}

// cmpLastName is cmpLast of two values.
func cmpLastName(a, b nameVal) level { return cmpLast(&a, &b) }

// cmpLast compares last names: exact, fuzzy, the words of one within the other's (Garcia /
// Garcia Lopez), or different.
func cmpLast(a, b *nameVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a.h == b.h && a.compact == b.compact:
		return lvExact
	case a.initial() || b.initial():
		if a.compact[0] == b.compact[0] {
			return lvInitial
		}
		return lvDiffer
	case similar(a.compact, b.compact):
		return lvFuzzy
	case wordsWithin(a.tokens, b.tokens, 2):
		return lvPartial
	}
	return lvDiffer
}

// cmpMiddle compares middle names: exact, initial, or different.
func cmpMiddle(a, b *nameVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a.h == b.h && a.compact == b.compact:
		return lvExact
	case a.compact[0] == b.compact[0] && (a.initial() || b.initial()):
		return lvInitial
	case similar(a.compact, b.compact):
		return lvFuzzy
	}
	return lvDiffer
}

// wordsWithin reports whether every word of the shorter name is a word of the longer one, each of at
// least minLen letters.
func wordsWithin(a, b []string, minLen int) bool {
	if len(a) == len(b) {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	for _, w := range a {
		if len(w) < minLen {
			return false
		}
		found := false
		for _, v := range b {
			if v == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// cmpEmail is cmpEmailP of two values.
func cmpEmail(a, b emailVal) level { return cmpEmailP(&a, &b) }

// cmpEmailP compares e-mail addresses: the same; the same local part at another domain; local parts
// alike (a.smith / asmith, or a typo) at the same domain; or different.
func cmpEmailP(a, b *emailVal) level {
	if a.empty() || b.empty() {
		return lvMissing
	}
	var sameLocal bool
	if a.lid != 0 && b.lid != 0 {
		sameLocal = a.lid == b.lid
	} else {
		sameLocal = a.lh == b.lh && a.local == b.local
	}
	sameDomain := a.dh == b.dh && a.domain == b.domain
	switch {
	case sameLocal && sameDomain:
		return lvExact
	case sameLocal:
		return lvPartial
	case sameDomain && localsAlike(a, b):
		return lvFuzzy
	}
	return lvDiffer
}

// localsAlike reports whether two e-mail local parts are the same but for punctuation (a.smith /
// asmith), or one typo apart in a long local part with the same digits (jsmith12 / jsmtih12, but not
// jsmith12 / jsmith13: numbered addresses tell namesakes apart).
//
// The digits, and the bytes each uses (mask: one edit changes at most two of them), are compared
// before the spelling.
func localsAlike(a, b *emailVal) bool {
	if a.bh == b.bh && a.bare == b.bare {
		return a.bare != ""
	}
	la, lb := len(a.bare), len(b.bare)
	return la >= 6 && lb >= 6 && la-lb <= 1 && lb-la <= 1 && a.digits == b.digits &&
		bits.OnesCount64(a.mask^b.mask) <= 2 && oneEdit(a.bare, b.bare)
}

// digitsOf packs up to 16 digits of s into a number, for comparing the digits of two strings.
func digitsOf(s string) uint64 {
	var d uint64
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			d = d<<4 | uint64(c-'0'+1)
		}
	}
	return d
}

func stripPunct(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '_' || c == '-' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && c != '_' && c != '-' {
			b = append(b, c)
		}
	}
	return string(b)
}

// cmpDate compares dates: the same; day and month swapped; one of year, month or day different; or
// different.
func cmpDate(a, b dateVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a == b:
		return lvExact
	case a.y == b.y && a.m == b.d && a.d == b.m:
		return lvTransposed
	}
	same := 0
	if a.y == b.y {
		same++
	}
	if a.m == b.m {
		same++
	}
	if a.d == b.d {
		same++
	}
	if same == 2 {
		return lvOneOff
	}
	return lvDiffer
}

// cmpGrade is cmpGradeP of two values.
func cmpGrade(a, b gradeVal) level { return cmpGradeP(&a, &b) }

// cmpGradeP compares grades: the same, one apart (the app's export may be a year old), or different.
func cmpGradeP(a, b *gradeVal) level {
	switch {
	case a.code == "" || b.code == "":
		return lvMissing
	case a.code == b.code:
		return lvExact
	case a.ok && b.ok && (a.level-b.level == 1 || b.level-a.level == 1):
		return lvPartial
	}
	return lvDiffer
}

// cmpSchoolName compares school names: the same; the same core with the kind given on one side only
// ("Lincoln" / "Lincoln Elementary"); a similar core of the same kind; or different. Two different
// kinds ("Lincoln Elementary" / "Lincoln High") always differ.
func cmpSchoolName(a, b schoolNameVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a.kind != "" && b.kind != "" && a.kind != b.kind:
		return lvDiffer
	case a.core == b.core && a.kind == b.kind:
		return lvExact
	case a.core == b.core:
		return lvPartial
	case similar(strings.ReplaceAll(a.core, " ", ""), strings.ReplaceAll(b.core, " ", "")):
		return lvFuzzy
	}
	return lvDiffer
}

// cmpTitle is cmpTitleP of two values.
func cmpTitle(a, b nameVal) level { return cmpTitleP(&a, &b) }

// cmpTitleP compares section names: the same, similar or words of one within the other, or different.
func cmpTitleP(a, b *nameVal) level {
	switch {
	case a.empty() || b.empty():
		return lvMissing
	case a.h == b.h && a.compact == b.compact:
		return lvExact
	case wordsWithin(a.tokens, b.tokens, 1):
		return lvPartial
	case similar(a.compact, b.compact):
		return lvFuzzy
	}
	return lvDiffer
}

// cmpRef is cmpRefP of two values.
func cmpRef(a, b refVal) level { return cmpRefP(&a, &b) }

// cmpRefP compares references (schools, teachers): they agree when they share a key.
func cmpRefP(a, b *refVal) level {
	if len(a.hs) == 0 || len(b.hs) == 0 {
		return lvMissing
	}
	i, j := 0, 0
	for i < len(a.hs) && j < len(b.hs) {
		switch {
		case a.hs[i] == b.hs[j]:
			return lvExact
		case a.hs[i] < b.hs[j]:
			i++
		default:
			j++
		}
	}
	return lvDiffer
}

// sharesGroup reports whether two sorted group lists share a group.
func sharesGroup(a, b []int32) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
