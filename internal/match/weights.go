package match

import "math"

// fieldModel is a field's Fellegi–Sunter parameters: for each comparison level, m — how often a true
// match shows that level (among pairs where both sides have the value) — and u — how often two
// different people (or schools, or sections) do. A level's weight is log2(m/u) bits.
//
// For lvExact, u is not fixed: it is the agreeing value's frequency on the Clever side (a surname
// carried by 1% of the district agrees by chance for 1% of non-matching pairs), smoothed toward the
// prior u0 (see valueU). The lvDiffer weight is log2(m / (1 − u_exact − Σ u of the other levels)).
type fieldModel struct {
	m  [numLevels]float64
	u  [numLevels]float64 // u of the fixed levels; u[lvExact] is the prior u0
	wl [numLevels]float32 // log2(m/u) of the fixed levels, computed once
}

// smoothing is the weight, in pseudo-records, of the prior u0 against the Clever side's own
// frequencies: with a few hundred records the priors dominate, with 100,000 the data do.
const smoothing = 1000

// valueU is the chance that a non-matching pair agrees on a value held by count of n Clever records:
// (count + smoothing·u0) / (n + smoothing).
func valueU(count, n int, u0 float64) float64 {
	return (float64(count) + smoothing*u0) / float64(n+smoothing)
}

// The m's say how clean each field is among true matches; they are judgement, set from what district
// exports look like (ids are rarely wrong, e-mails change, first names are shortened, birth dates are
// mistyped), and the u's of the non-exact levels are rough chance rates among non-matches.
var models = func() [numFields]fieldModel {
	var ms [numFields]fieldModel
	set := func(f fieldIdx, lv level, m, u float64) {
		ms[f].m[lv] = m
		ms[f].u[lv] = u
	}
	for _, f := range []fieldIdx{fiSIS, fiStudentNumber, fiStateID, fiTeacherNumber, fiStaffID, fiNCES, fiMDR, fiSchoolNumber} {
		// Identifiers: 95% of true pairs carry the same value after normalisation (5%: reissued,
		// mistyped, another system's id); a given value belongs to about one record, so u0 is tiny.
		set(f, lvExact, 0.95, 1e-5)
		set(f, lvDiffer, 0.05, 0)
	}
	// E-mail: changed addresses are common (new domain, a.smith → asmith), so m of exact is 0.85. The same
	// local part at another domain is strong evidence; local parts alike at the same domain less so.
	set(fiEmail, lvExact, 0.85, 1e-5)
	set(fiEmail, lvPartial, 0.06, 1e-4)
	set(fiEmail, lvFuzzy, 0.04, 5e-4)
	set(fiEmail, lvDiffer, 0.05, 0)
	// Birth date: u0 is one day in about 13 birth years; day/month swaps and single-part typos are the
	// usual errors.
	set(fiDOB, lvExact, 0.93, 2e-4)
	set(fiDOB, lvTransposed, 0.015, 2e-4)
	set(fiDOB, lvOneOff, 0.03, 4e-3)
	set(fiDOB, lvDiffer, 0.025, 0)
	// First name: nicknames, typos, a second given name dropped, initials.
	set(fiFirst, lvExact, 0.85, 5e-3)
	set(fiFirst, lvNickname, 0.04, 2e-3)
	set(fiFirst, lvFuzzy, 0.04, 3e-3)
	set(fiFirst, lvPartial, 0.03, 2e-3)
	set(fiFirst, lvInitial, 0.02, 2e-3)
	set(fiFirst, lvDiffer, 0.02, 0)
	// Last name: typos, a second surname dropped (Garcia Lopez / Garcia), changed surnames.
	set(fiLast, lvExact, 0.89, 2e-3)
	set(fiLast, lvFuzzy, 0.04, 1e-3)
	set(fiLast, lvPartial, 0.03, 5e-4)
	set(fiLast, lvInitial, 0.01, 1e-3)
	set(fiLast, lvDiffer, 0.03, 0)
	// Middle name: often missing, initialled or inconsistent, so it counts for little either way.
	set(fiMiddle, lvExact, 0.6, 1e-2)
	set(fiMiddle, lvInitial, 0.2, 2e-2)
	set(fiMiddle, lvFuzzy, 0.05, 2e-3)
	set(fiMiddle, lvDiffer, 0.15, 0)
	// Grade: the app's export may be a year behind.
	set(fiGrade, lvExact, 0.8, 0.08)
	set(fiGrade, lvPartial, 0.15, 0.12)
	set(fiGrade, lvDiffer, 0.05, 0)
	// School (a person's or a section's): students move.
	set(fiSchool, lvExact, 0.9, 0.05)
	set(fiSchool, lvDiffer, 0.1, 0)
	// A section's teacher.
	set(fiTeacher, lvExact, 0.9, 0.02)
	set(fiTeacher, lvDiffer, 0.1, 0)
	// A school's name (core and kind) or a section's name.
	set(fiName, lvExact, 0.8, 1e-3)
	set(fiName, lvPartial, 0.1, 2e-3)
	set(fiName, lvFuzzy, 0.06, 2e-3)
	set(fiName, lvDiffer, 0.04, 0)
	// A school's state: nearly always right; most of a district's schools share it.
	set(fiState, lvExact, 0.98, 0.02)
	set(fiState, lvDiffer, 0.02, 0)
	// A section's period and section number: few distinct values.
	set(fiPeriod, lvExact, 0.85, 0.1)
	set(fiPeriod, lvDiffer, 0.15, 0)
	set(fiSectionNumber, lvExact, 0.85, 0.05)
	set(fiSectionNumber, lvDiffer, 0.15, 0)

	for f := range ms {
		for lv := range ms[f].m {
			if lv != int(lvExact) && lv != int(lvDiffer) && ms[f].u[lv] > 0 {
				ms[f].wl[lv] = float32(math.Log2(ms[f].m[lv] / ms[f].u[lv]))
			}
		}
	}
	return ms
}()

