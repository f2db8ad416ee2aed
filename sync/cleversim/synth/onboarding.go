package synth

import (
	"encoding/json"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// Home towns of the onboarding districts that cities does not list (cities stays as it is: Generate
// draws from it, and a longer list would change every seed's district).
var (
	springfieldMO = city{"Springfield", "MO", "658", "417", 37.2090, -93.2923}
	cedarCreekTX  = city{"Cedar Creek", "TX", "786", "512", 30.0866, -97.4964}
	leonardtownMD = city{"Leonardtown", "MD", "206", "301", 38.2912, -76.6355}
)

// onboardingDistrict is one district of Onboarding: a Config and the shape that fixes its identity.
type onboardingDistrict struct {
	cfg Config
	sh  shape
}

// Onboarding returns a multi-district dataset for district onboarding (linking Clever districts to the
// app's organizations), committed as testdata/onboarding-districts.json: the demo district (Demo, first)
// and six small districts, each a few schools and a few dozen users, designed so that every onboarding
// signal has something to find and the data edge cases that Clever's onboarding guide warns about occur:
//
//   - "Springfield Public Schools" twice: in Springfield, IL (3 schools, MDR 00618843 with leading zeros,
//     NCES 1799101, e-mail domain springfield.k12.il.us) and in Springfield, MO (5 schools, MDR 12951674,
//     NCES 2999102, springfield.k12.mo.us): the same name, told apart by state, MDR, NCES and school count;
//   - "Riverbend Unified School District" (Sacramento, CA): no mdr_number key at all (as Clever's own
//     certification district), an NCES id with a leading zero (0699103), riverbend.k12.ca.us;
//   - "Cedar Creek ISD" (TX): a name that matches "Cedar Creek Independent School District" only after
//     normalisation, cedarcreek.k12.tx.us;
//   - "St. Mary's County Public Schools" (MD): punctuation in the name, mdr_number "", stmarys.k12.md.us;
//   - "Bright Horizons Charter School" (Columbus, OH): a single-school "district" (a K–8 charter school),
//     MDR 00745120 with leading zeros, nces_id null, brighthorizonscharter.org.
//
// A district's US state is not a district field in Clever (the district's "state" is its sync state): it
// is the location.state of its schools, one state per district here, and the first two digits of its
// NCES id (the state's FIPS code) agree with it.
//
// The six districts give their staff, teachers, district admins and students addresses on the
// district's own domain except 1 in 8 staff and teachers and 1 in 5 students, who use a webmail domain
// (gmail.com, yahoo.com, …), as every parent does; pure district admins always use the district's domain.
// The demo keeps its example domains. Every district is synced cleanly on its own: each is a Generate
// district with the consistency guarantees of the package comment.
func Onboarding() *cleversim.Dataset {
	parts := []*cleversim.Dataset{Demo()}
	for _, d := range onboardingDistricts() {
		parts = append(parts, generate(d.cfg.withDefaults(), d.sh))
	}
	return merge(parts...)
}

// onboardingDistricts designs the districts Onboarding adds to the demo, in the order of the dataset. Their
// ids are fixed, as the demo's is, so that documents and tests can name them; like Clever's, they start
// with their creation time (a day before Created, as the generator dates districts).
func onboardingDistricts() []onboardingDistrict {
	// small sizes a district: a few schools, a few dozen users, fast to sync.
	small := func(seed int64, id, name string, created time.Time, schools, students, teachers int) Config {
		return Config{
			Seed: seed, DistrictID: id, Name: name, Created: created,
			Schools: schools, Students: students, Teachers: teachers, Staff: 2, DistrictAdmins: 2,
			Contacts: students / 3, Sections: 2 * teachers, Courses: teachers + 2, Terms: 2,
		}
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2024, m, d, 14, 3, 27, 118e6, time.UTC) }

	il := small(3101, "66af8a2f0e035dc8b50f68f6", "Springfield Public Schools", day(time.August, 5), 3, 36, 6)
	mo := small(3102, "66c1ff2febbb0d46bfc19fb5", "Springfield Public Schools", day(time.August, 19), 5, 45, 8)
	mo.Staff = 3
	ca := small(3103, "66d5c5af56a8439d5b2a76eb", "Riverbend Unified School District", day(time.September, 3), 3, 30, 6)
	tx := small(3104, "66e6e92f71806554722343ed", "Cedar Creek ISD", day(time.September, 16), 2, 24, 4)
	tx.DistrictAdmins = 1
	md := small(3105, "66faafaf036e5f34435a4eeb", "St. Mary's County Public Schools", day(time.October, 1), 3, 30, 6)
	md.DistrictAdmins = 3
	oh := small(3106, "670bd32f842f91700214eaa0", "Bright Horizons Charter School", day(time.October, 14), 1, 20, 3)
	oh.Staff, oh.DistrictAdmins, oh.Terms = 1, 1, 1

	return []onboardingDistrict{{il, shape{
		home: &cities[2], loginMethods: []string{"Clever Badges", "Google"}, state: "running",
		mdrNumber: str("00618843"), ncesID: str("1799101"), mail: "springfield.k12.il.us",
		adjust: underNCES("1799101"),
	}}, {mo, shape{
		home: &springfieldMO, loginMethods: []string{"Clever Passwords"}, state: "running",
		mdrNumber: str("12951674"), ncesID: str("2999102"), mail: "springfield.k12.mo.us",
		adjust: underNCES("2999102"),
	}}, {ca, shape{
		home: &cities[4], loginMethods: []string{"Google"}, state: "running",
		mdrNumber: missing(), ncesID: str("0699103"), mail: "riverbend.k12.ca.us",
		adjust: underNCES("0699103"),
	}}, {tx, shape{
		home: &cedarCreekTX, loginMethods: []string{"SAML"}, state: "running",
		mdrNumber: str("45102239"), ncesID: str("4899104"), mail: "cedarcreek.k12.tx.us",
		adjust: underNCES("4899104"),
	}}, {md, shape{
		home: &leonardtownMD, loginMethods: []string{"Clever Badges", "Clever Passwords"}, state: "running",
		mdrNumber: str(""), ncesID: str("2499105"), mail: "stmarys.k12.md.us",
		adjust: underNCES("2499105"),
	}}, {oh, shape{
		home: &cities[5], loginMethods: []string{"Clever Passwords"}, state: "success",
		mdrNumber: str("00745120"), ncesID: null(), mail: "brighthorizonscharter.org",
		adjust: func(_ int, s *schoolSpec) {
			s.name, s.lo, s.hi, s.charter = "Bright Horizons Charter School", gradeK, grade8, "Y"
			s.ncesID, s.mdrNumber = null(), str("00745121")
		},
	}}}
}

