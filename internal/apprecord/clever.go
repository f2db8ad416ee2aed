package apprecord

import (
	"context"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/match"
)

// cleverRecord is a Clever record of the mirror as matching takes it, and whether a sync archived it.
type cleverRecord struct {
	match.Record
	archived bool
}

// cleverRecords reads the district's Clever records of one type from the mirror, archived ones included
// (matching leaves them out; a match to one is kept and exported), sorted by Clever id.
//
// A person's school is given as its alternatives — Clever id, SIS id, school number, name, separated
// by "|" — so that an app's school column agrees whichever of them it holds; a section's teacher
// likewise (Clever id, SIS id, teacher number, e-mail, name). Staff are the district's staff and
// district admins (one record per user).
func cleverRecords(ctx context.Context, c *ent.Client, districtID string, typ match.Type) ([]cleverRecord, error) {
	switch typ {
	case match.School:
		return cleverSchools(ctx, c, districtID)
	case match.Section:
		return cleverSections(ctx, c, districtID)
	}
	return cleverPeople(ctx, c, districtID, typ)
}

// schoolRefs are the alternatives a school is referred to by, by Clever id.
func schoolRefs(ctx context.Context, c *ent.Client, districtID string) (map[string]string, []*ent.School, error) {
	schools, err := c.School.Query().Where(school.DistrictID(districtID)).
		Select(school.FieldID, school.FieldName, school.FieldSisID, school.FieldSchoolNumber, school.FieldNcesID,
			school.FieldMdrNumber, school.FieldState, school.FieldArchivedAt).
		Order(ent.Asc(school.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	refs := make(map[string]string, len(schools))
	for _, s := range schools {
		refs[s.ID] = alternatives(s.ID, s.SisID, s.SchoolNumber, s.Name)
	}
	return refs, schools, nil
}

// alternatives joins the non-empty values with "|" (match's alternatives), first the Clever id.
func alternatives(vs ...string) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		v = strings.TrimSpace(strings.NewReplacer("|", " ", ";", " ").Replace(v))
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return strings.Join(out, "|")
}

func cleverSchools(ctx context.Context, c *ent.Client, districtID string) ([]cleverRecord, error) {
	_, schools, err := schoolRefs(ctx, c, districtID)
	if err != nil {
		return nil, err
	}
	out := make([]cleverRecord, 0, len(schools))
	for _, s := range schools {
		out = append(out, cleverRecord{archived: s.ArchivedAt != nil, Record: match.Record{ID: s.ID, Values: values(
			match.NCESID, s.NcesID, match.MDRNumber, s.MdrNumber, match.SISID, s.SisID,
			match.SchoolNumber, s.SchoolNumber, match.Name, s.Name, match.State, s.State)}})
	}
	return out, nil
}

// values builds a record's values from field, value pairs, leaving out empty values.
func values(kv ...any) map[match.Field]string {
	m := make(map[match.Field]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if v := kv[i+1].(string); v != "" {
			m[kv[i].(match.Field)] = v
		}
	}
	return m
}

// roleOf are the roles a person type reads.
func rolesOf(typ match.Type) []userrole.Role {
	switch typ {
	case match.Student:
		return []userrole.Role{userrole.RoleStudent}
	case match.Teacher:
		return []userrole.Role{userrole.RoleTeacher}
	}
	return []userrole.Role{userrole.RoleStaff, userrole.RoleDistrictAdmin}
}

func cleverPeople(ctx context.Context, c *ent.Client, districtID string, typ match.Type) ([]cleverRecord, error) {
	refs, _, err := schoolRefs(ctx, c, districtID)
	if err != nil {
		return nil, err
	}
	roles, err := c.UserRole.Query().
		Where(userrole.DistrictID(districtID), userrole.RoleIn(rolesOf(typ)...)).
		Select(userrole.FieldUserID, userrole.FieldRole, userrole.FieldSchoolID, userrole.FieldSisID,
			userrole.FieldStateID, userrole.FieldStudentNumber, userrole.FieldTeacherNumber, userrole.FieldStaffID,
			userrole.FieldGrade, userrole.FieldDob, userrole.FieldEmail, userrole.FieldArchivedAt).
		Order(ent.Asc(userrole.FieldUserID), ent.Asc(userrole.FieldRole)).All(ctx)
	if err != nil {
		return nil, err
	}
	us, err := c.User.Query().Where(user.DistrictID(districtID)).
		Select(user.FieldID, user.FieldEmail, user.FieldFirstName, user.FieldMiddleName, user.FieldLastName, user.FieldArchivedAt).
		All(ctx)
	if err != nil {
		return nil, err
	}
	users := make(map[string]*ent.User, len(us))
	for _, u := range us {
		users[u.ID] = u
	}
	out := make([]cleverRecord, 0, len(roles))
	for _, r := range roles {
		u := users[r.UserID]
		if u == nil {
			continue // a role whose user is not mirrored: nothing to match a person to
		}
		if n := len(out); n > 0 && out[n-1].ID == r.UserID {
			// a staff member who is also a district admin: one record, the first role's ids, the
			// other's where the first has none.
			merge(out[n-1].Values, roleValues(r, u, refs))
			out[n-1].archived = out[n-1].archived && (r.ArchivedAt != nil || u.ArchivedAt != nil)
			continue
		}
		out = append(out, cleverRecord{archived: r.ArchivedAt != nil || u.ArchivedAt != nil,
			Record: match.Record{ID: r.UserID, Values: roleValues(r, u, refs)}})
	}
	return out, nil
}

func merge(into, from map[match.Field]string) {
	for f, v := range from {
		if into[f] == "" {
			into[f] = v
		}
	}
}

func roleValues(r *ent.UserRole, u *ent.User, refs map[string]string) map[match.Field]string {
	email := u.Email
	if email == "" {
		email = r.Email // students: an undocumented key real data carries
	}
	dob := ""
	if r.Dob != nil {
		dob = r.Dob.Format("2006-01-02")
	}
	school := ""
	if r.SchoolID != nil {
		school = orElse(refs[*r.SchoolID], *r.SchoolID)
	}
	return values(match.FirstName, u.FirstName, match.MiddleName, u.MiddleName, match.LastName, u.LastName,
		match.Email, email, match.SISID, r.SisID, match.StateID, r.StateID, match.StudentNumber, r.StudentNumber,
		match.TeacherNumber, r.TeacherNumber, match.StaffID, r.StaffID, match.DOB, dob, match.Grade, r.Grade,
		match.SchoolRef, school)
}

// orElse is the first non-empty string.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cleverSections(ctx context.Context, c *ent.Client, districtID string) ([]cleverRecord, error) {
	refs, _, err := schoolRefs(ctx, c, districtID)
	if err != nil {
		return nil, err
	}
	sections, err := c.Section.Query().Where(section.DistrictID(districtID)).
		Select(section.FieldID, section.FieldName, section.FieldSisID, section.FieldPeriod, section.FieldSectionNumber,
			section.FieldGrade, section.FieldSchoolID, section.FieldArchivedAt).
		Order(ent.Asc(section.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	// Each section's primary teacher (the current membership with the lowest position).
	teachers, err := c.SectionTeacher.Query().
		Where(sectionteacher.DistrictID(districtID), sectionteacher.EndedAtIsNil()).
		Select(sectionteacher.FieldSectionID, sectionteacher.FieldUserID, sectionteacher.FieldPosition).All(ctx)
	if err != nil {
		return nil, err
	}
	primary := map[string]*ent.SectionTeacher{}
	for _, t := range teachers {
		if p := primary[t.SectionID]; p == nil || t.Position < p.Position {
			primary[t.SectionID] = t
		}
	}
	teacherRef := map[string]string{}
	var ids []string
	for _, t := range primary {
		ids = append(ids, t.UserID)
	}
	for chunk := range slices.Chunk(ids, 5000) {
		rs, err := c.UserRole.Query().Where(userrole.UserIDIn(chunk...), userrole.RoleEQ(userrole.RoleTeacher)).
			Select(userrole.FieldUserID, userrole.FieldSisID, userrole.FieldTeacherNumber).All(ctx)
		if err != nil {
			return nil, err
		}
		us, err := c.User.Query().Where(user.IDIn(chunk...)).
			Select(user.FieldID, user.FieldEmail, user.FieldFirstName, user.FieldLastName).All(ctx)
		if err != nil {
			return nil, err
		}
		byID := map[string]*ent.UserRole{}
		for _, r := range rs {
			byID[r.UserID] = r
		}
		for _, u := range us {
			sis, number := "", ""
			if r := byID[u.ID]; r != nil {
				sis, number = r.SisID, r.TeacherNumber
			}
			teacherRef[u.ID] = alternatives(u.ID, sis, number, u.Email, strings.TrimSpace(u.FirstName+" "+u.LastName))
		}
	}
	out := make([]cleverRecord, 0, len(sections))
	for _, s := range sections {
		school, teacher := "", ""
		if s.SchoolID != nil {
			school = orElse(refs[*s.SchoolID], *s.SchoolID)
		}
		if t := primary[s.ID]; t != nil {
			teacher = orElse(teacherRef[t.UserID], t.UserID)
		}
		out = append(out, cleverRecord{archived: s.ArchivedAt != nil, Record: match.Record{ID: s.ID, Values: values(
			match.SISID, s.SisID, match.SchoolRef, school, match.TeacherRef, teacher, match.Name, s.Name,
			match.Period, s.Period, match.SectionNumber, s.SectionNumber, match.Grade, s.Grade)}})
	}
	return out, nil
}
