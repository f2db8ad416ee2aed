package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/rostermirror/rostermirror/internal/syncstats"
)

// SyncRun is one sync of one district: what started it, how it ended, and what it did.
type SyncRun struct {
	ent.Schema
}

// Fields of SyncRun.
func (SyncRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.Enum("kind").NamedValues("Full", "FULL", "Events", "EVENTS").Default("FULL").Immutable(),
		field.Enum("status").
			NamedValues("Running", "RUNNING", "Succeeded", "SUCCEEDED", "Failed", "FAILED", "Held", "HELD",
				"Approved", "APPROVED", "Rejected", "REJECTED", "Superseded", "SUPERSEDED").
			Default("RUNNING").
			Comment("HELD: the mass-archive guard held archives and waits for approval; APPROVED/REJECTED: an admin decided; " +
				"SUPERSEDED: a later run replaced a held run"),
		field.String("trigger").Default("").Comment("what started the run: schedule, cli, api, demo"),
		field.Bool("dry_run").Default(false).Immutable(),
		field.Time("started_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("STARTED_AT")),
		field.Time("finished_at").Optional().Nillable(),
		field.JSON("counts", syncstats.Counts{}).Optional().Annotations(entgql.Skip()),
		field.Strings("errors").Optional(),
		field.String("event_cursor").Default("").
			Comment("the newest Clever event id captured before the run started; incremental sync resumes from it"),
		field.String("fallback").Default("").
			Comment("why a run asked to apply events ran a full sync instead (no cursor, the cursor lost past Clever's retention, events not enabled, an event it could not interpret); empty otherwise"),
		field.JSON("held", syncstats.Held{}).Optional().Annotations(entgql.Skip()).
			Comment("the Clever ids whose archiving the mass-archive guard held, per record type"),
		field.JSON("held_memberships", syncstats.Held{}).Optional().Annotations(entgql.Skip()).
			Comment("the memberships (enrollments, section teachers, contacts' students) whose ending follows from the held archives, per membership table: ended if the run is approved, kept if it is rejected"),
		field.String("decided_by").Default("").Optional().Nillable().Annotations(AdminOnly()).
			Comment("who approved or rejected a held run (an API key's name and id, or a CLI user): admin only"),
		field.Time("decided_at").Optional().Nillable(),
	}
}

// Edges of SyncRun.
func (SyncRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("district", District.Type).Ref("sync_runs").Field("district_id").Unique().Required().Immutable(),
	}
}

// Indexes of SyncRun.
func (SyncRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("district_id", "started_at"),
		index.Fields("status"),
	}
}

// Annotations of SyncRun.
func (SyncRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
