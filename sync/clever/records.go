package clever

import (
	"encoding/json"
	"fmt"
	"strings"

	segjson "github.com/segmentio/encoding/json"
)

// Payload holds a record's JSON exactly as Clever sent it, so that fields the typed struct does not model
// (ext, keys Clever adds later) are never lost. Every record type embeds it.
type Payload struct {
	Raw json.RawMessage `json:"-"`
}

func (p *Payload) setRaw(b json.RawMessage) { p.Raw = b }

// record is what the decoders need of a record type: a pointer that can take its raw JSON.
type record[T any] interface {
	*T
	setRaw(json.RawMessage)
}

// unmarshal decodes list pages and the records in them: segmentio's encoding/json, a drop-in with
// encoding/json's behaviour that decodes Clever's pages about twice as fast (BenchmarkReadDistrict),
// which a full sync of a large district needs (it reads while it writes, on the same cores).
var unmarshal = segjson.Unmarshal

// decodeRecord decodes one record and keeps its raw JSON (b must not be reused by the caller).
func decodeRecord[T any, P record[T]](b json.RawMessage) (T, error) {
	var v T
	if err := unmarshal(b, &v); err != nil {
		return v, err
	}
	P(&v).setRaw(b)
	return v, nil
}

// Grade is Clever's grade enum ("InfantToddler" … "Kindergarten", "1" … "13", "PostGraduate", "Ungraded",
// "Other", ""). Values outside the list are kept as they come.
type Grade string

// Name is a person's name. For contacts Clever puts the full name in Last.
type Name struct {
	First  string `json:"first,omitempty"`
	Middle string `json:"middle,omitempty"`
	Last   string `json:"last,omitempty"`
}

// Location is an address; every part is optional.
type Location struct {
	Address string `json:"address,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Zip     Text   `json:"zip,omitempty"`
	Lat     Text   `json:"lat,omitempty"`
	Lon     Text   `json:"lon,omitempty"`
}

// Credentials holds a user's district username.
type Credentials struct {
	DistrictUsername string `json:"district_username,omitempty"`
}

// District is a Clever district.
type District struct {
	Payload
	ID              string           `json:"id"`
	Name            string           `json:"name,omitempty"`
	SISType         string           `json:"sis_type,omitempty"`
	LaunchDate      Date             `json:"launch_date,omitzero"`
	PortalURL       string           `json:"portal_url,omitempty"`
	LoginMethods    []string         `json:"login_methods,omitempty"`
	State           string           `json:"state,omitempty"`
	LastSync        Date             `json:"last_sync,omitzero"`
	Error           string           `json:"error,omitempty"`
	MDRNumber       string           `json:"mdr_number,omitempty"`
	NCESID          string           `json:"nces_id,omitempty"`
	PauseStart      Date             `json:"pause_start,omitzero"`
	PauseEnd        Date             `json:"pause_end,omitzero"`
	DistrictContact *DistrictContact `json:"district_contact,omitempty"`
}

// DistrictContact is the district's named contact person.
type DistrictContact struct {
	ID       string `json:"id,omitempty"`
	District string `json:"district,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     Name   `json:"name,omitzero"`
	Title    string `json:"title,omitempty"`
}

// School is a Clever school.
type School struct {
	Payload
	ID           string          `json:"id"`
	District     string          `json:"district,omitempty"`
	Name         string          `json:"name,omitempty"`
	Created      Date            `json:"created,omitzero"`
	LastModified Date            `json:"last_modified,omitzero"`
	SISID        string          `json:"sis_id,omitempty"`
	SchoolNumber string          `json:"school_number,omitempty"`
	StateID      string          `json:"state_id,omitempty"`
	NCESID       string          `json:"nces_id,omitempty"`
	MDRNumber    string          `json:"mdr_number,omitempty"`
	Phone        string          `json:"phone,omitempty"`
	LowGrade     Grade           `json:"low_grade,omitempty"`
	HighGrade    Grade           `json:"high_grade,omitempty"`
	Principal    *Principal      `json:"principal,omitempty"`
	Location     *Location       `json:"location,omitempty"`
	Ext          json.RawMessage `json:"ext,omitempty"`
}

// Principal is a school's principal.
type Principal struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Section is a class: its primary teacher first in Teachers, then co-teachers, and its students.
type Section struct {
	Payload
	ID            string          `json:"id"`
	District      string          `json:"district,omitempty"`
	School        string          `json:"school,omitempty"`
	Created       Date            `json:"created,omitzero"`
	LastModified  Date            `json:"last_modified,omitzero"`
	Name          string          `json:"name,omitempty"`
	SISID         string          `json:"sis_id,omitempty"`
	Subject       string          `json:"subject,omitempty"`
	Grade         Grade           `json:"grade,omitempty"`
	Course        string          `json:"course,omitempty"`
	TermID        string          `json:"term_id,omitempty"`
	Period        string          `json:"period,omitempty"`
	SectionNumber string          `json:"section_number,omitempty"`
	Teacher       string          `json:"teacher,omitempty"`
	Teachers      []string        `json:"teachers,omitempty"`
	Students      []string        `json:"students,omitempty"`
	Ext           json.RawMessage `json:"ext,omitempty"`
}

