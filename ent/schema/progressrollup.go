package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProgressRollup is the sum of a student's progress records in one place — one (district, student as
// recorded, section, school, term) — kept by every write of progress in the write's transaction:
// progressSummary without filters reads these hundred-thousand-odd rows rather than a district's
// million records. A record changed by a replay moves its old values out and its new ones in; a rollup
// left with no record is deleted. Sync never writes it, as it never writes progress.
type ProgressRollup struct {
	ent.Schema
}

// Fields of ProgressRollup.
func (ProgressRollup) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().MaxLen(64),
		field.String("student_clever_id").NotEmpty().MaxLen(64).
			Comment("the student's Clever id as the records give it (reads follow clever_id_aliases)"),
		field.String("section_id").Default("").MaxLen(64).Comment(`the records' section_id; "" for none`),
		field.String("school_id").Default("").MaxLen(64).Comment(`the records' school_id; "" for none`),
		field.String("term_id").Default("").MaxLen(64).Comment(`the records' term_id; "" for none`),
		field.Int64("records").Default(0),
		field.Int64("completed").Default(0).Comment("records of kind COMPLETED"),
		field.Int64("scored").Default(0).Comment("records with a score and a max_score"),
		field.Float("score_sum").Default(0).Comment("the sum of score / max_score over the scored records"),
		field.Int64("time_spent_seconds").Default(0),
	}
}

// Indexes of ProgressRollup.
func (ProgressRollup) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("district_id", "student_clever_id", "section_id", "school_id", "term_id").Unique().StorageKey("progressrollup_key"),
	}
}

// Annotations of ProgressRollup.
func (ProgressRollup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
