package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// writeSummary writes what sync runs did: a table with one row per district and record type, then one
// status line per run (with the explanation of a held run), then a note when the runs were dry.
func writeSummary(w io.Writer, results []mirror.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DISTRICT\tRESOURCE\tREAD\tCREATED\tUPDATED\tUNCHANGED\tARCHIVED\tRESTORED\tHELD")
	for _, r := range results {
		if len(r.Counts) == 0 {
			continue // the run failed before it read anything: its status line says why
		}
		for _, kind := range resultKinds(r) {
			o, ok := r.Counts[kind]
			if !ok {
				fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\n", r.DistrictID, kind)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.DistrictID, kind,
				o.Read, o.Created, o.Updated, o.Unchanged, o.Archived, o.Restored, o.Held)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	dry := false
	var b strings.Builder
	b.WriteString("\n")
	for _, r := range results {
		b.WriteString(statusLine(r))
		b.WriteString("\n")
		if r.DryRun {
			writePlan(&b, r)
		}
		dry = dry || r.DryRun
	}
	if dry {
		b.WriteString("dry run: nothing was written\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// planActions are the actions of a plan, in the order it lists them.
var planActions = []string{"created", "updated", "restored", "archived", "held", "deferred"}

// writePlan writes what a dry run would do, one line per record type that changes: "  users: 3
// created (e.g. 5f…, 5f…), 1 archived (e.g. 5f…)".
func writePlan(b *strings.Builder, r mirror.Result) {
	for _, kind := range resultKinds(r) {
		o := r.Counts[kind]
		counts := map[string]int{"created": o.Created, "updated": o.Updated, "restored": o.Restored, "archived": o.Archived, "held": o.Held,
			"deferred": o.Deferred}
		var parts []string
		for _, action := range planActions {
			if counts[action] == 0 {
				continue
			}
			part := fmt.Sprintf("%d %s", counts[action], action)
			if ids := r.Plan[kind][action]; len(ids) > 0 {
				part += " (e.g. " + strings.Join(ids, ", ") + ")"
			}
			parts = append(parts, part)
		}
		if len(parts) > 0 {
			fmt.Fprintf(b, "  %s: %s\n", kind, strings.Join(parts, ", "))
		}
	}
}

// resultKinds are the record types to list for r: mirror.Kinds in sync order, then any other type r
// counted.
func resultKinds(r mirror.Result) []string {
	kinds := slices.Clone(mirror.Kinds)
	for _, k := range slices.Sorted(maps.Keys(r.Counts)) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// statusLine says how run r ended: "district D: run R succeeded in 1.2s".
func statusLine(r mirror.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "district %s: ", r.DistrictID)
	switch {
	case r.DryRun:
		b.WriteString("dry run ")
	case r.RunID != "":
		fmt.Fprintf(&b, "run %s ", r.RunID)
	default:
		b.WriteString("run ")
	}
	if r.Kind == "EVENTS" {
		b.WriteString("(events) ")
	} else if r.Kind != "" {
		b.WriteString("(full) ")
	}
	switch r.Status {
	case mirror.StatusHeld:
		b.WriteString("HELD")
	case mirror.StatusFailed:
		b.WriteString("FAILED")
	default:
		b.WriteString(strings.ToLower(r.Status)) // "succeeded" reads better in a sentence than the enum value
	}
	if d := r.Finished.Sub(r.Started); !r.Started.IsZero() && !r.Finished.IsZero() && d >= 0 {
		fmt.Fprintf(&b, " in %s", d.Round(100*time.Millisecond))
	}
	switch r.Status {
	case mirror.StatusFailed:
		fmt.Fprintf(&b, ": %d %s (see stderr)", len(r.Errors), plural(len(r.Errors), "error", "errors"))
	case mirror.StatusHeld:
		b.WriteString(": ")
		b.WriteString(heldExplanation(r))
	}
	if list := countsOf(r, func(o syncstats.Outcome) int { return o.Rollover }); list != "" {
		b.WriteString("; rollover: " + list + " archived as their terms ended (not weighed by the guard)")
	}
	if list := countsOf(r, func(o syncstats.Outcome) int { return o.Deferred }); list != "" {
		b.WriteString("; paused in Clever: " + list + " not archived until the pause ends")
	}
	if r.Fallback != "" {
		b.WriteString("; a full sync instead of events: " + r.Fallback)
	}
	return b.String()
}

// countsOf lists, per record type, a count of r's outcomes that is not 0: "60 sections and 41 users";
// "" when all are 0.
func countsOf(r mirror.Result, count func(syncstats.Outcome) int) string {
	var parts []string
	for _, kind := range resultKinds(r) {
		if n := count(r.Counts[kind]); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, kind))
		}
	}
	return strings.Join(parts, " and ")
}

// heldExplanation says what the mass-archive guard held and what to do about it: "3 of 12 sections (25%)
// would be archived: held for approval — run `rostermirror sync --approve-held R` or `--reject-held R`".
//
// "Of" counts the type's records that were shared before the run (see syncstats.Outcome.HeldShare, which
// the API's district status uses too).
func heldExplanation(r mirror.Result) string {
	var parts []string
	for _, kind := range resultKinds(r) {
		o := r.Counts[kind]
		o.Held = max(o.Held, len(r.Held[kind]))
		if o.Held == 0 {
			continue
		}
		parts = append(parts, heldShare(kind, o))
	}
	what := "records"
	if len(parts) > 0 {
		what = strings.Join(parts, " and ")
	}
	if list, n := r.HeldMemberships.Memberships(); n > 0 {
		what += " (with " + list + " that follow from them)"
	}
	if r.DryRun || r.RunID == "" {
		return what + " would be archived: a real run would hold them for approval"
	}
	return fmt.Sprintf("%s would be archived: held for approval — run `rostermirror sync --approve-held %s` or `--reject-held %s`",
		what, r.RunID, r.RunID)
}

// heldShare formats "3 of 12 sections (25%)".
func heldShare(kind string, o syncstats.Outcome) string {
	held, base, pct := o.HeldShare()
	if base == 0 {
		return strconv.Itoa(held) + " " + kind
	}
	return fmt.Sprintf("%d of %d %s (%d%%)", held, base, kind, pct)
}
