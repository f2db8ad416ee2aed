package schema

import (
	"encoding/json"
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEntry records one admin action — who did what, when, to what, and how it ended — in the same
// transaction as the action.
type AuditEntry struct {
	ent.Schema
}

// Fields of AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.Time("at").Default(time.Now).Immutable().Annotations(entgql.OrderField("AT")),
		field.String("actor").NotEmpty().Immutable().Comment(`"apikey:<name> (<id>)" or "cli:<user>"`),
		field.String("action").NotEmpty().Immutable().Comment("syncDistrict, approveHeldSync, rejectHeldSync, …"),
		field.String("target").Default("").Immutable().Comment("the district or run acted on"),
		field.String("outcome").Default("").Immutable(),
		field.JSON("details", json.RawMessage{}).Optional().Immutable().Annotations(entgql.Skip()),
	}
}

// Indexes of AuditEntry.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("at"), index.Fields("target")}
}

// Annotations of AuditEntry.
func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), AdminOnly()}
}
