package match

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
func evaluate(p *plan, a, c *prep, e *pairEval) {
	*e = pairEval{}
	for _, f := range p.order {
		var lv level
		switch f {
		case fiFirst:
			lv = cmpFirstName(a.first, c.first)
		case fiMiddle:
			lv = cmpMiddleName(a.middle, c.middle)
		case fiLast:
			lv = cmpLastName(a.last, c.last)
		case fiName:
			if p.typ == School {
				lv = cmpSchoolName(a.schoolName, c.schoolName)
			} else {
				lv = cmpTitle(a.title, c.title)
			}
		case fiDOB:
			lv = cmpDate(a.dob, c.dob)
		case fiEmail:
			if a.kh[f] != 0 && a.kh[f] == c.kh[f] && a.keys[f] == c.keys[f] {
				lv = lvExact
			} else {
				lv = cmpEmail(a.email, c.email)
			}
		case fiGrade:
			lv = cmpGrade(a.grade, c.grade)
		case fiSchool, fiTeacher:
			lv = cmpRef(*a.ref(f), *c.ref(f))
		default:
			switch {
			case a.kh[f] == 0 || c.kh[f] == 0:
				lv = lvMissing
			case a.kh[f] == c.kh[f] && a.keys[f] == c.keys[f]:
				lv = lvExact
			default:
				lv = lvDiffer
			}
		}
		e.lv[f] = lv
		switch lv {
		case lvMissing:
		case lvExact:
			e.w[f] = c.w.agree[f]
		case lvDiffer:
			e.w[f] = c.w.differ[f]
		default:
			e.w[f] = models[f].wl[lv]
		}
	}
	if p.person && p.active[fiFirst] && p.active[fiLast] {
		checkSwap(a, c, e)
	}
	for _, f := range p.order {
		e.total += float64(e.w[f])
		if !p.strong[f] {
			e.support += float64(e.w[f])
			continue
		}
		switch e.lv[f] {
		case lvExact:
			e.strongAgree |= 1 << f
		case lvDiffer:
			e.strongDiffer |= 1 << f
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

// nameAgrees reports whether a name level counts as the names agreeing.
func nameAgrees(lv level) bool {
	return lv == lvExact || lv == lvNickname || lv == lvFuzzy
}

// checkSwap replaces the first- and last-name levels when the names agree crosswise (the app's first
// name is Clever's last name and the other way round) and don't agree straight.
func checkSwap(a, c *prep, e *pairEval) {
	lf, ll := e.lv[fiFirst], e.lv[fiLast]
	if lf == lvMissing || ll == lvMissing || (nameAgrees(lf) && nameAgrees(ll)) || ll == lvExact {
		return
	}
	if a.first.initial() || a.last.initial() || c.first.initial() || c.last.initial() {
		return
	}
	if a.last.h != c.first.h && a.first.h != c.last.h { // one of the crosswise pairs must be exact
		return
	}
	sf := cmpFirstName(a.last, c.first) // the app's last name against Clever's first
	sl := cmpLastName(a.first, c.last)
	if !nameAgrees(sf) || !nameAgrees(sl) || (sf != lvExact && sl != lvExact) {
		return
	}
	wf, wl := models[fiFirst].wl[sf], models[fiLast].wl[sl]
	if sf == lvExact {
		wf = c.w.agree[fiFirst]
	}
	if sl == lvExact {
		wl = c.w.agree[fiLast]
	}
	if wf+wl-swapPenalty <= e.w[fiFirst]+e.w[fiLast] {
		return
	}
	e.swapped = true
	e.lv[fiFirst], e.lv[fiLast] = sf, sl
	e.w[fiFirst], e.w[fiLast] = wf-swapPenalty/2, wl-swapPenalty/2
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
