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

// MatchSuggestion is a Clever record that might be an app record's, with its score and explanation: the
// review queue. Admin only: explanations quote the values compared. One row per app record and Clever
// record, kept once decided: a rejected suggestion is never raised again for the same pair.
type MatchSuggestion struct {
	ent.Schema
}

// Fields of MatchSuggestion.
func (MatchSuggestion) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("app_record_id").NotEmpty().Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.Enum("type").Values("STUDENT", "TEACHER", "STAFF", "SCHOOL", "SECTION").Immutable(),
		field.String("clever_id").NotEmpty().Immutable().MaxLen(64).Comment("the suggested Clever record"),
		field.Float("score").Annotations(entgql.OrderField("SCORE")).Comment("0–1, how likely the pair is one person (or school, or section)"),
		field.Float("weight").Annotations(entgql.Skip()).Comment("the pair's log-likelihood weight in bits"),
		field.Int("rank").Default(1).Annotations(entgql.OrderField("RANK")).Comment("1 for the app record's best suggestion"),
		field.String("method").Default("").Comment("the strongest field that agrees"),
		field.String("explanation").Default(""),
		field.Enum("status").Values("OPEN", "ACCEPTED", "REJECTED", "SUPERSEDED").Default("OPEN").
			Comment("SUPERSEDED: a rematch no longer finds it, or the app record was decided otherwise"),
		field.String("decided_by").Default(""),
		field.Time("decided_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Edges of MatchSuggestion.
func (MatchSuggestion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("app_record", AppRecord.Type).Ref("suggestions").Field("app_record_id").Unique().Required().Immutable(),
	}
}

// Indexes of MatchSuggestion.
func (MatchSuggestion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_record_id", "clever_id").Unique(),
		index.Fields("district_id", "type", "status"),
	}
}

// Annotations of MatchSuggestion.
func (MatchSuggestion) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), AdminOnly()}
}
