package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CleverIDAlias says that a Clever id a student once had (Clever issues a new id after a long absence
// or a changed SIS id) now belongs to the student with clever_id. Reads of progress follow it, so work
// recorded under the former id shows under the current student; progress rows are never rewritten.
// Aliases are kept flat: clever_id is always a current id, never itself a former one. They are the
// app's data: sync adds SIS_ID aliases (internal/progress.AddSISAlias) but never deletes one.
type CleverIDAlias struct {
	ent.Schema
}

// Fields of CleverIDAlias.
func (CleverIDAlias) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("former_clever_id").NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id the student had"),
		field.String("clever_id").NotEmpty().MaxLen(64).
			Comment("the student's current Clever id"),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.Enum("method").Values("SIS_ID", "MANUAL").Immutable().
			Comment("SIS_ID: the district's SIS id linked them (sync); MANUAL: an admin (linkFormerCleverId)"),
		field.String("decided_by").Default("").Immutable().Annotations(AdminOnly()).
			Comment("who linked them by hand (an audit actor); empty for SIS_ID"),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of CleverIDAlias.
func (CleverIDAlias) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("former_clever_id").Unique(),
		index.Fields("clever_id"),
	}
}

// Annotations of CleverIDAlias.
func (CleverIDAlias) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("clever_id_aliases"), entgql.RelayConnection()}
}
