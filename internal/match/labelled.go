package match

// A labelled set for measuring Match: Clever users of one type taken from a synthetic district, and the
// app's records of the same people with the noise real app exports carry, each app record labelled with
// the Clever record it truly belongs to. Evaluate scores an Outcome against the labels; MatchmakerRows
// turns an Outcome into Matchmaker's five results.
//
// How a set is made (Labelled):
//   - the Clever side: every user of the type in the district (synth.Generate with 2,000 students, 300
//     teachers and 100 staff unless a Dataset is given), as Records of the raw JSON's values;
//   - Clever-side cases, on disjoint people: a second Clever record of the same person (new SIS ids, the
//     same state id; a teacher's with a private e-mail address), a different person with the same name at
//     the same school (other birth date and ids), and, for students, a different person with the same name,
//     birth date and school. Same-name people the district already has are labelled too;
//   - the app side: a record for most people (all of those in a Clever-side case, half of the added
//     same-name people), each with one noise drawn from Mix and sometimes a second, harmless one; a second
//     app record for a few people (app duplicates); and app records of people of another synthetic
//     district, given this district's schools and no id, address, or name and birth date, of anyone in it;
//   - the labels: each app record's Clever record(s), its categories, and which strong identifiers it
//     shares with its Clever record after normalisation (lower case; ids without punctuation, spaces or
//     leading zeros; e-mail without a +tag) and which disagree.
//
// Both sides carry a school as the Clever school id: the app's school names are expected to be resolved
// to Clever ids (schools are matched first) before people are matched.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// Noise is a labelled set's category: the noise applied to an app record, or a structural case the
// record is part of.
type Noise string

// Per-record noise: each app record gets one of these (its primary category), and some get a second,
// harmless one (a formatting change that normalisation undoes).
const (
	NoiseClean       Noise = "clean"             // the Clever values, unchanged
	NoiseNameTypo    Noise = "name_typo"         // one edit (substitution, deletion, insertion, transposition) in the first or last name
	NoiseMissing     Noise = "missing_fields"    // one or two fields other than the names left out
	NoiseNoIDs       Noise = "no_ids"            // every strong identifier of the type left out (an app that never stored them)
	NoiseEmailNew    Noise = "email_new_address" // a different local part at the same domain (a.smith@ → asmith@)
	NoiseEmailDomain Noise = "email_domain"      // the same local part at another domain
	NoiseEmailTag    Noise = "email_plus_tag"    // a +tag added to the local part
	NoiseEmailCase   Noise = "email_case"        // the address in other letter case
	NoiseIDFormat    Noise = "id_reformatted"    // an id with leading zeros added or removed, or spaces or dashes
	NoiseDateFormat  Noise = "date_reformatted"  // the birth date as YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD
	NoiseSwapped     Noise = "names_swapped"     // first and last name swapped
	NoiseNickname    Noise = "nickname"          // a nickname for the first name (Robert → Bob) or the reverse
	NoiseIDChanged   Noise = "id_changed"        // a strong id replaced by a stale one (renumbered in the SIS): a strong disagreement
)

// Structural categories.
const (
	NoiseAppDuplicate    Noise = "app_duplicate"    // the person has two or more app records, with different app ids
	NoiseCleverDuplicate Noise = "clever_duplicate" // the person has two or more Clever records
	NoiseSameNameSchool  Noise = "same_name_school" // another person in Clever has the same first and last name at the same school
	NoiseSameNameDOB     Noise = "same_name_dob"    // another person in Clever has the same first and last name and birth date
	NoiseAppOnly         Noise = "app_only"         // the app record has no Clever counterpart
)

// DefaultNoiseMix weighs the per-record noise categories (relative weights; a category that cannot
// apply to a record — an e-mail change without an e-mail — is redrawn).
var DefaultNoiseMix = map[Noise]float64{
	NoiseClean:       30,
	NoiseNameTypo:    8,
	NoiseMissing:     8,
	NoiseNoIDs:       7,
	NoiseEmailNew:    4,
	NoiseEmailDomain: 3,
	NoiseEmailTag:    3,
	NoiseEmailCase:   3,
	NoiseIDFormat:    8,
	NoiseDateFormat:  8,
	NoiseSwapped:     5,
	NoiseNickname:    6,
	NoiseIDChanged:   3,
}

// labNoiseOrder fixes the order categories are drawn and reported in.
var labNoiseOrder = []Noise{
	NoiseClean, NoiseNameTypo, NoiseMissing, NoiseNoIDs, NoiseEmailNew, NoiseEmailDomain, NoiseEmailTag,
	NoiseEmailCase, NoiseIDFormat, NoiseDateFormat, NoiseSwapped, NoiseNickname, NoiseIDChanged,
	NoiseAppDuplicate, NoiseCleverDuplicate, NoiseSameNameSchool, NoiseSameNameDOB, NoiseAppOnly,
}

// LabelledOptions shapes a labelled set. For every number, zero selects the default and a negative
// value asks for none.
type LabelledOptions struct {
	// Type is the record type: Student (default), Teacher or Staff.
	Type Type
	// Dataset is the Clever district to take users from; nil generates one with synth.Generate, seeded by
	// Labelled's seed and sized by Students, Teachers and Staff.
	Dataset *cleversim.Dataset
	// Students, Teachers and Staff size the generated district (defaults 2,000, 300 and 100).
	Students, Teachers, Staff int
	// Limit bounds the Clever users of the type taken from the district (default: all).
	Limit int
	// AppShare is the share of Clever people the app has a record of (default 0.9); the rest are Clever
	// records with no app counterpart. People in a structural case always have one.
	AppShare float64
	// AppOnly is the number of app records with no Clever counterpart, as a share of the app records
	// with one (default 0.04).
	AppOnly float64
	// AppDuplicates is the share of app people entered twice (default 0.03).
	AppDuplicates float64
	// CleverDuplicates is the share of Clever people given a second Clever record (default 0.02).
	CleverDuplicates float64
	// SameNameSchool is the share of Clever people given a different person with the same first and last
	// name at the same school (default 0.02).
	SameNameSchool float64
	// SameNameDOB is the share of Clever people given a different person with the same first and last
	// name and birth date, at the same school (default 0.01; people without a birth date are skipped).
	SameNameDOB float64
	// DecoyInApp is the share of those added same-name people the app has a record of (default 0.5).
	DecoyInApp float64
	// ForceNoIDs is the share of people in a same-name case whose app record is given NoiseNoIDs, so
	// that only the name (and birth date) can find them (default 0.5).
	ForceNoIDs float64
	// SecondNoise is the share of app records given a second, harmless noise (default 0.2).
	SecondNoise float64
	// Mix weighs the per-record noise; nil is DefaultNoiseMix.
	Mix map[Noise]float64
}

