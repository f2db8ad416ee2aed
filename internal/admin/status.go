package admin

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// District states of Status.
const (
	StateInSync       = "IN_SYNC"
	StateSyncing      = "SYNCING"
	StateHeld         = "HELD"
	StateFailed       = "FAILED"
	StateDisconnected = "DISCONNECTED"
	StateNeverSynced  = "NEVER_SYNCED"
)

// Status is a district's sync health.
type Status struct {
	State              string
	Summary            string
	LastSuccessfulSync *time.Time
	LastRun            *ent.SyncRun
	LastError          *string
	NextScheduledRun   *time.Time
	TokenStatus        string
	// LastFullSync is when the last full sync that read the whole district finished (succeeded, or held
	// and decided).
	LastFullSync *time.Time
	// EventsEnabled says whether the district's events are applied between full syncs: nil before the
	// first full sync, false when the app could not read them.
	EventsEnabled *bool
	// EventsCheckedAt is when the mirror last knew it reflected every event Clever had: the last events
	// run, or the start of the full sync that saved the cursor. now − EventsCheckedAt is the events lag.
	EventsCheckedAt *time.Time
	// NewestEventAt is when Clever created the newest event applied.
	NewestEventAt *time.Time
	// PauseStart and PauseEnd are the district's pause in Clever (its summer pause of the SIS sync), as
	// the last sync mirrored them; nil when none is set. PauseEnd's day is the pause's last.
	PauseStart, PauseEnd *time.Time
	// Paused says whether the district is paused in Clever now (mirror.Paused): its syncs archive nothing
	// until the pause ends.
	Paused bool
}

// NextRun tells when the scheduler will next sync a district (the scheduler's NextRun), if it will.
type NextRun func(districtID string) (time.Time, bool)

