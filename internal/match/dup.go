package match

import (
	"cmp"
	"slices"
	"strings"
)

// unionFind groups record indices.
type unionFind []int32

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = int32(i)
	}
	return u
}

func (u unionFind) find(i int32) int32 {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	switch {
	case ra < rb:
		u[rb] = ra
	case rb < ra:
		u[ra] = rb
	}
}

// distinct reports whether two lookalike records of one side are told apart: they carry different
// values of a strong identifier, or (people) different schools.
func distinct(p *plan, a, b *prep) bool {
	for _, f := range p.order {
		if p.strong[f] && a.ids[f] != 0 && b.ids[f] != 0 && a.ids[f] != b.ids[f] {
			return true
		}
	}
	if p.person {
		if cmpRefP(a.school, b.school) == lvDiffer {
			return true
		}
	}
	return false
}

// lookalikeKey is the key under which two records of one side look like the same one: people with the
// same normalised first name, last name and birth date (and, checked by distinct, no different school);
// schools with the same name in the same state; sections with the same school, teacher and name,
// period and section number. People and schools have theirs as numbers (a, b, c); sections as a
// string; ok is false when the record has too little for one.
func lookalikeKey(p *plan, x *prep) (a, b, c uint32, s string, ok bool) {
	switch {
	case p.person:
		if x.first.empty() || x.last.empty() || x.dob.empty() || !p.active[fiDOB] {
			return 0, 0, 0, "", false
		}
		return x.first.id, x.last.id, x.dob.num(), "", true
	case p.typ == School:
		if x.schoolName.core == "" {
			return 0, 0, 0, "", false
		}
		return x.ids[fiName], x.ids[fiState], 0, "", true
	case p.typ == Section:
		name, period, number := x.title.compact, x.key(p, fiPeriod), x.key(p, fiSectionNumber)
		if x.school.empty() || x.teacher.empty() || name+period+number == "" {
			return 0, 0, 0, "", false
		}
		return 0, 0, 0, strings.Join(x.school.keys, "|") + "\x00" + strings.Join(x.teacher.keys, "|") + "\x00" +
			name + "\x00" + period + "\x00" + number, true
	}
	return 0, 0, 0, "", false
}

// lookalike is a record under its lookalike key.
type lookalike struct {
	a, b, c uint32
	n       int32 // the record's input order
	i       int32 // its position
}

// duplicateGroups finds the records of one side that look like the same one: they share a strong
// identifier's value, or they share a lookalike key and no strong identifier tells them apart
// (same-name, same-birthday students with different ids are different students). Each group is
// sorted by record ID; groups are sorted by their first ID.
//
// The records are taken in their input order: at gives the position in xs of each input record (nil:
// the same). Records are named by position in the groups.
func duplicateGroups(p *plan, xs []prep, at []int32) [][]int32 {
	position := func(i int) int32 {
		if at == nil {
			return int32(i)
		}
		return at[i]
	}
	uf := newUnionFind(len(xs))
	linked := false
	first := make([]int32, p.space) // by value number: 1 + the first record with it
	for _, f := range p.order {
		if !p.strong[f] {
			continue
		}
		for i := range xs {
			k := xs[i].ids[f]
			if k == 0 {
				continue
			}
			if j := first[k]; j > 0 {
				uf.union(j-1, int32(i))
				linked = true
			} else {
				first[k] = int32(i) + 1
			}
		}
		for i := range xs {
			first[xs[i].ids[f]] = 0
		}
	}
	// The records by lookalike key, in input order within a key. Numbers are only ever compared for
	// equality: the keys' order is no matter.
	looks := make([]lookalike, 0, len(xs))
	strs := make(map[string]uint32) // sections' keys, numbered
	for n := range xs {
		i := position(n)
		a, b, c, s, ok := lookalikeKey(p, &xs[i])
		if !ok {
			continue
		}
		if s != "" {
			k, ok := strs[s]
			if !ok {
				k = uint32(len(strs)) + 1
				strs[s] = k
			}
			a = k
		}
		looks = append(looks, lookalike{a, b, c, int32(n), i})
	}
	slices.SortFunc(looks, func(x, y lookalike) int {
		switch {
		case x.a != y.a:
			return cmp.Compare(x.a, y.a)
		case x.b != y.b:
			return cmp.Compare(x.b, y.b)
		case x.c != y.c:
			return cmp.Compare(x.c, y.c)
		}
		return cmp.Compare(x.n, y.n)
	})
	for lo := 0; lo < len(looks); {
		hi := lo + 1
		for hi < len(looks) && looks[hi].a == looks[lo].a && looks[hi].b == looks[lo].b && looks[hi].c == looks[lo].c {
			hi++
		}
		bucket := looks[lo:hi]
		for n, j := range bucket {
			for _, i := range bucket[:n] {
				if !distinct(p, &xs[i.i], &xs[j.i]) {
					uf.union(i.i, j.i)
					linked = true
					break
				}
			}
		}
		lo = hi
	}
	if !linked {
		return nil
	}
	size := make([]int32, len(xs))
	for i := range xs {
		size[uf.find(int32(i))]++
	}
	members := make(map[int32][]int32)
	for i := range xs {
		if r := uf.find(int32(i)); size[r] > 1 {
			members[r] = append(members[r], int32(i))
		}
	}
	var groups [][]int32
	for _, g := range members {
		slices.SortFunc(g, func(a, b int32) int { return strings.Compare(xs[a].rec.ID, xs[b].rec.ID) })
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b []int32) int { return strings.Compare(xs[a[0]].rec.ID, xs[b[0]].rec.ID) })
	return groups
}
