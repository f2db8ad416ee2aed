package match

import (
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
		if p.strong[f] && a.keys[f] != "" && b.keys[f] != "" && a.keys[f] != b.keys[f] {
			return true
		}
	}
	if p.person {
		if cmpRef(a.school, b.school) == lvDiffer {
			return true
		}
	}
	return false
}

// lookalikeKey is the key under which two records of one side look like the same one: people with the
// same normalised first name, last name and birth date (and, checked by distinct, no different school);
// schools with the same name in the same state; sections with the same school, teacher and name,
// period and section number. "" when the record has too little for that.
func lookalikeKey(p *plan, x *prep) string {
	switch {
	case p.person:
		if x.first.empty() || x.last.empty() || x.dob.empty() || !p.active[fiDOB] {
			return ""
		}
		return x.first.compact + "\x00" + x.last.compact + "\x00" + x.dob.String()
	case p.typ == School:
		if x.schoolName.core == "" {
			return ""
		}
		return x.schoolName.key() + "\x00" + x.keys[fiState]
	case p.typ == Section:
		if x.school.empty() || x.teacher.empty() || x.keys[fiName]+x.keys[fiPeriod]+x.keys[fiSectionNumber] == "" {
			return ""
		}
		return strings.Join(x.school.keys, "|") + "\x00" + strings.Join(x.teacher.keys, "|") + "\x00" +
			x.keys[fiName] + "\x00" + x.keys[fiPeriod] + "\x00" + x.keys[fiSectionNumber]
	}
	return ""
}

// duplicateGroups finds the records of one side that look like the same one: they share a strong
// identifier's value, or they share a lookalike key and no strong identifier tells them apart
// (same-name, same-birthday students with different ids are different students). Each group is
// sorted by record ID; groups are sorted by their first ID.
func duplicateGroups(p *plan, xs []prep) [][]int32 {
	uf := newUnionFind(len(xs))
	linked := false
	for _, f := range p.order {
		if !p.strong[f] {
			continue
		}
		first := make(map[string]int32)
		for i := range xs {
			k := xs[i].keys[f]
			if k == "" {
				continue
			}
			if j, ok := first[k]; ok {
				uf.union(j, int32(i))
				linked = true
			} else {
				first[k] = int32(i)
			}
		}
	}
	buckets := make(map[string][]int32)
	for i := range xs {
		if k := lookalikeKey(p, &xs[i]); k != "" {
			buckets[k] = append(buckets[k], int32(i))
		}
	}
	for _, b := range buckets {
		for n, j := range b {
			for _, i := range b[:n] {
				if !distinct(p, &xs[i], &xs[j]) {
					uf.union(i, j)
					linked = true
					break
				}
			}
		}
	}
	if !linked {
		return nil
	}
	members := make(map[int32][]int32)
	for i := range xs {
		r := uf.find(int32(i))
		members[r] = append(members[r], int32(i))
	}
	var groups [][]int32
	for _, g := range members {
		if len(g) < 2 {
			continue
		}
		slices.SortFunc(g, func(a, b int32) int { return strings.Compare(xs[a].rec.ID, xs[b].rec.ID) })
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b []int32) int { return strings.Compare(xs[a[0]].rec.ID, xs[b[0]].rec.ID) })
	return groups
}
