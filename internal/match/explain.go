package match

import (
	"bytes"
	"strings"
)

// explainer writes explanations into buffers it reuses: one per goroutine.
type explainer struct {
	agree        []string
	near, differ []byte // clauses, each preceded by "; "
	out, tmp     []byte
}

// explain says in plain words what agrees and what differs between app record a and Clever record c:
// first the fields that agree ("sis id, name and birth date agree"), then the near agreements
// ("nickname: Bob / Robert", "first and last names swapped"), then what differs with both values
// ("e-mail differs: a.smith@ vs asmith@"). App values come first. Fields missing on either side are
// not mentioned. The result is valid until the next call.
func (x *explainer) explain(p *plan, a, c *prep, e *pairEval) []byte {
	x.agree, x.near, x.differ = x.agree[:0], x.near[:0], x.differ[:0]
	namesDone := false
	for _, f := range p.order {
		lv := e.lv[f]
		if lv == lvMissing {
			continue
		}
		if (f == fiFirst || f == fiLast) && !namesDone && p.person {
			if e.swapped {
				namesDone = true
				x.near = append(x.near, "; first and last names swapped: "...)
				x.near = x.pair(x.near, raw(a, FirstName)+" "+raw(a, LastName), raw(c, FirstName)+" "+raw(c, LastName), " / ")
				if e.lv[fiFirst] != lvExact {
					x.near = x.nameNear(x.near, fiFirst, e.lv[fiFirst], raw(a, LastName), raw(c, FirstName))
				}
				if e.lv[fiLast] != lvExact {
					x.near = x.nameNear(x.near, fiLast, e.lv[fiLast], raw(a, FirstName), raw(c, LastName))
				}
				continue
			}
			if e.lv[fiFirst] == lvExact && e.lv[fiLast] == lvExact {
				namesDone = true
				x.agree = append(x.agree, "name")
				continue
			}
		}
		if namesDone && (f == fiFirst || f == fiLast) {
			continue
		}
		switch lv {
		case lvExact:
			x.agree = append(x.agree, fieldLabels[f])
		case lvDiffer:
			x.differ = append(append(append(x.differ, "; "...), fieldLabels[f]...), " differs: "...)
			x.differ = x.values(x.differ, f, a, c, " vs ")
		default:
			switch f {
			case fiFirst:
				x.near = x.nameNear(x.near, f, lv, raw(a, FirstName), raw(c, FirstName))
			case fiLast:
				x.near = x.nameNear(x.near, f, lv, raw(a, LastName), raw(c, LastName))
			case fiMiddle:
				x.near = x.nameNear(x.near, f, lv, raw(a, MiddleName), raw(c, MiddleName))
			default:
				x.near = x.nearClause(x.near, f, lv, a, c)
			}
		}
	}
	out := x.out[:0]
	if len(x.agree) > 0 {
		out = appendList(out, x.agree)
		if len(x.agree) == 1 {
			out = append(out, " agrees"...)
		} else {
			out = append(out, " agree"...)
		}
	}
	out = append(append(out, x.near...), x.differ...)
	x.out = out
	if len(x.agree) == 0 {
		if len(out) == 0 {
			return append(out, "nothing to compare"...)
		}
		return out[len("; "):]
	}
	return out
}

// raw is a record's value of a field, trimmed.
func raw(x *prep, f Field) string { return strings.TrimSpace(x.rec.Values[f]) }

// nameNear appends a clause on names that nearly agree.
func (x *explainer) nameNear(dst []byte, f fieldIdx, lv level, a, c string) []byte {
	dst = append(dst, "; "...)
	switch lv {
	case lvNickname:
		return x.pair(append(dst, "nickname: "...), a, c, " / ")
	case lvFuzzy:
		return x.pair(append(append(dst, fieldLabels[f]...), " spelt differently: "...), a, c, " / ")
	case lvPartial:
		return x.pair(append(append(dst, fieldLabels[f]...), " agrees in part: "...), a, c, " / ")
	case lvInitial:
		return x.pair(append(append(dst, fieldLabels[f]...), " initial only: "...), a, c, " / ")
	case lvExact:
		return append(append(dst, fieldLabels[f]...), " agrees"...)
	}
	return x.pair(append(append(dst, fieldLabels[f]...), " differs: "...), a, c, " vs ")
}

