package match

import "strings"

// explain says in plain words what agrees and what differs between app record a and Clever record c:
// first the fields that agree ("sis id, name and birth date agree"), then the near agreements
// ("nickname: Bob / Robert", "first and last names swapped"), then what differs with both values
// ("e-mail differs: a.smith@ vs asmith@"). App values come first. Fields missing on either side are
// not mentioned.
func explain(p *plan, a, c *prep, e *pairEval) string {
	var agree, near, differ []string
	namesDone := false
	for _, f := range p.order {
		lv := e.lv[f]
		if lv == lvMissing {
			continue
		}
		if (f == fiFirst || f == fiLast) && !namesDone && p.person {
			if e.swapped {
				namesDone = true
				near = append(near, "first and last names swapped: "+pair(a.first.raw+" "+a.last.raw, c.first.raw+" "+c.last.raw, " / "))
				if e.lv[fiFirst] != lvExact {
					near = append(near, nameNear(fiFirst, e.lv[fiFirst], a.last, c.first))
				}
				if e.lv[fiLast] != lvExact {
					near = append(near, nameNear(fiLast, e.lv[fiLast], a.first, c.last))
				}
				continue
			}
			if e.lv[fiFirst] == lvExact && e.lv[fiLast] == lvExact {
				namesDone = true
				agree = append(agree, "name")
				continue
			}
		}
		if namesDone && (f == fiFirst || f == fiLast) {
			continue
		}
		switch lv {
		case lvExact:
			agree = append(agree, fieldLabels[f])
		case lvDiffer:
			differ = append(differ, fieldLabels[f]+" differs: "+values(f, a, c, " vs "))
		default:
			switch f {
			case fiFirst:
				near = append(near, nameNear(f, lv, a.first, c.first))
			case fiLast:
				near = append(near, nameNear(f, lv, a.last, c.last))
			case fiMiddle:
				near = append(near, nameNear(f, lv, a.middle, c.middle))
			default:
				near = append(near, nearClause(f, lv, a, c))
			}
		}
	}
	var parts []string
	if len(agree) > 0 {
		verb := " agree"
		if len(agree) == 1 {
			verb = " agrees"
		}
		parts = append(parts, list(agree)+verb)
	}
	parts = append(parts, near...)
	parts = append(parts, differ...)
	if len(parts) == 0 {
		return "nothing to compare"
	}
	return strings.Join(parts, "; ")
}

func nameNear(f fieldIdx, lv level, a, c nameVal) string {
	v := pair(a.raw, c.raw, " / ")
	switch lv {
	case lvNickname:
		return "nickname: " + v
	case lvFuzzy:
		return fieldLabels[f] + " spelt differently: " + v
	case lvPartial:
		return fieldLabels[f] + " agrees in part: " + v
	case lvInitial:
		return fieldLabels[f] + " initial only: " + v
	case lvExact:
		return fieldLabels[f] + " agrees"
	}
	return fieldLabels[f] + " differs: " + pair(a.raw, c.raw, " vs ")
}

func nearClause(f fieldIdx, lv level, a, c *prep) string {
	switch f {
	case fiEmail:
		if lv == lvPartial {
			return "same e-mail user at another domain: " + pair("@"+a.email.domain, "@"+c.email.domain, " / ")
		}
		return "e-mail alike: " + pair(a.email.local+"@", c.email.local+"@", " / ")
	case fiDOB:
		if lv == lvTransposed {
			return "birth date with day and month swapped: " + values(f, a, c, " / ")
		}
		return "birth date one part off: " + values(f, a, c, " / ")
	case fiGrade:
		return "grade one apart: " + values(f, a, c, " / ")
	case fiName:
		if lv == lvPartial {
			return "name agrees in part: " + values(f, a, c, " / ")
		}
		return "name spelt differently: " + values(f, a, c, " / ")
	}
	return fieldLabels[f] + " close: " + values(f, a, c, " / ")
}

// values shows a field's two values, the app's first.
func values(f fieldIdx, a, c *prep, sep string) string {
	switch f {
	case fiFirst:
		return pair(a.first.raw, c.first.raw, sep)
	case fiMiddle:
		return pair(a.middle.raw, c.middle.raw, sep)
	case fiLast:
		return pair(a.last.raw, c.last.raw, sep)
	case fiDOB:
		return pair(a.dob.String(), c.dob.String(), sep)
	case fiEmail:
		if a.email.domain == c.email.domain {
			return pair(a.email.local+"@", c.email.local+"@", sep)
		}
		return pair(a.email.full(), c.email.full(), sep)
	case fiName:
		if !a.schoolName.empty() || !c.schoolName.empty() {
			return pair(a.schoolName.raw, c.schoolName.raw, sep)
		}
		return pair(a.title.raw, c.title.raw, sep)
	case fiGrade:
		return pair(a.grade.code, c.grade.code, sep)
	case fiSchool, fiTeacher:
		return pair(a.ref(f).raw, c.ref(f).raw, sep)
	}
	return pair(a.rec.Values[fieldNames[f]], c.rec.Values[fieldNames[f]], sep)
}

func pair(a, b, sep string) string {
	return trimmed(a) + sep + trimmed(b)
}

// list joins words as English does: "a", "a and b", "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