// swapPenalty is subtracted from the two name weights when first and last names agree only crosswise:
// log2(m_exact(first)·m_exact(last) / m_swapped) with m_swapped = 1% of true matches.
var swapPenalty = float32(math.Log2(0.85 * 0.89 / 0.01))

// valueWeights are the agreement and disagreement weights of a Clever value held by count of n Clever
// records: log2(m/u) clamped at 0 from below, and log2(m_differ/(1−u−Σu)) clamped at 0 from above (a
// value nearly everyone has, such as the district's state, says little when it agrees and its
// disagreement can't count as agreement).
func valueWeights(f fieldIdx, count, n int) (agree, differ float32) {
	md := &models[f]
	u := valueU(count, n, md.u[lvExact])
	agree = float32(math.Max(0, math.Log2(md.m[lvExact]/u)))
	rest := 1 - u
	for lv, ul := range md.u {
		if lv != int(lvExact) {
			rest -= ul
		}
	}
	rest = math.Max(rest, 1e-3)
	differ = float32(math.Min(0, math.Log2(md.m[lvDiffer]/rest)))
	return agree, differ
}

// Score mapping: Weight is a log-likelihood ratio in bits; Score is the logistic
// 1 / (1 + 2^((scoreCenter − Weight)/scoreScale)), so 12 bits (1 in 4,096 odds against chance) reads
// 0.5, 20 bits 0.94, 4 bits 0.06.
const (
	scoreCenter = 12.0
	scoreScale  = 2.0
)

func scoreOf(w float64) float64 {
	s := 1 / (1 + math.Exp2((scoreCenter-w)/scoreScale))
	return math.Round(s*1e4) / 1e4
}

// Decision thresholds, in bits.
const (
	// suggestFloor is the least weight a candidate needs to be suggested: about 16 times likelier as a
	// match than by chance.
	suggestFloor = 4.0
	// relativeCut drops candidates more than this many bits below the best one (2^15 times less likely).
	relativeCut = 15.0
	// corroborationFloor: an automatic match also needs the fields other than the strong identifiers
	// not to speak against it by more than this — an agreeing sis_id on a record whose first name,
	// last name and birth date all differ is held for review, not matched.
	corroborationFloor = -8.0
)