// PrimaryTeacher is the section's primary teacher: Teacher, or else the first of Teachers.
func (s Section) PrimaryTeacher() string {
	if s.Teacher != "" {
		return s.Teacher
	}
	if len(s.Teachers) > 0 {
		return s.Teachers[0]
	}
	return ""
}

// Term is a school term. Clever deletes and recreates terms under new ids when their sections change.
type Term struct {
	Payload
	ID        string `json:"id"`
	District  string `json:"district,omitempty"`
	Name      string `json:"name,omitempty"`
	StartDate Date   `json:"start_date,omitzero"`
	EndDate   Date   `json:"end_date,omitzero"`
}

// Course is a course. Like terms, courses can be recreated under new ids.
type Course struct {
	Payload
	ID       string `json:"id"`
	District string `json:"district,omitempty"`
	Name     string `json:"name,omitempty"`
	Number   string `json:"number,omitempty"`
}

// Role is one of the five roles a Clever user can hold.
type Role string

// The roles, spelled as the JSON keys of User.roles and the role= query parameter.
const (
	RoleStudent       Role = "student"
	RoleTeacher       Role = "teacher"
	RoleStaff         Role = "staff"
	RoleDistrictAdmin Role = "district_admin"
	RoleContact       Role = "contact"
)

// AllRoles lists the roles in a fixed order.
var AllRoles = []Role{RoleStudent, RoleTeacher, RoleStaff, RoleDistrictAdmin, RoleContact}

// User is one Clever user with every role it holds (teacher, staff and district_admin are often one user).
type User struct {
	Payload
	ID           string `json:"id"`
	District     string `json:"district,omitempty"`
	Email        string `json:"email,omitempty"` // not validated by Clever: may lack an "@"
	Name         Name   `json:"name,omitzero"`
	Created      Date   `json:"created,omitzero"`
	LastModified Date   `json:"last_modified,omitzero"`
	Roles        Roles  `json:"roles,omitzero"`
}

// Roles holds the role records a user has; absent roles are nil.
type Roles struct {
	Student       *StudentRole       `json:"student,omitempty"`
	Teacher       *TeacherRole       `json:"teacher,omitempty"`
	Staff         *StaffRole         `json:"staff,omitempty"`
	DistrictAdmin *DistrictAdminRole `json:"district_admin,omitempty"`
	Contact       *ContactRole       `json:"contact,omitempty"`
}

// Has reports whether the user holds role r.
func (r Roles) Has(role Role) bool {
	switch role {
	case RoleStudent:
		return r.Student != nil
	case RoleTeacher:
		return r.Teacher != nil
	case RoleStaff:
		return r.Staff != nil
	case RoleDistrictAdmin:
		return r.DistrictAdmin != nil
	case RoleContact:
		return r.Contact != nil
	}
	return false
}

// List returns the roles held, in AllRoles order.
func (r Roles) List() []Role {
	var out []Role
	for _, role := range AllRoles {
		if r.Has(role) {
			out = append(out, role)
		}
	}
	return out
}

// StudentRole is roles.student. ELLStatus, FRLStatus, IEPStatus and HomeLanguage are sensitive: Clever
// sends them only to apps with the extra scopes, and rostermirror serves them only with a sensitive scope.
type StudentRole struct {
	School            string          `json:"school,omitempty"`
	Schools           []string        `json:"schools,omitempty"`
	Enrollments       []Enrollment    `json:"enrollments,omitempty"`
	SISID             string          `json:"sis_id,omitempty"`
	StudentNumber     string          `json:"student_number,omitempty"`
	StateID           string          `json:"state_id,omitempty"`
	DOB               Date            `json:"dob,omitzero"` // M/D/YYYY
	Gender            string          `json:"gender,omitempty"`
	Grade             Grade           `json:"grade,omitempty"`
	GraduationYear    Text            `json:"graduation_year,omitempty"`
	Race              string          `json:"race,omitempty"`
	HispanicEthnicity string          `json:"hispanic_ethnicity,omitempty"`
	ELLStatus         string          `json:"ell_status,omitempty"`
	FRLStatus         string          `json:"frl_status,omitempty"`
	IEPStatus         string          `json:"iep_status,omitempty"`
	HomeLanguage      string          `json:"home_language,omitempty"`
	UnweightedGPA     Text            `json:"unweighted_gpa,omitempty"`
	WeightedGPA       Text            `json:"weighted_gpa,omitempty"`
	Email             string          `json:"email,omitempty"` // undocumented, seen in real data
	Location          *Location       `json:"location,omitempty"`
	Credentials       *Credentials    `json:"credentials,omitempty"`
	LegacyID          string          `json:"legacy_id,omitempty"`
	Created           Date            `json:"created,omitzero"`
	LastModified      Date            `json:"last_modified,omitzero"`
	Ext               json.RawMessage `json:"ext,omitempty"`
}

