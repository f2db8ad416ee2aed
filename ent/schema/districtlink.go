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

// DistrictLink is where a connected Clever district stands in onboarding — which organization it belongs
// to, if any, and its link state — kept apart from the mirrored district row, which only a sync writes.
// There is one per district ever listed by Clever (internal/link writes it); GraphQL shows it as
// District.linkState and District.organization.
type DistrictLink struct {
	ent.Schema
}

// Fields of DistrictLink.
func (DistrictLink) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().Unique().MaxLen(64).
			Comment("the Clever id of the district (its row appears with the district's discovery)"),
		field.String("organization_id").Optional().Nillable().MaxLen(32).
			Comment("the organization the district is linked to; kept while PAUSED or DISCONNECTED"),
		field.Enum("state").
			Values("DISCOVERED", "PROPOSED", "LINKED", "PAUSED", "DISCONNECTED").Default("DISCOVERED").
			Comment("derived by internal/link from the link, its open proposals and the district's token"),
		field.String("signal").Default("").
			Comment("how the link was made: MANUAL, or the accepted or auto-linked proposal's signal"),
		field.String("linked_by").Default("").Comment("who made the link (an audit actor)"),
		field.Time("linked_at").Optional().Nillable(),
		field.Time("paused_at").Optional().Nillable().Comment("set while scheduled syncs are paused"),
		field.Bool("connected").Default(true).Comment("false while Clever lists no token for the district"),
		field.Time("discovered_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of DistrictLink.
func (DistrictLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("link").Field("district_id").Unique().Required().Immutable(),
		edge.From("organization", Organization.Type).Ref("links").Field("organization_id").Unique(),
	}
}

// Indexes of DistrictLink.
func (DistrictLink) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id"), index.Fields("state")}
}

// Annotations of DistrictLink.
func (DistrictLink) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
