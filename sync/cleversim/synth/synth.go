// Package synth generates deterministic synthetic Clever districts for the simulator (package cleversim):
// one district with its schools, users, sections, terms and courses, shaped like the real objects of
// Clever's "#DEMO Certification ISD - Events" district and carrying the same quirks, so that the sync client
// and the mirror meet real-looking data in tests, benchmarks and the zero-setup demo.
//
// Generate sizes a district with a Config; Demo returns the bundled demo district, which is also committed
// as testdata/demo-district.json; Onboarding returns the demo plus six small districts designed for
// district onboarding (same-name districts, missing MDR and NCES ids, a one-school charter, per-district
// e-mail domains), committed as testdata/onboarding-districts.json. The same Config always yields the
// same bytes.
//
// # Consistency
//
// Every reference resolves inside the dataset: a user's school and schools, a section's school, teachers,
// students, course and term_id, and a contact's student_relationships. Section teachers teach at the
// section's school, section students attend it (it is among their schools), every section has at least one
// student and one teacher, the primary teacher comes first in teachers and equals teacher, and the section
// name is Clever's "<course name> - <teacher last name> - <period>". Ids are 24 lower-case hex digits,
// unique across all types, and every array is sorted by id.
//
// # Edge cases
//
// Real Clever data is messy; the generator reproduces that on purpose. "1 in N" counts by the record's
// position within its kind (the i-th student, teacher, contact, section, …), so a district with at least N
// such records is guaranteed to contain the case (when two cases exclude each other, the first listed wins
// and the second is slightly rarer); "~P%" is pseudo-random.
//
// Students:
//   - no email key: 1 in 25, and 1 in 4 of those in Kindergarten and below; email "": 1 in 101; email
//     without '@' ("first_last.example.org", as in the certification district): 1 in 199
//   - the undocumented "email" key inside roles.student, equal to the user's email: every other student
//   - name.middle missing: 1 in 9; hyphenated last name: 1 in 37; the name lists also carry accents
//     (Zoë, Nguyễn), apostrophes (O'Brien, D'Andre), spaces and particles (van der Berg, Ó Súilleabháin),
//     two-letter names (Le, Ng) and hyphenated first names (Mary-Kate, Soo-ah)
//   - credentials.district_username of 50+ characters: 1 in 211; "": 1 in 157; no credentials: 1 in 307
//   - sis_id of 1–2 digits: 1 in 223 (the first 99 such students); a 20-digit sis_id: 1 in 229; otherwise
//     9 digits; all unique within the district
//   - student_number missing: 1 in 43, "": 1 in 47; state_id missing: 1 in 53
//   - dob null: 1 in 113, missing: 1 in 127; otherwise M/D/YYYY without zero padding, fitting the grade
//   - grade outside the primary school's grade range: 1 in 59
//   - two schools: 1 in 11 (with two or more schools); three schools: 1 in 97 (with three or more)
//   - enrollments with a start_date (and no end_date, or one for a second school),
//     as datetimes (the spec's form; no recording has dated enrollments): 1 in 7; otherwise []
//   - ell_status, frl_status, iep_status and home_language all missing (no sensitive scope): 1 in 61;
//     otherwise each is "" for ~2–10%
//   - gender "" ~1%, hispanic_ethnicity "" ~5%, race "" ~5%; graduation_year "" ~60%
//   - location with street address and lat/lon: 1 in 5; otherwise address, city and state "" and a zip
//   - an unknown ext key (lunch_pin): 1 in 131 (keys outside ext follow the v3.0 spec exactly: the live
//     API sends no fields of later versions, such as v3.1's preferred_name, to v3.0 clients)
//
// Teachers, staff, district admins:
//   - multi-role users: half of the staff roles and half of the district_admin roles (rounded down) are
//     held by teachers, giving teacher+staff, teacher+district_admin and teacher+staff+district_admin
//     users; the rest are staff-only and district_admin-only users
//   - teacher email without '@': 1 in 17; no email: 1 in 19 teachers (never multi-role ones, whom Clever
//     merges by email) and 1 in 11 staff
//   - district_username of 50+ characters: 1 in 13 teachers; staff without credentials: 1 in 7
//   - teacher sis_id of 1–2 digits for the first teachers (as in the certification district); a 20-digit
//     sis_id: 1 in 23
//   - teacher name.middle missing: 1 in 6; title "": 1 in 7, null: 1 in 29; teacher_number "": 1 in 10,
//     missing: 1 in 37; state_id null: 1 in 29; legacy_id missing: 1 in 31; two schools: 1 in 9
//   - staff roles []: ~20%; staff department "": ~12%; staff at three schools: 1 in 5
//   - district_admin title "": ~20%, null: ~17%
//
// Contacts:
//   - the full name in name.last and no name.first, always
//   - no email: 1 in 3, email without '@': 1 in 53; phone "": 1 in 4; phone_type "": ~5%; sis_id "":
//     1 in 2; legacy_id missing: 1 in 13
//   - two students: 1 in 5, three: 1 in 23 (the v2-era relationship, type and students keys appear only
//     in old event payloads, never in Data API records, so they are not generated)
//
// Sections:
//   - course null: 1 in 53; term_id null: 1 in 59; period null: 1 in 43, period "": 1 in 47 (then the
//     name has no period part); grade null: 1 in 71; subject "": 1 in 67; no ext: 1 in 37
//   - an unknown ext key (lms_section_id): 1 in 61, in sections that have an ext
//   - a single student: 1 in 83
//   - 2 teachers ~10%, 3 teachers ~10%; a primary teacher and 10 co-teachers (capped by the school's
//     teachers): 1 in 157, from the sixth section on
//   - section_number "" for two thirds
//
// Terms, courses, schools, district:
//   - terms alternate date-only ("2012-08-01") and datetime ("2013-06-01T00:00:00.000Z") dates; name "":
//     1 in 4
//   - course number "": 1 in 9, missing: 1 in 31; course name "": 1 in 97 (its sections get a name of
//     their own)
//   - schools: charter_school "Y" 1 in 6, "" 1 in 3, otherwise "N"; no principal: 1 in 7, a principal
//     with empty name and email: 1 in 11; phone "": 1 in 9; state_id missing: 1 in 10; nces_id null 1 in 5,
//     "" 1 in 5; mdr_number "": 1 in 4; an unknown ext key (school_type): 1 in 5
//   - district: mdr_number "" ~30% and nces_id "" ~40% of seeds; state "running" ~80%, and every other
//     Clever state across seeds, with error text when pending or error and pause_start (datetime) and
//     pause_end (date) when paused
package synth

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// Default sizes, those of the demo district.
const (
	defaultSchools        = 4
	defaultStudents       = 300
	defaultTeachers       = 16
	defaultStaff          = 6
	defaultDistrictAdmins = 2
	defaultContacts       = 40
	defaultSections       = 60
	defaultCourses        = 40
	defaultTerms          = 5
)

