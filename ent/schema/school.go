package schema

import (
	"encoding/json"
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// School is a Clever school.
type School struct {
	ent.Schema
}

// Mixin of School.
func (School) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of School.
func (School) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.String("sis_id").Default(""),
		field.String("school_number").Default(""),
		field.String("state_id").Default(""),
		field.String("nces_id").Default(""),
		field.String("mdr_number").Default(""),
		field.String("phone").Default(""),
		field.String("low_grade").Default(""),
		field.String("high_grade").Default(""),
		field.String("principal_name").Default(""),
		field.String("principal_email").Default(""),
		field.String("city").Default(""),
		field.String("state").Default(""),
		field.String("zip").Default(""),
		field.JSON("ext", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
		field.Time("clever_created").Optional().Nillable(),
		field.Time("clever_last_modified").Optional().Nillable(),
	}
}

// Edges of School.
func (School) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("schools").Field("district_id").Unique().Required().Immutable(),
		edge.To("sections", Section.Type).Annotations(entgql.RelayConnection()),
		edge.To("role_schools", RoleSchool.Type).Annotations(entgql.RelayConnection()),
		edge.To("primary_roles", UserRole.Type).Annotations(entgql.RelayConnection()),
	}
}

// Annotations of School.
func (School) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
