package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/sync/clever"
)

// table is a table with the columns a sync writes into it, in the table's order (ent.StorageTypes).
type table struct {
	name    string
	columns []string
}

// layout writes rows of a table from values of type T: one function per column, written by column name
// and put in the table's column order once, so that building a row costs one call per column. The
// functions must match the columns exactly (newLayout).
type layout[T any] struct {
	table
	values []func(*T) any
}

// newLayout orders values, keyed by column name, as columns. It fails when a column has no value (a
// column added to the schema but not to the sync) or a value names no column.
func newLayout[T any](name string, columns []string, values map[string]func(*T) any) (layout[T], error) {
	l := layout[T]{table: table{name, columns}, values: make([]func(*T) any, len(columns))}
	for i, c := range columns {
		f, ok := values[c]
		if !ok {
			return l, fmt.Errorf("%s.%s has no value: say how the sync fills it (sync/mirror/rows.go)", name, c)
		}
		l.values[i] = f
	}
	if len(values) > len(columns) {
		extra := slices.DeleteFunc(slices.Sorted(maps.Keys(values)), func(c string) bool { return slices.Contains(columns, c) })
		return l, fmt.Errorf("%s has no column %s", name, strings.Join(extra, ", "))
	}
	return l, nil
}

// mustLayout is newLayout for the package's own layouts: a mismatch is a programming error, found by
// every test (the package does not initialize).
func mustLayout[T any](name string, columns []string, values map[string]func(*T) any) layout[T] {
	l, err := newLayout(name, columns, values)
	if err != nil {
		panic("mirror: " + err.Error())
	}
	return l
}

// storage is ent's storage of typeName (ent.StorageTypes, generated from ent/schema).
func storage(typeName string) *ent.StorageType {
	st := ent.StorageTypes[typeName]
	if st == nil {
		panic("mirror: no ent type " + typeName)
	}
	return st
}

// typeLayout is the layout of every column of the ent type typeName's table.
func typeLayout[T any](typeName string, values map[string]func(*T) any) layout[T] {
	st := storage(typeName)
	return mustLayout(st.Table, st.Columns, values)
}

// row is v's row.
func (l *layout[T]) row(v *T) []any {
	row := make([]any, len(l.values))
	for i, f := range l.values {
		row[i] = f(v)
	}
	return row
}

// incoming is a Clever record of type C on its way into the mirror, with what its row holds besides the
// record's own fields.
type incoming[C any] struct {
	rec            *C
	id, districtID string
	raw            json.RawMessage
	hash           string
	now            time.Time // of the write
}

// recordLayout is how records of the mirrored ent type typeName are written: the columns of ent/schema's
// Mirrored mixin, the same for every type, and the type's own columns, given by own.
func recordLayout[C any](typeName string, own map[string]func(*C) any) layout[incoming[C]] {
	if !storage(typeName).Mirrored {
		panic("mirror: " + typeName + " is not a mirrored record")
	}
	values := map[string]func(*incoming[C]) any{
		"clever_id":      func(in *incoming[C]) any { return in.id },
		"district_id":    func(in *incoming[C]) any { return in.districtID },
		"raw":            func(in *incoming[C]) any { return string(in.raw) },
		"content_hash":   func(in *incoming[C]) any { return in.hash },
		"archived_at":    func(*incoming[C]) any { return nil }, // what Clever sends is live: restored if archived
		"last_synced_at": func(in *incoming[C]) any { return in.now },
		"created_at":     func(in *incoming[C]) any { return in.now }, // an update keeps the first (txWriter.upsert)
	}
	for c, f := range own {
		if _, ok := values[c]; ok {
			panic("mirror: " + typeName + "." + c + " is a column of every mirrored record")
		}
		values[c] = func(in *incoming[C]) any { return f(in.rec) }
	}
	return typeLayout(typeName, values)
}

// record is one Clever record on its way into the mirror.
type record struct {
	id, districtID string
	hash           string
	row            []any // in the columns of its kind's table
}