// Config sizes a synthetic district. For every count, zero selects the default (the demo district's size)
// and a negative value asks for none. Counts are per role: a teacher who is also staff counts once in
// Teachers and once in Staff.
type Config struct {
	// Seed selects the pseudo-random stream and the ids. Districts generated with different seeds can share
	// one dataset file; the same seed and Created give colliding ids.
	Seed int64
	// DistrictID fixes the district's id, 24 lower-case hex digits; empty derives it from Seed and Created.
	DistrictID string
	// Name is the district's name; empty gives "#DEMO Synthetic ISD <Seed>".
	Name string
	// Schools is the number of schools (default 4, at least 1). Generic schools cycle through elementary,
	// middle, high and K–8 grade ranges; a single school spans Kindergarten to 12.
	Schools int
	// Students is the number of users with a student role (default 300).
	Students int
	// Teachers is the number of users with a teacher role (default 16), including multi-role teachers.
	Teachers int
	// Staff is the number of users with a staff role (default 6). Half of them, rounded down and at most
	// Teachers, are teachers too.
	Staff int
	// DistrictAdmins is the number of users with a district_admin role (default 2). Half of them, rounded
	// down and at most Teachers, are teachers too.
	DistrictAdmins int
	// Contacts is the number of users with a contact role (default 40); none without students.
	Contacts int
	// Sections is the number of sections (default 60). A section needs a school with both students and
	// teachers, so there are none without students or teachers.
	Sections int
	// Courses is the number of courses (default 40). Sections use every course when there are at least as
	// many sections as courses.
	Courses int
	// Terms is the number of terms (default 5); terms go back one school year per ten terms.
	Terms int
	// Created is the district's creation time: the base of every created, last_modified and date field and
	// of the ids. Zero gives 2023-04-12T23:04:53.490Z.
	Created time.Time
}

