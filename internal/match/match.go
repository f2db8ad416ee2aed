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
}

// Config tunes matching for one type. The zero value is the default for the type.
type Config struct {
	// Order overrides the type's field order, strongest first (Clever's, by default).
	Order []Field
	// MaxCandidates bounds the suggestions kept per app record. Default 5.
	MaxCandidates int
}

// Match links app records to Clever records of one type. It blocks on normalised keys, scores the
// candidate pairs, and decides each app record.
func Match(typ Type, app, clever []Record, cfg Config) Outcome {
	panic("match.Match: not implemented yet")
}
