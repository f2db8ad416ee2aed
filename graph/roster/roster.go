// Package roster answers the roster questions the API asks that are not plain ent edges: a section's
// primary teacher, the schools of a role or a user, a school's users and a user's sections — all through
// current (not ended) memberships.
package roster

import (
	"context"
	"slices"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/roleschool"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
)

// PrimaryTeacher is the section's current teacher at position 0, or nil.
func PrimaryTeacher(ctx context.Context, s *ent.Section) (*ent.User, error) {
	st, err := s.QueryTeachers().Where(sectionteacher.EndedAtIsNil()).
		Order(ent.Asc(sectionteacher.FieldPosition)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := st.QueryUser().Only(ctx)
	if ent.IsNotFound(err) { // not shared (yet), or archived
		return nil, nil
	}
	return u, err
}

// Roles are the user's roles as loaded with it (eager loading, or a query when they were not), ordered
// by id so that User.roles comes in the same order every time and whichever way the query is answered.
func Roles(ctx context.Context, u *ent.User) ([]*ent.UserRole, error) {
	roles, err := u.Roles(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(roles, func(a, b *ent.UserRole) int { return strings.Compare(a.ID, b.ID) })
	return roles, nil
}

// RoleSchools are the schools the role is at now.
func RoleSchools(ctx context.Context, r *ent.UserRole) ([]*ent.School, error) {
	return r.QuerySchoolMemberships().Where(roleschool.EndedAtIsNil()).QuerySchool().Order(ent.Asc(school.FieldName)).All(ctx)
}

// UserSchools are the schools any of the user's current roles is at.
func UserSchools(ctx context.Context, u *ent.User) ([]*ent.School, error) {
	return u.QueryRoles().QuerySchoolMemberships().Where(roleschool.EndedAtIsNil()).QuerySchool().
		Unique(true).Order(ent.Asc(school.FieldName)).All(ctx)
}

// UserSections are the sections the user teaches or attends now.
func UserSections(c *ent.Client, userID string) *ent.SectionQuery {
	return c.Section.Query().Where(section.Or(
		section.HasTeachersWith(sectionteacher.UserID(userID), sectionteacher.EndedAtIsNil()),
		section.HasStudentsWith(sectionstudent.UserID(userID), sectionstudent.EndedAtIsNil()),
	))
}

// SchoolUsers are the users with a current role at the school.
func SchoolUsers(c *ent.Client, schoolID string) *ent.UserQuery {
	return c.User.Query().Where(user.HasRolesWith(
		userrole.HasSchoolMembershipsWith(roleschool.SchoolID(schoolID), roleschool.EndedAtIsNil()),
	))
}