// withDefaults resolves zero and negative sizes.
func (c Config) withDefaults() Config {
	size := func(n, def int) int {
		switch {
		case n == 0:
			return def
		case n < 0:
			return 0
		}
		return n
	}
	c.Schools = max(1, size(c.Schools, defaultSchools))
	c.Students = size(c.Students, defaultStudents)
	c.Teachers = size(c.Teachers, defaultTeachers)
	c.Staff = size(c.Staff, defaultStaff)
	c.DistrictAdmins = size(c.DistrictAdmins, defaultDistrictAdmins)
	c.Contacts = size(c.Contacts, defaultContacts)
	c.Sections = size(c.Sections, defaultSections)
	c.Courses = size(c.Courses, defaultCourses)
	c.Terms = size(c.Terms, defaultTerms)
	if c.Students == 0 {
		c.Contacts = 0
	}
	if c.Students == 0 || c.Teachers == 0 {
		c.Sections = 0
	}
	if c.Created.IsZero() {
		// The day Clever's certification district was last rebuilt in the recordings.
		c.Created = time.Date(2023, 4, 12, 23, 4, 53, 490e6, time.UTC)
	}
	c.Created = c.Created.UTC()
	c.Name = cmp.Or(c.Name, "#DEMO Synthetic ISD "+strconv.FormatInt(c.Seed, 10))
	return c
}

// Generate builds a synthetic district. It is deterministic: the same Config gives the same records, byte
// for byte. Every array of the result is sorted by id and has no events.
func Generate(cfg Config) *cleversim.Dataset {
	return generate(cfg.withDefaults(), shape{})
}

// shape fixes what a hand-picked district (the demo, the onboarding districts) takes from its design
// instead of the seed.
type shape struct {
	schools      []schoolSpec // nil: generated
	city         int          // index into cities, used when schools is set and home is nil
	home         *city        // the home town; nil: cities[city] with schools, random without
	loginMethods []string     // nil: random
	state        string       // "": random
	mdrNumber    opt          // absent: random; missing(): no mdr_number key
	ncesID       opt          // absent: random; missing(): no nces_id key
	// mail is the district's own e-mail domain. "" spreads addresses over the example domains, as the
	// demo does; otherwise staff, teachers, admins and students use it — except 1 in 8 staff and
	// teachers and 1 in 5 students (never a pure district admin), who use a personal webmail domain, as
	// parents always do.
	mail string
	// adjust, when set, edits each generated school spec (the i-th of n) before the schools are built:
	// a name, a grade range, a charter flag.
	adjust func(i int, s *schoolSpec)
}

