package synth

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// Demo sizes and identity: shaped like Clever's "#DEMO Certification ISD - Events".
const (
	demoSeed       = 20230412
	demoDistrictID = "643744a5e1d2c30001d3e00a"
	demoName       = "#DEMO Rostermirror ISD"
)

// Demo returns the bundled demo district, the one committed as testdata/demo-district.json: four schools
// named after those of Clever's certification district (Pineapple Elementary School, TK–5, and Rockaway
// Beach Middle School, 6–8 and charter, with its Campus 2 and Campus 3), 300 students, 16 teachers of whom
// several are also staff or district admins, pure staff, 2 district admins, 40 contacts, 5 terms,
// 40 courses and 60 sections.
func Demo() *cleversim.Dataset {
	cfg := Config{
		Seed:           demoSeed,
		DistrictID:     demoDistrictID,
		Name:           demoName,
		Schools:        4,
		Students:       300,
		Teachers:       16,
		Staff:          6,
		DistrictAdmins: 2,
		Contacts:       40,
		Sections:       60,
		Courses:        40,
		Terms:          5,
	}.withDefaults()
	rockaway := location{Address: "322 Old Beach 88th Street", City: "Rockaway Beach", State: "NY", Zip: "11693"}
	springsteen := &principal{Name: "Leonard Springsteen", Email: "lspringsteen@example.org"}
	return generate(cfg, shape{
		city:         1,
		loginMethods: []string{"Clever Badges", "Clever Passwords"},
		state:        "running",
		mdrNumber:    str("04839360"),
		ncesID:       str("3600077"),
		schools: []schoolSpec{{
			name: "Pineapple Elementary School", lo: gradeTK, hi: grade5, weight: 5,
			number: "13K123", stateID: str("30890"), phone: str("(718) 555-4567"),
			ncesID: str("360007702877"), mdrNumber: str("04839371"), charter: "N",
			principal: &principal{Name: "Cecilia Roderick", Email: "ceciliar@example.org"},
			location:  location{Address: "110 Pineapple Street", City: "Brooklyn", State: "NY", Zip: "11201", Lat: str("40.6987"), Lon: str("-73.9925")},
		}, {
			name: "Rockaway Beach Middle School", lo: grade6, hi: grade8, weight: 3,
			number: "27Q321", stateID: str("412"), phone: str("(718) 555-8989"),
			ncesID: str("360007706390"), mdrNumber: str("04839383"), charter: "Y",
			principal: springsteen, location: rockaway,
		}, {
			name: "Rockaway Beach Middle School Campus 2", lo: grade6, hi: grade8, weight: 1,
			number: "2ZR351", stateID: str("413"), phone: str("(718) 555-8989"),
			ncesID: str(""), mdrNumber: str(""), charter: "",
			principal: springsteen, location: rockaway,
		}, {
			name: "Rockaway Beach Middle School Campus 3", lo: grade6, hi: grade8, weight: 1,
			number: "2ZT381", stateID: str("414"), phone: str("(718) 555-8989"),
			ncesID: null(), charter: "",
			principal: springsteen, location: rockaway,
		}},
	})
}

// schoolSpec is everything about a school that is not derived from the district.
type schoolSpec struct {
	name              string
	lo, hi            int     // grade ordinals
	weight            float64 // relative share of the district's students and teachers
	number            string  // school_number and sis_id
	stateID, phone    opt
	ncesID, mdrNumber opt
	charter           string
	schoolType        string // unknown ext key, "" for none
	principal         *principal
	location          location
}

// School grade ranges that generic schools cycle through.
const (
	elementary = iota
	middle
	high
	k8
)

func (g *generator) genDistrict(sh shape) {
	r := g.rng
	id := g.cfg.DistrictID
	if id == "" {
		id = g.ids(kindDistrict).Next()
	}
	g.district = id

	methods := sh.loginMethods
	if methods == nil {
		for _, m := range loginMethods {
			if r.IntN(3) == 0 {
				methods = append(methods, m)
			}
		}
		if len(methods) == 0 {
			methods = []string{"Clever Passwords"}
		}
	}
	state := sh.state
	if state == "" {
		state = [...]string{"running", "success", "pending", "error", "paused", ""}[weighted(r, 80, 8, 4, 3, 3, 2)]
	}
	d := districtRecord{
		ID:           id,
		Name:         g.cfg.Name,
		SISType:      "sftp",
		LaunchDate:   g.cfg.Created.AddDate(-1-r.IntN(6), -r.IntN(12), -r.IntN(28)).Format("2006-01-02"),
		LastSync:     timestamp(g.cfg.Created.Add(10*24*time.Hour + time.Duration(r.IntN(86400e3))*time.Millisecond)),
		LoginMethods: methods,
		State:        state,
		MDRNumber:    str(""),
		NCESID:       str(""),
	}
	if r.IntN(10) < 7 {
		d.MDRNumber = str(g.digits(8))
	}
	if r.IntN(10) < 6 {
		d.NCESID = str(g.digits(7))
	}
	if sh.mdrNumber.given() {
		d.MDRNumber = sh.mdrNumber
	}
	if sh.ncesID.given() {
		d.NCESID = sh.ncesID
	}
	switch state {
	case "pending":
		d.Error = "Your sections.csv file is missing required column Teacher_id."
	case "error":
		d.Error = "Clever is looking into a sync problem."
	case "paused":
		// Both formats: the spec says datetime, clever-go says date.
		d.PauseStart = str(timestamp(time.Date(g.schoolYr+1, time.June, 20, 0, 0, 0, 0, time.UTC)))
		d.PauseEnd = str(date(g.schoolYr+1, time.August, 15))
	}
	slug := strings.Trim(strings.Join(strings.FieldsFunc(strings.ToLower(g.cfg.Name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}), "-"), "-")
	d.PortalURL = "https://clever.com/in/" + slug + id[len(id)-6:]
	first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
	d.DistrictContact = districtContact{
		District: id,
		Email:    str(fold(first) + "." + fold(last) + "+clever@" + g.domain(0, 0)),
		ID:       g.ids(kindDistrictContact).Next(),
		Name:     personName{First: first, Last: last},
		Title:    [...]string{"", "Technology Director", "Data Coordinator"}[r.IntN(3)],
	}
	g.ds.Districts = append(g.ds.Districts, g.out.marshal(&d))
}

