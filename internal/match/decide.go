package match

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// cand is a Clever record scored against one app record.
type cand struct {
	c            int32
	w            float64
	strong       bool // a strong identifier agrees (or a section's composite key) and none differs
	corroborated bool // strong, and the other fields don't speak against it (corroborationFloor)
	touch        bool // some strong identifier agrees, whatever else differs
	method       string
	explanation  string
}

// scored is what scoring found for one app record.
type scored struct {
	cands     []cand // kept candidates, best first
	qualified []int32
	touched   int // candidates on which some strong identifier agrees
	held      int // strong candidates held back by the other fields
}

// worker holds one goroutine's scratch space.
type worker struct {
	seen    []uint32 // stamp per Clever record: seen in the current app record's blocks
	gen     uint32
	keys    []blockKey
	ids     []int32
	kept    []keptEval
	pairs   int
	skipped skipCounter
}

type keptEval struct {
	c int32
	e pairEval
}

// parallel runs fn over [0, n) in chunks on every CPU; fn gets the worker's index.
func parallel(n int, fn func(w, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/256))
	const chunk = 256
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(w, lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

func workerCount(n int) int { return min(runtime.GOMAXPROCS(0), max(1, n/256)) }

// score finds and scores every app record's candidates.
func score(p *plan, ix *index, ap, cp []prep) ([]scored, int, skipCounter) {
	out := make([]scored, len(ap))
	ws := make([]*worker, workerCount(len(ap)))
	for i := range ws {
		ws[i] = &worker{seen: make([]uint32, len(cp))}
	}
	parallel(len(ap), func(wi, lo, hi int) {
		w := ws[wi]
		for i := lo; i < hi; i++ {
			out[i] = w.scoreOne(p, ix, &ap[i], cp)
		}
	})
	pairs := 0
	var sk skipCounter
	for _, w := range ws {
		pairs += w.pairs
		sk.merge(&w.skipped)
	}
	return out, pairs, sk
}

func (w *worker) scoreOne(p *plan, ix *index, a *prep, cp []prep) scored {
	w.ids = w.candidates(p, ix, a, w.ids[:0])
	slices.Sort(w.ids) // memory order
	w.pairs += len(w.ids)
	w.kept = w.kept[:0]
	var s scored
	var e pairEval
	for _, c := range w.ids {
		evaluate(p, a, &cp[c], &e)
		touch := e.strongAgree != 0 || e.composite
		if touch {
			s.touched++
		}
		if e.strong() {
			if e.support >= corroborationFloor {
				s.qualified = append(s.qualified, c)
			} else {
				s.held++
			}
		}
		if touch || e.total >= suggestFloor {
			w.kept = append(w.kept, keptEval{c, e})
		}
	}
	if len(w.kept) == 0 {
		return s
	}
	slices.SortFunc(w.kept, func(x, y keptEval) int {
		if c := cmp.Compare(y.e.total, x.e.total); c != 0 {
			return c
		}
		return strings.Compare(cp[x.c].rec.ID, cp[y.c].rec.ID)
	})
	best := w.kept[0].e.total
	n := 0
	for _, k := range w.kept {
		touch := k.e.strongAgree != 0 || k.e.composite
		if !touch && (k.e.total < best-relativeCut || n >= p.maxCandidates) {
			continue
		}
		c := &cp[k.c]
		s.cands = append(s.cands, cand{
			c:            k.c,
			w:            k.e.total,
			strong:       k.e.strong(),
			corroborated: k.e.strong() && k.e.support >= corroborationFloor,
			touch:        touch,
			method:       method(p, &k.e),
			explanation:  explain(p, a, c, &k.e),
		})
		n++
	}
	return s
}

// Match links app records to Clever records of one type. It blocks on normalised keys, scores the
// candidate pairs, and decides each app record.
//
// An app record is Matched only when exactly one Clever record qualifies — a strong identifier agrees,
// none differs, and the other fields don't speak against it — no other candidate shares a strong
// identifier with it, no other app record's strong match is the same Clever record, and it is not a
// duplicate of another app record. Otherwise its candidates above the floor are Suggested, best
// first; with none it is Unmatched. App records that look like the same one are Duplicate (with
// their candidates still shown). Match is deterministic: the same input gives the same Outcome.
func Match(typ Type, app, clever []Record, cfg Config) Outcome {
	p := newPlan(typ, cfg)
	ap := make([]prep, len(app))
	cp := make([]prep, len(clever))
	caches := make([]refCache, runtime.GOMAXPROCS(0))
	for i := range caches {
		caches[i] = refCache{}
	}
	parallel(len(ap), func(w, lo, hi int) {
		for i := lo; i < hi; i++ {
			prepare(&p, &app[i], &ap[i], caches[w])
		}
	})
	parallel(len(cp), func(w, lo, hi int) {
		for i := lo; i < hi; i++ {
			prepare(&p, &clever[i], &cp[i], caches[w])
		}
	})
	weighClever(&p, cp)
	ix := buildIndex(&p, cp)
	sc, pairs, skipped := score(&p, ix, ap, cp)

	out := Outcome{
		Results: make([]Result, len(app)),
		Stats: Stats{
			AppRecords:    len(app),
			CleverRecords: len(clever),
			Pairs:         pairs,
			SkippedBlocks: skipped.report(),
		},
	}

	// App-side duplicates.
	dupOf := make(map[int32][]int32)
	for _, g := range duplicateGroups(&p, ap) {
		for _, i := range g {
			dupOf[i] = g
		}
	}

	// Tentative matches, and who claims each Clever record.
	tentative := make([]int32, len(ap))
	claims := make(map[int32][]int32)
	for i := range sc {
		tentative[i] = -1
		if len(sc[i].qualified) == 1 && sc[i].touched == 1 {
			c := sc[i].qualified[0]
			tentative[i] = c
			claims[c] = append(claims[c], int32(i))
		}
	}

	matched := make([]bool, len(cp))
	shown := make([]bool, len(cp))
	for i := range sc {
		r := &out.Results[i]
		r.AppID = app[i].ID
		s := &sc[i]
		cands := make([]Candidate, len(s.cands))
		for k, c := range s.cands {
			cands[k] = Candidate{
				CleverID:    clever[c.c].ID,
				Weight:      c.w,
				Score:       scoreOf(c.w),
				Method:      c.method,
				Explanation: c.explanation,
				Strong:      c.strong,
			}
		}
		note := func(k int, why string) { cands[k].Explanation += "; " + why }

		// Reasons a strong candidate isn't matched, for the reviewer.
		for k, c := range s.cands {
			switch {
			case c.strong && !c.corroborated:
				note(k, "held for review: the other fields disagree")
			case c.touch && !c.strong:
				note(k, "held for review: another strong identifier differs")
			case c.corroborated && len(s.qualified) > 1:
				note(k, "held for review: "+itoa(len(s.qualified))+" Clever records qualify")
			case c.corroborated && s.touched > 1:
				note(k, "held for review: another Clever record shares a strong identifier")
			}
		}

		if g, ok := dupOf[int32(i)]; ok {
			r.Status = Duplicate
			for _, j := range g {
				if j != int32(i) {
					r.DuplicateOf = append(r.DuplicateOf, app[j].ID)
				}
			}
			r.Candidates = cands
			for _, c := range s.cands {
				shown[c.c] = true
			}
			continue
		}
		if t := tentative[i]; t >= 0 {
			cl := claims[t]
			if len(cl) == 1 {
				k := slices.IndexFunc(s.cands, func(c cand) bool { return c.c == t })
				r.Status = Matched
				r.CleverID = clever[t].ID
				r.Candidates = []Candidate{cands[k]}
				matched[t] = true
				continue
			}
			for _, j := range cl {
				if j != int32(i) {
					r.DuplicateOf = append(r.DuplicateOf, app[j].ID)
				}
			}
			slices.Sort(r.DuplicateOf)
			k := slices.IndexFunc(s.cands, func(c cand) bool { return c.c == t })
			note(k, "held for review: also the strong match of app record "+list(r.DuplicateOf))
		}
		if len(cands) == 0 {
			r.Status = Unmatched
			continue
		}
		r.Status = Suggested
		r.Candidates = cands
		for _, c := range s.cands {
			shown[c.c] = true
		}
	}

	for _, g := range duplicateGroups(&p, cp) {
		ids := make([]string, len(g))
		for k, i := range g {
			ids[k] = clever[i].ID
		}
		out.CleverDuplicates = append(out.CleverDuplicates, ids)
	}
	for i := range cp {
		if !matched[i] && !shown[i] {
			out.CleverUnmatched = append(out.CleverUnmatched, clever[i].ID)
		}
	}
	slices.Sort(out.CleverUnmatched)
	return out
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
