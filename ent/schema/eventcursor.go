package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// EventCursor is where a district's events sync resumes: the newest Clever event the mirror reflects.
// A full sync that reads the district to the end saves the newest event id it captured before reading;
// an events run moves it forward in the transaction that applies the events. Sync never reads events
// without one.
type EventCursor struct {
	ent.Schema
}

// Fields of EventCursor.
func (EventCursor) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("district_id").NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id of the district"),
		field.String("event_id").Default("").MaxLen(64).
			Comment(`the newest event the mirror reflects; "" when the district had no events then (the feed is read from its oldest event)`),
		field.Bool("enabled").Default(true).
			Comment("false: the last full sync could not read the district's events (the Events API is not enabled for the app)"),
		field.Time("checked_at").
			Comment("when the feed was last known complete up to event_id: the start of the full sync that saved it, or the last events run; a cursor not checked within Clever's 30-day retention is lost"),
		field.Time("newest_event_at").Optional().Nillable().
			Comment("when Clever created the newest event applied: the events lag"),
		field.Time("updated_at"),
	}
}

// Annotations of EventCursor.
func (EventCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