// Enrollment is a student's enrollment at a school, with optional dates.
type Enrollment struct {
	School    string `json:"school,omitempty"`
	StartDate Date   `json:"start_date,omitzero"`
	EndDate   Date   `json:"end_date,omitzero"`
}

// TeacherRole is roles.teacher.
type TeacherRole struct {
	School        string          `json:"school,omitempty"`
	Schools       []string        `json:"schools,omitempty"`
	SISID         string          `json:"sis_id,omitempty"`
	TeacherNumber string          `json:"teacher_number,omitempty"`
	StateID       string          `json:"state_id,omitempty"`
	Title         string          `json:"title,omitempty"`
	Credentials   *Credentials    `json:"credentials,omitempty"`
	LegacyID      string          `json:"legacy_id,omitempty"`
	Ext           json.RawMessage `json:"ext,omitempty"`
}

// StaffRole is roles.staff (v2's school admins).
type StaffRole struct {
	School      string          `json:"school,omitempty"`
	Schools     []string        `json:"schools,omitempty"`
	StaffID     string          `json:"staff_id,omitempty"`
	Title       string          `json:"title,omitempty"`
	Department  string          `json:"department,omitempty"`
	Roles       []string        `json:"roles,omitempty"`
	Credentials *Credentials    `json:"credentials,omitempty"`
	LegacyID    string          `json:"legacy_id,omitempty"`
	Ext         json.RawMessage `json:"ext,omitempty"`
}

// DistrictAdminRole is roles.district_admin.
type DistrictAdminRole struct {
	Title    string `json:"title,omitempty"`
	LegacyID string `json:"legacy_id,omitempty"`
}

// ContactRole is roles.contact: a parent or guardian and the students it relates to.
type ContactRole struct {
	SISID                string                `json:"sis_id,omitempty"`
	Phone                string                `json:"phone,omitempty"`
	PhoneType            string                `json:"phone_type,omitempty"`
	LegacyID             string                `json:"legacy_id,omitempty"`
	StudentRelationships []StudentRelationship `json:"student_relationships,omitempty"`
	// Relationship, Type and Students are the v2-style keys that older event payloads still carry.
	Relationship string   `json:"relationship,omitempty"`
	Type         string   `json:"type,omitempty"`
	Students     []string `json:"students,omitempty"`
}

// StudentRelationship links a contact to a student.
type StudentRelationship struct {
	Student      string `json:"student,omitempty"`
	Relationship string `json:"relationship,omitempty"`
	Type         string `json:"type,omitempty"`
}

// Event is one entry of the Events API. Data.Object is the full record after the change; for updates
// Data.PreviousAttributes is a nested partial holding only the changed keys' old values.
type Event struct {
	Payload
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created Date      `json:"created,omitzero"`
	Data    EventData `json:"data"`
}

// EventData is an event's payload. The live API nests previous_attributes here, beside object (the
// Swagger spec puts it one level up); UnmarshalJSON on Event accepts both.
type EventData struct {
	Object             json.RawMessage `json:"object,omitempty"`
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

// UnmarshalJSON decodes an event, taking previous_attributes from where the Swagger spec puts it when the
// live position is empty.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var v struct {
		plain
		PreviousAttributes json.RawMessage `json:"previous_attributes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Event(v.plain)
	if len(e.Data.PreviousAttributes) == 0 && len(v.PreviousAttributes) > 0 {
		e.Data.PreviousAttributes = v.PreviousAttributes
	}
	return nil
}

// RecordType is the kind of record the event is about: "users", "sections", … (the part before the dot).
func (e Event) RecordType() string {
	kind, _, _ := strings.Cut(e.Type, ".")
	return kind
}

// Action is "created", "updated" or "deleted" (the part after the dot).
func (e Event) Action() string {
	_, action, _ := strings.Cut(e.Type, ".")
	return action
}

// DecodeObject decodes the event's object into v (a *User, *Section, …), keeping its raw JSON.
func DecodeObject[T any, P record[T]](e Event) (T, error) {
	v, err := decodeRecord[T, P](e.Data.Object)
	if err != nil {
		return v, fmt.Errorf("decode %s event %s: %w", e.Type, e.ID, err)
	}
	return v, nil
}
