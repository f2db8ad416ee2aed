package match

import "unsafe"

// pairEval is one app record compared with one Clever record: each field's level and weight, and what
// the strong identifiers say.
type pairEval struct {
	lv      [numFields]level
	w       [numFields]float32
	swapped bool // first and last names agree crosswise
	total   float64
	// support is the weight of the fields that aren't strong identifiers.
	support float64
	// strongAgree and strongDiffer are bit sets of strong fields that agree and that differ.
	strongAgree, strongDiffer uint32
	// composite: a section's school and teacher agree, and its name, period or section number agrees
	// with none of them differing (sections have no strong identifier of their own in Clever's order).
	composite bool
}

// strong reports whether a strong identifier agrees (or a section's composite key does) and no strong
// identifier differs.
func (e *pairEval) strong() bool {
	return (e.strongAgree != 0 || e.composite) && e.strongDiffer == 0
}

// evaluate compares app record a with Clever record c field by field.
//
// Two values with the same number (prep.ids) are equal, so every comparison is settled there when
// they are: an exact agreement, whatever the field.
func evaluate(p *plan, a, c *prep, m *nameMemo, e *pairEval) {
	*e = pairEval{}
	for _, f := range p.order {
		var lv level
		if id := a.ids[f]; id != 0 && id == c.ids[f] {
			lv = lvExact
		} else {
			switch f {
			case fiFirst:
				lv = m.cmp(memoFirst, a.first, c.first)
			case fiMiddle:
				lv = m.cmp(memoMiddle, a.middle, c.middle)
			case fiLast:
				lv = m.cmp(memoLast, a.last, c.last)
			case fiName:
				if p.typ == School {
					lv = cmpSchoolName(*a.schoolName, *c.schoolName)
				} else {
					lv = cmpTitleP(a.title, c.title)
				}
			case fiDOB:
				lv = cmpDate(a.dob, c.dob)
			case fiEmail:
				lv = cmpEmailP(&a.email, &c.email)
			case fiGrade:
				lv = cmpGradeP(a.grade, c.grade)
			case fiSchool, fiTeacher:
				lv = cmpRefP(a.ref(f), c.ref(f))
			default:
				if id == 0 || c.ids[f] == 0 {
					lv = lvMissing
				} else {
					lv = lvDiffer
				}
			}
		}
		var w float32
		switch lv {
		case lvMissing:
		case lvExact:
			w = p.weights[f][c.wc[f]].agree
		case lvDiffer:
			w = p.weights[f][c.wc[f]].differ
		default:
			w = models[f].wl[lv]
		}
		e.lv[f], e.w[f] = lv, w
		e.total += float64(w)
		if !p.strong[f] {
			e.support += float64(w)
			continue
		}
		switch lv {
		case lvExact:
			e.strongAgree |= 1 << f
		case lvDiffer:
			e.strongDiffer |= 1 << f
		}
	}
	if p.person && p.active[fiFirst] && p.active[fiLast] && checkSwap(p, a, c, m, e) {
		// The names' weights changed (no strong identifier's): the sums again, in the same order.
		e.total, e.support = 0, 0
		for _, f := range p.order {
			e.total += float64(e.w[f])
			if !p.strong[f] {
				e.support += float64(e.w[f])
			}
		}
	}
	if p.typ == Section && e.lv[fiSchool] == lvExact && e.lv[fiTeacher] == lvExact {
		agree, differ := false, false
		for _, f := range []fieldIdx{fiName, fiPeriod, fiSectionNumber} {
			switch e.lv[f] {
			case lvExact:
				agree = true
			case lvDiffer, lvFuzzy, lvPartial:
				differ = true
			}
		}
		e.composite = agree && !differ
	}
}

// nameMemo remembers name comparisons, which depend on the two names only: a district has few
// distinct names, each shared by the records that have it (prepare), and the app records scored one
// after another mostly meet the same ones. One per goroutine; each kind of comparison has a
// direct-mapped table of its own.
type nameMemo struct {
	tabs [numMemos][nameMemoSize]nameMemoSlot
}

type nameMemoSlot struct {
	a, c *nameVal
	lv   level
}