func (o LabelledOptions) withDefaults() LabelledOptions {
	n := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	f := func(v, def float64) float64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	o.Type = cmp.Or(o.Type, Student)
	o.Students = n(o.Students, 2000)
	o.Teachers = n(o.Teachers, 300)
	o.Staff = n(o.Staff, 100)
	o.Limit = n(o.Limit, 0)
	o.AppShare = f(o.AppShare, 0.9)
	o.AppOnly = f(o.AppOnly, 0.04)
	o.AppDuplicates = f(o.AppDuplicates, 0.03)
	o.CleverDuplicates = f(o.CleverDuplicates, 0.02)
	o.SameNameSchool = f(o.SameNameSchool, 0.02)
	o.SameNameDOB = f(o.SameNameDOB, 0.01)
	o.DecoyInApp = f(o.DecoyInApp, 0.5)
	o.ForceNoIDs = f(o.ForceNoIDs, 0.5)
	o.SecondNoise = f(o.SecondNoise, 0.2)
	if o.Mix == nil {
		o.Mix = DefaultNoiseMix
	}
	return o
}

// LabelledSet is a labelled matching problem for one type.
type LabelledSet struct {
	Type Type
	// Clever are the Clever records (the district's, plus the added duplicates and same-name people),
	// sorted by id.
	Clever []Record
	// App are the app's records, in random order; Expected[i] labels App[i].
	App      []Record
	Expected []Expectation
	// CleverOnly are the Clever records of people with no app record.
	CleverOnly []string
	// CleverDuplicates are the groups of Clever records of one person (two or more).
	CleverDuplicates [][]string
	// SameNameSchool and SameNameDOB are the groups of Clever records of different people with the same
	// first and last name at one school, and with the same name and birth date (one record per person).
	SameNameSchool [][]string
	SameNameDOB    [][]string
}

// Expectation is the truth about one app record.
type Expectation struct {
	AppID string
	// CleverID is the Clever record the app record was made from; "" for an app record with no Clever
	// counterpart. CleverIDs are all the Clever records of that person, CleverID first: matching any of
	// them is right.
	CleverID  string
	CleverIDs []string
	// Noise are the record's categories: the primary noise first, then a second noise if any, then the
	// structural cases it is part of.
	Noise []Noise
	// Shared are the type's strong identifiers present on both the app record and CleverID's record and
	// equal after normalisation; Conflicting those present on both and different.
	Shared      []Field
	Conflicting []Field
	// AppDuplicates are the other app records of the same person.
	AppDuplicates []string
	// Status is the ideal outcome: Matched when AutoEligible, Duplicate for an app duplicate, Unmatched
	// without a Clever counterpart, Suggested otherwise.
	Status Status
}

// Has reports whether the record is in category n.
func (e Expectation) Has(n Noise) bool { return slices.Contains(e.Noise, n) }

// Strong reports whether the app record shares a strong identifier with its true Clever record.
func (e Expectation) Strong() bool { return len(e.Shared) > 0 }

// AutoEligible reports whether the record should be matched automatically: it shares a strong
// identifier with its true Clever record, no strong identifier disagrees, and neither side duplicates
// the person.
func (e Expectation) AutoEligible() bool {
	return e.CleverID != "" && len(e.Shared) > 0 && len(e.Conflicting) == 0 && len(e.AppDuplicates) == 0 &&
		len(e.CleverIDs) == 1
}

// Correct reports whether cleverID is one of the person's Clever records.
func (e Expectation) Correct(cleverID string) bool {
	return cleverID != "" && slices.Contains(e.CleverIDs, cleverID)
}

// Counts returns the number of app records in each category.
func (s LabelledSet) Counts() map[Noise]int {
	c := map[Noise]int{}
	for _, e := range s.Expected {
		for _, n := range e.Noise {
			c[n]++
		}
	}
	return c
}

// StrongFields are the strong identifiers of a type: a match needs one of them to agree.
func StrongFields(typ Type) []Field {
	switch typ {
	case Student:
		return []Field{SISID, StudentNumber, StateID}
	case Teacher:
		return []Field{Email, SISID, TeacherNumber, StateID}
	case Staff:
		return []Field{Email, StaffID, SISID}
	}
	return nil
}

// labPerson is one Clever person of the set, with its Clever records (the first is the original).
type labPerson struct {
	records []int // indexes into clever
	decoy   bool  // added as a same-name person
	twin    bool  // has a same-name-same-dob decoy
	same    bool  // has a same-name-same-school decoy
}

type labGen struct {
	opts    LabelledOptions
	rng     *rand.Rand
	typ     Type
	clever  []Record
	people  []labPerson
	owner   []int           // clever index → person
	used    map[string]bool // normalised strong values in use (field:value)
	ids     map[string]bool // Clever ids in use
	schools []string
}

// Labelled generates a labelled set. The same seed and options give the same set.
func Labelled(seed int64, opts LabelledOptions) LabelledSet {
	opts = opts.withDefaults()
	ds := opts.Dataset
	if ds == nil {
		ds = synth.Generate(synth.Config{Seed: seed, Students: opts.Students, Teachers: opts.Teachers,
			Staff: opts.Staff, Contacts: -1, Sections: -1, Courses: -1, Terms: -1})
	}
	g := &labGen{opts: opts, typ: opts.Type, rng: rand.New(rand.NewPCG(uint64(seed), 0x1abe11ed)),
		used: map[string]bool{}, ids: map[string]bool{}}
	g.clever = labCleverRecords(ds, g.typ, opts.Limit)
	for i, r := range g.clever {
		g.people = append(g.people, labPerson{records: []int{i}})
		g.owner = append(g.owner, i)
		g.ids[r.ID] = true
		g.markUsed(r)
	}
	for _, raw := range ds.Schools {
		var s struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &s) == nil {
			g.schools = append(g.schools, s.ID)
		}
	}
	return g.build(seed)
}

