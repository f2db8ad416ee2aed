package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// District is a Clever district that shares its rosters with the app.
type District struct {
	ent.Schema
}

// Mixin of District.
func (District) Mixin() []ent.Mixin { return []ent.Mixin{Mirrored{}} }

// Fields of District.
func (District) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.String("sis_type").Default(""),
		field.String("state").Default("").
			Comment("Clever's sync state of the district: running, pending, error, paused, success or empty"),
		field.Time("launch_date").Optional().Nillable(),
		field.String("portal_url").Default(""),
		field.Strings("login_methods").Optional(),
		field.Time("last_sync").Optional().Nillable().
			Comment("when Clever last synced the district's SIS (not rostermirror's sync)"),
		field.String("error").Default("").
			Comment("Clever's user-facing error text for the district's SIS sync"),
		field.String("mdr_number").Default(""),
		field.String("nces_id").Default(""),
		field.Time("pause_start").Optional().Nillable(),
		field.Time("pause_end").Optional().Nillable(),
	}
}

// Edges of District.
func (District) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("schools", School.Type).Annotations(entgql.RelayConnection()),
		edge.To("users", User.Type).Annotations(entgql.RelayConnection()),
		edge.To("sections", Section.Type).Annotations(entgql.RelayConnection()),
		edge.To("terms", Term.Type).Annotations(entgql.RelayConnection()),
		edge.To("courses", Course.Type).Annotations(entgql.RelayConnection()),
		edge.To("sync_runs", SyncRun.Type).Annotations(entgql.RelayConnection()),
		edge.To("link", DistrictLink.Type).Unique().Annotations(entgql.Skip()),
		edge.To("link_proposals", LinkProposal.Type).Annotations(entgql.RelayConnection()),
	}
}

// Annotations of District.
func (District) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
