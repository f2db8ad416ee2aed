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

// AppRecord is one of the app's own records (a student, teacher, staff member, school or section as the
// app had it before Clever), loaded by `match import` / importAppRecords and matched to a Clever record
// of its district by internal/apprecord. It is the app's data: sync never writes it, and a decision an
// admin made (decided_by not empty) is never changed by an import, a sync or a rematch.
type AppRecord struct {
	ent.Schema
}

// Fields of AppRecord.
func (AppRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id of the district whose records it is matched against"),
		field.Enum("type").Values("STUDENT", "TEACHER", "STAFF", "SCHOOL", "SECTION").Immutable(),
		field.String("external_id").NotEmpty().Immutable().MaxLen(255).Annotations(entgql.OrderField("EXTERNAL_ID")).
			Comment("the app's internal id of the record (the file's id column)"),
		field.JSON("fields", map[string]string{}).Annotations(entgql.Type("StringMap"), AdminOnly()).
			Comment("the record's CSV row as the app sent it, by column; admin only"),
		field.JSON("match_values", map[string]string{}).Annotations(entgql.Skip()).
			Comment("the recognised fields' values (internal/match field names), what matching reads"),
		field.Enum("status").Values("MATCHED", "SUGGESTED", "UNMATCHED", "DUPLICATE").Default("UNMATCHED").
			Annotations(entgql.OrderField("STATUS")),
		field.String("clever_id").Optional().Nillable().MaxLen(64).
			Comment("the Clever record it is matched to (MATCHED only); kept when that record is archived"),
		field.String("method").Default("").
			Comment("what matched it: the strongest identifier that agrees (sis_id, email, …), or manual (matchRecord)"),
		field.Float("score").Default(0).Annotations(entgql.OrderField("SCORE")).
			Comment("0–1: the match's (or best suggestion's) score; 1 for a manual match"),
		field.String("explanation").Default("").Annotations(AdminOnly()).
			Comment(`what agrees and what differs, in words ("state id and birth date agree; e-mail differs: a.smith@ vs asmith@"); admin only: it quotes values`),
		field.String("decided_by").Default("").
			Comment("who matched or unmatched it by hand (an audit actor); empty while matching decides"),
		field.Time("decided_at").Optional().Nillable(),
		field.Time("missing_since").Optional().Nillable().
			Comment("set when a later import of its type no longer had it: kept and reported, not dropped"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// Edges of AppRecord.
func (AppRecord) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("suggestions", MatchSuggestion.Type).Annotations(entgql.RelayConnection()),
	}
}

// Indexes of AppRecord.
func (AppRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("district_id", "type", "external_id").Unique(),
		index.Fields("district_id", "type", "status"),
		index.Fields("clever_id"),
	}
}

// Annotations of AppRecord.
func (AppRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
