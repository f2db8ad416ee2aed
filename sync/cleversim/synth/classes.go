package synth

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// termKind is one kind of term within a school year; months and days are of the start and end dates, and
// next marks a date in the calendar year after the one the school year starts in.
type termKind struct {
	name                 string
	startMonth, endMonth time.Month
	startDay, endDay     int
	startNext, endNext   bool
}

// termKinds cycle through a school year: the year, then semesters, quarters and trimesters.
var termKinds = [...]termKind{
	{"Y1", time.August, time.June, 1, 1, false, true},
	{"S1", time.August, time.December, 1, 1, false, false},
	{"S2", time.December, time.June, 2, 1, false, true},
	{"Q1", time.August, time.October, 1, 15, false, false},
	{"Q2", time.October, time.January, 16, 15, false, true},
	{"Q3", time.January, time.March, 16, 31, true, true},
	{"Q4", time.April, time.June, 1, 1, true, true},
	{"T1", time.August, time.November, 1, 20, false, false},
	{"T2", time.November, time.March, 21, 1, false, true},
	{"T3", time.March, time.June, 2, 1, true, true},
}

func (g *generator) genTerms() {
	ids := g.ids(kindTerm)
	n := g.cfg.Terms
	g.termIDs = make([]string, n)
	g.ds.Terms = make([]json.RawMessage, 0, n)
	for i := range n {
		k := termKinds[i%len(termKinds)]
		year := g.schoolYr - i/len(termKinds)
		layout := "2006-01-02"
		if i%2 == 1 {
			layout = "2006-01-02T15:04:05.000Z"
		}
		at := func(next bool, m time.Month, d int) opt {
			y := year
			if next {
				y++
			}
			return str(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(layout))
		}
		t := termRecord{
			District:  g.district,
			ID:        ids.Next(),
			Name:      str(k.name),
			StartDate: at(k.startNext, k.startMonth, k.startDay),
			EndDate:   at(k.endNext, k.endMonth, k.endDay),
		}
		if every(i, 4, 3) {
			t.Name = str("")
		}
		g.termIDs[i] = t.ID
		g.ds.Terms = append(g.ds.Terms, g.out.marshal(&t))
	}
}

// genCourses builds the course catalog: courses cycle through the grades the schools offer and, within a
// grade, through the subjects, named the way the certification district names them
// ("Grade 4 Math, Class 401", "Spanish I, Class 702").
func (g *generator) genCourses() {
	var offered [gradeCount]bool
	for _, s := range g.schools {
		for gr := s.lo; gr <= s.hi; gr++ {
			offered[gr] = true
		}
	}
	var grades []int
	for gr, ok := range offered {
		if ok {
			grades = append(grades, gr)
		}
	}
	ids := g.ids(kindCourse)
	n := g.cfg.Courses
	g.courseIDs = make([]string, n)
	g.courseNames = make([]string, n)
	g.courseSubject = make([]int8, n)
	g.ds.Courses = make([]json.RawMessage, 0, n)
	for i := range n {
		grade := grades[i%len(grades)]
		k := i / len(grades) // index of this course within its grade
		subj := k % len(subjects)
		number := gradeNumber(grade)*100 + k + 1
		var name string
		if grade <= grade5 {
			name = gradeLabel(grade) + " " + subjects[subj].elementary
		} else {
			name = subjects[subj].secondary[(k/len(subjects)+grade)%len(subjects[subj].secondary)]
		}
		name += ", Class " + padded(number, 3)
		c := courseRecord{District: g.district, ID: ids.Next(), Name: str(name), Number: str(strconv.Itoa(number))}
		switch {
		case every(i, 9, 4):
			c.Number = str("")
		case every(i, 31, 17):
			c.Number = opt{}
		}
		if every(i, 97, 48) {
			c.Name = str("")
		}
		g.courseIDs[i] = c.ID
		g.courseNames[i] = c.Name.s
		g.courseSubject[i] = int8(subj)
		g.coursesByGrade[grade] = append(g.coursesByGrade[grade], int32(i))
		g.ds.Courses = append(g.ds.Courses, g.out.marshal(&c))
	}
}

// schoolPicker chooses a school for a section, weighted by the number of students it can draw from.
type schoolPicker struct {
	schools []int32
	cum     []int32 // running totals of pool sizes
}

func (p *schoolPicker) add(school int, size int32) {
	if size == 0 {
		return
	}
	total := size
	if len(p.cum) > 0 {
		total += p.cum[len(p.cum)-1]
	}
	p.schools = append(p.schools, int32(school))
	p.cum = append(p.cum, total)
}

// pick returns a school, or -1 when there is none.
func (p *schoolPicker) pick(g *generator) int {
	if len(p.cum) == 0 {
		return -1
	}
	n := int32(g.rng.IntN(int(p.cum[len(p.cum)-1])))
	i, _ := slices.BinarySearch(p.cum, n+1)
	return int(p.schools[i])
}

