package match

import (
	"cmp"
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

// bytes is str(string(b)).
func (h hash64) bytes(b []byte) hash64 {
	for _, c := range b {
		h = (h ^ hash64(c)) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime
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

// nameForms are a name's forms in blocking keys, computed once per distinct name (blockForms).
type nameForms struct {
	words   []string // nameWords
	firsts  []string // firstKeys
	wordSx  []string // soundex of each of words ("" when it has no letter)
	initial string   // as a first name in a phonetic key: its Soundex's first two characters (all four for a bare initial), or its first letter when it has no Soundex

	// The keys' hashes begun with the name, which recordKeys continues with the other parts: as a
	// first name, bkName's (by firsts), bkFirstDOB's (by words) and bkInitialLast's; as a last name,
	// bkLastDOB's and bkPhonetic's (by words).
	nameH, firstDOBH, lastDOBH, phoneticH []hash64
	initialLastH                          hash64
}

// blockForms computes a non-empty name's blocking forms.
func blockForms(n *nameVal) *nameForms {
	f := &nameForms{words: nameWords(*n)}
	f.firsts = firstKeys(*n, nil)
	nw, nf := len(f.words), len(f.firsts)
	f.wordSx = make([]string, nw)
	for i, w := range f.words {
		f.wordSx[i] = soundex(w)
	}
	f.initial = soundex(n.compact)
	if f.initial == "" {
		f.initial = n.compact[:1]
	} else if !n.initial() {
		f.initial = f.initial[:2]
	}
	hs := make([]hash64, nf+3*nw)
	f.nameH, hs = hs[:nf:nf], hs[nf:]
	f.firstDOBH, f.lastDOBH, f.phoneticH = hs[:nw:nw], hs[nw:2*nw:2*nw], hs[2*nw:]
	for i, k := range f.firsts {
		f.nameH[i] = newKey(bkName, 0).str(k)
	}
	for i, w := range f.words {
		f.firstDOBH[i] = newKey(bkFirstDOB, 0).str(w)
		f.lastDOBH[i] = newKey(bkLastDOB, 0).str(w)
		f.phoneticH[i] = newKey(bkPhonetic, 0).str(f.wordSx[i])
	}
	f.initialLastH = newKey(bkInitialLast, 0).str(n.compact[:1])
	return f
}

// blockForms returns the name's blocking forms, computing them when prepare hasn't.
func (n *nameVal) blockForms() *nameForms {
	if n.forms != nil {
		return n.forms
	}
	return blockForms(n)
}

// recordKeys appends a record's blocking keys to out: for the index (a Clever record) or for a query
// (an app record). With swapped, the person-name keys are made with first and last names exchanged
// (for the app side's swapped-name queries) and the other keys left out.
func recordKeys(p *plan, x *prep, index, swapped bool, out []blockKey) []blockKey {
	add := func(k blockKind, f fieldIdx, h hash64) { out = append(out, blockKey{k, f, h}) }
	if !swapped {
		for _, f := range p.order {
			if k := x.key(p, f); f.identifier() && k != "" {
				add(bkID, f, newKey(bkID, f).str(k))
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
			ff, lf := first.blockForms(), last.blockForms()
			lasts := lf.words
			if !x.dob.empty() && p.active[fiDOB] {
				var b [10]byte
				dob := x.dob.format(&b)
				for _, h := range lf.lastDOBH {
					add(bkLastDOB, 0, h.bytes(dob))
				}
				for _, h := range ff.firstDOBH {
					add(bkFirstDOB, 0, h.bytes(dob))
				}
			}
			for _, h := range ff.nameH {
				for _, l := range lasts {
					add(bkName, 0, h.str(l))
				}
			}
			for i, l := range lasts {
				if lf.wordSx[i] != "" {
					add(bkPhonetic, 0, lf.phoneticH[i].str(ff.initial))
				}
				if index || first.initial() {
					add(bkInitialLast, 0, ff.initialLastH.str(l))
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
			if n := x.key(p, fiSectionNumber); n != "" {
				add(bkSchoolSection, 0, newKey(bkSchoolSection, 0).str(s).str("n"+n))
			}
			if n := x.key(p, fiPeriod); n != "" {
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

// index is the Clever side's blocking index: its entries (key, Clever record) sorted by key, then by
// record, and where each bucket of keys (the keys' top bits) begins among them.
type index struct {
	ents  []entry
	start []int32 // by bucket, and one past the last: where its entries begin
	shift uint    // a key's bucket is key >> shift
}

// entry is one (key, Clever record) pair of the index.
type entry struct {
	h hash64
	i int32
}

func buildIndex(p *plan, cl []prep) *index {
	raw := make([]hash64, 0, len(cl)*12) // the records' keys, record after record
	offs := make([]int32, len(cl)+1)
	var buf []blockKey
	for i := range cl {
		buf = recordKeys(p, &cl[i], true, false, buf[:0])
		for _, k := range buf {
			raw = append(raw, k.h)
		}
		offs[i+1] = int32(len(raw))
	}
	// A counting sort by bucket, then each bucket (a few entries, usually) sorted by key and record.
	// Repeated entries are dropped.
	bits := 8
	for bits < 24 && 1<<bits < len(raw)/4 {
		bits++
	}
	ix := &index{start: make([]int32, 1<<bits+1), shift: uint(64 - bits)}
	for _, h := range raw {
		ix.start[uint64(h)>>ix.shift+1]++
	}
	for b := 1; b < len(ix.start); b++ {
		ix.start[b] += ix.start[b-1]
	}
	ents := make([]entry, len(raw))
	next := slices.Clone(ix.start[:1<<bits])
	for i := range cl {
		for _, h := range raw[offs[i]:offs[i+1]] {
			b := uint64(h) >> ix.shift
			ents[next[b]] = entry{h, int32(i)}
			next[b]++
		}
	}
	w := int32(0)
	for b := range 1 << bits {
		lo, hi := ix.start[b], ix.start[b+1]
		run := ents[lo:hi]
		if len(run) <= 32 {
			for k := 1; k < len(run); k++ { // insertion sort by key: stable, and records come in order
				for j := k; j > 0 && run[j].h < run[j-1].h; j-- {
					run[j], run[j-1] = run[j-1], run[j]
				}
			}
		} else { // a common key: sorted by key and record
			slices.SortFunc(run, func(x, y entry) int {
				if x.h != y.h {
					return cmp.Compare(x.h, y.h)
				}
				return cmp.Compare(x.i, y.i)
			})
		}
		ix.start[b] = w
		for k := lo; k < hi; k++ {
			if k > lo && ents[k] == ents[w-1] {
				continue
			}
			ents[w] = ents[k]
			w++
		}
	}
	ix.start[1<<bits] = w
	ix.ents = ents[:w:w]
	return ix
}

// block returns the Clever records under key h.
func (ix *index) block(h hash64) []entry {
	b := uint64(h) >> ix.shift
	lo, hi := int(ix.start[b]), int(ix.start[b+1])
	for lo < hi { // the first entry of the bucket not below h
		m := int(uint(lo+hi) >> 1)
		if ix.ents[m].h < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(ix.ents) || ix.ents[lo].h != h {
		return nil
	}
	end, hi := lo+1, int(ix.start[b+1])
	for end < hi { // the first entry past h
		m := int(uint(end+hi) >> 1)
		if ix.ents[m].h == h {
			end = m + 1
		} else {
			hi = m
		}
	}
	return ix.ents[lo:end]
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
