package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is one Clever user with every role it holds: teacher, staff and district_admin are often one
// user; students and contacts never share a user with another role.
type User struct {
	ent.Schema
}

// Mixin of User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Default("").Comment("not validated by Clever: may lack an @"),
		field.String("first_name").Default("").Annotations(entgql.OrderField("FIRST_NAME")),
		field.String("middle_name").Default(""),
		field.String("last_name").Default("").Annotations(entgql.OrderField("LAST_NAME")).Comment("for contacts Clever puts the full name here"),
		field.Time("clever_created").Optional().Nillable(),
		field.Time("clever_last_modified").Optional().Nillable(),
	}
}

// Edges of User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("users").Field("district_id").Unique().Required().Immutable(),
		edge.To("roles", UserRole.Type),
		edge.To("teacher_assignments", SectionTeacher.Type).Annotations(entgql.RelayConnection()).
			Comment("the user's places as a teacher, past ones included; sections lists the current ones"),
		edge.To("enrollments", SectionStudent.Type).Annotations(entgql.RelayConnection()).
			Comment("the user's enrollments, ended ones included; sections lists the current ones"),
		edge.To("contacts", ContactRelationship.Type).Annotations(entgql.RelayConnection()).
			Comment("the user's contacts, when the user is a student"),
		edge.To("contact_students", ContactRelationship.Type).Annotations(entgql.RelayConnection()).
			Comment("the students the user is a contact of"),
	}
}

// Annotations of User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
