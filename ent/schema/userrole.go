package schema

import (
	"encoding/json"
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
	"slices"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// UserRole is one role a user holds (roles.student, roles.teacher, …) with that role's fields as
// queryable columns. A role the user loses is archived; it is restored if Clever sends it again.
type UserRole struct {
	ent.Schema
}

// Fields of UserRole.
func (UserRole) Fields() []ent.Field {
	return slices.Concat([]ent.Field{
		field.String("id").NotEmpty().Immutable().MaxLen(96).
			Comment(`"<user's Clever id>/<role>": one row per user and role, kept (archived) when the role is lost`),
		field.String("user_id").NotEmpty().Immutable().MaxLen(64),
		field.Enum("role").
			NamedValues("Student", "STUDENT", "Teacher", "TEACHER", "Staff", "STAFF", "DistrictAdmin", "DISTRICT_ADMIN", "Contact", "CONTACT").
			Immutable(),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.String("school_id").Optional().Nillable().MaxLen(64).
			Comment("the role's primary school (Clever id); staff have none"),
	}, Synced{}.Fields(), []ent.Field{
		field.String("sis_id").Default(""),
		field.String("state_id").Default(""),
		field.String("legacy_id").Default(""),
		field.String("district_username").Default(""),
		field.String("email").Default("").Comment("students only: an undocumented key real data carries"),
		// student
		field.String("student_number").Default(""),
		field.String("grade").Default(""),
		field.Time("dob").Optional().Nillable().Comment("date of birth; Clever sends M/D/YYYY"),
		field.String("gender").Default(""),
		field.String("graduation_year").Default(""),
		field.String("race").Default(""),
		field.String("hispanic_ethnicity").Default(""),
		field.String("ell_status").Optional().Nillable().Annotations(Sensitive()).
			Comment("sensitive: null in GraphQL, and refused in filters, without the sensitive scope"),
		field.String("frl_status").Optional().Nillable().Annotations(Sensitive()).
			Comment("sensitive: null in GraphQL, and refused in filters, without the sensitive scope"),
		field.String("iep_status").Optional().Nillable().Annotations(Sensitive()).
			Comment("sensitive: null in GraphQL, and refused in filters, without the sensitive scope"),
		field.String("home_language").Optional().Nillable().Annotations(Sensitive()).
			Comment("sensitive: null in GraphQL, and refused in filters, without the sensitive scope"),
		// teacher, staff, district_admin
		field.String("teacher_number").Default(""),
		field.String("staff_id").Default(""),
		field.String("title").Default(""),
		field.String("department").Default(""),
		field.Strings("staff_roles").Optional(),
		// contact
		field.String("phone").Default(""),
		field.String("phone_type").Default(""),
		field.JSON("ext", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
	})
}

// Edges of UserRole.
func (UserRole) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("roles").Field("user_id").Unique().Required().Immutable(),
		edge.From("school", School.Type).Ref("primary_roles").Field("school_id").Unique(),
		edge.To("school_memberships", RoleSchool.Type).Annotations(entgql.RelayConnection()).
			Comment("the role's school memberships with their history; schools lists the current ones"),
	}
}

// Indexes of UserRole.
func (UserRole) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "role").Unique(),
		index.Fields("district_id", "role", "archived_at"),
		index.Fields("school_id"),
	}
}

// Annotations of UserRole.
func (UserRole) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