// The comparisons remembered.
const (
	memoFirst  = iota // cmpFirst
	memoMiddle        // cmpMiddle
	memoLast          // cmpLast
	numMemos
)

const nameMemoBits = 11
const nameMemoSize = 1 << nameMemoBits

// cmp is the comparison kind of a and c.
func (m *nameMemo) cmp(kind int, a, c *nameVal) level {
	h := (uint64(uintptr(unsafe.Pointer(a)))*0x9e3779b97f4a7c15 ^ uint64(uintptr(unsafe.Pointer(c)))*0xc2b2ae3d27d4eb4f) >> (64 - nameMemoBits)
	s := &m.tabs[kind][h]
	if s.a == a && s.c == c {
		return s.lv
	}
	var lv level
	switch kind {
	case memoFirst:
		lv = cmpFirst(a, c)
	case memoMiddle:
		lv = cmpMiddle(a, c)
	default:
		lv = cmpLast(a, c)
	}
	*s = nameMemoSlot{a, c, lv}
	return lv
}

// nameAgrees reports whether a name level counts as the names agreeing.
func nameAgrees(lv level) bool {
	return lv == lvExact || lv == lvNickname || lv == lvFuzzy
}

// checkSwap replaces the first- and last-name levels and weights when the names agree crosswise (the
// app's first name is Clever's last name and the other way round) and don't agree straight, and
// reports whether it did.
func checkSwap(p *plan, a, c *prep, m *nameMemo, e *pairEval) bool {
	lf, ll := e.lv[fiFirst], e.lv[fiLast]
	if lf == lvMissing || ll == lvMissing || (nameAgrees(lf) && nameAgrees(ll)) || ll == lvExact {
		return false
	}
	if a.first.initial() || a.last.initial() || c.first.initial() || c.last.initial() {
		return false
	}
	if a.last.h != c.first.h && a.first.h != c.last.h { // one of the crosswise pairs must be exact
		return false
	}
	sf := m.cmp(memoFirst, a.last, c.first) // the app's last name against Clever's first
	sl := m.cmp(memoLast, a.first, c.last)
	if !nameAgrees(sf) || !nameAgrees(sl) || (sf != lvExact && sl != lvExact) {
		return false
	}
	wf, wl := models[fiFirst].wl[sf], models[fiLast].wl[sl]
	if sf == lvExact {
		wf = p.weights[fiFirst][c.wc[fiFirst]].agree
	}
	if sl == lvExact {
		wl = p.weights[fiLast][c.wc[fiLast]].agree
	}
	if wf+wl-swapPenalty <= e.w[fiFirst]+e.w[fiLast] {
		return false
	}
	e.swapped = true
	e.lv[fiFirst], e.lv[fiLast] = sf, sl
	e.w[fiFirst], e.w[fiLast] = wf-swapPenalty/2, wl-swapPenalty/2
	return true
}

// method names the strongest evidence that agrees: the first identifier in the order that agrees, else
// a section's school+teacher, else names with birth date, names, a school's name with its state.
func method(p *plan, e *pairEval) string {
	for _, f := range p.order {
		if f.identifier() && e.lv[f] == lvExact {
			return string(fieldNames[f])
		}
	}
	if e.composite || (p.typ == Section && e.lv[fiSchool] == lvExact && e.lv[fiTeacher] == lvExact) {
		return "school+teacher"
	}
	if p.person {
		names := e.lv[fiFirst] != lvMissing && e.lv[fiFirst] != lvDiffer &&
			e.lv[fiLast] != lvMissing && e.lv[fiLast] != lvDiffer
		switch {
		case names && e.lv[fiDOB] == lvExact:
			return "name+dob"
		case names:
			return "name"
		case e.lv[fiDOB] == lvExact:
			return "dob"
		}
	}
	if p.typ == School && (e.lv[fiName] == lvExact || e.lv[fiName] == lvPartial || e.lv[fiName] == lvFuzzy) {
		if e.lv[fiState] == lvExact {
			return "name+state"
		}
		return "name"
	}
	for _, f := range p.order {
		if e.lv[f] != lvMissing && e.lv[f] != lvDiffer {
			return string(fieldNames[f])
		}
	}
	return "none"
}
