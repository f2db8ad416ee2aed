package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// mirroredColumns are the columns every mirrored table shares, first in every row.
var mirroredColumns = []string{"clever_id", "district_id", "raw", "content_hash", "archived_at", "last_synced_at", "created_at"}

// kindTable describes how one record type is written: its table, its own columns (after
// mirroredColumns) and how a Clever record becomes a row.
type kindTable struct {
	kind    string
	table   string
	columns []string
}

var tables = map[string]kindTable{
	"districts": {"districts", "districts", []string{"name", "sis_type", "state", "launch_date", "portal_url", "login_methods",
		"last_sync", "error", "mdr_number", "nces_id", "pause_start", "pause_end"}},
	"schools": {"schools", "schools", []string{"name", "sis_id", "school_number", "state_id", "nces_id", "mdr_number", "phone",
		"low_grade", "high_grade", "principal_name", "principal_email", "city", "state", "zip", "ext", "clever_created", "clever_last_modified"}},
	"terms":   {"terms", "terms", []string{"name", "start_date", "end_date"}},
	"courses": {"courses", "courses", []string{"name", "number"}},
	"users":   {"users", "users", []string{"email", "first_name", "middle_name", "last_name", "clever_created", "clever_last_modified"}},
	"sections": {"sections", "sections", []string{"name", "sis_id", "subject", "grade", "period", "section_number", "school_id",
		"term_id", "course_id", "ext", "clever_created", "clever_last_modified"}},
}

// allColumns is mirroredColumns then the table's own.
func (t kindTable) allColumns() []string {
	return append(append([]string(nil), mirroredColumns...), t.columns...)
}

// record is one Clever record on its way into the mirror.
type record struct {
	id, districtID string
	raw            json.RawMessage
	hash           string
	own            []any // values of kindTable.columns
}

// row is the record's full row for a write at now.
func (r record) row(now time.Time) []any {
	return append([]any{r.id, r.districtID, string(r.raw), r.hash, nil, now, now}, r.own...)
}

func contentHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// date turns a Clever date into a column value: a time, or NULL for an empty or unparseable one (the raw
// JSON keeps what Clever sent).
func date(d clever.Date) any {
	if t, ok := d.Time(); ok {
		return t
	}
	return nil
}

// jsonColumn is a JSON column's value: the JSON text, or NULL when absent.
func jsonColumn(b json.RawMessage) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return string(b)
}

// optional is a nullable id column: NULL for "".
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func stringsColumn(ss []string) any {
	if ss == nil {
		return nil
	}
	b, _ := json.Marshal(ss)
	return string(b)
}

func newRecord(id, districtID string, raw json.RawMessage, own ...any) record {
	return record{id: id, districtID: districtID, raw: raw, hash: contentHash(raw), own: own}
}

func districtRecord(d clever.District) record {
	return newRecord(d.ID, d.ID, d.Raw, d.Name, d.SISType, d.State, date(d.LaunchDate), d.PortalURL,
		stringsColumn(d.LoginMethods), date(d.LastSync), d.Error, d.MDRNumber, d.NCESID, date(d.PauseStart), date(d.PauseEnd))
}

func schoolRecord(s clever.School) record {
	var p clever.Principal
	if s.Principal != nil {
		p = *s.Principal
	}
	var l clever.Location
	if s.Location != nil {
		l = *s.Location
	}
	return newRecord(s.ID, s.District, s.Raw, s.Name, s.SISID, s.SchoolNumber, s.StateID, s.NCESID, s.MDRNumber, s.Phone,
		string(s.LowGrade), string(s.HighGrade), p.Name, p.Email, l.City, l.State, string(l.Zip), jsonColumn(s.Ext),
		date(s.Created), date(s.LastModified))
}

func termRecord(t clever.Term) record {
	return newRecord(t.ID, t.District, t.Raw, t.Name, date(t.StartDate), date(t.EndDate))
}

func courseRecord(c clever.Course) record {
	return newRecord(c.ID, c.District, c.Raw, c.Name, c.Number)
}

func userRecord(u clever.User) record {
	return newRecord(u.ID, u.District, u.Raw, u.Email, u.Name.First, u.Name.Middle, u.Name.Last, date(u.Created), date(u.LastModified))
}

func sectionRecord(s clever.Section) record {
	return newRecord(s.ID, s.District, s.Raw, s.Name, s.SISID, s.Subject, string(s.Grade), s.Period, s.SectionNumber,
		optional(s.School), optional(s.TermID), optional(s.Course), jsonColumn(s.Ext), date(s.Created), date(s.LastModified))
}