// underNCES gives a district's schools NCES school ids under the district's NCES id (its 7 digits and 5
// of the school's own), as real NCES school ids are; schools without one keep null or "".
func underNCES(lea string) func(int, *schoolSpec) {
	return func(_ int, s *schoolSpec) {
		if s.ncesID.state == optString && len(s.ncesID.s) == 12 {
			s.ncesID = str(lea + s.ncesID.s[7:])
		}
	}
}

// GenerateMany builds n districts shaped by cfg, with the seeds cfg.Seed, cfg.Seed+1, …, in one dataset
// (cfg.DistrictID and cfg.Name are ignored: each district has its own, from its seed). Each district is
// a Generate district; n below 1 gives one.
func GenerateMany(cfg Config, n int) *cleversim.Dataset {
	parts := make([]*cleversim.Dataset, max(n, 1))
	for i := range parts {
		c := cfg
		c.Seed, c.DistrictID, c.Name = cfg.Seed+int64(i), "", ""
		parts[i] = Generate(c)
	}
	return merge(parts...)
}

// merge concatenates datasets district by district. Ids never collide: the districts have different
// seeds.
func merge(parts ...*cleversim.Dataset) *cleversim.Dataset {
	out := &cleversim.Dataset{}
	for _, p := range parts {
		for _, c := range []struct{ dst, src *[]json.RawMessage }{
			{&out.Districts, &p.Districts}, {&out.Schools, &p.Schools}, {&out.Users, &p.Users},
			{&out.Sections, &p.Sections}, {&out.Terms, &p.Terms}, {&out.Courses, &p.Courses},
			{&out.Events, &p.Events},
		} {
			*c.dst = append(*c.dst, *c.src...)
		}
	}
	return out
}
