package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Term is a school term. Clever deletes a term and recreates it under a new id when its sections
// change; the old row is archived, not lost.
type Term struct {
	ent.Schema
}

// Mixin of Term.
func (Term) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of Term.
func (Term) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.Time("start_date").Optional().Nillable(),
		field.Time("end_date").Optional().Nillable(),
	}
}

// Edges of Term.
func (Term) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("terms").Field("district_id").Unique().Required().Immutable(),
		edge.To("sections", Section.Type).Annotations(entgql.RelayConnection()),
	}
}

// Annotations of Term.
func (Term) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