func (g *generator) genSections() {
	r := g.rng
	n := g.cfg.Sections
	// Schools that can hold a section have teachers; by grade, those that offer the grade and have students
	// in it.
	var byGrade [gradeCount]schoolPicker
	var anyGrade schoolPicker
	for s := range g.schools {
		if len(g.teachersAt[s]) == 0 {
			continue
		}
		base := s * gradeCount
		for gr := g.schools[s].lo; gr <= g.schools[s].hi; gr++ {
			byGrade[gr].add(s, g.poolStart[base+gr+1]-g.poolStart[base+gr])
		}
		anyGrade.add(s, g.poolStart[base+gradeCount]-g.poolStart[base])
	}
	if len(anyGrade.schools) == 0 {
		return
	}
	courseGrade := make([]int8, len(g.courseIDs))
	for gr, cs := range g.coursesByGrade {
		for _, c := range cs {
			courseGrade[c] = int8(gr)
		}
	}

	ids := g.ids(kindSection)
	sisBase := 100 + r.IntN(900)
	g.ds.Sections = make([]json.RawMessage, 0, n)
	for i := range n {
		// The course comes first, in turn, so that every course has sections; then a school teaching its grade.
		course, grade, school := -1, -1, -1
		if len(g.courseIDs) > 0 {
			course = i % len(g.courseIDs)
			grade = int(courseGrade[course])
			school = byGrade[grade].pick(g)
		}
		if school < 0 {
			school = anyGrade.pick(g)
			base := int32(school * gradeCount)
			student := g.pool[g.poolStart[base]+int32(r.IntN(int(g.poolStart[base+gradeCount]-g.poolStart[base])))]
			grade = int(g.studentGrd[student])
		}

		// Teachers: the school's teachers take turns as primary; co-teachers are the next ones in line.
		nTeachers := 1 + weighted(r, 80, 10, 10)
		if every(i, 157, 5) {
			nTeachers = 11
		}
		staff := g.teachersAt[school]
		nTeachers = min(nTeachers, len(staff))
		first := g.teacherNext[school] % len(staff)
		g.teacherNext[school]++
		teachers := make([]string, nTeachers)
		for j := range teachers {
			teachers[j] = g.teacherIDs[staff[(first+j)%len(staff)]]
		}

		// Students: consecutive windows over the shuffled (school, grade) pool, so rosters are distinct.
		key := school*gradeCount + grade
		seg := g.pool[g.poolStart[key]:g.poolStart[key+1]]
		size := 15 + r.IntN(16)
		if every(i, 83, 41) {
			size = 1
		}
		size = min(size, len(seg))
		at := int(g.poolNext[key])
		g.poolNext[key] = int32((at + size) % len(seg))
		roster := make([]int32, size)
		for j := range roster {
			roster[j] = seg[(at+j)%len(seg)]
		}
		slices.Sort(roster) // ids grow with the index
		students := make([]string, size)
		for j, s := range roster {
			students[j] = g.studentIDs[s]
		}

		subj := r.IntN(len(subjects))
		if course >= 0 {
			subj = int(g.courseSubject[course])
		}
		sec := sectionRecord{
			Course:   null(),
			District: g.district,
			Ext:      &sectionExt{},
			Grade:    str(gradeNames[grade]),
			ID:       ids.Next(),
			Period:   str(strconv.Itoa(1 + r.IntN(8))),
			School:   g.schoolIDs[school],
			SISID:    strconv.Itoa(sisBase + i),
			Students: students,
			Subject:  subjects[subj].enum,
			Teacher:  teachers[0],
			Teachers: teachers,
			TermID:   null(),
		}
		sec.Created, sec.LastModified = g.stamps(idOffset(kindSection), i)
		if subjects[subj].enum == "homeroom/advisory" {
			sec.Period = str("0")
		}
		switch {
		case every(i, 43, 21):
			sec.Period = null()
		case every(i, 47, 40):
			sec.Period = str("")
		}
		if course >= 0 && !every(i, 53, 26) {
			sec.Course = str(g.courseIDs[course])
		}
		if len(g.termIDs) > 0 && !every(i, 59, 29) {
			t := 0 // most sections run all year
			if r.IntN(4) == 0 {
				t = r.IntN(len(g.termIDs))
			}
			sec.TermID = str(g.termIDs[t])
		}
		if every(i, 71, 35) {
			sec.Grade = null()
		}
		if every(i, 67, 33) {
			sec.Subject = ""
		}
		if every(i, 3, 0) {
			sec.SectionNumber = str(padded(1+i%9, 2))
		} else {
			sec.SectionNumber = str("")
		}
		switch {
		case every(i, 37, 36):
			sec.Ext = nil
		case r.IntN(3) == 0:
			sec.Ext.Classroom = pick(r, []string{"A1", "A2", "B1", "B2", "C3", "101", "Gym"})
		}
		if every(i, 61, 30) && sec.Ext != nil {
			sec.Ext.LMSSectionID = "lms-" + g.digits(8) // a district extension key no client knows
		}

		// Clever's name: "<course name> - <teacher last name> - <period>", when the course has a name.
		if sec.Course.state == optString && g.courseNames[course] != "" {
			sec.Name = g.courseNames[course] + " - " + g.teacherLast[staff[first]]
			if sec.Period.state == optString && sec.Period.s != "" {
				sec.Name += " - " + sec.Period.s
			}
		} else {
			sec.Name = subjects[subj].elementary + " Section " + sec.SISID
		}
		g.ds.Sections = append(g.ds.Sections, g.out.marshal(&sec))
	}
}
