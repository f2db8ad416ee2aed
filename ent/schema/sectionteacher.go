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

// SectionTeacher is a teacher's place in a section, with history. Position 0 is the primary teacher;
// co-teachers follow in Clever's order.
type SectionTeacher struct {
	ent.Schema
}

// Mixin of SectionTeacher.
func (SectionTeacher) Mixin() []ent.Mixin { return []ent.Mixin{Membership{}} }

// Fields of SectionTeacher.
func (SectionTeacher) Fields() []ent.Field {
	return []ent.Field{
		field.String("section_id").NotEmpty().Immutable().MaxLen(64).Optional().Annotations(Owner()),
		field.String("user_id").NotEmpty().Immutable().MaxLen(64).Optional().Comment("Clever id; may name a user not (yet) mirrored"),
		field.Int("position").NonNegative().Comment("0 for the primary teacher, then co-teachers in Clever's order").
			Annotations(entgql.OrderField("POSITION"), Attribute()),
	}
}

// Edges of SectionTeacher.
func (SectionTeacher) Edges() []ent.Edge {
	return []ent.Edge{
		// Not required: the record may be archived (hidden) or not mirrored yet; userID and sectionID
		// still name it.
		edge.From("section", Section.Type).Ref("teacher_assignments").Field("section_id").Unique().Immutable(),
		edge.From("user", User.Type).Ref("teacher_assignments").Field("user_id").Unique().Immutable(),
	}
}

// Indexes of SectionTeacher.
func (SectionTeacher) Indexes() []ent.Index {
	return []ent.Index{
		// Edges list a record's memberships, history included: a plain index, not only the partial one.
		index.Fields("section_id"),
		index.Fields("section_id", "user_id").Unique().Annotations(entsql.IndexWhere("ended_at IS NULL")),
		index.Fields("user_id"),
	}
}

// Annotations of SectionTeacher.
func (SectionTeacher) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
