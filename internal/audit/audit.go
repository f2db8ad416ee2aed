// Package audit writes the audit log of admin actions (ent's AuditEntry): who did what, when, to what,
// and how it ended. Record is the one place entries are written, and APIKey and CLI the one place
// actors are named, whoever acts: the API's admin actions (internal/admin) and the sync engine's
// held-run decisions, which record theirs in the decision's own transaction (sync/mirror).
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rostermirror/rostermirror/ent"
)

// Actions in the audit log: the GraphQL mutations' names (a held run decided from the command line is
// recorded as the mutation would be).
const (
	SyncDistrict    = "syncDistrict"
	ApproveHeldSync = "approveHeldSync"
	RejectHeldSync  = "rejectHeldSync"

	// The onboarding mutations (internal/link); their target is the district.
	LinkDistrict       = "linkDistrict"
	UnlinkDistrict     = "unlinkDistrict"
	AcceptLinkProposal = "acceptLinkProposal"
	RejectLinkProposal = "rejectLinkProposal"
	PauseDistrict      = "pauseDistrict"
	ResumeDistrict     = "resumeDistrict"
	// CreateDistrictInvite is a new invite link (internal/login); its target is the organization.
	CreateDistrictInvite = "createDistrictInvite"

	// CreateOrganization and UpdateOrganization are the organization mutations (internal/org); their
	// target is the organization's id.
	CreateOrganization = "createOrganization"
	UpdateOrganization = "updateOrganization"
	// ImportOrganizations is `rostermirror org import` (internal/org): one entry per import that was
	// applied, its target "organizations", its details the changes.
	ImportOrganizations = "importOrganizations"

	// The matching mutations (internal/apprecord). An import's and a rematch's target is the district,
	// a decision's the app record.
	ImportAppRecords  = "importAppRecords"
	RematchAppRecords = "rematchAppRecords"
	MatchRecord       = "matchRecord"
	UnmatchRecord     = "unmatchRecord"
	AcceptSuggestion  = "acceptSuggestion"
	RejectSuggestion  = "rejectSuggestion"

	// The progress mutations (internal/progress). recordProgress's and `progress import`'s target is
	// "progress" (the outcome gives the counts, never a student's id); an alias's is the former id.
	RecordProgress       = "recordProgress"
	ImportProgress       = "importProgress"
	LinkFormerCleverID   = "linkFormerCleverId"
	UnlinkFormerCleverID = "unlinkFormerCleverId"
)

// Anonymous is the actor of a request that carries no API key.
const Anonymous = "anonymous"

// APIKey names an API key as an actor: "apikey:<name> (<id>)".
func APIKey(name, id string) string { return fmt.Sprintf("apikey:%s (%s)", name, id) }

// CLI names a command-line user as an actor: "cli:<user>", or "cli" when the user is unknown.
func CLI(user string) string {
	if user == "" {
		return "cli"
	}
	return "cli:" + user
}

// Entry is one admin action.
type Entry struct {
	// At is when it happened. Default: now.
	At time.Time
	// Actor is who acted (APIKey, CLI, Anonymous).
	Actor string
	// Action is what they did (SyncDistrict, ApproveHeldSync, RejectHeldSync, …).
	Action string
	// Target is the district, run or organization acted on.
	Target string
	// Outcome is how it ended.
	Outcome string
	// Details, when not nil, is stored as JSON with the entry: what an action over many records changed
	// (an organization import's changes).
	Details any
}

// Record writes e to the audit log through client. A client on the action's transaction (ent.Tx's
// Client, or store.DB.OnTx for a transaction of database/sql) records it with the action, or not at all.
func Record(ctx context.Context, client *ent.Client, e Entry) error {
	create := client.AuditEntry.Create().SetActor(e.Actor).SetAction(e.Action).SetTarget(e.Target).SetOutcome(e.Outcome)
	if !e.At.IsZero() {
		create.SetAt(e.At)
	}
	if e.Details != nil {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("record %s in the audit log: encode details: %w", e.Action, err)
		}
		create.SetDetails(b)
	}
	if err := create.Exec(ctx); err != nil {
		return fmt.Errorf("record %s in the audit log: %w", e.Action, err)
	}
	return nil
}
