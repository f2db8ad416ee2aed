// Package schema is the ent schema of rostermirror: the single source of truth for the database, the
// generated ent client and (later) the GraphQL schema. One file per entity; Fields, Edges, Indexes,
// Annotations in that order.
//
// Mirrored records (District, School, Term, Course, User, Section) are keyed by their Clever id and carry
// their district's Clever id, so the store can be sharded by district. Foreign keys are plain columns
// that the database does not enforce: Clever sends references to records the app cannot see yet (a
// section naming an unshared student), and such a reference must be kept and resolve by itself when the
// record arrives.
package schema

import (
	"encoding/json"
	"entgo.io/contrib/entgql"
	"slices"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
)

// Mirrored is the part every mirrored Clever record shares.
type Mirrored struct {
	mixin.Schema
}

// Fields of a mirrored record.
func (Mirrored) Fields() []ent.Field {
	return slices.Concat([]ent.Field{
		field.String("id").
			StorageKey("clever_id").
			NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id: the record's key"),
		field.String("district_id").
			NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id of the record's district"),
		field.JSON("raw", json.RawMessage{}).
			Annotations(entgql.Skip()).
			Comment("the record's JSON exactly as Clever last sent it, for what the columns do not model"),
	}, Synced{}.Fields(), []ent.Field{
		field.Time("created_at").
			Immutable().Default(time.Now).
			Comment("when the record first entered the mirror"),
	})
}

// Annotations of a mirrored record: it is one (ent.StorageTypes' Mirrored).
func (Mirrored) Annotations() []schema.Annotation {
	return []schema.Annotation{Storage{Mirrored: true}}
}

// Synced is the sync bookkeeping every synced row shares: Mirrored records and user roles. Its fields
// are defined only here so that their columns and their GraphQL exposure (content_hash is internal)
// cannot drift apart between the schemas that use them.
type Synced struct {
	mixin.Schema
}

// Fields of a synced row.
func (Synced) Fields() []ent.Field {
	return []ent.Field{
		field.String("content_hash").
			MaxLen(64).Annotations(entgql.Skip()).
			Comment("sha-256 of the JSON the row was last synced from; a sync does not rewrite a row whose hash is unchanged"),
		field.Time("archived_at").
			Optional().Nillable().
			Comment("when a sync found the record (or role) no longer shared (unshared or deleted in Clever); null while shared"),
		field.Time("last_synced_at").
			Comment("when a sync last wrote the row (created, changed, archived or restored it)"),
	}
}

// Indexes of a mirrored record.
func (Mirrored) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("district_id", "archived_at"),
	}
}

// Membership is the part every history-keeping association shares: a row per period during which
// the association held. Ending one sets ended_at; nothing is deleted, so history stays tied to the record.
type Membership struct {
	mixin.Schema
}

// Annotations of a membership: it is one (ent.StorageTypes' Membership); the type marks its owner field
// with Owner() and the fields that may change while it holds with Attribute().
func (Membership) Annotations() []schema.Annotation {
	return []schema.Annotation{Storage{Membership: true}}
}

// Fields of a membership.
func (Membership) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id of the district"),
		field.Time("started_at").Immutable().Annotations(entgql.OrderField("STARTED_AT")).
			Comment("when a sync first saw the association"),
		field.Time("ended_at").Optional().Nillable().
			Comment("when a sync found the association gone; null while it holds"),
	}
}
