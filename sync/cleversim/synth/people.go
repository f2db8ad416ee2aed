package synth

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// overlap returns how many teachers also hold a staff role and how many a district_admin role.
func (c Config) overlap() (staffTeachers, adminTeachers int) {
	return min(c.Teachers, c.Staff/2), min(c.Teachers, c.DistrictAdmins/2)
}

// userCount is the number of user records: students, teachers, pure staff, pure district admins, contacts.
func (c Config) userCount() int {
	st, at := c.overlap()
	return c.Students + c.Teachers + c.Staff - st + c.DistrictAdmins - at + c.Contacts
}

// padded formats n with at least width digits.
func padded(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// longUsername repeats base past 50 characters, like the certification district's
// "braeden.gloverbraeden.gloverbraeden.gloverbraeden.glover".
func longUsername(base string) string {
	u := base
	for len(u) < 50 {
		u += base
	}
	return u
}

func (g *generator) genStudents() {
	r := g.rng
	n := g.cfg.Students
	nSchools := len(g.schools)
	weights := make([]float64, nSchools)
	for i, s := range g.schools {
		weights[i] = s.weight
	}
	home := g.labels(n, weights)
	g.studentsAt = make([]int, nSchools)
	g.studentIDs = make([]string, n)
	g.studentLast = make([]string, n)
	g.studentGrd = make([]int8, n)
	type extra struct{ student, school int32 }
	var extras []extra

	g.ds.Users = make([]json.RawMessage, 0, g.cfg.userCount())
	ids := g.ids(kindStudent)
	c := g.home
	shortSIS := 0
	sisOffset := r.IntN(900_000_000)
	// One role and one user struct are reused: each record is encoded before the next is built.
	role := new(studentRole)
	user := new(userRecord)
	for i := range n {
		id := ids.Next()
		school := int(home[i])
		g.studentsAt[school]++
		sp := &g.schools[school]
		grade := sp.lo + r.IntN(sp.hi-sp.lo+1)
		if every(i, 59, 29) { // a grade the school does not offer
			if sp.hi < grade12 {
				grade = sp.hi + 1
			} else {
				grade = sp.lo - 1
			}
		}

		schools := []string{g.schoolIDs[school]}
		more := 0
		if nSchools >= 2 && every(i, 11, 5) {
			more = 1
		}
		if nSchools >= 3 && every(i, 97, 50) {
			more = 2
		}
		for len(schools) < 1+more {
			other := (school + 1 + r.IntN(nSchools-1)) % nSchools
			if len(schools) == 2 && schools[1] == g.schoolIDs[other] {
				continue
			}
			schools = append(schools, g.schoolIDs[other])
			extras = append(extras, extra{int32(i), int32(other)})
		}

		first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
		if every(i, 37, 19) {
			last += "-" + pick(r, lastNames[:])
		}
		name := personName{First: first, Last: last}
		if !every(i, 9, 4) {
			name.Middle = str(string(middleInitials[r.IntN(len(middleInitials))]))
		}

		var email opt
		domain := g.domain(i, 5)
		switch {
		case every(i, 25, 3) || grade <= gradeK && every(i, 4, 1):
		case every(i, 101, 50):
			email = str("")
		case every(i, 199, 7):
			email = str(fold(first) + "_" + fold(last) + "." + domain)
		default:
			local := [...]string{initial(last) + "." + fold(first), fold(first) + "." + initial(last), fold(first) + "_" + fold(last)}[r.IntN(3)]
			email = str(local + "@" + domain)
		}

		var sis string
		switch {
		case every(i, 223, 111) && shortSIS < 99:
			shortSIS++
			sis = strconv.Itoa(shortSIS)
		case every(i, 229, 114):
			sis = "9" + padded(i, 19)
		default:
			sis = strconv.Itoa(100_000_000 + (i*7919+sisOffset)%900_000_000)
		}

		*role = studentRole{
			Enrollments:       []enrollment{},
			Gender:            genders[weighted(r, 47, 47, 5, 1)],
			Grade:             gradeNames[grade],
			HispanicEthnicity: [...]string{"Y", "N", ""}[weighted(r, 30, 65, 5)],
			Race:              races[weighted(r, 30, 12, 25, 3, 2, 15, 8, 5)],
			School:            schools[0],
			Schools:           schools,
			SISID:             sis,
			StudentNumber:     str(sis),
			StateID:           str(g.digits(9)),
			Location:          location{Zip: c.zip + padded(r.IntN(100), 2)},
			Ext:               studentExt{},
		}
		if every(i, 2, 0) {
			role.Email = email
		}
		switch {
		case every(i, 307, 150):
		case every(i, 157, 80):
			role.Credentials = &credentials{}
		case every(i, 211, 100):
			role.Credentials = &credentials{DistrictUsername: longUsername(fold(first) + "." + fold(last))}
		default:
			role.Credentials = &credentials{DistrictUsername: fold(first) + initial(last) + strconv.Itoa(10+r.IntN(90))}
		}
		switch {
		case every(i, 43, 21):
			role.StudentNumber = opt{}
		case every(i, 47, 23):
			role.StudentNumber = str("")
		}
		if every(i, 53, 26) {
			role.StateID = opt{}
		}
		switch {
		case every(i, 113, 56):
			role.DOB = null()
		case every(i, 127, 63):
		default:
			month, day := 1+r.IntN(12), 1+r.IntN(28)
			year := g.schoolYr - 5 - (grade - gradeK)
			if month >= 9 {
				year--
			}
			role.DOB = str(strconv.Itoa(month) + "/" + strconv.Itoa(day) + "/" + strconv.Itoa(year))
		}
		if !every(i, 61, 30) {
			role.ELLStatus = str([...]string{"Y", "N", ""}[weighted(r, 12, 80, 8)])
			role.FRLStatus = str(frlStatuses[weighted(r, 40, 10, 40, 10)])
			role.IEPStatus = str([...]string{"Y", "N", ""}[weighted(r, 13, 80, 7)])
			if r.IntN(10) < 7 {
				role.HomeLanguage = str("English")
			} else {
				role.HomeLanguage = str(pick(r, homeLanguages[1:]))
			}
		}
		if r.IntN(5) >= 3 {
			role.GraduationYear = strconv.Itoa(g.schoolYr + 1 + 12 - gradeNumber(grade))
		}
		if every(i, 7, 3) {
			// Enrollment dates are datetimes in Clever's spec (SchoolEnrollment); no recording has any.
			start := date(g.schoolYr, time.August, 20+r.IntN(10)) + "T00:00:00.000Z"
			for k, s := range schools {
				e := enrollment{School: s, StartDate: start}
				switch {
				case k > 0:
					e.EndDate = str(date(g.schoolYr+1, time.June, 15) + "T00:00:00.000Z")
				}
				role.Enrollments = append(role.Enrollments, e)
			}
		}
		if every(i, 5, 0) {
			role.Location.Address = strconv.Itoa(1+r.IntN(9999)) + " " + pick(r, placeNames[:]) + " " + pick(r, streetSuffixes[:])
			role.Location.City, role.Location.State = c.city, c.state
			role.Location.Lat = str(strconv.FormatFloat(c.lat+r.Float64()/5-0.1, 'f', 5, 64))
			role.Location.Lon = str(strconv.FormatFloat(c.lon+r.Float64()/5-0.1, 'f', 5, 64))
		}
		if r.IntN(5) == 0 {
			role.Ext.GiftedStatus = "Y"
		}
		if every(i, 131, 65) {
			role.Ext.LunchPIN = g.digits(4)
		}

		created, modified := g.stamps(idOffset(kindStudent), i)
		*user = userRecord{
			Created:      created,
			District:     g.district,
			Email:        email,
			ID:           id,
			LastModified: modified,
			Name:         name,
			Roles:        roles{Student: role},
		}
		g.ds.Users = append(g.ds.Users, g.out.marshal(user))
		g.studentIDs[i] = id
		g.studentLast[i] = last
		g.studentGrd[i] = int8(grade)
	}

	// Index students by (school, grade) for section rosters; students with several schools count at each.
	keys := nSchools * gradeCount
	g.poolStart = make([]int32, keys+1)
	for i := range n {
		g.poolStart[int(home[i])*gradeCount+int(g.studentGrd[i])+1]++
	}
	for _, e := range extras {
		g.poolStart[int(e.school)*gradeCount+int(g.studentGrd[e.student])+1]++
	}
	for k := range keys {
		g.poolStart[k+1] += g.poolStart[k]
	}
	g.pool = make([]int32, g.poolStart[keys])
	fill := make([]int32, keys)
	copy(fill, g.poolStart[:keys])
	put := func(student int32, school int) {
		k := school*gradeCount + int(g.studentGrd[student])
		g.pool[fill[k]] = student
		fill[k]++
	}
	for i := range n {
		put(int32(i), int(home[i]))
	}
	for _, e := range extras {
		put(e.student, int(e.school))
	}
	for k := range keys {
		seg := g.pool[g.poolStart[k]:g.poolStart[k+1]]
		r.Shuffle(len(seg), func(i, j int) { seg[i], seg[j] = seg[j], seg[i] })
	}
	g.poolNext = make([]int32, keys)
}

// Role bits of a teacher's extra roles.
const (
	alsoStaff = 1 << iota
	alsoAdmin
)

func (g *generator) genStaff() {
	r := g.rng
	nT := g.cfg.Teachers
	nSchools := len(g.schools)
	staffTeachers, adminTeachers := g.cfg.overlap()

	// Which teachers hold more roles: the first staffTeachers of a permutation are staff, and district
	// admins are drawn half from those (teacher+staff+district_admin) and half from the rest.
	extra := make([]uint8, nT)
	perm := r.Perm(nT)
	for _, t := range perm[:staffTeachers] {
		extra[t] |= alsoStaff
	}
	left := adminTeachers
	triple := min((adminTeachers+1)/2, staffTeachers)
	for _, t := range perm[:triple] {
		extra[t] |= alsoAdmin
		left--
	}
	for _, t := range append(perm[staffTeachers:], perm[triple:staffTeachers]...) {
		if left == 0 {
			break
		}
		extra[t] |= alsoAdmin
		left--
	}

	weights := make([]float64, nSchools)
	for s, n := range g.studentsAt {
		weights[s] = float64(n) + 1
	}
	home := g.labels(nT, weights)
	g.teacherIDs = make([]string, nT)
	g.teacherLast = make([]string, nT)
	g.teachersAt = make([][]int32, nSchools)
	g.teacherNext = make([]int, nSchools)
	seen := make(map[string]bool, nT)
	ids := g.ids(kindTeacher)
	sisOffset := 1 + r.IntN(40)
	staffSeq := 1000 + r.IntN(9000)
	for i := range nT {
		id := ids.Next()
		school := int(home[i])
		schools := []string{g.schoolIDs[school]}
		g.teachersAt[school] = append(g.teachersAt[school], int32(i))
		if nSchools >= 2 && every(i, 9, 4) {
			other := (school + 1 + r.IntN(nSchools-1)) % nSchools
			schools = append(schools, g.schoolIDs[other])
			g.teachersAt[other] = append(g.teachersAt[other], int32(i))
		}
		first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
		name := personName{First: first, Last: last}
		if !every(i, 6, 5) {
			name.Middle = str(string(middleInitials[r.IntN(len(middleInitials))]))
		}

		local := fold(first) + "_" + fold(last)
		domain := g.domain(i, 8)
		if seen[local+domain] {
			local += strconv.Itoa(i)
		}
		seen[local+domain] = true
		var email opt
		switch {
		case every(i, 19, 7) && extra[i] == 0:
		case every(i, 17, 3):
			email = str(local + "." + domain)
		default:
			email = str(local + "@" + domain)
		}

		username := fold(last) + [...]string{".", "_"}[r.IntN(2)] + fold(first)
		if every(i, 13, 1) {
			username = longUsername(fold(first) + "." + fold(last))
		}
		role := &teacherRole{
			Credentials:   &credentials{DistrictUsername: username},
			Ext:           teacherExt{},
			LegacyID:      str(g.legacy.Next()),
			School:        schools[0],
			Schools:       schools,
			SISID:         strconv.Itoa(sisOffset + i),
			StateID:       str(g.digits(9)),
			TeacherNumber: str(g.digits(6)),
			Title:         str(g.teacherTitle(&g.schools[school])),
		}
		if every(i, 23, 11) {
			role.SISID = "8" + padded(i, 19)
		}
		if r.IntN(4) == 0 {
			role.Ext.AdminPermissions = "Y"
		}
		switch {
		case every(i, 10, 6):
			role.TeacherNumber = str("")
		case every(i, 37, 20):
			role.TeacherNumber = opt{}
		}
		if every(i, 29, 14) {
			role.StateID = null()
		}
		switch {
		case every(i, 7, 5):
			role.Title = str("")
		case every(i, 29, 27):
			role.Title = null()
		}
		if every(i, 31, 30) {
			role.LegacyID = opt{}
		}
		rs := roles{Teacher: role}
		if extra[i]&alsoStaff != 0 {
			staffSeq++
			rs.Staff = g.staffRole(schools, role.Credentials, staffSeq)
		}
		if extra[i]&alsoAdmin != 0 {
			rs.DistrictAdmin = g.adminRole()
		}
		created, modified := g.stamps(idOffset(kindTeacher), i)
		g.ds.Users = append(g.ds.Users, g.out.marshal(&userRecord{
			Created: created, District: g.district, Email: email, ID: id, LastModified: modified,
			Name: name, Roles: rs,
		}))
		g.teacherIDs[i] = id
		g.teacherLast[i] = last
	}

	// Staff who do not teach.
	ids = g.ids(kindStaff)
	pure := g.cfg.Staff - staffTeachers
	home = g.labels(pure, weights)
	for i := range pure {
		id := ids.Next()
		schools := []string{g.schoolIDs[home[i]]}
		if every(i, 5, 4) { // a district-level staff member serving several schools
			for s := 0; s < nSchools && len(schools) < 3; s++ {
				if s != int(home[i]) {
					schools = append(schools, g.schoolIDs[s])
				}
			}
		}
		first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
		var email opt
		if !every(i, 11, 10) {
			email = str(fold(first) + "." + fold(last) + strconv.Itoa(i) + "@" + g.domain(i, 8))
		}
		var cred *credentials
		if !every(i, 7, 6) {
			cred = &credentials{DistrictUsername: fold(first) + "." + fold(last)}
		}
		staffSeq++
		created, modified := g.stamps(idOffset(kindStaff), i)
		g.ds.Users = append(g.ds.Users, g.out.marshal(&userRecord{
			Created: created, District: g.district, Email: email, ID: id, LastModified: modified,
			Name:  personName{First: first, Last: last},
			Roles: roles{Staff: g.staffRole(schools, cred, staffSeq)},
		}))
	}

	// District admins who do not teach.
	ids = g.ids(kindAdmin)
	for i := range g.cfg.DistrictAdmins - adminTeachers {
		id := ids.Next()
		first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
		created, modified := g.stamps(idOffset(kindAdmin), i)
		g.ds.Users = append(g.ds.Users, g.out.marshal(&userRecord{
			Created: created, District: g.district, ID: id, LastModified: modified,
			Email: str(fold(first) + "." + fold(last) + "@" + g.domain(i, 0)),
			Name:  personName{First: first, Last: last, Middle: str(string(middleInitials[r.IntN(len(middleInitials))]))},
			Roles: roles{DistrictAdmin: g.adminRole()},
		}))
	}
}

// teacherTitle invents a title that fits the school's grades.
func (g *generator) teacherTitle(s *schoolSpec) string {
	r := g.rng
	if r.IntN(8) == 0 {
		return [...]string{"Guidance Counselor", "Special Education Teacher", "Reading Specialist"}[r.IntN(3)]
	}
	switch subj := pick(r, subjects[:]).teacher; {
	case s.lo >= grade9:
		return "High School " + subj + " Teacher"
	case s.lo >= grade6:
		return "Middle School " + subj + " Teacher"
	}
	return gradeLabel(s.lo+r.IntN(s.hi-s.lo+1)) + " Teacher"
}

// staffRole builds a roles.staff object.
func (g *generator) staffRole(schools []string, cred *credentials, staffID int) *staffRole {
	r := g.rng
	return &staffRole{
		Credentials: cred,
		Department:  str(pick(r, staffDepartments[:])),
		LegacyID:    str(g.legacy.Next()),
		Roles:       staffRoleSets[weighted(r, 5, 2, 1, 2)],
		Schools:     schools,
		StaffID:     strconv.Itoa(staffID),
		Title:       str(pick(r, staffTitles[:])),
	}
}

// adminRole builds a roles.district_admin object.
func (g *generator) adminRole() *districtAdminRole {
	r := g.rng
	a := &districtAdminRole{LegacyID: str(g.legacy.Next()), Title: str(pick(r, adminTitles[:]))}
	if r.IntN(6) == 0 {
		a.Title = null()
	}
	return a
}

func (g *generator) genContacts() {
	r := g.rng
	nStudents := len(g.studentIDs)
	c := g.home
	ids := g.ids(kindContact)
	for i := range g.cfg.Contacts {
		id := ids.Next()
		k := 1
		switch {
		case every(i, 23, 11):
			k = 3
		case every(i, 5, 2):
			k = 2
		}
		k = min(k, nStudents)
		students := make([]int, 0, k)
		for len(students) < k {
			s := r.IntN(nStudents)
			dup := false
			for _, t := range students {
				dup = dup || t == s
			}
			if !dup {
				students = append(students, s)
			}
		}
		first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
		if r.IntN(10) < 7 {
			last = g.studentLast[students[0]]
		}
		rels := make([]studentRelationship, k)
		for j, s := range students {
			rels[j] = studentRelationship{
				Relationship: relationships[weighted(r, 60, 10, 8, 7, 2, 10, 3)],
				Student:      g.studentIDs[s],
				Type:         contactTypes[weighted(r, 50, 15, 10, 5, 15, 3, 2)],
			}
		}
		role := &contactRole{
			LegacyID:             str(g.legacy.Next()),
			Phone:                str("(" + c.area + ") " + g.digits(3) + "-" + padded(r.IntN(10000), 4)),
			PhoneType:            phoneTypes[weighted(r, 40, 30, 15, 10, 5)],
			SISID:                str(g.digits(7)),
			StudentRelationships: rels,
		}
		if every(i, 4, 1) {
			role.Phone = str("")
		}
		if every(i, 2, 0) {
			role.SISID = str("")
		}
		if every(i, 13, 12) {
			role.LegacyID = opt{}
		}
		var email opt
		domain := g.personalDomain()
		switch {
		case every(i, 3, 0):
		case every(i, 53, 26):
			email = str(fold(last) + "_" + fold(first) + "." + domain)
		default:
			email = str(fold(last) + "_" + fold(first) + "@" + domain)
		}
		created, modified := g.stamps(idOffset(kindContact), i)
		g.ds.Users = append(g.ds.Users, g.out.marshal(&userRecord{
			Created: created, District: g.district, Email: email, ID: id, LastModified: modified,
			Name:  personName{Last: first + " " + last},
			Roles: roles{Contact: role},
		}))
	}
}
