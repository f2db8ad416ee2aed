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

// LinkProposal is one signal's claim that a district belongs to an organization, with its evidence and a
// score. Admin only: evidence can name the people who signed in. A proposal is raised once per piece of
// evidence (evidence_key): a rejected one is not raised again by the same evidence.
type LinkProposal struct {
	ent.Schema
}

// Fields of LinkProposal.
func (LinkProposal) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.String("organization_id").NotEmpty().Immutable().MaxLen(32),
		field.Enum("signal").Values("MDR_NUMBER", "INSTANT_LOGIN", "LOGIN_STATE", "EMAIL_DOMAIN", "NAME").Immutable(),
		field.String("evidence").Default("").Comment("what the signal saw, in words an admin can check"),
		field.String("evidence_key").NotEmpty().Immutable().MaxLen(255).Annotations(entgql.Skip()).
			Comment("the evidence reduced to what makes it the same evidence (the MDR number, the user, the domain)"),
		field.Float("score").Annotations(entgql.OrderField("SCORE")).
			Comment("0–1: how strongly the signal ties the district to the organization"),
		field.Enum("status").Values("OPEN", "ACCEPTED", "REJECTED", "SUPERSEDED").Default("OPEN").
			Comment("SUPERSEDED: the district was linked, or the evidence went away, before anyone decided"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
		field.Time("decided_at").Optional().Nillable(),
		field.String("decided_by").Default("").Comment("who accepted or rejected it (an audit actor)"),
	}
}

// Edges of LinkProposal.
func (LinkProposal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("link_proposals").Field("district_id").Unique().Required().Immutable(),
		edge.From("organization", Organization.Type).Ref("link_proposals").Field("organization_id").Unique().Required().Immutable(),
	}
}

// Indexes of LinkProposal.
func (LinkProposal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("district_id", "organization_id", "signal", "evidence_key").Unique(),
		index.Fields("status"),
		index.Fields("organization_id"),
	}
}

// Annotations of LinkProposal.
func (LinkProposal) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), AdminOnly()}
}
