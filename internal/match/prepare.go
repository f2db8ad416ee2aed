package match

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// prep is a record with its values normalised once. What scoring reads for every pair comes first,
// together and without pointers to follow (the values' numbers), so that a Clever record costs few
// cache misses; the normalised values themselves are shared by the records that have them (names,
// grades, references: a district has few distinct ones).
type prep struct {
	// ids are each field's exact-comparison value as a number (0 when missing): equal numbers, equal
	// values. Names, grades and schools' names are numbered by the call's strtab, birth dates by
	// dateVal.num, the keyed fields (plan.keyed) by numberKeys. Refs (school, teacher) have their keys
	// in school and teacher instead.
	ids [numFields]uint32
	// wc are the Clever side's weight classes (plan.weights), by field.
	wc  [numFields]uint16
	dob dateVal

	first, middle, last *nameVal // never nil: &emptyName when missing
	grade               *gradeVal
	school, teacher     *refVal // never nil: &emptyRef when missing
	email               emailVal

	rec        *Record
	keys       []string       // the keyed fields' normalised values, by plan.slot ("" when missing)
	title      *nameVal       // a section's name (type Section)
	schoolName *schoolNameVal // a school's name (type School)
}

// junkIDs are placeholder values that are not identifiers.
var junkIDs = map[string]bool{
	"0": true, "na": true, "none": true, "null": true, "nil": true, "unknown": true, "tbd": true,
	"missing": true, "x": true, "xx": true, "xxx": true, "notapplicable": true,
}

var (
	emptyGrade      gradeVal
	emptySchoolName schoolNameVal
)

// cacheMax bounds each of a preparer's caches.
const cacheMax = 1 << 16

// preparer holds one goroutine's preparation state: caches of the normalised values a district has
// few of (names, grades, references, e-mail domains), each held by thousands of records, by raw value;
// scratch space; an arena for the strings normalisation makes.
type preparer struct {
	tab               *strtab
	names             map[string]*nameVal
	grades            map[string]gradeEntry
	schools, teachers map[string]*refVal
	domains           map[string]string
	buf               []byte
	ar                arena
}

func newPreparer(tab *strtab) *preparer {
	return &preparer{tab: tab, names: map[string]*nameVal{}, grades: map[string]gradeEntry{},
		schools: map[string]*refVal{}, teachers: map[string]*refVal{}, domains: map[string]string{}}
}

// name is normName(s), shared.
func (w *preparer) name(s string) *nameVal {
	if n, ok := w.names[s]; ok {
		return n
	}
	n := &emptyName
	if v := normName(s); !v.empty() {
		v.compact, v.id = w.tab.intern(v.compact)
		v.forms = blockForms(&v)
		n = &v
	}
	if len(w.names) < cacheMax {
		w.names[s] = n
	}
	return n
}

// gradeEntry is a normalised grade and its code's number.
type gradeEntry struct {
	g  *gradeVal
	id uint32
}

// grade is normGrade(s), shared, and its code's number.
func (w *preparer) grade(s string) (*gradeVal, uint32) {
	e, ok := w.grades[s]
	if !ok {
		e.g = &emptyGrade
		if v := normGrade(s); v.code != "" {
			v.code, e.id = w.tab.intern(v.code)
			e.g = &v
		}
		if len(w.grades) < cacheMax {
			w.grades[s] = e
		}
	}
	return e.g, e.id
}

// ref is normRef(s, school), shared, with its keys numbered.
func (w *preparer) ref(s string, school bool) *refVal {
	c := w.teachers
	if school {
		c = w.schools
	}
	if v, ok := c[s]; ok {
		return v
	}
	r := &emptyRef
	if v := normRef(s, school); len(v.keys) > 0 || v.raw != "" {
		v.ids = make([]uint32, len(v.keys))
		for i, k := range v.keys {
			v.keys[i], v.ids[i] = w.tab.intern(k)
		}
		r = &v
	}
	if len(c) < cacheMax {
		c[s] = r
	}
	return r
}

