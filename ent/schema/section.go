package schema

import (
	"encoding/json"
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Section is a class, with its teachers in Clever's order (primary first) and its students.
type Section struct {
	ent.Schema
}

// Mixin of Section.
func (Section) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of Section.
func (Section) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.String("sis_id").Default(""),
		field.String("subject").Default(""),
		field.String("grade").Default(""),
		field.String("period").Default(""),
		field.String("section_number").Default(""),
		field.String("school_id").Optional().Nillable().MaxLen(64),
		field.String("term_id").Optional().Nillable().MaxLen(64),
		field.String("course_id").Optional().Nillable().MaxLen(64),
		field.JSON("ext", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
		field.Time("clever_created").Optional().Nillable(),
		field.Time("clever_last_modified").Optional().Nillable(),
	}
}

// Edges of Section.
func (Section) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("sections").Field("district_id").Unique().Required().Immutable(),
		edge.From("school", School.Type).Ref("sections").Field("school_id").Unique(),
		edge.From("term", Term.Type).Ref("sections").Field("term_id").Unique(),
		edge.From("course", Course.Type).Ref("sections").Field("course_id").Unique(),
		edge.To("teacher_assignments", SectionTeacher.Type).Annotations(entgql.RelayConnection()).
			Comment("every teacher's place in the section, past ones included; teachers lists the current teachers"),
		edge.To("enrollments", SectionStudent.Type).Annotations(entgql.RelayConnection()).
			Comment("every enrollment in the section, ended ones included; students lists the current students"),
	}
}

// Indexes of Section.
func (Section) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("school_id"),
		index.Fields("term_id"),
		index.Fields("course_id"),
	}
}

// Annotations of Section.
func (Section) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