// roleColumns are the user_roles columns a sync writes.
var roleColumns = []string{"id", "user_id", "role", "district_id", "school_id", "content_hash", "archived_at", "last_synced_at",
	"sis_id", "state_id", "legacy_id", "district_username", "email", "student_number", "grade", "dob", "gender",
	"graduation_year", "race", "hispanic_ethnicity", "ell_status", "frl_status", "iep_status", "home_language",
	"teacher_number", "staff_id", "title", "department", "staff_roles", "phone", "phone_type", "ext"}

// userRole is one role of a user with the schools it is at.
type userRole struct {
	id      string
	row     []any
	schools []string
}

func roleID(userID string, role clever.Role) string { return userID + "/" + string(role) }

// roleEnum is the stored (and GraphQL) value of each Clever role.
var roleEnum = map[clever.Role]string{
	clever.RoleStudent:       string(userrole.RoleStudent),
	clever.RoleTeacher:       string(userrole.RoleTeacher),
	clever.RoleStaff:         string(userrole.RoleStaff),
	clever.RoleDistrictAdmin: string(userrole.RoleDistrictAdmin),
	clever.RoleContact:       string(userrole.RoleContact),
}

// userRoles maps a user's roles to user_roles rows (in clever.AllRoles order).
func userRoles(u clever.User, hash string, now time.Time) []userRole {
	var out []userRole
	add := func(role clever.Role, school string, schools []string, f roleFields) {
		id := roleID(u.ID, role)
		username := ""
		if f.credentials != nil {
			username = f.credentials.DistrictUsername
		}
		out = append(out, userRole{id: id, schools: schools, row: []any{
			id, u.ID, roleEnum[role], u.District, optional(school), hash, nil, now,
			f.sisID, f.stateID, f.legacyID, username, f.email, f.studentNumber, f.grade, f.dob, f.gender,
			f.graduationYear, f.race, f.hispanic, f.ell, f.frl, f.iep, f.homeLanguage,
			f.teacherNumber, f.staffID, f.title, f.department, stringsColumn(f.staffRoles), f.phone, f.phoneType, jsonColumn(f.ext),
		}})
	}
	r := u.Roles
	if s := r.Student; s != nil {
		add(clever.RoleStudent, s.School, s.Schools, roleFields{sisID: s.SISID, stateID: s.StateID, legacyID: s.LegacyID,
			credentials: s.Credentials, email: s.Email, studentNumber: s.StudentNumber, grade: string(s.Grade), dob: date(s.DOB),
			gender: s.Gender, graduationYear: string(s.GraduationYear), race: s.Race, hispanic: s.HispanicEthnicity,
			ell: s.ELLStatus, frl: s.FRLStatus, iep: s.IEPStatus, homeLanguage: s.HomeLanguage, ext: s.Ext})
	}
	if t := r.Teacher; t != nil {
		add(clever.RoleTeacher, t.School, t.Schools, roleFields{sisID: t.SISID, stateID: t.StateID, legacyID: t.LegacyID,
			credentials: t.Credentials, teacherNumber: t.TeacherNumber, title: t.Title, ext: t.Ext})
	}
	if s := r.Staff; s != nil {
		add(clever.RoleStaff, s.School, s.Schools, roleFields{legacyID: s.LegacyID, credentials: s.Credentials,
			staffID: s.StaffID, title: s.Title, department: s.Department, staffRoles: s.Roles, ext: s.Ext})
	}
	if d := r.DistrictAdmin; d != nil {
		add(clever.RoleDistrictAdmin, "", nil, roleFields{legacyID: d.LegacyID, title: d.Title})
	}
	if c := r.Contact; c != nil {
		add(clever.RoleContact, "", nil, roleFields{sisID: c.SISID, legacyID: c.LegacyID, phone: c.Phone, phoneType: c.PhoneType})
	}
	return out
}

// roleFields gathers one role's column values; absent ones are empty.
type roleFields struct {
	sisID, stateID, legacyID, email, studentNumber, grade   string
	credentials                                             *clever.Credentials
	dob                                                     any
	gender, graduationYear, race, hispanic, ell, frl, iep   string
	homeLanguage, teacherNumber, staffID, title, department string
	staffRoles                                              []string
	phone, phoneType                                        string
	ext                                                     json.RawMessage
}

// contactLinks lists a contact's students with relationship and type. Old payloads carry the v2 keys
// (students, relationship, type) instead of student_relationships; both are read.
func contactLinks(c *clever.ContactRole) map[string][]any {
	out := map[string][]any{}
	for _, rel := range c.StudentRelationships {
		if rel.Student != "" {
			out[rel.Student] = []any{rel.Relationship, rel.Type}
		}
	}
	for _, s := range c.Students {
		if _, ok := out[s]; !ok && s != "" {
			out[s] = []any{c.Relationship, c.Type}
		}
	}
	return out
}
