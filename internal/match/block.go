package match

import (
	"slices"
	"strconv"
)

// Blocking: the Clever records are indexed by normalised keys, and an app record is compared only with
// the Clever records that share at least one key with it — never with all of them. Keys are hashed
// (64-bit FNV-1a): a collision only adds a candidate, which scoring then rejects.

// blockKind is the kind of a blocking key.
type blockKind uint8

const (
	bkID            blockKind = iota // an identifier's value (any identifier, strong or not; the field is part of the key)
	bkEmailLocal                     // an e-mail's local part (a changed domain)
	bkLastDOB                        // last name (or one of its words) + birth date (a mistyped or nicknamed first name)
	bkFirstDOB                       // first name + birth date (a mistyped or changed last name)
	bkName                           // first name (or its nickname group) + last name
	bkPhonetic                       // Soundex of the last name + the first name's initial and first consonant code (typos in both names)
	bkInitialLast                    // first initial + last name (queried only for an app name given as an initial)
	bkSchoolName                     // a school's name, without its kind
	bkSchoolWord                     // one word of a school's name
	bkTeacher                        // a section's teacher
	bkSchoolSection                  // a section's school + section number, or school + period
	numBlockKinds
)

var blockKindNames = [numBlockKinds]string{
	"identifier", "email_local", "last_name+dob", "first_name+dob", "first_name+last_name",
	"soundex(last_name)+soundex(first_name)[:2]", "first_initial+last_name", "school_name", "school_name_word", "teacher", "school+section_number",
}

// maxBlock is the largest block compared: a key shared by more Clever records than this (a common
// surname with a common initial, a placeholder id) says too little to be worth the pairs, and is
// skipped and counted in Stats.SkippedBlocks. An app record's other keys still find its candidates.
const maxBlock = 100

type hash64 uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newKey(k blockKind, f fieldIdx) hash64 {
	h := hash64(fnvOffset)
	h = (h ^ hash64(k)) * fnvPrime
	return (h ^ hash64(f)) * fnvPrime
}