// email is normEmail(s), its strings in the preparer's arena, and the full address (emailVal.full).
func (w *preparer) email(s string) (emailVal, string) {
	e, v := splitEmail(s)
	if e.local == "" {
		return emailVal{}, ""
	}
	if d, ok := w.domains[e.domain]; ok {
		e.domain = d
	} else {
		d, _ = w.tab.intern(e.domain)
		if len(w.domains) < cacheMax {
			w.domains[e.domain] = d
		}
		e.domain = d
	}
	full := v
	if len(v) != len(e.local)+1+len(e.domain) || v[len(e.local)] != '@' || v[len(e.local)+1:] != e.domain {
		w.buf = append(append(append(w.buf[:0], e.local...), '@'), e.domain...)
		full = w.ar.str(w.buf)
	}
	w.buf = appendStripped(w.buf[:0], e.local)
	if len(w.buf) == len(e.local) {
		e.bare = e.local
	} else {
		e.bare = w.ar.str(w.buf)
	}
	e.fill()
	return e, full
}

// str returns string(b): s itself when equal.
func (w *preparer) str(b []byte, s string) string {
	if string(b) == s {
		return s
	}
	return w.ar.str(b)
}

// prepare normalises record r into x, with keys for x.keys. The keyed fields' values are numbered
// afterwards, by numberKeys.
func prepare(p *plan, r *Record, x *prep, w *preparer, keys []string) {
	v := func(f Field) string { return r.Values[f] }
	x.rec = r
	x.keys = keys
	x.first, x.middle, x.last, x.title = &emptyName, &emptyName, &emptyName, &emptyName
	x.grade, x.schoolName = &emptyGrade, &emptySchoolName
	x.school, x.teacher = &emptyRef, &emptyRef
	for _, f := range p.order {
		var id uint32
		switch f {
		case fiFirst:
			x.first = w.name(v(FirstName))
			id = x.first.id
		case fiMiddle:
			x.middle = w.name(v(MiddleName))
			id = x.middle.id
		case fiLast:
			x.last = w.name(v(LastName))
			id = x.last.id
		case fiName:
			if p.typ == School {
				if n := normSchoolName(v(Name)); !n.empty() {
					x.schoolName = &n
					_, id = w.tab.intern(n.key())
				}
			} else {
				x.title = w.name(v(Name))
				id = x.title.id
			}
		case fiDOB:
			x.dob = normDate(v(DOB))
			id = x.dob.num()
		case fiEmail:
			x.email, x.keys[p.slot[f]] = w.email(v(Email))
			x.keys[p.localSlot] = x.email.local
		case fiGrade:
			x.grade, id = w.grade(v(Grade))
		case fiState:
			x.keys[p.slot[f]] = normState(v(State))
		case fiSchool:
			x.school = w.ref(v(SchoolRef), true)
		case fiTeacher:
			x.teacher = w.ref(v(TeacherRef), false)
		default: // identifiers, period, section number
			raw := v(fieldNames[f])
			w.buf = appendID(w.buf[:0], raw)
			if !junkIDs[string(w.buf)] {
				x.keys[p.slot[f]] = w.str(w.buf, raw)
			}
		}
		x.ids[f] = id
	}
}

// appendStripped appends s without dots, hyphens and underscores (stripPunct) to dst.
func appendStripped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && c != '_' && c != '-' {
			dst = append(dst, c)
		}
	}
	return dst
}

// strHash is a 64-bit FNV-1a hash of s.
func strHash(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// key is a keyed field's normalised value: "" when missing, or when the field is not compared or not
// keyed.
func (x *prep) key(p *plan, f fieldIdx) string {
	if !p.active[f] || !keyedField(f) {
		return ""
	}
	return x.keys[p.slot[f]]
}

// numberKeys numbers the keyed fields' values on both sides (prep.ids), and the e-mails' local parts
// (emailVal.lid): equal values, equal numbers. A field's values are sorted by hash and those with
// equal hashes compared, the fields on every CPU. It sets p.space.
func numberKeys(p *plan, sides ...[]prep) {
	spaces := make([]uint32, p.nkeys)
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), p.nkeys) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for _, xs := range sides {
				n += len(xs)
			}
			refs := make([]uint64, 0, n)
			for {
				k := int(next.Add(1)) - 1
				if k >= p.nkeys {
					return
				}
				id := func(x *prep) *uint32 { return &x.email.lid }
				if k < len(p.keyed) {
					f := p.keyed[k]
					id = func(x *prep) *uint32 { return &x.ids[f] }
				}
				spaces[k], refs = numberField(int8(k), id, sides, refs)
			}
		}()
	}
	wg.Wait()
	p.space = max(p.tab.size(), dateSpace)
	for _, s := range spaces {
		p.space = max(p.space, int(s))
	}
}