// schoolSpecs invents n generic schools.
func (g *generator) schoolSpecs(n int) []schoolSpec {
	r := g.rng
	c := g.home
	specs := make([]schoolSpec, n)
	rot := r.IntN(len(placeNames))
	for i := range specs {
		kind := [...]int{elementary, middle, high, elementary, elementary, middle, high, k8}[i%8]
		s := &specs[i]
		place := placeNames[(rot+i)%len(placeNames)]
		switch {
		case n == 1:
			s.name, s.lo, s.hi, s.weight = place+" Unified School", gradeK, grade12, 1
		case kind == elementary:
			s.name, s.lo, s.hi, s.weight = place+" Elementary School", []int{gradePreK, gradeTK, gradeK}[r.IntN(3)], grade5, 1
		case kind == middle:
			s.name, s.lo, s.hi, s.weight = place+" Middle School", grade6, grade8, 1.1
		case kind == high:
			s.name, s.lo, s.hi, s.weight = place+" High School", grade9, grade12, 1.6
		default:
			s.name, s.lo, s.hi, s.weight = place+" K-8 Academy", gradeK, grade8, 1.3
		}
		if i >= len(placeNames) {
			s.name += " Campus " + strconv.Itoa(i/len(placeNames)+1)
		}
		s.weight *= 0.6 + 0.8*r.Float64()
		s.number = strconv.Itoa(10+r.IntN(89)) + string("KQXMR"[i%5]) + strconv.Itoa(100+i)
		if !every(i, 10, 7) {
			s.stateID = str(strconv.Itoa(100 + r.IntN(99900)))
		}
		s.phone = str("(" + c.area + ") 555-" + g.digits(4))
		if every(i, 9, 8) {
			s.phone = str("")
		}
		s.mdrNumber = str(g.digits(8))
		if every(i, 4, 3) {
			s.mdrNumber = str("")
		}
		switch {
		case every(i, 5, 4):
			s.ncesID = null()
		case every(i, 5, 2):
			s.ncesID = str("")
		default:
			s.ncesID = str(g.digits(12))
		}
		switch {
		case every(i, 6, 1):
			s.charter = "Y"
		case every(i, 3, 2):
			s.charter = ""
		default:
			s.charter = "N"
		}
		if every(i, 5, 3) {
			s.schoolType = pick(r, []string{"Public", "Magnet", "Alternative"})
		}
		switch {
		case every(i, 7, 6):
		case every(i, 11, 9):
			s.principal = &principal{}
		default:
			first, last := pick(r, firstNames[:]), pick(r, lastNames[:])
			s.principal = &principal{Name: first + " " + last, Email: fold(first) + initial(last) + "@" + cmp.Or(g.mail, "example.org")}
		}
		s.location = location{
			Address: strconv.Itoa(1+r.IntN(999)) + " " + pick(r, placeNames[:]) + " " + pick(r, streetSuffixes[:]),
			City:    c.city, State: c.state, Zip: c.zip + strconv.Itoa(10+r.IntN(90)),
		}
		if every(i, 2, 0) {
			s.location.Lat = str(strconv.FormatFloat(c.lat+r.Float64()/5-0.1, 'f', 4, 64))
			s.location.Lon = str(strconv.FormatFloat(c.lon+r.Float64()/5-0.1, 'f', 4, 64))
		}
	}
	return specs
}

func (g *generator) genSchools(sh shape) {
	specs := sh.schools
	if specs == nil {
		specs = g.schoolSpecs(g.cfg.Schools)
	}
	if sh.adjust != nil {
		for i := range specs {
			sh.adjust(i, &specs[i])
		}
	}
	g.schools = specs
	ids := g.ids(kindSchool)
	g.schoolIDs = make([]string, len(specs))
	g.ds.Schools = make([]json.RawMessage, 0, len(specs))
	for i, s := range specs {
		id := ids.Next()
		g.schoolIDs[i] = id
		created, modified := g.stamps(0, i)
		rec := schoolRecord{
			Created:      created,
			District:     g.district,
			Ext:          schoolExt{CharterSchool: s.charter, SchoolType: s.schoolType},
			HighGrade:    gradeNames[s.hi],
			ID:           id,
			LastModified: modified,
			Location:     s.location,
			LowGrade:     gradeNames[s.lo],
			MDRNumber:    s.mdrNumber,
			Name:         s.name,
			NCESID:       s.ncesID,
			Phone:        s.phone,
			Principal:    s.principal,
			SchoolNumber: s.number,
			SISID:        s.number,
			StateID:      s.stateID,
		}
		g.ds.Schools = append(g.ds.Schools, g.out.marshal(&rec))
	}
}