// generator holds the state of one Generate call.
type generator struct {
	cfg      Config
	rng      *rand.Rand
	ds       *cleversim.Dataset
	out      *recordWriter
	district string
	home     city
	mail     string // the district's e-mail domain, "" for the example domains
	legacy   *cleversim.ObjectIDs
	schoolYr int // calendar year in which the current school year starts

	schools     []schoolSpec
	schoolIDs   []string
	studentsAt  []int // primary students per school
	studentIDs  []string
	studentLast []string
	studentGrd  []int8

	// pool lists student indexes by (school, grade): the students of key k = school*gradeCount+grade are
	// pool[poolStart[k]:poolStart[k+1]], shuffled; poolNext is the next window start of each key.
	pool      []int32
	poolStart []int32
	poolNext  []int32

	teacherIDs  []string
	teacherLast []string
	teachersAt  [][]int32 // teacher indexes per school, including secondary schools
	teacherNext []int

	termIDs        []string
	courseIDs      []string
	courseNames    []string
	courseSubject  []int8
	coursesByGrade [gradeCount][]int32
}

// Id kinds: each record type draws ids from its own generator, with its own time offset and salt.
const (
	kindDistrict = iota + 1
	kindDistrictContact
	kindSchool
	kindStudent
	kindTeacher
	kindStaff
	kindAdmin
	kindContact
	kindSection
	kindTerm
	kindCourse
	kindLegacy
)

// idOffset orders the kinds in time, so that ids sort users as students, teachers, staff, district
// admins, contacts: the order in which they are generated and appended.
func idOffset(kind int) time.Duration {
	switch kind {
	case kindDistrict:
		return -24 * time.Hour
	case kindDistrictContact:
		return -24*time.Hour + time.Second
	case kindStudent:
		return 10 * time.Second
	case kindTeacher:
		return 20 * time.Second
	case kindStaff:
		return 25 * time.Second
	case kindAdmin:
		return 28 * time.Second
	case kindContact:
		return 30 * time.Second
	case kindSection:
		return 40 * time.Second
	case kindTerm:
		return 50 * time.Second
	case kindCourse:
		return 60 * time.Second
	case kindLegacy:
		return -3 * 365 * 24 * time.Hour
	}
	return 0 // kindSchool
}

func generate(cfg Config, sh shape) *cleversim.Dataset {
	g := &generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x726f737465726d69)), // "rostermi"
		ds:  &cleversim.Dataset{},
		out: newRecordWriter(),
	}
	g.legacy = g.ids(kindLegacy)
	g.schoolYr = cfg.Created.Year()
	if cfg.Created.Month() < time.August {
		g.schoolYr--
	}
	switch {
	case sh.home != nil:
		g.home = *sh.home
	case sh.schools != nil:
		g.home = cities[sh.city]
	default:
		g.home = cities[g.rng.IntN(len(cities))]
	}
	g.mail = sh.mail
	g.genDistrict(sh)
	g.genSchools(sh)
	g.genStudents()
	g.genStaff()
	g.genContacts()
	g.genTerms()
	g.genCourses()
	g.genSections()
	return g.ds
}

// ids returns the id generator of a kind. The salt mixes the seed in, so districts with different seeds
// never share ids.
func (g *generator) ids(kind int) *cleversim.ObjectIDs {
	x := uint64(g.cfg.Seed)*0x9e3779b97f4a7c15 + uint64(kind)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return cleversim.NewObjectIDs(g.cfg.Created.Add(idOffset(kind)), uint32(x>>32))
}

// slabSize is the size of the blocks that encoded records are packed into.
const slabSize = 256 << 10

// recordWriter encodes records into large shared blocks instead of one allocation per record: a
// million-student district is over a million records, and packing them saves the allocator and the
// garbage collector most of their work. Each record is a full slice expression, so appending to one
// never writes into its neighbour.
type recordWriter struct {
	buf  bytes.Buffer
	enc  *json.Encoder
	slab []byte
}

func newRecordWriter() *recordWriter {
	w := &recordWriter{}
	w.enc = json.NewEncoder(&w.buf)
	return w
}