func (g *labGen) build(seed int64) LabelledSet {
	o := g.opts
	r := g.rng
	nOrig := len(g.people)

	// Structural cases, on disjoint people.
	perm := r.Perm(nOrig)
	take := func(share float64, ok func(p int) bool) []int {
		want := int(share*float64(nOrig) + 0.5)
		var out []int
		for len(out) < want && len(perm) > 0 {
			p := perm[0]
			perm = perm[1:]
			if ok(p) {
				out = append(out, p)
			} else {
				perm = append(perm, p) // keep for a later case
				if !slices.ContainsFunc(perm, ok) {
					break
				}
			}
		}
		return out
	}
	everyone := func(int) bool { return true }
	hasDOB := func(p int) bool { return g.clever[g.people[p].records[0]].Values[DOB] != "" }
	for _, p := range take(o.CleverDuplicates, everyone) {
		g.addCleverDuplicate(p)
	}
	var decoys []int
	for _, p := range take(o.SameNameSchool, everyone) {
		decoys = append(decoys, g.addDecoy(p, false))
		g.people[p].same = true
	}
	if g.typ == Student {
		for _, p := range take(o.SameNameDOB, hasDOB) {
			decoys = append(decoys, g.addDecoy(p, true))
			g.people[p].twin = true
		}
	}

	// Who the app knows.
	inApp := make([]bool, len(g.people))
	for p := range nOrig {
		q := g.people[p]
		inApp[p] = len(q.records) > 1 || q.same || q.twin || r.Float64() < o.AppShare
	}
	for _, p := range decoys {
		inApp[p] = r.Float64() < o.DecoyInApp
	}

	type appRec struct {
		rec    Record
		exp    Expectation
		person int
	}
	var apps []appRec
	var present []int
	for p := range g.people {
		if !inApp[p] {
			continue
		}
		present = append(present, p)
		q := g.people[p]
		var force Noise
		if (q.same || q.twin) && r.Float64() < o.ForceNoIDs {
			force = NoiseNoIDs
		}
		rec, noise := g.appRecord(g.people[p].records[0], force, nil)
		apps = append(apps, appRec{rec: rec, exp: Expectation{Noise: noise}, person: p})
	}
	// App duplicates: a second record of people without another structural case.
	var plain []int
	for _, a := range apps {
		q := g.people[a.person]
		if len(q.records) == 1 && !q.decoy && !q.same && !q.twin {
			plain = append(plain, a.person)
		}
	}
	r.Shuffle(len(plain), func(i, j int) { plain[i], plain[j] = plain[j], plain[i] })
	nDup := min(len(plain), int(o.AppDuplicates*float64(len(present))+0.5))
	light := []Noise{NoiseClean, NoiseClean, NoiseNameTypo, NoiseMissing, NoiseDateFormat, NoiseIDFormat,
		NoiseEmailCase, NoiseNickname}
	for _, p := range plain[:nDup] {
		rec, noise := g.appRecord(g.people[p].records[0], "", light)
		apps = append(apps, appRec{rec: rec, exp: Expectation{Noise: noise}, person: p})
	}

	// Labels from the Clever side.
	nameSchool, nameDOB := g.sameNameGroups()
	var set LabelledSet
	set.Type = g.typ
	byPerson := map[int][]int{}
	for i := range apps {
		byPerson[apps[i].person] = append(byPerson[apps[i].person], i)
	}
	for i := range apps {
		a := &apps[i]
		q := g.people[a.person]
		a.exp.CleverID = g.clever[q.records[0]].ID
		for _, c := range q.records {
			a.exp.CleverIDs = append(a.exp.CleverIDs, g.clever[c].ID)
		}
		if len(byPerson[a.person]) > 1 {
			a.exp.Noise = append(a.exp.Noise, NoiseAppDuplicate)
		}
		if len(q.records) > 1 {
			a.exp.Noise = append(a.exp.Noise, NoiseCleverDuplicate)
		}
		if nameSchool[a.person] {
			a.exp.Noise = append(a.exp.Noise, NoiseSameNameSchool)
		}
		if nameDOB[a.person] {
			a.exp.Noise = append(a.exp.Noise, NoiseSameNameDOB)
		}
	}

	// App records with no Clever counterpart, from another district.
	for _, rec := range g.appOnly(seed, int(o.AppOnly*float64(len(apps))+0.5)) {
		apps = append(apps, appRec{rec: rec, exp: Expectation{Noise: []Noise{NoiseClean, NoiseAppOnly}}, person: -1})
	}

	// App ids in random order.
	r.Shuffle(len(apps), func(i, j int) { apps[i], apps[j] = apps[j], apps[i] })
	for i := range apps {
		id := fmt.Sprintf("app-%06d", i+1)
		apps[i].rec.ID = id
		apps[i].exp.AppID = id
	}
	appIDs := map[int][]string{}
	for _, a := range apps {
		if a.person >= 0 {
			appIDs[a.person] = append(appIDs[a.person], a.rec.ID)
		}
	}
	byID := map[string]int{}
	for i, c := range g.clever {
		byID[c.ID] = i
	}
	for i := range apps {
		a := &apps[i]
		if a.person >= 0 {
			for _, id := range appIDs[a.person] {
				if id != a.rec.ID {
					a.exp.AppDuplicates = append(a.exp.AppDuplicates, id)
				}
			}
			a.exp.Shared, a.exp.Conflicting = labCompareStrong(g.typ, a.rec, g.clever[byID[a.exp.CleverID]])
		}
		switch {
		case a.exp.CleverID == "":
			a.exp.Status = Unmatched
		case len(a.exp.AppDuplicates) > 0:
			a.exp.Status = Duplicate
		case a.exp.AutoEligible():
			a.exp.Status = Matched
		default:
			a.exp.Status = Suggested
		}
		set.App = append(set.App, a.rec)
		set.Expected = append(set.Expected, a.exp)
	}

	for p, q := range g.people {
		var ids []string
		for _, c := range q.records {
			ids = append(ids, g.clever[c].ID)
		}
		if !inApp[p] {
			set.CleverOnly = append(set.CleverOnly, ids...)
		}
		if len(ids) > 1 {
			set.CleverDuplicates = append(set.CleverDuplicates, ids)
		}
	}
	set.SameNameSchool = g.groupIDs(func(p int) string { return g.nameKey(p, SchoolRef) })
	set.SameNameDOB = g.groupIDs(func(p int) string { return g.nameKey(p, DOB) })
	set.Clever = slices.Clone(g.clever)
	slices.SortFunc(set.Clever, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(set.CleverOnly)
	return set
}

// labCleverRecords reads the users of one type.
func labCleverRecords(ds *cleversim.Dataset, typ Type, limit int) []Record {
	var out []Record
	for _, raw := range ds.Users {
		if limit > 0 && len(out) >= limit {
			break
		}
		var u struct {
			ID    string  `json:"id"`
			Email *string `json:"email"`
			Name  struct {
				First  string `json:"first"`
				Middle string `json:"middle"`
				Last   string `json:"last"`
			} `json:"name"`
			Roles struct {
				Student *struct {
					DOB           *string `json:"dob"`
					SISID         string  `json:"sis_id"`
					StudentNumber *string `json:"student_number"`
					StateID       *string `json:"state_id"`
					School        string  `json:"school"`
					Grade         string  `json:"grade"`
				} `json:"student"`
				Teacher *struct {
					SISID         string  `json:"sis_id"`
					TeacherNumber *string `json:"teacher_number"`
					StateID       *string `json:"state_id"`
					School        string  `json:"school"`
				} `json:"teacher"`
				Staff *struct {
					StaffID string   `json:"staff_id"`
					SISID   *string  `json:"sis_id"`
					Schools []string `json:"schools"`
				} `json:"staff"`
			} `json:"roles"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			continue
		}
		v := map[Field]string{}
		set := func(f Field, s *string) {
			if s != nil && *s != "" {
				v[f] = *s
			}
		}
		rs := u.Roles
		switch {
		case typ == Student && rs.Student != nil:
			s := rs.Student
			set(DOB, s.DOB)
			set(SISID, &s.SISID)
			set(StudentNumber, s.StudentNumber)
			set(StateID, s.StateID)
			set(SchoolRef, &s.School)
			set(Grade, &s.Grade)
		case typ == Teacher && rs.Teacher != nil:
			t := rs.Teacher
			set(SISID, &t.SISID)
			set(TeacherNumber, t.TeacherNumber)
			set(StateID, t.StateID)
			set(SchoolRef, &t.School)
		case typ == Staff && rs.Staff != nil:
			s := rs.Staff
			set(StaffID, &s.StaffID)
			set(SISID, s.SISID)
			if len(s.Schools) > 0 {
				set(SchoolRef, &s.Schools[0])
			}
		default:
			continue
		}
		set(FirstName, &u.Name.First)
		set(MiddleName, &u.Name.Middle)
		set(LastName, &u.Name.Last)
		set(Email, u.Email)
		out = append(out, Record{ID: u.ID, Values: v})
	}
	return out
}

func (g *labGen) markUsed(r Record) {
	for _, f := range StrongFields(g.typ) {
		if k := labNormStrong(f, r.Values[f]); k != "" {
			g.used[string(f)+":"+k] = true
		}
	}
	for _, f := range []Field{SISID, StudentNumber, StateID, TeacherNumber, StaffID} {
		if k := labNormID(r.Values[f]); k != "" {
			g.used["id:"+k] = true
		}
	}
}

// freshID returns an unused numeric id with n digits.
func (g *labGen) freshID(n int) string {
	for {
		b := make([]byte, n)
		b[0] = byte('1' + g.rng.IntN(9))
		for i := 1; i < n; i++ {
			b[i] = byte('0' + g.rng.IntN(10))
		}
		if s := string(b); !g.used["id:"+s] {
			g.used["id:"+s] = true
			return s
		}
	}
}

// freshCleverID returns an unused Clever id: 24 lower-case hex digits.
func (g *labGen) freshCleverID() string {
	for {
		id := fmt.Sprintf("%08x%016x", 0x64373900+g.rng.IntN(0x100), g.rng.Uint64())
		if !g.ids[id] {
			g.ids[id] = true
			return id
		}
	}
}

func labCloneValues(v map[Field]string) map[Field]string {
	out := make(map[Field]string, len(v))
	for k, s := range v {
		out[k] = s
	}
	return out
}

// addCleverDuplicate gives person p a second Clever record: a second SIS record of the same person, with
// new local ids (a new sis_id gives a new Clever id) and the same state id; a teacher's second record
// carries another e-mail address, as Clever merges teachers by e-mail.
func (g *labGen) addCleverDuplicate(p int) {
	orig := g.clever[g.people[p].records[0]]
	v := labCloneValues(orig.Values)
	switch g.typ {
	case Student:
		v[SISID] = g.freshID(9)
		if orig.Values[StudentNumber] != "" {
			v[StudentNumber] = v[SISID]
		}
		if g.rng.IntN(2) == 0 {
			delete(v, Email)
		}
	case Teacher:
		v[SISID] = g.freshID(6)
		if v[TeacherNumber] != "" {
			v[TeacherNumber] = g.freshID(6)
		}
		if local, _, ok := strings.Cut(v[Email], "@"); ok {
			v[Email] = local + "@" + labPersonalDomains[g.rng.IntN(len(labPersonalDomains))]
		}
	case Staff:
		v[StaffID] = g.freshID(5)
	}
	if g.rng.IntN(3) == 0 {
		delete(v, MiddleName)
	}
	c := Record{ID: g.freshCleverID(), Values: v}
	g.clever = append(g.clever, c)
	g.owner = append(g.owner, p)
	g.people[p].records = append(g.people[p].records, len(g.clever)-1)
	g.markUsed(c)
}

// addDecoy adds a different person with p's first and last name at p's school, and with p's birth date
// when twin; it returns the new person.
func (g *labGen) addDecoy(p int, twin bool) int {
	orig := g.clever[g.people[p].records[0]]
	v := map[Field]string{FirstName: orig.Values[FirstName], LastName: orig.Values[LastName]}
	for _, f := range []Field{SchoolRef, Grade} {
		if s := orig.Values[f]; s != "" {
			v[f] = s
		}
	}
	if g.rng.IntN(4) != 0 {
		for {
			m := string(rune('A' + g.rng.IntN(26)))
			if m != orig.Values[MiddleName] {
				v[MiddleName] = m
				break
			}
		}
	}
	if d, ok := labParseDate(orig.Values[DOB]); ok {
		if !twin {
			shift := 1 + g.rng.IntN(300)
			if g.rng.IntN(2) == 0 {
				shift = -shift
			}
			d = d.AddDate(0, 0, shift)
		}
		v[DOB] = labFormatDate(d, 0)
	}
	if local, domain, ok := strings.Cut(orig.Values[Email], "@"); ok {
		v[Email] = local + strconv.Itoa(2+g.rng.IntN(8)) + "@" + domain
	}
	switch g.typ {
	case Student:
		v[SISID] = g.freshID(9)
		v[StudentNumber] = v[SISID]
		v[StateID] = g.freshID(9)
	case Teacher:
		v[SISID] = g.freshID(6)
		v[TeacherNumber] = g.freshID(6)
		v[StateID] = g.freshID(9)
	case Staff:
		v[StaffID] = g.freshID(5)
	}
	c := Record{ID: g.freshCleverID(), Values: v}
	g.clever = append(g.clever, c)
	g.people = append(g.people, labPerson{records: []int{len(g.clever) - 1}, decoy: true})
	g.owner = append(g.owner, len(g.people)-1)
	g.markUsed(c)
	return len(g.people) - 1
}

// nameKey is person p's normalised first and last name with another field of its first record.
func (g *labGen) nameKey(p int, f Field) string {
	v := g.clever[g.people[p].records[0]].Values
	if v[FirstName] == "" || v[LastName] == "" || v[f] == "" {
		return ""
	}
	extra := v[f]
	if f == DOB {
		d, ok := labParseDate(extra)
		if !ok {
			return ""
		}
		extra = d.Format("2006-01-02")
	}
	return labNormName(v[FirstName]) + "|" + labNormName(v[LastName]) + "|" + extra
}

// sameNameGroups reports the people who share their name with another person at their school, and
// their name and birth date.
func (g *labGen) sameNameGroups() (school, dob map[int]bool) {
	mark := func(f Field) map[int]bool {
		by := map[string][]int{}
		for p := range g.people {
			if k := g.nameKey(p, f); k != "" {
				by[k] = append(by[k], p)
			}
		}
		out := map[int]bool{}
		for _, ps := range by {
			if len(ps) > 1 {
				for _, p := range ps {
					out[p] = true
				}
			}
		}
		return out
	}
	return mark(SchoolRef), mark(DOB)
}

func (g *labGen) groupIDs(key func(p int) string) [][]string {
	by := map[string][]string{}
	for p := range g.people {
		if k := key(p); k != "" {
			by[k] = append(by[k], g.clever[g.people[p].records[0]].ID)
		}
	}
	var out [][]string
	for _, ids := range by {
		if len(ids) > 1 {
			slices.Sort(ids)
			out = append(out, ids)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// appOnly returns n app records of people who are not in the district: users of another synthetic
// district, placed at this district's schools, none sharing a strong id, or a name and birth date, with
// a Clever record.
func (g *labGen) appOnly(seed int64, n int) []Record {
	if n == 0 {
		return nil
	}
	size := n + n/2 + 10
	ds := synth.Generate(synth.Config{Seed: seed ^ 0x5eed, Students: size, Teachers: size, Staff: size,
		DistrictAdmins: -1, Contacts: -1, Sections: -1, Courses: -1, Terms: -1})
	names := map[string]bool{}
	for p := range g.people {
		if k := g.nameKey(p, DOB); k != "" {
			names[k] = true
		}
	}
	var out []Record
	for _, r := range labCleverRecords(ds, g.typ, 0) {
		if len(out) == n {
			break
		}
		// Ids the district already uses are replaced, as are e-mail addresses.
		for _, f := range []Field{SISID, StudentNumber, StateID, TeacherNumber, StaffID} {
			if s := r.Values[f]; s != "" && g.used["id:"+labNormID(s)] {
				r.Values[f] = g.freshID(max(len(labNormID(s)), 6))
			}
		}
		if r.Values[StudentNumber] != "" {
			r.Values[StudentNumber] = r.Values[SISID]
		}
		if local, domain, ok := strings.Cut(r.Values[Email], "@"); ok {
			for k := 2; g.used[string(Email)+":"+labNormEmail(r.Values[Email])]; k++ {
				r.Values[Email] = local + strconv.Itoa(k) + "@" + domain
			}
		}
		clash := false
		if d, ok := labParseDate(r.Values[DOB]); ok {
			k := labNormName(r.Values[FirstName]) + "|" + labNormName(r.Values[LastName]) + "|" + d.Format("2006-01-02")
			clash = clash || names[k]
		}
		if clash {
			continue
		}
		if len(g.schools) > 0 {
			r.Values[SchoolRef] = g.schools[g.rng.IntN(len(g.schools))]
		}
		g.markUsed(r)
		out = append(out, Record{Values: r.Values})
	}
	return out
}

// appRecord derives an app record from Clever record c: the primary noise (force, or drawn from among
// allowed, or from the mix), and sometimes a second, harmless one.
func (g *labGen) appRecord(c int, force Noise, allowed []Noise) (Record, []Noise) {
	rec := Record{Values: labCloneValues(g.clever[c].Values)}
	var noise []Noise
	primary := force
	for tries := 0; ; tries++ {
		if primary == "" {
			if allowed != nil {
				primary = allowed[g.rng.IntN(len(allowed))]
			} else {
				primary = g.drawNoise()
			}
		}
		if g.apply(primary, c, &rec) {
			break
		}
		if tries > 50 {
			primary = NoiseClean
			continue
		}
		primary = ""
	}
	noise = append(noise, primary)
	if g.rng.Float64() < g.opts.SecondNoise {
		second := []Noise{NoiseDateFormat, NoiseIDFormat, NoiseEmailCase}[g.rng.IntN(3)]
		if second != primary && !(primary == NoiseNoIDs && second == NoiseIDFormat) && g.apply(second, -1, &rec) {
			noise = append(noise, second)
		}
	}
	return rec, noise
}

func (g *labGen) drawNoise() Noise {
	total := 0.0
	for _, n := range labNoiseOrder {
		total += g.opts.Mix[n]
	}
	x := g.rng.Float64() * total
	for _, n := range labNoiseOrder {
		if w := g.opts.Mix[n]; w > 0 {
			if x < w {
				return n
			}
			x -= w
		}
	}
	return NoiseClean
}

var labPersonalDomains = []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"}

// apply applies noise n to rec, made from Clever record c (-1: do not change the Clever side); it
// reports false when n cannot apply.
func (g *labGen) apply(n Noise, c int, rec *Record) bool {
	r := g.rng
	v := rec.Values
	strong := StrongFields(g.typ)
	ids := slices.DeleteFunc(slices.Clone(strong), func(f Field) bool { return f == Email || v[f] == "" })
	local, domain, hasEmail := strings.Cut(v[Email], "@")
	hasEmail = hasEmail && local != "" && domain != ""
	switch n {
	case NoiseClean:
		return true
	case NoiseNameTypo:
		fs := []Field{LastName, FirstName}
		if r.IntN(2) == 0 {
			fs[0], fs[1] = fs[1], fs[0]
		}
		for _, f := range fs {
			if t, ok := labTypo(r, v[f]); ok {
				v[f] = t
				return true
			}
		}
		return false
	case NoiseMissing:
		var present []Field
		for _, f := range []Field{MiddleName, DOB, Email, SISID, StudentNumber, StateID, TeacherNumber, StaffID, SchoolRef, Grade} {
			if v[f] != "" {
				present = append(present, f)
			}
		}
		if len(present) < 2 {
			return false
		}
		r.Shuffle(len(present), func(i, j int) { present[i], present[j] = present[j], present[i] })
		for _, f := range present[:1+r.IntN(2)] {
			delete(v, f)
		}
		return true
	case NoiseNoIDs:
		removed := false
		for _, f := range strong {
			if v[f] != "" {
				removed = true
				delete(v, f)
			}
		}
		return removed
	case NoiseEmailNew:
		if !hasEmail {
			return false
		}
		var nl string
		switch {
		case strings.ContainsAny(local, "._") && r.IntN(2) == 0:
			nl = strings.NewReplacer(".", "", "_", "").Replace(local)
		case strings.ContainsAny(local, "._"):
			sep := strings.IndexAny(local, "._")
			nl = local[sep+1:] + local[sep:sep+1] + local[:sep]
		default:
			nl = local + strconv.Itoa(1+r.IntN(99))
		}
		if labNormEmail(nl+"@"+domain) == labNormEmail(v[Email]) {
			nl = local + strconv.Itoa(1+r.IntN(99))
		}
		v[Email] = nl + "@" + domain
		return true
	case NoiseEmailDomain:
		if !hasEmail {
			return false
		}
		nd := labPersonalDomains[r.IntN(len(labPersonalDomains))]
		if r.IntN(3) == 0 {
			nd = "students." + domain
		}
		v[Email] = local + "@" + nd
		return true
	case NoiseEmailTag:
		if !hasEmail || strings.Contains(local, "+") {
			return false
		}
		v[Email] = local + "+" + []string{"school", "app", "2024", "class"}[r.IntN(4)] + "@" + domain
		return true
	case NoiseEmailCase:
		if !hasEmail || strings.ToUpper(v[Email]) == v[Email] {
			return false
		}
		if r.IntN(2) == 0 {
			v[Email] = strings.ToUpper(v[Email])
		} else {
			v[Email] = labTitle(local) + "@" + strings.ToUpper(domain[:1]) + domain[1:]
		}
		return true
	case NoiseIDFormat:
		if len(ids) == 0 {
			return false
		}
		f := ids[r.IntN(len(ids))]
		s := v[f]
		switch k := r.IntN(4); {
		case strings.HasPrefix(s, "0") && strings.TrimLeft(s, "0") != "":
			v[f] = strings.TrimLeft(s, "0")
		case k == 0 && c >= 0 && len(s) < 12:
			// Zeros removed: the SIS sends Clever the id zero-padded, the app keeps it bare.
			g.clever[c].Values[f] = strings.Repeat("0", 1+r.IntN(3)) + s
			if f == SISID && g.clever[c].Values[StudentNumber] == s {
				g.clever[c].Values[StudentNumber] = g.clever[c].Values[f]
			}
		case k <= 1:
			v[f] = strings.Repeat("0", 1+r.IntN(3)) + s
		case len(s) >= 4:
			sep := []string{"-", " "}[k-2]
			var b strings.Builder
			for i, ch := range s {
				if i > 0 && i%3 == 0 {
					b.WriteString(sep)
				}
				b.WriteRune(ch)
			}
			v[f] = b.String()
		default:
			v[f] = " " + s + " "
		}
		return true
	case NoiseDateFormat:
		d, ok := labParseDate(v[DOB])
		if !ok {
			return false
		}
		for _, k := range r.Perm(3) {
			if s := labFormatDate(d, k+1); s != v[DOB] {
				v[DOB] = s
				return true
			}
		}
		return false
	case NoiseSwapped:
		if v[FirstName] == "" || v[LastName] == "" || labNormName(v[FirstName]) == labNormName(v[LastName]) {
			return false
		}
		v[FirstName], v[LastName] = v[LastName], v[FirstName]
		return true
	case NoiseNickname:
		alts := labNicknames[v[FirstName]]
		if len(alts) == 0 {
			return false
		}
		v[FirstName] = alts[r.IntN(len(alts))]
		return true
	case NoiseIDChanged:
		if len(ids) == 0 {
			return false
		}
		f := ids[r.IntN(len(ids))]
		old := v[f]
		v[f] = g.freshID(max(len(labNormID(old)), 4))
		if g.typ == Student && (f == SISID || f == StudentNumber) {
			// The SIS number and the student number move together.
			for _, o := range []Field{SISID, StudentNumber} {
				if v[o] == old {
					v[o] = v[f]
				}
			}
		}
		return true
	}
	return false
}

// labTypo makes one edit in name: a letter substituted, deleted, inserted (doubled) or two letters
// transposed; names shorter than three letters are left alone.
func labTypo(r *rand.Rand, name string) (string, bool) {
	rs := []rune(name)
	var letters []int
	for i, c := range rs {
		if unicode.IsLetter(c) {
			letters = append(letters, i)
		}
	}
	if len(letters) < 3 {
		return "", false
	}
	for range 10 {
		i := letters[1+r.IntN(len(letters)-1)] // keep the initial
		out := slices.Clone(rs)
		switch r.IntN(4) {
		case 0:
			c := rune('a' + r.IntN(26))
			if unicode.IsUpper(rs[i]) {
				c = unicode.ToUpper(c)
			}
			out[i] = c
		case 1:
			out = slices.Delete(out, i, i+1)
		case 2:
			out = slices.Insert(out, i, rs[i])
		default:
			if i+1 < len(out) && unicode.IsLetter(out[i+1]) {
				out[i], out[i+1] = out[i+1], out[i]
			}
		}
		if s := string(out); labNormName(s) != labNormName(name) {
			return s, true
		}
	}
	return "", false
}

func labTitle(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// labNicknames maps first names to nicknames (and nicknames to formal names), for the synthetic district's
// names and common US names.
var labNicknames = map[string][]string{
	"Steve": {"Steven", "Stephen"}, "Richard": {"Rick", "Rich", "Dick"}, "Samantha": {"Sam", "Sammy"},
	"Benjamin": {"Ben", "Benny"}, "Abigail": {"Abby", "Gail"}, "Elijah": {"Eli"}, "Isabella": {"Bella", "Izzy"},
	"Aleksandra": {"Sasha", "Ola"}, "Dmitri": {"Dima"}, "Valentina": {"Vale", "Tina"}, "Santiago": {"Santi"},
	"Evelyn": {"Evie"}, "Emily": {"Em", "Emmy"}, "Olivia": {"Liv", "Livvy"}, "Sophia": {"Sophie"},
	"Lucas": {"Luke"}, "Henry": {"Hank", "Harry"}, "Mateo": {"Matt", "Teo"}, "Camila": {"Cami"},
	"Ella": {"Ellie"}, "Jesús": {"Chuy"}, "José": {"Pepe"}, "Liam": {"William"}, "Jack": {"John"},
	"Robin": {"Rob"}, "Ibrahim": {"Abe"}, "Aaliyah": {"Ali"}, "Mary-Kate": {"Mary"}, "Anne-Marie": {"Annie"},
	"Jean-Luc": {"Jean"}, "Alejandro": {"Alex"}, "Samuel": {"Sam"}, "Robert": {"Bob", "Rob", "Bobby"},
	"William": {"Bill", "Will", "Liam"}, "Elizabeth": {"Liz", "Beth", "Betsy"}, "Katherine": {"Kate", "Katie"},
	"Michael": {"Mike"}, "Christopher": {"Chris"}, "Jennifer": {"Jen", "Jenny"}, "Daniel": {"Dan", "Danny"},
	"Matthew": {"Matt"}, "James": {"Jim", "Jimmy"}, "Joseph": {"Joe", "Joey"}, "Thomas": {"Tom", "Tommy"},
	"Margaret": {"Peggy", "Maggie"}, "Alexander": {"Alex", "Xander"}, "Nicholas": {"Nick"},
	"Anthony": {"Tony"}, "Andrew": {"Andy", "Drew"}, "Jonathan": {"Jon"}, "Zachary": {"Zach"},
	"Joshua": {"Josh"}, "Jacob": {"Jake"}, "Rebecca": {"Becky"}, "Patricia": {"Pat", "Patty"},
}

// labNormName folds case and accents and drops everything but letters and digits.
func labNormName(s string) string {
	var b strings.Builder
	for _, c := range norm.NFD.String(s) {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return b.String()
}

// labNormID is an id as compared: letters and digits only, lower case, without leading zeros.
func labNormID(s string) string {
	var b strings.Builder
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return strings.TrimLeft(b.String(), "0")
}

// labNormEmail is an address as compared: trimmed, lower case, without a +tag; "" when it is no address.
func labNormEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" {
		return ""
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

func labNormStrong(f Field, s string) string {
	if f == Email {
		return labNormEmail(s)
	}
	return labNormID(s)
}

// labCompareStrong compares the type's strong identifiers of an app record and a Clever record.
func labCompareStrong(typ Type, app, clever Record) (shared, conflicting []Field) {
	for _, f := range StrongFields(typ) {
		a, c := labNormStrong(f, app.Values[f]), labNormStrong(f, clever.Values[f])
		switch {
		case a == "" || c == "":
		case a == c:
			shared = append(shared, f)
		default:
			conflicting = append(conflicting, f)
		}
	}
	return shared, conflicting
}

var labDateLayouts = []string{"1/2/2006", "2006-01-02", "01/02/2006", "20060102"}

// labParseDate reads a birth date in any of the formats the set writes.
func labParseDate(s string) (time.Time, bool) {
	for _, l := range labDateLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// labFormatDate writes a date as Clever does (0: M/D/YYYY), or as YYYY-MM-DD (1), MM/DD/YYYY (2) or
// YYYYMMDD (3).
func labFormatDate(t time.Time, k int) string {
	return t.Format(labDateLayouts[k])
}

// Matchmaker's five results.
const (
	MatchmakerMatch           = "match"
	MatchmakerAppNoMatch      = "from app, no match"
	MatchmakerAppDuplicate    = "from app, duplicate"
	MatchmakerCleverNoMatch   = "from Clever, no match"
	MatchmakerCleverDuplicate = "from Clever, duplicate"
)

// MatchmakerRow is one row of Matchmaker's output: an app record (with its match, if any) or a Clever
// record no app record matched.
type MatchmakerRow struct {
	AppID    string
	CleverID string
	Result   string
}

// MatchmakerRows maps an Outcome to Matchmaker's rows: one per app record — "match" when matched, "from
// app, duplicate" for a duplicate, "from app, no match" otherwise (a suggestion is not a match) — then one
// per Clever record of clever that no app record matched, in clever's order: "from Clever, duplicate"
// when it is in one of the Outcome's CleverDuplicates groups, "from Clever, no match" otherwise.
func MatchmakerRows(out Outcome, clever []Record) []MatchmakerRow {
	var rows []MatchmakerRow
	matched := map[string]bool{}
	for _, r := range out.Results {
		row := MatchmakerRow{AppID: r.AppID}
		switch r.Status {
		case Matched:
			row.CleverID, row.Result = r.CleverID, MatchmakerMatch
			matched[r.CleverID] = true
		case Duplicate:
			row.Result = MatchmakerAppDuplicate
		default:
			row.Result = MatchmakerAppNoMatch
		}
		rows = append(rows, row)
	}
	dup := map[string]bool{}
	for _, g := range out.CleverDuplicates {
		for _, id := range g {
			dup[id] = true
		}
	}
	for _, c := range clever {
		if matched[c.ID] {
			continue
		}
		res := MatchmakerCleverNoMatch
		if dup[c.ID] {
			res = MatchmakerCleverDuplicate
		}
		rows = append(rows, MatchmakerRow{CleverID: c.ID, Result: res})
	}
	return rows
}

// MatchmakerResults counts an Outcome's Matchmaker rows by result.
func MatchmakerResults(out Outcome, clever []Record) map[string]int {
	n := map[string]int{}
	for _, r := range MatchmakerRows(out, clever) {
		n[r.Result]++
	}
	return n
}

// LabelledMetrics score an Outcome against a labelled set.
type LabelledMetrics struct {
	App, Clever int
	ByStatus    map[Status]int
	// Matched are the app records matched automatically; Wrong those matched to a record of another
	// person (or matched without a Clever counterpart). Precision is (Matched−Wrong)/Matched, 1 with no
	// match.
	Matched, Wrong int
	Precision      float64
	// Eligible are the app records that should be matched automatically (Expectation.AutoEligible);
	// EligibleMatched those matched to their person. AutoRecall is their ratio.
	Eligible, EligibleMatched int
	AutoRecall                float64
	// Findable are the app records with a Clever counterpart that are not app duplicates; Found those
	// matched to their person or with one of its records among the candidates. SuggestionRecall is their
	// ratio. FindableAll, FoundAll and SuggestionRecallAll count the app duplicates too.
	Findable, Found                     int
	SuggestionRecall                    float64
	FindableAll, FoundAll               int
	SuggestionRecallAll                 float64
	AppDuplicates, AppDuplicatesFlagged int // app records of people with several, and those reported Duplicate
	AppOnly, AppOnlyMatched             int // app records without a counterpart, and those matched
	// MatchedNoStrong are the matches of app records that share no strong identifier with their true
	// Clever record (name, or name and birth date, alone is never enough); MatchedCleverOnly the matches
	// to Clever records of people the app does not have; DoubleMatched the Clever records matched by
	// more than one app record; SameNameDOBMatchedNoStrong the matches without a strong identifier of
	// app records whose person has a same-name-same-birthday other.
	MatchedNoStrong, MatchedCleverOnly, DoubleMatched, SameNameDOBMatchedNoStrong int
	// CleverDupGroups are the labelled groups of Clever records of one person; CleverDupGroupsReported
	// those whose records all appear in one of the Outcome's CleverDuplicates groups.
	CleverDupGroups, CleverDupGroupsReported int
	// Matchmaker counts the Matchmaker rows by result.
	Matchmaker map[string]int
	// ByNoise breaks the figures down by category.
	ByNoise map[Noise]*NoiseMetrics
	// Mistakes describes the first wrong matches, for debugging.
	Mistakes []string
}

// NoiseMetrics are one category's figures.
type NoiseMetrics struct {
	Records, Matched, Wrong, Eligible, EligibleMatched, Findable, Found int
	Status                                                              map[Status]int
}

// Evaluate scores out, Match's outcome on set.App and set.Clever, against set's labels.
func Evaluate(set LabelledSet, out Outcome) LabelledMetrics {
	m := LabelledMetrics{App: len(set.App), Clever: len(set.Clever), ByStatus: map[Status]int{},
		ByNoise: map[Noise]*NoiseMetrics{}}
	res := map[string]Result{}
	for _, r := range out.Results {
		res[r.AppID] = r
	}
	cleverOnly := map[string]bool{}
	for _, id := range set.CleverOnly {
		cleverOnly[id] = true
	}
	matchedBy := map[string]int{}
	for i, e := range set.Expected {
		r, ok := res[e.AppID]
		if !ok {
			r = Result{AppID: e.AppID, Status: "MISSING"}
			if len(m.Mistakes) < 20 {
				m.Mistakes = append(m.Mistakes, fmt.Sprintf("%s: no result", e.AppID))
			}
		}
		m.ByStatus[r.Status]++
		matched := r.Status == Matched
		right := matched && e.Correct(r.CleverID)
		found := right || slices.ContainsFunc(r.Candidates, func(c Candidate) bool { return e.Correct(c.CleverID) })
		if matched {
			m.Matched++
			matchedBy[r.CleverID]++
			if !right {
				m.Wrong++
				if len(m.Mistakes) < 20 {
					m.Mistakes = append(m.Mistakes, fmt.Sprintf("%s %v %v matched to %s %v, truly %v",
						e.AppID, e.Noise, set.App[i].Values, r.CleverID, labFind(set.Clever, r.CleverID), e.CleverIDs))
				}
			}
			if !e.Strong() {
				m.MatchedNoStrong++
				if e.Has(NoiseSameNameDOB) {
					m.SameNameDOBMatchedNoStrong++
				}
			}
			if cleverOnly[r.CleverID] {
				m.MatchedCleverOnly++
			}
		}
		elig := e.AutoEligible()
		if elig {
			m.Eligible++
			if right {
				m.EligibleMatched++
			}
		}
		findable := e.CleverID != "" && len(e.AppDuplicates) == 0
		if findable {
			m.Findable++
			if found {
				m.Found++
			}
		}
		if e.CleverID != "" {
			m.FindableAll++
			if found {
				m.FoundAll++
			}
		}
		if len(e.AppDuplicates) > 0 {
			m.AppDuplicates++
			if r.Status == Duplicate {
				m.AppDuplicatesFlagged++
			}
		}
		if e.CleverID == "" {
			m.AppOnly++
			if matched {
				m.AppOnlyMatched++
			}
		}
		for _, n := range e.Noise {
			nm := m.ByNoise[n]
			if nm == nil {
				nm = &NoiseMetrics{Status: map[Status]int{}}
				m.ByNoise[n] = nm
			}
			nm.Records++
			nm.Status[r.Status]++
			if matched {
				nm.Matched++
				if !right {
					nm.Wrong++
				}
			}
			if elig {
				nm.Eligible++
				if right {
					nm.EligibleMatched++
				}
			}
			if findable {
				nm.Findable++
				if found {
					nm.Found++
				}
			}
		}
	}
	for _, n := range matchedBy {
		if n > 1 {
			m.DoubleMatched++
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 1
		}
		return float64(a) / float64(b)
	}
	m.Precision = ratio(m.Matched-m.Wrong, m.Matched)
	m.AutoRecall = ratio(m.EligibleMatched, m.Eligible)
	m.SuggestionRecall = ratio(m.Found, m.Findable)
	m.SuggestionRecallAll = ratio(m.FoundAll, m.FindableAll)
	group := map[string]int{}
	for i, g := range out.CleverDuplicates {
		for _, id := range g {
			group[id] = i + 1
		}
	}
	for _, g := range set.CleverDuplicates {
		m.CleverDupGroups++
		first := group[g[0]]
		if first != 0 && !slices.ContainsFunc(g, func(id string) bool { return group[id] != first }) {
			m.CleverDupGroupsReported++
		}
	}
	m.Matchmaker = MatchmakerResults(out, set.Clever)
	return m
}

func labFind(rs []Record, id string) map[Field]string {
	for _, r := range rs {
		if r.ID == id {
			return r.Values
		}
	}
	return nil
}

// Report renders the metrics as lines for a test log.
func (m LabelledMetrics) Report() []string {
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }
	lines := []string{
		fmt.Sprintf("app records %d, Clever records %d; status: MATCHED %d, SUGGESTED %d, UNMATCHED %d, DUPLICATE %d",
			m.App, m.Clever, m.ByStatus[Matched], m.ByStatus[Suggested], m.ByStatus[Unmatched], m.ByStatus[Duplicate]),
		fmt.Sprintf("precision of MATCHED %s (%d wrong of %d)", pct(m.Precision), m.Wrong, m.Matched),
		fmt.Sprintf("automatic recall %s (%d of %d eligible)", pct(m.AutoRecall), m.EligibleMatched, m.Eligible),
		fmt.Sprintf("suggestion recall %s (%d of %d with a counterpart, app duplicates aside); with them %s (%d of %d)",
			pct(m.SuggestionRecall), m.Found, m.Findable, pct(m.SuggestionRecallAll), m.FoundAll, m.FindableAll),
		fmt.Sprintf("app duplicates reported DUPLICATE %d of %d; Clever duplicate groups reported %d of %d",
			m.AppDuplicatesFlagged, m.AppDuplicates, m.CleverDupGroupsReported, m.CleverDupGroups),
		fmt.Sprintf("app-only matched %d of %d; matched to Clever-only %d; matched without a strong id %d (same name+dob %d); Clever records matched twice %d",
			m.AppOnlyMatched, m.AppOnly, m.MatchedCleverOnly, m.MatchedNoStrong, m.SameNameDOBMatchedNoStrong, m.DoubleMatched),
		fmt.Sprintf("matchmaker: match %d, from app no match %d, from app duplicate %d, from Clever no match %d, from Clever duplicate %d",
			m.Matchmaker[MatchmakerMatch], m.Matchmaker[MatchmakerAppNoMatch], m.Matchmaker[MatchmakerAppDuplicate],
			m.Matchmaker[MatchmakerCleverNoMatch], m.Matchmaker[MatchmakerCleverDuplicate]),
		fmt.Sprintf("%-18s %7s %7s %5s %9s %9s %9s %9s", "category", "records", "matched", "wrong", "eligible", "auto-rec", "findable", "sugg-rec"),
	}
	for _, n := range labNoiseOrder {
		nm := m.ByNoise[n]
		if nm == nil {
			continue
		}
		r := func(a, b int) string {
			if b == 0 {
				return "-"
			}
			return pct(float64(a) / float64(b))
		}
		lines = append(lines, fmt.Sprintf("%-18s %7d %7d %5d %9d %9s %9d %9s", n, nm.Records, nm.Matched, nm.Wrong,
			nm.Eligible, r(nm.EligibleMatched, nm.Eligible), nm.Findable, r(nm.Found, nm.Findable)))
	}
	return lines
}
