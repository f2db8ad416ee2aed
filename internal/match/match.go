// Package match is record linkage between the app's own records and the mirror's Clever records of one
// type (students, teachers, staff, schools, sections): values normalised, candidates found by blocking
// on indexed keys (never all pairs), each pair scored the way record linkage does it — agreement and
// disagreement weights per field (Fellegi–Sunter), common values weighing less than rare ones — and a
// decision per app record: an automatic match only when a strong identifier agrees, nothing strong
// disagrees and exactly one candidate qualifies; a suggestion, with a score and a plain explanation,
// for anything weaker; duplicates on either side reported, never guessed between.
//
// It is pure computation over records in memory: loading them from the database and the CSV, storing
// results and decisions, is the caller's.
//
// # Normalisation
//
// Names lose case, accents, punctuation and spacing (a compact form lets "Mary-Kate" meet "Marykate");
// ids lose case, punctuation, spaces and leading zeros; e-mails lose case and "+tags"; dates are read
// from YYYY-MM-DD, M/D/YYYY, YYYYMMDD and ISO timestamps; grades, US states and school names ("Lincoln
// Elem. School" = "Lincoln Elementary", but not "Lincoln High") get canonical forms. A school or teacher
// reference may list alternatives separated by "|" or ";" ("clever id|sis id|name"); two references agree
// when any alternative does.
//
// # Weights
//
// Each field of a pair is compared to a level — exact, nickname, similar spelling (Jaro–Winkler ≥ 0.92),
// in part, initial only, day and month swapped, one date part off, different, or missing — and each
// level carries a weight in bits, log2(m/u): m is how often a true match shows that level, u how often
// two different people do. Agreement adds, disagreement (log2((1−m)/(1−u)), in effect) subtracts, and
// a missing value counts 0. The m's are fixed per field and documented in weights.go (an id is right
// for 95% of true pairs, an e-mail for 85%, a birth date for 93%). The u of an exact agreement is the
// value's frequency on the Clever side, smoothed toward a prior: "Smith" held by 1% of a district's
// students agrees by chance one time in a hundred and is worth about 6.5 bits, a surname held by one
// student in 100,000 about 16; a shared birthday counts less than a lone one. First and last names that
// agree only crosswise count as agreeing, less a penalty. A candidate's Weight is the sum; its Score is
// the logistic 1/(1+2^((12−Weight)/2)), so 12 bits reads 0.5.
//
// # Blocking
//
// The Clever records are indexed by hashed keys: every identifier's value, the e-mail's local part,
// last name + birth date, first name + birth date, first name (or its nickname group) + last name,
// Soundex of the last name + the first name's first two Soundex characters, and, for schools and
// sections, name words, teacher and school + section number. An app record is scored only against the
// Clever records sharing a key with it, its names also tried swapped. A key shared by more than 100
// Clever records is skipped (Outcome.Stats says how often, by kind); the record's other keys still
// reach its candidates.
//
// # Decision
//
// The strong identifiers are the identifiers at the head of the type's order (Clever's): students
// sis_id, student_number, state_id; teachers email, sis_id, teacher_number, state_id; staff email,
// staff_id, sis_id; schools nces_id, mdr_number, sis_id, school_number; sections sis_id, or school and
// teacher with name, period or section number. A record is Matched only when exactly one Clever record
// qualifies (a strong identifier agrees, none differs, and the rest doesn't weigh below −8 bits), no
// other candidate shares a strong identifier with it, and no other app record claims the same Clever
// record. Names and birth dates never match on their own. Everything at 4 bits or more (and within
// 15 bits of the best) is Suggested, at most Config.MaxCandidates, best first, ties by Clever id.
// Records of one side that share a strong identifier's value, or have the same name and birth date (or
// school name and state, or section) with no strong identifier or school telling them apart, are
// duplicates: Duplicate on the app side, Outcome.CleverDuplicates on the Clever side.
package match

// Type is a record type: student, teacher, staff, school or section.
type Type string

// Record types.
const (
	Student Type = "student"
	Teacher Type = "teacher"
	Staff   Type = "staff"
	School  Type = "school"
	Section Type = "section"
)

// Field is a value a record may carry, by its canonical name (SPEC.md "Matching CSV" lists the headers
// that map to each).
type Field string

