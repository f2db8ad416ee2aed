package match

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// cand is what decisions need to know of a kept candidate besides its Candidate.
type cand struct {
	c            int32
	strong       bool // a strong identifier agrees (or a section's composite key) and none differs
	corroborated bool // strong, and the other fields don't speak against it (corroborationFloor)
	touch        bool // some strong identifier agrees, whatever else differs
}

// scored is what scoring found for one app record.
type scored struct {
	cands     []Candidate // kept candidates, best first
	info      []cand      // cands' details, by position
	qualified int32       // how many candidates qualify for a match
	first     int32       // the first of them, by Clever record (memory order)
	touched   int32       // candidates on which some strong identifier agrees
}

// worker holds one goroutine's scratch space.
type worker struct {
	seen    []uint32 // stamp per Clever record: seen in the current app record's blocks
	gen     uint32
	keys    []blockKey
	ids     []int32
	kept    []keptEval
	info    []cand // a block the records' info slices are cut from
	ex      explainer
	names   nameMemo
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

// score finds and scores every app record's candidates, taking them in memory order. The result is in
// input order: inputs gives each position's input record.
func score(p *plan, ix *index, ap, cp []prep, inputs []int32) ([]scored, int, skipCounter) {
	out := make([]scored, len(ap))
	ws := make([]*worker, workerCount(len(ap)))
	for i := range ws {
		ws[i] = &worker{seen: make([]uint32, len(cp))}
	}
	parallel(len(ap), func(wi, lo, hi int) {
		w := ws[wi]
		for k := lo; k < hi; k++ {
			out[inputs[k]] = w.scoreOne(p, ix, &ap[k], cp)
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
	s := scored{first: -1}
	var e pairEval
	for _, c := range w.ids {
		evaluate(p, a, &cp[c], &w.names, &e)
		touch := e.strongAgree != 0 || e.composite
		if touch {
			s.touched++
		}
		if e.strong() && e.support >= corroborationFloor {
			if s.qualified == 0 {
				s.first = c
			}
			s.qualified++
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
	shown := 0
	for i := range w.kept {
		k := &w.kept[i]
		touch := k.e.strongAgree != 0 || k.e.composite
		if !touch && (k.e.total < best-relativeCut || shown >= p.maxCandidates) {
			k.c = -1 // dropped
			continue
		}
		shown++
	}
	s.cands = make([]Candidate, 0, shown)
	if cap(w.info)-len(w.info) < shown {
		w.info = make([]cand, 0, max(1024, shown))
	}
	s.info = w.info[len(w.info) : len(w.info)+shown : len(w.info)+shown]
	w.info = w.info[:len(w.info)+shown]
	for i := range w.kept {
		k := &w.kept[i]
		if k.c < 0 {
			continue
		}
		c := cand{
			c:            k.c,
			strong:       k.e.strong(),
			corroborated: k.e.strong() && k.e.support >= corroborationFloor,
			touch:        k.e.strongAgree != 0 || k.e.composite,
		}
		ex := w.ex.explain(p, a, &cp[k.c], &k.e)
		// Reasons a strong candidate isn't matched, for the reviewer.
		switch {
		case c.strong && !c.corroborated:
			ex = append(ex, "; held for review: the other fields disagree"...)
		case c.touch && !c.strong:
			ex = append(ex, "; held for review: another strong identifier differs"...)
		case c.corroborated && s.qualified > 1:
			ex = append(append(append(ex, "; held for review: "...), itoa(int(s.qualified))...), " Clever records qualify"...)
		case c.corroborated && s.touched > 1:
			ex = append(ex, "; held for review: another Clever record shares a strong identifier"...)
		}
		s.info[len(s.cands)] = c
		s.cands = append(s.cands, Candidate{
			CleverID:    cp[k.c].rec.ID,
			Weight:      k.e.total,
			Score:       scoreOf(k.e.total),
			Method:      method(p, &k.e),
			Explanation: string(ex),
			Strong:      c.strong,
		})
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
	p.tab = newStrtab()
	ap := make([]prep, len(app))
	cp := make([]prep, len(clever))
	nk := p.nkeys
	akeys, ckeys := make([]string, len(ap)*nk), make([]string, len(cp)*nk)
	preparers := make([]*preparer, workerCount(max(len(ap), len(cp))))
	for i := range preparers {
		preparers[i] = newPreparer(p.tab)
	}
	parallel(len(ap), func(w, lo, hi int) {
		for i := lo; i < hi; i++ {
			prepare(&p, &app[i], &ap[i], preparers[w], akeys[i*nk:(i+1)*nk:(i+1)*nk])
		}
	})
	parallel(len(cp), func(w, lo, hi int) {
		for i := lo; i < hi; i++ {
			prepare(&p, &clever[i], &cp[i], preparers[w], ckeys[i*nk:(i+1)*nk:(i+1)*nk])
		}
	})
	numberKeys(&p, ap, cp)
	// Both sides are rearranged so that the records an app record is compared with are near each
	// other in memory, and near those of the app records scored before it (localOrder). From here on
	// a Clever record is known by its position; sc is in input order.
	aperm, apos := arrange(&p, ap, akeys)
	_, cpos := arrange(&p, cp, ckeys)
	weighClever(&p, cp)
	ix := buildIndex(&p, cp)
	sc, pairs, skipped := score(&p, ix, ap, cp, aperm)

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
	for _, g := range duplicateGroups(&p, ap, apos) {
		for k, i := range g {
			g[k] = aperm[i]
		}
		for _, i := range g {
			dupOf[i] = g
		}
	}

	// Tentative matches, and how many app records claim each Clever record.
	tentative := make([]int32, len(ap))
	claimed := make([]int32, len(cp))
	for i := range sc {
		tentative[i] = -1
		if sc[i].qualified == 1 && sc[i].touched == 1 {
			c := sc[i].first
			tentative[i] = c
			claimed[c]++
		}
	}
	// The app records claiming a Clever record claimed more than once, in order.
	claims := make(map[int32][]int32)
	for i, t := range tentative {
		if t >= 0 && claimed[t] > 1 {
			claims[t] = append(claims[t], int32(i))
		}
	}

	matched := make([]bool, len(cp))
	shown := make([]bool, len(cp))
	for i := range sc {
		r := &out.Results[i]
		r.AppID = app[i].ID
		s := &sc[i]
		cands := s.cands

		if g, ok := dupOf[int32(i)]; ok {
			r.Status = Duplicate
			for _, j := range g {
				if j != int32(i) {
					r.DuplicateOf = append(r.DuplicateOf, app[j].ID)
				}
			}
			if cands == nil {
				cands = []Candidate{}
			}
			r.Candidates = cands
			for _, c := range s.info {
				shown[c.c] = true
			}
			continue
		}
		if t := tentative[i]; t >= 0 {
			k := slices.IndexFunc(s.info, func(c cand) bool { return c.c == t })
			if claimed[t] == 1 {
				r.Status = Matched
				r.CleverID = cp[t].rec.ID
				r.Candidates = cands[k : k+1 : k+1]
				matched[t] = true
				continue
			}
			for _, j := range claims[t] {
				if j != int32(i) {
					r.DuplicateOf = append(r.DuplicateOf, app[j].ID)
				}
			}
			slices.Sort(r.DuplicateOf)
			cands[k].Explanation += "; held for review: also the strong match of app record " + list(r.DuplicateOf)
		}
		if len(cands) == 0 {
			r.Status = Unmatched
			continue
		}
		r.Status = Suggested
		r.Candidates = cands
		for _, c := range s.info {
			shown[c.c] = true
		}
	}

	for _, g := range duplicateGroups(&p, cp, cpos) {
		ids := make([]string, len(g))
		for k, i := range g {
			ids[k] = cp[i].rec.ID
		}
		out.CleverDuplicates = append(out.CleverDuplicates, ids)
	}
	for i := range cp {
		if !matched[i] && !shown[i] {
			out.CleverUnmatched = append(out.CleverUnmatched, cp[i].rec.ID)
		}
	}
	slices.Sort(out.CleverUnmatched)
	return out
}

// localOrder orders records so that those likely to share blocking keys are near each other: people by
// the Soundex of the last name, then by last and first name; other records as given. Scoring an app
// record reads the Clever records it shares keys with, so with both sides in this order consecutive
// app records mostly read the same Clever records, from the caches. Only speed depends on it.
func localOrder(p *plan, xs []prep) []int32 {
	order := make([]int32, len(xs))
	for i := range order {
		order[i] = int32(i)
	}
	if !p.person {
		return order
	}
	type key struct {
		sx          uint32
		last, first uint64
		i           int32
	}
	keys := make([]key, len(xs))
	for i := range xs {
		x := &xs[i]
		k := key{last: x.last.h, first: x.first.h, i: int32(i)}
		if !x.last.empty() {
			if sx := x.last.blockForms().wordSx[0]; sx != "" {
				k.sx = uint32(sx[0])<<24 | uint32(sx[1])<<16 | uint32(sx[2])<<8 | uint32(sx[3])
			}
		}
		keys[i] = k
	}
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.sx != b.sx:
			return cmp.Compare(a.sx, b.sx)
		case a.last != b.last:
			return cmp.Compare(a.last, b.last)
		case a.first != b.first:
			return cmp.Compare(a.first, b.first)
		}
		return cmp.Compare(a.i, b.i)
	})
	for k := range keys {
		order[k] = keys[k].i
	}
	return order
}

// arrange puts records in localOrder, in place, with their keys (prep.keys, cut from keys): xs[k]
// becomes the old xs[perm[k]], and pos is each old record's new position.
func arrange(p *plan, xs []prep, keys []string) (perm, pos []int32) {
	perm = localOrder(p, xs)
	nk := p.nkeys
	move := func(dst int, x *prep) {
		copy(keys[dst*nk:(dst+1)*nk], x.keys)
		xs[dst] = *x
		xs[dst].keys = keys[dst*nk : (dst+1)*nk : (dst+1)*nk]
	}
	done := make([]bool, len(xs))
	tmpKeys := make([]string, nk)
	for k := range xs {
		if done[k] || int(perm[k]) == k {
			continue
		}
		tmp := xs[k]
		tmp.keys = tmpKeys
		copy(tmpKeys, xs[k].keys)
		for j := k; ; {
			done[j] = true
			src := int(perm[j])
			if src == k {
				move(j, &tmp)
				break
			}
			move(j, &xs[src])
			j = src
		}
	}
	pos = make([]int32, len(xs))
	for k, i := range perm {
		pos[i] = int32(k)
	}
	return perm, pos
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
