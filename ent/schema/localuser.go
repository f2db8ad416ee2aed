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

// LocalUser is one of the app's own accounts, not managed by Clever (a tutor, a guest teacher, a test
// student): created, changed and deleted only by mutations (internal/localdata). Sync never reads or
// writes it. It is scoped to a Clever district, an organization, or both, and joins local groups
// (LocalMembership); a synced section's roster lists Clever users only.
type LocalUser struct {
	ent.Schema
}

// Fields of LocalUser.
func (LocalUser) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("external_id").Optional().Nillable().MaxLen(255).Annotations(entgql.OrderField("EXTERNAL_ID")).
			Comment("the app's own id of the account, unique when set"),
		field.String("first_name").Default("").MaxLen(255).Annotations(entgql.OrderField("FIRST_NAME")),
		field.String("last_name").NotEmpty().MaxLen(255).Annotations(entgql.OrderField("LAST_NAME")),
		field.String("email").Default("").MaxLen(320),
		field.Enum("role").Values("STUDENT", "TEACHER", "STAFF", "DISTRICT_ADMIN").
			Comment("the account's role in the app (one: the app's own accounts are made for one purpose)"),
		field.String("district_id").Optional().Nillable().MaxLen(64).
			Comment("the Clever id of the district the account belongs to (its sections' subgroups can hold it)"),
		field.String("organization_id").Optional().Nillable().MaxLen(32).
			Comment("the app's organization the account belongs to"),
		field.String("created_by").Default("").Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("who created it (an audit actor)"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT"),
			entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of LocalUser.
func (LocalUser) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", LocalMembership.Type).Annotations(entgql.RelayConnection(),
			entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			Comment("the account's memberships of local groups, removed ones included"),
	}
}

// Indexes of LocalUser.
func (LocalUser) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("external_id").Unique().Annotations(entsql.IndexWhere("external_id IS NOT NULL")),
		index.Fields("district_id"),
		index.Fields("organization_id"),
	}
}

// Annotations of LocalUser.
func (LocalUser) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
