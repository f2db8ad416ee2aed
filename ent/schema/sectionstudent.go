package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SectionStudent is a student's enrollment in a section, with history: when the student leaves, the
// enrollment ends; it is not deleted.
type SectionStudent struct {
	ent.Schema
}

// Mixin of SectionStudent.
func (SectionStudent) Mixin() []ent.Mixin { return []ent.Mixin{Membership{}} }

// Fields of SectionStudent.
func (SectionStudent) Fields() []ent.Field {
	return []ent.Field{
		field.String("section_id").NotEmpty().Immutable().MaxLen(64).Optional().Annotations(Owner()),
		field.String("user_id").NotEmpty().Immutable().MaxLen(64).Optional().Comment("Clever id; may name a student not (yet) mirrored").
			Annotations(entgql.OrderField("USER_ID")),
	}
}

// Edges of SectionStudent.
func (SectionStudent) Edges() []ent.Edge {
	return []ent.Edge{
		// Not required: the record may be archived (hidden) or not mirrored yet; userID and sectionID
		// still name it.
		edge.From("section", Section.Type).Ref("enrollments").Field("section_id").Unique().Immutable(),
		edge.From("user", User.Type).Ref("enrollments").Field("user_id").Unique().Immutable(),
	}
}

// Indexes of SectionStudent.
func (SectionStudent) Indexes() []ent.Index {
	return []ent.Index{
		// Edges list a record's memberships, history included: a plain index, not only the partial one.
		index.Fields("section_id"),
		index.Fields("section_id", "user_id").Unique().Annotations(entsql.IndexWhere("ended_at IS NULL")),
		index.Fields("user_id"),
	}
}

// Annotations of SectionStudent.
func (SectionStudent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