func (h hash64) str(s string) hash64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ hash64(s[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime // separator: ("ab","c") ≠ ("a","bc")
}

// blockKey is one key of a record: its kind (for statistics) and hash.
type blockKey struct {
	kind blockKind
	f    fieldIdx
	h    hash64
}

// groupKeys are the key forms of the nickname groups, by group number.
var groupKeys = func() []string {
	n := int32(0)
	for _, gs := range nicknames {
		for _, g := range gs {
			n = max(n, g+1)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = "\x00g" + strconv.Itoa(i)
	}
	return out
}()

// firstKeys are the forms of a first name used in keys: its words and its nickname groups.
func firstKeys(n nameVal, buf []string) []string {
	buf = append(buf[:0], nameWords(n)...)
	words := len(buf)
	for _, w := range [2]string{n.compact, n.tokens[0]} {
		for _, g := range nicknames[w] {
			if !slices.Contains(buf[words:], groupKeys[g]) {
				buf = append(buf, groupKeys[g])
			}
		}
	}
	return buf
}

// recordKeys appends a record's blocking keys to out: for the index (a Clever record) or for a query
// (an app record). With swapped, the person-name keys are made with first and last names exchanged
// (for the app side's swapped-name queries) and the other keys left out.
func recordKeys(p *plan, x *prep, index, swapped bool, out []blockKey) []blockKey {
	add := func(k blockKind, f fieldIdx, h hash64) { out = append(out, blockKey{k, f, h}) }
	if !swapped {
		for _, f := range p.order {
			if f.identifier() && x.keys[f] != "" {
				add(bkID, f, newKey(bkID, f).str(x.keys[f]))
			}
		}
		if p.active[fiEmail] && len(x.email.local) >= 3 {
			add(bkEmailLocal, fiEmail, newKey(bkEmailLocal, 0).str(x.email.local))
		}
	}
	if p.person && p.active[fiFirst] && p.active[fiLast] {
		first, last := x.first, x.last
		if swapped {
			first, last = last, first
		}
		if !first.empty() && !last.empty() {
			lasts := nameWords(last)
			firsts := firstKeys(first, make([]string, 0, 8))
			dob := x.keys[fiDOB]
			if dob != "" && p.active[fiDOB] {
				for _, l := range lasts {
					add(bkLastDOB, 0, newKey(bkLastDOB, 0).str(l).str(dob))
				}
				for _, w := range nameWords(first) {
					add(bkFirstDOB, 0, newKey(bkFirstDOB, 0).str(w).str(dob))
				}
			}
			for _, fk := range firsts {
				for _, l := range lasts {
					add(bkName, 0, newKey(bkName, 0).str(fk).str(l))
				}
			}
			initial := soundex(first.compact)
			if initial == "" {
				initial = first.compact[:1]
			} else if !first.initial() {
				initial = initial[:2]
			}
			for _, l := range lasts {
				if sx := soundex(l); sx != "" {
					add(bkPhonetic, 0, newKey(bkPhonetic, 0).str(sx).str(initial))
				}
				if index || first.initial() {
					add(bkInitialLast, 0, newKey(bkInitialLast, 0).str(first.compact[:1]).str(l))
				}
			}
		}
	}
	if swapped {
		return out
	}
	if p.typ == School && !x.schoolName.empty() {
		add(bkSchoolName, 0, newKey(bkSchoolName, 0).str(x.schoolName.core))
		for _, w := range splitWords(x.schoolName.core) {
			if len(w) >= 3 {
				add(bkSchoolWord, 0, newKey(bkSchoolWord, 0).str(w))
			}
		}
	}
	if p.typ == Section {
		for _, t := range x.teacher.keys {
			add(bkTeacher, 0, newKey(bkTeacher, 0).str(t))
		}
		for _, s := range x.school.keys {
			if n := x.keys[fiSectionNumber]; n != "" {
				add(bkSchoolSection, 0, newKey(bkSchoolSection, 0).str(s).str("n"+n))
			}
			if n := x.keys[fiPeriod]; n != "" {
				add(bkSchoolSection, 0, newKey(bkSchoolSection, 0).str(s).str("p"+n))
			}
		}
	}
	return out
}

func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// entry is one (key, Clever record) pair of the index.
type entry struct {
	h hash64
	i int32
}

// index is the Clever side's blocking index: entries sorted by key, then by record, and an
// open-addressing table from each key to its run of entries.
type index struct {
	ents  []entry
	slots []slot // power of two; an empty slot has n == 0
	mask  uint64
}

type slot struct {
	h     hash64
	start int32
	n     int32
}

func buildIndex(p *plan, cl []prep) *index {
	ents := make([]entry, 0, len(cl)*12)
	var buf []blockKey
	for i := range cl {
		buf = recordKeys(p, &cl[i], true, false, buf[:0])
		for _, k := range buf {
			ents = append(ents, entry{k.h, int32(i)})
		}
	}
	slices.SortFunc(ents, func(a, b entry) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return int(a.i - b.i)
	})
	ents = slices.Compact(ents)
	keys := 0
	for i := range ents {
		if i == 0 || ents[i].h != ents[i-1].h {
			keys++
		}
	}
	size := 1
	for size < 2*keys {
		size <<= 1
	}
	ix := &index{ents: ents, slots: make([]slot, size), mask: uint64(size - 1)}
	for i := 0; i < len(ents); {
		j := i
		for j < len(ents) && ents[j].h == ents[i].h {
			j++
		}
		k := uint64(ents[i].h) & ix.mask
		for ix.slots[k].n != 0 {
			k = (k + 1) & ix.mask
		}
		ix.slots[k] = slot{h: ents[i].h, start: int32(i), n: int32(j - i)}
		i = j
	}
	return ix
}

// block returns the Clever records under key h.
func (ix *index) block(h hash64) []entry {
	if len(ix.slots) == 0 {
		return nil
	}
	for k := uint64(h) & ix.mask; ; k = (k + 1) & ix.mask {
		s := &ix.slots[k]
		switch {
		case s.n == 0:
			return nil
		case s.h == h:
			return ix.ents[s.start : s.start+s.n]
		}
	}
}

// skipCounter counts skipped blocks per kind (per identifier field for bkID).
type skipCounter struct {
	lookups [int(numBlockKinds) + int(numFields)]int
	largest [int(numBlockKinds) + int(numFields)]int
}

func (s *skipCounter) add(k blockKey, size int) {
	i := int(k.kind)
	if k.kind == bkID {
		i = int(numBlockKinds) + int(k.f)
	}
	s.lookups[i]++
	s.largest[i] = max(s.largest[i], size)
}

func (s *skipCounter) merge(o *skipCounter) {
	for i := range s.lookups {
		s.lookups[i] += o.lookups[i]
		s.largest[i] = max(s.largest[i], o.largest[i])
	}
}

func (s *skipCounter) report() []SkippedBlocks {
	var out []SkippedBlocks
	for i, n := range s.lookups {
		if n == 0 {
			continue
		}
		kind := ""
		if i >= int(numBlockKinds) {
			kind = string(fieldNames[i-int(numBlockKinds)])
		} else {
			kind = blockKindNames[i]
		}
		out = append(out, SkippedBlocks{Kind: kind, Lookups: n, Largest: s.largest[i]})
	}
	slices.SortFunc(out, func(a, b SkippedBlocks) int {
		if a.Kind < b.Kind {
			return -1
		}
		if a.Kind > b.Kind {
			return 1
		}
		return 0
	})
	return out
}

// candidates gathers the Clever records sharing a key with app record a into out (deduplicated with
// the worker's stamps), skipping blocks larger than maxBlock.
func (w *worker) candidates(p *plan, ix *index, a *prep, out []int32) []int32 {
	w.gen++
	if w.gen == 0 { // wrapped: reset the stamps
		clear(w.seen)
		w.gen = 1
	}
	w.keys = recordKeys(p, a, false, false, w.keys[:0])
	if p.person {
		w.keys = recordKeys(p, a, false, true, w.keys)
	}
	for _, k := range w.keys {
		b := ix.block(k.h)
		if len(b) > maxBlock {
			w.skipped.add(k, len(b))
			continue
		}
		for _, e := range b {
			if w.seen[e.i] != w.gen {
				w.seen[e.i] = w.gen
				out = append(out, e.i)
			}
		}
	}
	return out
}
