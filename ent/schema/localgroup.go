package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LocalGroup is a group the app made (a reading group, a club), or a subgroup of a synced section when
// section_id names one: created, changed and deleted only by mutations (internal/localdata). Sync never
// reads or writes it, and an archived section keeps its subgroups.
type LocalGroup struct {
	ent.Schema
}

// Fields of LocalGroup.
func (LocalGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("name").NotEmpty().MaxLen(500).Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxLen(2000),
		field.String("district_id").Optional().Nillable().MaxLen(64).
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)).
			Comment("the Clever id of the district the group belongs to (a subgroup: its section's district)"),
		field.String("organization_id").Optional().Nillable().MaxLen(32).
			Comment("the app's organization the group belongs to"),
		field.String("section_id").Optional().Nillable().Immutable().MaxLen(64).
			Comment("the Clever id of the synced section it is a subgroup of; null for a group of its own. Not a foreign key: the section may be archived and come back"),
		field.String("created_by").Default("").Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("who created it (an audit actor)"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT"),
			entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of LocalGroup.
func (LocalGroup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", LocalMembership.Type).Annotations(entgql.RelayConnection(),
			entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("the group's members, removed ones included (removedAt)"),
	}
}

// Indexes of LocalGroup.
func (LocalGroup) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("section_id"),
		index.Fields("district_id"),
		index.Fields("organization_id"),
	}
}

// Annotations of LocalGroup.
func (LocalGroup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
