package match

// fieldIdx numbers the fields for arrays indexed by field.
type fieldIdx uint8

const (
	fiFirst fieldIdx = iota
	fiMiddle
	fiLast
	fiName
	fiDOB
	fiEmail
	fiSIS
	fiStudentNumber
	fiStateID
	fiTeacherNumber
	fiStaffID
	fiSchool
	fiGrade
	fiNCES
	fiMDR
	fiSchoolNumber
	fiState
	fiTeacher
	fiPeriod
	fiSectionNumber
	numFields
)

// fieldNames are the Fields by index.
var fieldNames = [numFields]Field{
	FirstName, MiddleName, LastName, Name, DOB, Email, SISID, StudentNumber, StateID, TeacherNumber,
	StaffID, SchoolRef, Grade, NCESID, MDRNumber, SchoolNumber, State, TeacherRef, Period, SectionNumber,
}

// fieldLabels are the fields as explanations name them.
var fieldLabels = [numFields]string{
	"first name", "middle name", "last name", "name", "birth date", "e-mail", "sis id", "student number",
	"state id", "teacher number", "staff id", "school", "grade", "NCES id", "MDR number", "school number",
	"state", "teacher", "period", "section number",
}

func fieldIndex(f Field) (fieldIdx, bool) {
	for i, n := range fieldNames {
		if n == f {
			return fieldIdx(i), true
		}
	}
	return 0, false
}

// identifier reports whether a field is an identifier: a value meant to single out one record. Only
// identifiers can be strong.
func (f fieldIdx) identifier() bool {
	switch f {
	case fiEmail, fiSIS, fiStudentNumber, fiStateID, fiTeacherNumber, fiStaffID, fiNCES, fiMDR, fiSchoolNumber:
		return true
	}
	return false
}

// defaultOrders are Clever Matchmaker's field orders, strongest first, followed by the supporting
// fields this package also compares. A person's "name" is first, middle and last name.
//
// Sections have no identifier in Clever's order (school + teacher, then name, period, section number);
// a section's sis_id, when both sides have one, is put first as the one identifier a section has.
var defaultOrders = map[Type][]Field{
	Student: {SISID, StudentNumber, StateID, DOB, Email, FirstName, MiddleName, LastName, SchoolRef, Grade},
	Teacher: {Email, SISID, TeacherNumber, StateID, FirstName, MiddleName, LastName, SchoolRef},
	Staff:   {Email, StaffID, SISID, FirstName, MiddleName, LastName, SchoolRef},
	School:  {NCESID, MDRNumber, SISID, SchoolNumber, Name, State},
	Section: {SISID, SchoolRef, TeacherRef, Name, Period, SectionNumber, Grade},
}

// DefaultOrder is the field order Match uses for a type when Config.Order is empty: Clever's order,
// strongest first, then the supporting fields compared. The identifiers before the first field that is
// not an identifier are the type's strong identifiers.
func DefaultOrder(typ Type) []Field {
	return append([]Field(nil), defaultOrders[typ]...)
}

// plan is how one Match call compares: which fields, which are strong, in what order.
type plan struct {
	typ           Type
	person        bool
	order         []fieldIdx // compared fields, strongest first
	active        [numFields]bool
	strong        [numFields]bool
	maxCandidates int
	// keyed are the compared fields whose values are kept as strings (prep.keys, at slot) and numbered
	// by numberKeys: identifiers, e-mail, state, period, section number — values that mostly differ
	// from record to record. The e-mail's local part, when e-mail is compared, is kept after them, at
	// localSlot (else -1): nkeys in all.
	keyed     []fieldIdx
	slot      [numFields]int8
	localSlot int8
	nkeys     int
	// tab numbers the call's other normalised values (prepare): names, grades, references, the few a
	// district has.
	tab *strtab
	// space bounds every value number (prep.ids) once values are numbered.
	space int
	// weights are each field's value weights, by weight class (prep.wc; weighClever).
	weights [numFields][]weightPair
}

// keyedField reports whether prepare keeps a field's value as a string for numberKeys.
func keyedField(f fieldIdx) bool {
	return f.identifier() || f == fiState || f == fiPeriod || f == fiSectionNumber
}

func newPlan(typ Type, cfg Config) plan {
	p := plan{typ: typ, person: typ == Student || typ == Teacher || typ == Staff, maxCandidates: cfg.MaxCandidates}
	if p.maxCandidates <= 0 {
		p.maxCandidates = 5
	}
	order := cfg.Order
	if len(order) == 0 {
		order = defaultOrders[typ]
	}
	add := func(f fieldIdx) {
		if !p.active[f] {
			p.active[f] = true
			p.order = append(p.order, f)
		}
	}
	strongOpen := true
	for _, f := range order {
		if f == Name && p.person {
			add(fiFirst)
			add(fiMiddle)
			add(fiLast)
			strongOpen = false
			continue
		}
		i, ok := fieldIndex(f)
		if !ok {
			continue
		}
		if !i.identifier() {
			strongOpen = false
		}
		if strongOpen {
			p.strong[i] = true
		}
		add(i)
	}
	for _, f := range p.order {
		if keyedField(f) {
			p.slot[f] = int8(len(p.keyed))
			p.keyed = append(p.keyed, f)
		}
	}
	p.localSlot, p.nkeys = -1, len(p.keyed)
	if p.active[fiEmail] {
		p.localSlot = int8(p.nkeys)
		p.nkeys++
	}
	return p
}