// marshal encodes one record. The record types cannot fail to encode.
func (w *recordWriter) marshal(v any) json.RawMessage {
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil {
		panic(fmt.Sprintf("synth: encode %T: %v", v, err))
	}
	b := bytes.TrimSuffix(w.buf.Bytes(), []byte("\n"))
	if len(b) > cap(w.slab)-len(w.slab) {
		w.slab = make([]byte, 0, max(slabSize, len(b)))
	}
	start := len(w.slab)
	w.slab = append(w.slab, b...)
	return w.slab[start:len(w.slab):len(w.slab)]
}

// timestamp formats t the way Clever does: "2023-04-12T23:05:01.315Z".
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stamps returns created and last_modified for the n-th record of a kind created at offset from Created.
// A third of the records were modified after creation.
func (g *generator) stamps(offset time.Duration, n int) (created, modified string) {
	t := g.cfg.Created.Add(offset + time.Duration(n)*3*time.Millisecond + time.Duration(g.rng.IntN(3))*time.Millisecond)
	created = timestamp(t)
	if g.rng.IntN(3) != 0 {
		return created, created
	}
	return created, timestamp(t.Add(time.Duration(1+g.rng.IntN(11*24*3600*1000)) * time.Millisecond))
}

// domain returns the e-mail domain of the i-th person of a kind: without a district domain one of the
// example domains at random; otherwise the district's domain, except the 1 in n (n > 0) who use a
// personal one.
func (g *generator) domain(i, n int) string {
	switch {
	case g.mail == "":
		return pick(g.rng, emailDomains[:])
	case n > 0 && every(i, n, n-1):
		return pick(g.rng, personalDomains[:])
	}
	return g.mail
}

// personalDomain returns the domain of a parent's address: an example domain without a district domain,
// otherwise a webmail one.
func (g *generator) personalDomain() string {
	if g.mail == "" {
		return pick(g.rng, emailDomains[:])
	}
	return pick(g.rng, personalDomains[:])
}

// digits returns n random decimal digits, the first one non-zero.
func (g *generator) digits(n int) string {
	b := make([]byte, n)
	b[0] = byte('1' + g.rng.IntN(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

// pick returns a random element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted returns an index into weights with probability proportional to its weight.
func weighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// every reports whether the i-th record of a kind is the one in n that carries an edge case; off spreads
// different cases over different records.
func every(i, n, off int) bool { return i%n == off }

// fold lower-cases a name to the ASCII letters usernames and emails use.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteString(foldTable[r])
		}
	}
	return b.String()
}

// initial returns the folded first letter of a name.
func initial(s string) string {
	f := fold(s)
	if f == "" {
		return "x"
	}
	return f[:1]
}

// allocate splits n over weights by largest remainder, giving every bucket at least one when n allows.
func allocate(n int, weights []float64) []int {
	counts := make([]int, len(weights))
	if n == 0 {
		return counts
	}
	rest := n
	if n >= len(weights) {
		for i := range counts {
			counts[i] = 1
		}
		rest -= len(weights)
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	type rem struct {
		i    int
		frac float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(rest) * w / total
		whole := int(exact)
		counts[i] += whole
		given += whole
		rems[i] = rem{i, exact - float64(whole)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.frac, a.frac) })
	for k := 0; given < rest; k++ {
		counts[rems[k%len(rems)].i]++
		given++
	}
	return counts
}

// labels returns, for n records allocated over weights, each record's bucket in random order.
func (g *generator) labels(n int, weights []float64) []int32 {
	out := make([]int32, 0, n)
	for b, c := range allocate(n, weights) {
		for range c {
			out = append(out, int32(b))
		}
	}
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// date formats a date as Clever's date-only fields do.
func date(y int, m time.Month, d int) string {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// gradeLabel names a grade in course names.
func gradeLabel(grade int) string {
	switch grade {
	case gradePreK:
		return "Pre-K"
	case gradeTK:
		return "TK"
	case gradeK:
		return "Kindergarten"
	}
	return "Grade " + gradeNames[grade]
}

// gradeNumber is the grade as a number, Kindergarten and below 0.
func gradeNumber(grade int) int { return max(0, grade-gradeK) }