// nearClause appends a clause on other fields that nearly agree.
func (x *explainer) nearClause(dst []byte, f fieldIdx, lv level, a, c *prep) []byte {
	dst = append(dst, "; "...)
	switch f {
	case fiEmail:
		if lv == lvPartial {
			dst = append(dst, "same e-mail user at another domain: "...)
			dst = x.trimmed(dst, "@", a.email.domain, "")
			dst = append(dst, " / "...)
			return x.trimmed(dst, "@", c.email.domain, "")
		}
		dst = append(dst, "e-mail alike: "...)
		dst = x.trimmed(dst, "", a.email.local, "@")
		dst = append(dst, " / "...)
		return x.trimmed(dst, "", c.email.local, "@")
	case fiDOB:
		if lv == lvTransposed {
			return x.values(append(dst, "birth date with day and month swapped: "...), f, a, c, " / ")
		}
		return x.values(append(dst, "birth date one part off: "...), f, a, c, " / ")
	case fiGrade:
		return x.values(append(dst, "grade one apart: "...), f, a, c, " / ")
	case fiName:
		if lv == lvPartial {
			return x.values(append(dst, "name agrees in part: "...), f, a, c, " / ")
		}
		return x.values(append(dst, "name spelt differently: "...), f, a, c, " / ")
	}
	return x.values(append(append(dst, fieldLabels[f]...), " close: "...), f, a, c, " / ")
}

// values appends a field's two values, the app's first.
func (x *explainer) values(dst []byte, f fieldIdx, a, c *prep, sep string) []byte {
	switch f {
	case fiFirst:
		return x.pair(dst, raw(a, FirstName), raw(c, FirstName), sep)
	case fiMiddle:
		return x.pair(dst, raw(a, MiddleName), raw(c, MiddleName), sep)
	case fiLast:
		return x.pair(dst, raw(a, LastName), raw(c, LastName), sep)
	case fiDOB:
		var ab, cb [10]byte
		var av, cv []byte
		if !a.dob.empty() {
			av = a.dob.format(&ab)
		}
		if !c.dob.empty() {
			cv = c.dob.format(&cb)
		}
		return append(append(append(dst, av...), sep...), cv...)
	case fiEmail:
		if a.email.domain == c.email.domain {
			dst = x.trimmed(dst, "", a.email.local, "@")
			dst = append(dst, sep...)
			return x.trimmed(dst, "", c.email.local, "@")
		}
		dst = x.trimmed(dst, a.email.local, emailAt(a.email.local), a.email.domain)
		dst = append(dst, sep...)
		return x.trimmed(dst, c.email.local, emailAt(c.email.local), c.email.domain)
	case fiName:
		return x.pair(dst, raw(a, Name), raw(c, Name), sep)
	case fiGrade:
		return x.pair(dst, a.grade.code, c.grade.code, sep)
	case fiSchool, fiTeacher:
		return x.pair(dst, a.ref(f).raw, c.ref(f).raw, sep)
	}
	return x.pair(dst, a.rec.Values[fieldNames[f]], c.rec.Values[fieldNames[f]], sep)
}

// emailAt is the "@" of a full address: none when the address is missing (emailVal.full).
func emailAt(local string) string {
	if local == "" {
		return ""
	}
	return "@"
}

// pair appends two values for explanations, trimmed.
func (x *explainer) pair(dst []byte, a, b, sep string) []byte {
	dst = x.trimmed(dst, "", a, "")
	dst = append(dst, sep...)
	return x.trimmed(dst, "", b, "")
}

// trimmed appends trimmed(pre + s + post).
func (x *explainer) trimmed(dst []byte, pre, s, post string) []byte {
	x.tmp = append(append(append(x.tmp[:0], pre...), s...), post...)
	t := bytes.TrimSpace(x.tmp)
	if len(t) <= 40 {
		return append(dst, t...)
	}
	return append(dst, trimmed(string(t))...)
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

// appendList joins words as English does: "a", "a and b", "a, b and c".
func appendList(dst []byte, words []string) []byte {
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			dst = append(dst, " and "...)
		default:
			dst = append(dst, ", "...)
		}
		dst = append(dst, w...)
	}
	return dst
}

// list joins words as English does: "a", "a and b", "a, b and c".
func list(words []string) string {
	return string(appendList(nil, words))
}
