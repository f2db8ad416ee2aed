package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Organization is one of the app's customers: what a Clever district is linked to, so that the app knows
// whose data it is. Created and updated by mutations and by `rostermirror org import`; sync never writes
// it. Identifiers are stored normalised (internal/org) so that signals compare like with like.
type Organization struct {
	ent.Schema
}

// Fields of Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("external_id").NotEmpty().Unique().MaxLen(255).Annotations(entgql.OrderField("EXTERNAL_ID")).
			Comment("the app's own id of the customer: the key of `org import`"),
		field.String("name").NotEmpty().MaxLen(500).Annotations(entgql.OrderField("NAME")),
		field.String("mdr_number").Default("").MaxLen(32).
			Comment("MDR number, digits only (leading zeros kept); empty when unknown: never matched on empty"),
		field.String("nces_id").Default("").MaxLen(32).Comment("NCES district id, digits only; empty when unknown"),
		field.String("state").Default("").MaxLen(2).Comment("two-letter US state code, upper case; empty when unknown"),
		field.Strings("email_domains").Optional().
			Comment("e-mail domains of the customer's staff and students, lower case, without @"),
		field.Strings("contact_emails").Optional().Annotations(AdminOnly()).
			Comment("e-mail addresses of the customer's known people (its signers, admins): a login by one proposes the link; admin only"),
		field.Bool("auto_link_invites").Default(false).
			Comment("a district that signs in through one of this organization's invites is linked at once (unless that makes a conflict), not just proposed"),
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("links", DistrictLink.Type).Annotations(entgql.Skip()),
		edge.To("link_proposals", LinkProposal.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