// newRecord makes the record of rec, read at now, with l.
func newRecord[C any](l *layout[incoming[C]], rec *C, id, districtID string, raw json.RawMessage, now time.Time) record {
	in := incoming[C]{rec: rec, id: id, districtID: districtID, raw: raw, hash: contentHash(raw), now: now}
	return record{id: id, districtID: districtID, hash: in.hash, row: l.row(&in)}
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

// The record types' rows, and where each kind is written.
var (
	districtRows = recordLayout("District", map[string]func(*clever.District) any{
		"name":          func(d *clever.District) any { return d.Name },
		"sis_type":      func(d *clever.District) any { return d.SISType },
		"state":         func(d *clever.District) any { return d.State },
		"launch_date":   func(d *clever.District) any { return date(d.LaunchDate) },
		"portal_url":    func(d *clever.District) any { return d.PortalURL },
		"login_methods": func(d *clever.District) any { return stringsColumn(d.LoginMethods) },
		"last_sync":     func(d *clever.District) any { return date(d.LastSync) },
		"error":         func(d *clever.District) any { return d.Error },
		"mdr_number":    func(d *clever.District) any { return d.MDRNumber },
		"nces_id":       func(d *clever.District) any { return d.NCESID },
		"pause_start":   func(d *clever.District) any { return date(d.PauseStart) },
		"pause_end":     func(d *clever.District) any { return date(d.PauseEnd) },
	})
	schoolRows = recordLayout("School", map[string]func(*clever.School) any{
		"name":                 func(s *clever.School) any { return s.Name },
		"sis_id":               func(s *clever.School) any { return s.SISID },
		"school_number":        func(s *clever.School) any { return s.SchoolNumber },
		"state_id":             func(s *clever.School) any { return s.StateID },
		"nces_id":              func(s *clever.School) any { return s.NCESID },
		"mdr_number":           func(s *clever.School) any { return s.MDRNumber },
		"phone":                func(s *clever.School) any { return s.Phone },
		"low_grade":            func(s *clever.School) any { return string(s.LowGrade) },
		"high_grade":           func(s *clever.School) any { return string(s.HighGrade) },
		"principal_name":       func(s *clever.School) any { return principal(s).Name },
		"principal_email":      func(s *clever.School) any { return principal(s).Email },
		"city":                 func(s *clever.School) any { return location(s).City },
		"state":                func(s *clever.School) any { return location(s).State },
		"zip":                  func(s *clever.School) any { return string(location(s).Zip) },
		"ext":                  func(s *clever.School) any { return jsonColumn(s.Ext) },
		"clever_created":       func(s *clever.School) any { return date(s.Created) },
		"clever_last_modified": func(s *clever.School) any { return date(s.LastModified) },
	})
	termRows = recordLayout("Term", map[string]func(*clever.Term) any{
		"name":       func(t *clever.Term) any { return t.Name },
		"start_date": func(t *clever.Term) any { return date(t.StartDate) },
		"end_date":   func(t *clever.Term) any { return date(t.EndDate) },
	})
	courseRows = recordLayout("Course", map[string]func(*clever.Course) any{
		"name":   func(c *clever.Course) any { return c.Name },
		"number": func(c *clever.Course) any { return c.Number },
	})
	userRows = recordLayout("User", map[string]func(*clever.User) any{
		"email":                func(u *clever.User) any { return u.Email },
		"first_name":           func(u *clever.User) any { return u.Name.First },
		"middle_name":          func(u *clever.User) any { return u.Name.Middle },
		"last_name":            func(u *clever.User) any { return u.Name.Last },
		"clever_created":       func(u *clever.User) any { return date(u.Created) },
		"clever_last_modified": func(u *clever.User) any { return date(u.LastModified) },
	})
	sectionRows = recordLayout("Section", map[string]func(*clever.Section) any{
		"name":                 func(s *clever.Section) any { return s.Name },
		"sis_id":               func(s *clever.Section) any { return s.SISID },
		"subject":              func(s *clever.Section) any { return s.Subject },
		"grade":                func(s *clever.Section) any { return string(s.Grade) },
		"period":               func(s *clever.Section) any { return s.Period },
		"section_number":       func(s *clever.Section) any { return s.SectionNumber },
		"school_id":            func(s *clever.Section) any { return optional(s.School) },
		"term_id":              func(s *clever.Section) any { return optional(s.TermID) },
		"course_id":            func(s *clever.Section) any { return optional(s.Course) },
		"ext":                  func(s *clever.Section) any { return jsonColumn(s.Ext) },
		"clever_created":       func(s *clever.Section) any { return date(s.Created) },
		"clever_last_modified": func(s *clever.Section) any { return date(s.LastModified) },
	})

	// tables are where each kind of record is written, by kind (Kinds).
	tables = map[string]table{
		"districts": districtRows.table,
		"schools":   schoolRows.table,
		"terms":     termRows.table,
		"courses":   courseRows.table,
		"users":     userRows.table,
		"sections":  sectionRows.table,
	}
)

func principal(s *clever.School) clever.Principal {
	if s.Principal == nil {
		return clever.Principal{}
	}
	return *s.Principal
}

func location(s *clever.School) clever.Location {
	if s.Location == nil {
		return clever.Location{}
	}
	return *s.Location
}

func districtRecord(d clever.District, now time.Time) record {
	return newRecord(&districtRows, &d, d.ID, d.ID, d.Raw, now)
}

func schoolRecord(s clever.School, now time.Time) record {
	return newRecord(&schoolRows, &s, s.ID, s.District, s.Raw, now)
}

func termRecord(t clever.Term, now time.Time) record {
	return newRecord(&termRows, &t, t.ID, t.District, t.Raw, now)
}

func courseRecord(c clever.Course, now time.Time) record {
	return newRecord(&courseRows, &c, c.ID, c.District, c.Raw, now)
}

func userRecord(u *clever.User, now time.Time) record {
	return newRecord(&userRows, u, u.ID, u.District, u.Raw, now)
}

// userItem is a user read from Clever with the rows of its roles: built where the user is read (in a
// full sync, the reader's goroutine), so that the writer only writes.
func userItem(u *clever.User, now time.Time) item {
	rec := userRecord(u, now)
	return item{rec: rec, user: u, roles: userRoles(u, rec.hash, now)}
}

func sectionRecord(s *clever.Section, now time.Time) record {
	return newRecord(&sectionRows, s, s.ID, s.District, s.Raw, now)
}

// userRole is one role of a user with the schools it is at.
type userRole struct {
	id      string
	school  string // the primary one, "" for none
	schools []string
	row     []any // in roleRows' columns
}

// roleSource is what a user_roles row is made of: the user, one of its roles and that role's fields.
type roleSource struct {
	id     string
	user   *clever.User
	role   clever.Role
	school string
	hash   string // the user's: a role is rewritten when its user changed
	now    time.Time
	roleFields
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

// roleRows are the user_roles rows a sync writes: every column.
var roleRows = typeLayout("UserRole", map[string]func(*roleSource) any{
	"id":             func(r *roleSource) any { return r.id },
	"user_id":        func(r *roleSource) any { return r.user.ID },
	"role":           func(r *roleSource) any { return roleEnum[r.role] },
	"district_id":    func(r *roleSource) any { return r.user.District },
	"school_id":      func(r *roleSource) any { return optional(r.school) },
	"content_hash":   func(r *roleSource) any { return r.hash },
	"archived_at":    func(*roleSource) any { return nil }, // a role Clever sends is live: restored if archived
	"last_synced_at": func(r *roleSource) any { return r.now },
	"sis_id":         func(r *roleSource) any { return r.sisID },
	"state_id":       func(r *roleSource) any { return r.stateID },
	"legacy_id":      func(r *roleSource) any { return r.legacyID },
	"district_username": func(r *roleSource) any {
		if r.credentials == nil {
			return ""
		}
		return r.credentials.DistrictUsername
	},
	"email":              func(r *roleSource) any { return r.email },
	"student_number":     func(r *roleSource) any { return r.studentNumber },
	"grade":              func(r *roleSource) any { return r.grade },
	"dob":                func(r *roleSource) any { return r.dob },
	"gender":             func(r *roleSource) any { return r.gender },
	"graduation_year":    func(r *roleSource) any { return r.graduationYear },
	"race":               func(r *roleSource) any { return r.race },
	"hispanic_ethnicity": func(r *roleSource) any { return r.hispanic },
	"ell_status":         func(r *roleSource) any { return r.ell },
	"frl_status":         func(r *roleSource) any { return r.frl },
	"iep_status":         func(r *roleSource) any { return r.iep },
	"home_language":      func(r *roleSource) any { return r.homeLanguage },
	"teacher_number":     func(r *roleSource) any { return r.teacherNumber },
	"staff_id":           func(r *roleSource) any { return r.staffID },
	"title":              func(r *roleSource) any { return r.title },
	"department":         func(r *roleSource) any { return r.department },
	"staff_roles":        func(r *roleSource) any { return stringsColumn(r.staffRoles) },
	"phone":              func(r *roleSource) any { return r.phone },
	"phone_type":         func(r *roleSource) any { return r.phoneType },
	"ext":                func(r *roleSource) any { return jsonColumn(r.ext) },
})

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
func userRoles(u *clever.User, hash string, now time.Time) []userRole {
	var out []userRole
	add := func(role clever.Role, school string, schools []string, f roleFields) {
		src := roleSource{id: roleID(u.ID, role), user: u, role: role, school: school, hash: hash, now: now, roleFields: f}
		out = append(out, userRole{id: src.id, school: school, schools: schools, row: roleRows.row(&src)})
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