// numberField numbers the values at one slot of prep.keys, setting each record's number at id(x), and
// returns one past the highest number; refs is scratch space, returned for reuse. Each value is known
// by the top half of its hash, its side and its record, in one word: sorted, the words put equal
// values next to each other, and the values whose hashes' top halves are equal are told apart by
// comparing them.
func numberField(slot int8, id func(x *prep) *uint32, sides [][]prep, refs []uint64) (uint32, []uint64) {
	refs = refs[:0]
	for s, xs := range sides {
		for i := range xs {
			if k := xs[i].keys[slot]; k != "" {
				refs = append(refs, strHash(k)>>32<<32|uint64(s)<<31|uint64(i))
			}
		}
	}
	slices.Sort(refs)
	at := func(r uint64) *prep { return &sides[r>>31&1][r&(1<<31-1)] }
	next := uint32(1)
	var distinct []*prep // a run's distinct values (one, but for a collision)
	for lo := 0; lo < len(refs); {
		hi := lo + 1
		for hi < len(refs) && refs[hi]>>32 == refs[lo]>>32 {
			hi++
		}
		distinct = distinct[:0]
		for _, r := range refs[lo:hi] {
			x := at(r)
			n := uint32(0)
			for _, d := range distinct {
				if d.keys[slot] == x.keys[slot] {
					n = *id(d)
					break
				}
			}
			if n == 0 {
				n = next
				next++
				distinct = append(distinct, x)
			}
			*id(x) = n
		}
		lo = hi
	}
	return next, refs
}

// ref returns a record's reference value for a ref field.
func (x *prep) ref(f fieldIdx) *refVal {
	if f == fiSchool {
		return x.school
	}
	return x.teacher
}

// weighClever computes the Clever records' value weights from the values' frequencies among them: a
// value held by count records has the weights valueWeights(f, count, n). A field's values have few
// distinct counts (at most √(2n)), so each record gets its count's class (prep.wc) in a small table of
// the field's weights (plan.weights).
func weighClever(p *plan, cl []prep) {
	n := len(cl)
	counts := make([]int32, p.space) // by value number; back to zeros after each field
	for _, f := range p.order {
		m := weightClasses{f: f, n: n, byCount: map[int32]uint16{}}
		if f == fiSchool || f == fiTeacher {
			for i := range cl {
				for _, k := range cl[i].ref(f).ids {
					counts[k]++
				}
			}
			for i := range cl {
				c := int32(0)
				for _, k := range cl[i].ref(f).ids { // the most common of its keys: conservative
					c = max(c, counts[k])
				}
				cl[i].wc[f] = m.class(c)
			}
			for i := range cl {
				for _, k := range cl[i].ref(f).ids {
					counts[k] = 0
				}
			}
		} else {
			for i := range cl {
				if k := cl[i].ids[f]; k != 0 {
					counts[k]++
				}
			}
			for i := range cl {
				cl[i].wc[f] = m.class(counts[cl[i].ids[f]])
			}
			for i := range cl {
				counts[cl[i].ids[f]] = 0
			}
		}
		p.weights[f] = m.weights
	}
}

// weightClasses numbers one field's distinct counts, with their weights.
type weightClasses struct {
	f       fieldIdx
	n       int
	byCount map[int32]uint16
	last    int32 // the last count asked for, and its class: counts come in runs
	lastC   uint16
	weights []weightPair
}

// weightPair is the agreement and disagreement weights of a value.
type weightPair struct{ agree, differ float32 }

func (m *weightClasses) class(count int32) uint16 {
	if len(m.weights) > 0 && count == m.last {
		return m.lastC
	}
	c, ok := m.byCount[count]
	if !ok {
		var w weightPair
		w.agree, w.differ = valueWeights(m.f, int(count), m.n)
		c = uint16(len(m.weights))
		m.weights = append(m.weights, w)
		m.byCount[count] = c
	}
	m.last, m.lastC = count, c
	return c
}

// nameWords is a name's variants for blocking: its compact form and, for a name of several words, each
// word of two letters or more (so "Garcia Lopez" meets "Garcia").
func nameWords(n nameVal) []string {
	if n.empty() {
		return nil
	}
	if len(n.tokens) == 1 {
		return []string{n.compact}
	}
	out := []string{n.compact}
	for _, t := range n.tokens {
		if len(t) >= 2 && t != n.compact {
			out = append(out, t)
		}
	}
	return out
}