// Fields.
const (
	FirstName     Field = "first_name"
	MiddleName    Field = "middle_name"
	LastName      Field = "last_name"
	Name          Field = "name" // a school's or a section's name
	DOB           Field = "dob"
	Email         Field = "email"
	SISID         Field = "sis_id"
	StudentNumber Field = "student_number"
	StateID       Field = "state_id"
	TeacherNumber Field = "teacher_number"
	StaffID       Field = "staff_id"
	SchoolRef     Field = "school" // a school's name or id, for people and sections
	Grade         Field = "grade"
	NCESID        Field = "nces_id"
	MDRNumber     Field = "mdr_number"
	SchoolNumber  Field = "school_number"
	State         Field = "state"   // a school's US state
	TeacherRef    Field = "teacher" // a section's teacher (an id or a name)
	Period        Field = "period"
	SectionNumber Field = "section_number"
)

// Record is one record on either side, with its raw values by field (missing fields are absent or "").
type Record struct {
	// ID is the record's key on its side: the app's internal id, or the Clever id.
	ID     string
	Values map[Field]string
}

// Status is what became of an app record.
type Status string

// Statuses (SPEC.md's AppRecord.status).
const (
	Matched   Status = "MATCHED"   // matched automatically: one candidate, a strong identifier agrees, nothing strong disagrees
	Suggested Status = "SUGGESTED" // candidates to review, best first
	Unmatched Status = "UNMATCHED" // no candidate worth showing
	Duplicate Status = "DUPLICATE" // the app record duplicates another app record: reported, not matched
)

// Candidate is a Clever record scored against an app record.
type Candidate struct {
	CleverID string
	// Weight is the pair's total log-likelihood weight (sum of the fields' agreement and disagreement
	// weights, in bits); Score is Weight mapped to 0–1 for people to read.
	Weight float64
	Score  float64
	// Method names the strongest identifier that agrees ("sis_id", "state_id", "email", "name+dob", …).
	Method string
	// Explanation says in plain words what agrees and what differs, e.g. "state id and birth date agree;
	// e-mail differs: a.smith@ vs asmith@".
	Explanation string
	// Strong reports whether a strong identifier agrees and nothing strong disagrees.
	Strong bool
}

// Result is the decision for one app record.
type Result struct {
	AppID  string
	Status Status
	// CleverID is the matched Clever record (Matched only).
	CleverID string
	// Candidates are the Clever records worth showing, best first (the match itself first when Matched).
	Candidates []Candidate
	// DuplicateOf names the other app records this one duplicates (Duplicate), or the other app records
	// that claim the same Clever record.
	DuplicateOf []string
}

// Outcome is what Match found.
type Outcome struct {
	// Results has one entry per app record, in the order given.
	Results []Result
	// CleverDuplicates are groups of Clever records that look like the same person (or school):
	// Matchmaker's "from Clever, duplicate".
	CleverDuplicates [][]string
	// CleverUnmatched are the Clever records no app record matched or was suggested for: "from Clever,
	// no match".
	CleverUnmatched []string
	// Stats says how much work matching did and where blocking gave up.
	Stats Stats
}

// Stats is how much work one Match call did.
type Stats struct {
	AppRecords, CleverRecords int
	// Pairs is the number of candidate pairs scored (blocking keeps it far below AppRecords ×
	// CleverRecords).
	Pairs int
	// SkippedBlocks are the blocks too common to compare (a surname with a common initial shared by
	// hundreds, a placeholder id), by kind of key; the values themselves are never reported.
	SkippedBlocks []SkippedBlocks
}

// SkippedBlocks counts the blocks of one kind of key that were skipped for being too large.
type SkippedBlocks struct {
	// Kind is the kind of key: an identifier's field name ("sis_id"), or "last_name+dob",
	// "first_name+last_name", "soundex(last_name)+soundex(first_name)[:2]", ….
	Kind string
	// Lookups is how many times an app record's key fell in a skipped block; Largest is the largest
	// such block's size.
	Lookups, Largest int
}

// Config tunes matching for one type. The zero value is the default for the type.
type Config struct {
	// Order overrides the type's field order, strongest first (DefaultOrder: Clever's, then the
	// supporting fields). The identifiers before the first field that is not one (birth date, a name, a
	// school, …) are the strong identifiers; fields not listed are not compared. For people, Name
	// stands for first, middle and last name.
	Order []Field
	// MaxCandidates bounds the suggestions kept per app record. Default 5.
	MaxCandidates int
}