// DistrictStatus works out a district's status from its runs and its token.
func (s *Service) DistrictStatus(ctx context.Context, districtID string, next NextRun) (*Status, error) {
	c := s.db.Client
	st := &Status{TokenStatus: "UNKNOWN"}
	if tok, err := c.DistrictToken.Get(ctx, districtID); err == nil {
		st.TokenStatus = string(tok.Status)
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	last, err := c.SyncRun.Query().Where(syncrun.DistrictID(districtID)).Order(ent.Desc(syncrun.FieldStartedAt), ent.Desc(syncrun.FieldID)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	st.LastRun = last
	if ok, err := c.SyncRun.Query().Where(syncrun.DistrictID(districtID), syncrun.StatusIn(syncrun.StatusSucceeded, syncrun.StatusApproved)).
		Order(ent.Desc(syncrun.FieldStartedAt)).First(ctx); err == nil {
		st.LastSuccessfulSync = ok.FinishedAt
	}
	if full, err := c.SyncRun.Query().Where(syncrun.DistrictID(districtID), syncrun.KindEQ(syncrun.KindFull),
		syncrun.StatusIn(syncrun.StatusSucceeded, syncrun.StatusApproved, syncrun.StatusRejected)).
		Order(ent.Desc(syncrun.FieldStartedAt)).First(ctx); err == nil {
		st.LastFullSync = full.FinishedAt
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	if cur, err := c.EventCursor.Get(ctx, districtID); err == nil {
		st.EventsEnabled, st.NewestEventAt = &cur.Enabled, cur.NewestEventAt
		if cur.Enabled {
			st.EventsCheckedAt = &cur.CheckedAt
		}
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	if d, err := c.District.Get(ctx, districtID); err == nil {
		st.PauseStart, st.PauseEnd = d.PauseStart, d.PauseEnd
		st.Paused = mirror.Paused(d.PauseStart, d.PauseEnd, s.now().UTC())
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	if next != nil {
		if t, ok := next(districtID); ok {
			st.NextScheduledRun = &t
		}
	}
	if last != nil && len(last.Errors) > 0 {
		st.LastError = &last.Errors[0]
	}
	switch {
	case st.TokenStatus == string(districttoken.StatusRevoked):
		st.State = StateDisconnected
		st.Summary = "token revoked: the district disconnected the app (Clever no longer grants a token); its records are kept as they were until you decide"
	case last == nil:
		st.State, st.Summary = StateNeverSynced, "not synced yet"
	case last.Status == syncrun.StatusRunning:
		st.State, st.Summary = StateSyncing, "a sync is running since "+last.StartedAt.UTC().Format(time.RFC3339)
	case last.Status == syncrun.StatusHeld:
		st.State, st.Summary = StateHeld, heldSummary(last)
	case last.Status == syncrun.StatusFailed:
		st.State, st.Summary = StateFailed, "last sync failed"
		if st.LastError != nil {
			st.Summary += ": " + *st.LastError
		}
	default:
		st.State, st.Summary = StateInSync, "in sync"
		if st.LastSuccessfulSync != nil {
			st.Summary += ": last synced " + st.LastSuccessfulSync.UTC().Format(time.RFC3339)
		}
	}
	if st.State == StateInSync && st.EventsCheckedAt != nil && last.Kind == syncrun.KindEvents {
		st.Summary += " (events applied"
		if st.NewestEventAt != nil {
			st.Summary += " through " + st.NewestEventAt.UTC().Format(time.RFC3339) + ","
		}
		st.Summary += " feed read " + st.EventsCheckedAt.UTC().Format(time.RFC3339) + ")"
	}
	if st.Paused {
		st.Summary += "; paused in Clever " + pauseWindow(st.PauseStart, st.PauseEnd) +
			": syncs apply new and changed records but archive none until the pause ends"
	}
	if l, err := c.DistrictLink.Query().Where(districtlink.DistrictID(districtID), districtlink.PausedAtNotNil()).Only(ctx); err == nil {
		st.Summary += "; scheduled syncs paused since " + l.PausedAt.UTC().Format(time.RFC3339) + " (resumeDistrict starts them again)"
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("district status: %w", err)
	}
	return st, nil
}

// pauseWindow says when a pause runs: "from 2026-06-05 to 2026-08-20" (the end day included), or "since
// 2026-06-05" when it has no end.
func pauseWindow(start, end *time.Time) string {
	if end == nil {
		return "since " + start.UTC().Format(time.DateOnly) + " (no end date)"
	}
	return "from " + start.UTC().Format(time.DateOnly) + " to " + end.UTC().Format(time.DateOnly)
}

// heldSummary says what a held run holds back: "sharing changed: 25% of sections (15 of 60) unshared,
// held for approval — approveHeldSync or rejectHeldSync run R". "Of" counts the type's records that were
// shared before the run (syncstats.Outcome.HeldShare, as the CLI's summary does). The memberships held
// with the users' archives are named after them: "40% of users (120 of 360) unshared and 412
// enrollments, 1 section teacher and 9 contact links that follow from them, held for approval — …".
func heldSummary(run *ent.SyncRun) string {
	msg := "sharing changed:"
	for _, kind := range countedKinds(run.Counts) {
		held, base, pct := run.Counts[kind].HeldShare()
		if held == 0 {
			continue
		}
		msg += fmt.Sprintf(" %d%% of %s (%d of %d) unshared,", pct, kind, held, base)
	}
	if list, n := run.HeldMemberships.Memberships(); n > 0 {
		verb := "follow"
		if n == 1 {
			verb = "follows"
		}
		msg = strings.TrimSuffix(msg, ",") + " and " + list + " that " + verb + " from them,"
	}
	return msg + " held for approval — approveHeldSync or rejectHeldSync run " + run.ID
}

// countedKinds are the record types counts has, in the order a run syncs them (mirror.Kinds), then any
// others by name.
func countedKinds(counts syncstats.Counts) []string {
	var kinds []string
	for _, k := range mirror.Kinds {
		if _, ok := counts[k]; ok {
			kinds = append(kinds, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(mirror.Kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}
