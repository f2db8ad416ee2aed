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

// RoleSchool is a role's membership of a school (roles.<role>.schools), with its history: when a student
// leaves a school the membership ends, it is not deleted. A membership is archived with its role (the
// student's data must not show through a school once the student is unshared) and restored with it.
type RoleSchool struct {
	ent.Schema
}

// Mixin of RoleSchool.
func (RoleSchool) Mixin() []ent.Mixin { return []ent.Mixin{Membership{}} }

// Fields of RoleSchool.
func (RoleSchool) Fields() []ent.Field {
	return []ent.Field{
		field.String("role_id").NotEmpty().Immutable().MaxLen(96).Annotations(Owner()),
		field.String("school_id").NotEmpty().Immutable().MaxLen(64).Optional().Comment("Clever id; may name a school not (yet) mirrored"),
		field.Time("archived_at").Optional().Nillable().
			Comment("when the membership's role was archived (the user unshared, or the role lost); cleared when the role is restored. Archived memberships are hidden like archived records"),
	}
}

// Edges of RoleSchool.
func (RoleSchool) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("role", UserRole.Type).Ref("school_memberships").Field("role_id").Unique().Required().Immutable(),
		// Not required: the school may be archived (hidden) or not mirrored yet; schoolID still names it.
		edge.From("school", School.Type).Ref("role_schools").Field("school_id").Unique().Immutable(),
	}
}

// Indexes of RoleSchool.
func (RoleSchool) Indexes() []ent.Index {
	return []ent.Index{
		// Edges list a record's memberships, history included: a plain index, not only the partial one.
		index.Fields("role_id"),
		index.Fields("role_id", "school_id").Unique().Annotations(entsql.IndexWhere("ended_at IS NULL")),
		index.Fields("school_id"),
	}
}

// Annotations of RoleSchool.
func (RoleSchool) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
