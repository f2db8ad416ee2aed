package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LocalMembership is a member the app added by hand: of a local group (a Clever user or a local user),
// or of a synced section (a Clever student or teacher a teacher or an admin added, listed with the
// section's Clever members and marked local). Written only by mutations (internal/localdata); sync
// never reads or writes it. Removing one sets removed_at: the row stays, as history.
type LocalMembership struct {
	ent.Schema
}

// Fields of LocalMembership.
func (LocalMembership) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("group_id").Optional().Nillable().Immutable().MaxLen(32).
			Comment("the local group (a subgroup included) the member was added to; null for a section addition"),
		field.String("section_id").Optional().Nillable().Immutable().MaxLen(64).
			Comment("the Clever id of the synced section the member was added to; null for a group member"),
		field.String("user_id").Optional().Nillable().Immutable().MaxLen(64).
			Comment("the member when it is a Clever user (its Clever id; kept while the user is archived)"),
		field.String("local_user_id").Optional().Nillable().Immutable().MaxLen(32).
			Comment("the member when it is a local user"),
		field.Enum("role").Values("STUDENT", "TEACHER").Immutable().
			Comment("the member's place: a student or a teacher of the group or section"),
		field.String("added_by").NotEmpty().Immutable().
			Comment("who added the member (an audit actor)"),
		field.Time("added_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("ADDED_AT")),
		field.Time("removed_at").Optional().Nillable().
			Comment("when removeLocalMember or removeSectionMember removed it; null while it holds"),
		field.String("removed_by").Default("").Comment("who removed it (an audit actor)"),
	}
}

// Edges of LocalMembership.
func (LocalMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", LocalGroup.Type).Ref("memberships").Field("group_id").Unique().Immutable(),
		edge.From("local_user", LocalUser.Type).Ref("memberships").Field("local_user_id").Unique().Immutable(),
	}
}

// Indexes of LocalMembership.
func (LocalMembership) Indexes() []ent.Index {
	holds := entsql.IndexWhere("removed_at IS NULL")
	return []ent.Index{
		index.Fields("group_id"),
		index.Fields("section_id", "removed_at"),
		index.Fields("user_id"),
		index.Fields("local_user_id"),
		// One holding addition per member and place.
		index.Fields("section_id", "user_id").Unique().Annotations(holds),
		index.Fields("group_id", "user_id").Unique().Annotations(holds),
		index.Fields("group_id", "local_user_id").Unique().Annotations(holds),
	}
}

// Annotations of LocalMembership.
func (LocalMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
