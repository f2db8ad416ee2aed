package match

import "strings"

// prep is a record with its values normalised once. The fields scoring reads for every pair come
// first, together, so that a Clever record costs few cache misses.
type prep struct {
	// kh are the keys' hashes: equality is tested on them first.
	kh [numFields]uint64
	// Clever side only: the agreement and disagreement weights of this record's own values, from their
	// frequencies (weights.go).
	w ownWeights

	dob                 dateVal
	first, last, middle nameVal
	email               emailVal
	grade               gradeVal
	school, teacher     refVal

	rec *Record
	// keys is each field's exact-comparison value ("" when missing); refs (school, teacher) have their
	// keys in school and teacher instead.
	keys       [numFields]string
	schoolName schoolNameVal // a school's name (type School)
	title      nameVal       // a section's name (type Section)
}

// ownWeights are a Clever record's value weights.
type ownWeights struct {
	agree, differ [numFields]float32
}

// junkIDs are placeholder values that are not identifiers.
var junkIDs = map[string]bool{
	"0": true, "na": true, "none": true, "null": true, "nil": true, "unknown": true, "tbd": true,
	"missing": true, "x": true, "xx": true, "xxx": true, "notapplicable": true,
}

// refCache remembers normalised references: a district has few schools and teachers, each named by
// thousands of records. One per goroutine.
type refCache map[string]refVal

func (c refCache) get(s string, school bool) refVal {
	k := s
	if school {
		k = "\x00" + s
	}
	if v, ok := c[k]; ok {
		return v
	}
	v := normRef(s, school)
	if len(c) < 1<<16 {
		c[k] = v
	}
	return v
}

// prepare normalises record r into x.
func prepare(p *plan, r *Record, x *prep, refs refCache) {
	v := func(f Field) string { return r.Values[f] }
	x.rec = r
	for _, f := range p.order {
		switch f {
		case fiFirst:
			x.first = normName(v(FirstName))
			x.keys[f] = x.first.compact
		case fiMiddle:
			x.middle = normName(v(MiddleName))
			x.keys[f] = x.middle.compact
		case fiLast:
			x.last = normName(v(LastName))
			x.keys[f] = x.last.compact
		case fiName:
			if p.typ == School {
				x.schoolName = normSchoolName(v(Name))
				if !x.schoolName.empty() {
					x.keys[f] = x.schoolName.key()
				}
			} else {
				x.title = normName(v(Name))
				x.keys[f] = x.title.compact
			}
		case fiDOB:
			x.dob = normDate(v(DOB))
			x.keys[f] = x.dob.String()
		case fiEmail:
			x.email = normEmail(v(Email))
			x.keys[f] = x.email.full()
		case fiGrade:
			x.grade = normGrade(v(Grade))
			x.keys[f] = x.grade.code
		case fiState:
			x.keys[f] = normState(v(State))
		case fiSchool:
			x.school = refs.get(v(SchoolRef), true)
		case fiTeacher:
			x.teacher = refs.get(v(TeacherRef), false)
		default: // identifiers, period, section number
			id := normID(v(fieldNames[f]))
			if junkIDs[id] {
				id = ""
			}
			x.keys[f] = id
		}
		if x.keys[f] != "" {
			x.kh[f] = strHash(x.keys[f])
		}
	}
}

// strHash is a 64-bit FNV-1a hash of s.
func strHash(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// ref returns a record's reference value for a ref field.
func (x *prep) ref(f fieldIdx) *refVal {
	if f == fiSchool {
		return &x.school
	}
	return &x.teacher
}

// weighClever fills the Clever records' value weights from the values' frequencies among them.
func weighClever(p *plan, cl []prep) {
	n := len(cl)
	for _, f := range p.order {
		counts := make(map[string]int32, n)
		if f == fiSchool || f == fiTeacher {
			for i := range cl {
				for _, k := range cl[i].ref(f).keys {
					counts[k]++
				}
			}
			for i := range cl {
				c := int32(0)
				for _, k := range cl[i].ref(f).keys { // the most common of its keys: conservative
					c = max(c, counts[k])
				}
				cl[i].w.agree[f], cl[i].w.differ[f] = valueWeights(f, int(c), n)
			}
			continue
		}
		for i := range cl {
			if k := cl[i].keys[f]; k != "" {
				counts[k]++
			}
		}
		for i := range cl {
			cl[i].w.agree[f], cl[i].w.differ[f] = valueWeights(f, int(counts[cl[i].keys[f]]), n)
		}
	}
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

// trimmed is a raw value for explanations: trimmed and at most 40 characters.
func trimmed(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		r := []rune(s)
		if len(r) > 40 {
			return string(r[:39]) + "…"
		}
	}
	return s
}
