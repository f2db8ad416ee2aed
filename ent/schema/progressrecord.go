package schema

import (
	"encoding/json"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProgressRecord is one piece of a student's work in the app (a lesson completed, a quiz attempt with
// its score, time spent), keyed by the student's Clever id as the app gave it, the activity and the
// attempt. It is the app's data (internal/progress writes it): sync never writes or deletes it, and it
// has no foreign key a mirror operation could cascade through. Where the work was done — section,
// school, term, grade — is resolved when it is written, from the roster as it was at completed_at,
// and stored: the mirror keeps only the current school, term and grade of its records, and the work
// must stay with last semester's class.
type ProgressRecord struct {
	ent.Schema
}

// Fields of ProgressRecord.
func (ProgressRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("student_clever_id").NotEmpty().Immutable().MaxLen(64).Annotations(entgql.Skip()).
			Comment("the student's Clever id as recorded; reads follow clever_id_aliases to the student's current id"),
		field.String("activity_id").NotEmpty().Immutable().MaxLen(255).Annotations(entgql.OrderField("ACTIVITY_ID")).
			Comment("the app's id of the activity (lesson, quiz, …)"),
		field.String("attempt_id").Default("").Immutable().MaxLen(255).
			Comment(`the app's id of the attempt; "" for an activity done once`),
		field.Enum("kind").Values("COMPLETED", "IN_PROGRESS").
			Comment("COMPLETED: the activity was finished (counts toward the completion rate); IN_PROGRESS: worked on, not finished"),
		field.Float("score").Optional().Nillable(),
		field.Float("max_score").Optional().Nillable(),
		field.Time("completed_at").Annotations(entgql.OrderField("COMPLETED_AT")).
			Comment("when the work was done (finished, or last worked on for IN_PROGRESS)"),
		field.Int("time_spent_seconds").Optional().Nillable(),
		field.JSON("data", json.RawMessage{}).Optional().Annotations(entgql.Skip()).
			Comment("the app's free JSON payload, as given"),
		field.String("district_id").NotEmpty().MaxLen(64).
			Comment("the Clever id of the student's district"),
		field.String("section_id").Optional().Nillable().MaxLen(64).
			Comment("the section the work was earned in: given, or resolved from the enrollment history at completed_at"),
		field.Bool("section_given").Default(false).Annotations(entgql.Skip()).
			Comment("whether section_id was given with the record (else resolved)"),
		field.String("school_id").Optional().Nillable().MaxLen(64).
			Comment("the section's school, or the student's primary school when there is no section, when the record was written"),
		field.String("term_id").Optional().Nillable().MaxLen(64).
			Comment("the section's term"),
		field.String("grade").Default("").
			Comment("the student's grade when the record was written"),
		field.String("content_hash").MaxLen(64).Annotations(entgql.Skip()).
			Comment("sha-256 of the record as given: a replay with the same hash changes nothing"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Indexes of ProgressRecord.
func (ProgressRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("student_clever_id", "activity_id", "attempt_id").Unique(),
		// District and section, whose values repeat, are appended to at their end: a record's new heap
		// position is their last key. An index whose key is spread over the table (completed_at, the
		// school or term of a record) costs an import of a million records a random write per record —
		// 5.8 s for (district_id, completed_at) alone — so filters by date, school and term read the
		// district's records through district_id (progress_rollups answers the unfiltered summary).
		index.Fields("district_id"),
		index.Fields("section_id"),
	}
}

// Annotations of ProgressRecord.
func (ProgressRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
