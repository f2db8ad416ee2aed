package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Course is a course. Like terms, Clever can recreate courses under new ids.
type Course struct {
	ent.Schema
}

// Mixin of Course.
func (Course) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of Course.
func (Course) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.String("number").Default(""),
	}
}

// Edges of Course.
func (Course) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("courses").Field("district_id").Unique().Required().Immutable(),
		edge.To("sections", Section.Type).Annotations(entgql.RelayConnection()),
	}
}

// Annotations of Course.
func (Course) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
