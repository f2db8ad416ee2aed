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

// ContactRelationship links a contact (parent, guardian, …) to a student, with history.
type ContactRelationship struct {
	ent.Schema
}

// Mixin of ContactRelationship.
func (ContactRelationship) Mixin() []ent.Mixin { return []ent.Mixin{Membership{}} }

// Fields of ContactRelationship.
func (ContactRelationship) Fields() []ent.Field {
	return []ent.Field{
		field.String("contact_id").NotEmpty().Immutable().MaxLen(64).Optional().Annotations(Owner()),
		field.String("student_id").NotEmpty().Immutable().MaxLen(64).Optional().Comment("Clever id; may name a student not (yet) mirrored"),
		field.String("relationship").Default("").Annotations(Attribute()).Comment("Parent, Grandparent, Self, Aunt/Uncle, Sibling, Other or empty"),
		field.String("type").Default("").Annotations(Attribute()).Comment("Parent/Guardian, Emergency, Primary, Secondary, Family, Other or empty"),
	}
}

// Edges of ContactRelationship.
func (ContactRelationship) Edges() []ent.Edge {
	return []ent.Edge{
		// Not required: either user may be archived (hidden) or not mirrored yet; contactID and studentID
		// still name them.
		edge.From("contact", User.Type).Ref("contact_students").Field("contact_id").Unique().Immutable(),
		edge.From("student", User.Type).Ref("contacts").Field("student_id").Unique().Immutable(),
	}
}

// Indexes of ContactRelationship.
func (ContactRelationship) Indexes() []ent.Index {
	return []ent.Index{
		// Edges list a record's memberships, history included: a plain index, not only the partial one.
		index.Fields("contact_id"),
		index.Fields("contact_id", "student_id").Unique().Annotations(entsql.IndexWhere("ended_at IS NULL")),
		index.Fields("student_id"),
	}
}

// Annotations of ContactRelationship.
func (ContactRelationship) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
