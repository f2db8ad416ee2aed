package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// syncFlags are the flags of `rostermirror sync`.
type syncFlags struct {
	districts []string
	dryRun    bool
	mode      string
	approve   string
	reject    string
}

// validate rejects combinations that make no sense.
func (f syncFlags) validate() error {
	if f.approve != "" && f.reject != "" {
		return usagef("--approve-held and --reject-held cannot be combined: decide a held run one way")
	}
	decide := ""
	switch {
	case f.approve != "":
		decide = "--approve-held"
	case f.reject != "":
		decide = "--reject-held"
	}
	if decide != "" && (len(f.districts) > 0 || f.dryRun || f.mode != mirror.ModeAuto) {
		return usagef("%s cannot be combined with --district, --dry-run or --mode: it decides a run that already happened", decide)
	}
	if !slices.Contains(mirror.Modes, f.mode) {
		return usagef("--mode %q: want %s", f.mode, strings.Join(mirror.Modes, ", "))
	}
	for _, d := range f.districts {
		if d == "" {
			return usagef("--district needs a Clever district id")
		}
	}
	return nil
}

// districtIDs splits the --district values at commas and trims them; an empty id is kept, for validate
// to reject (an unset shell variable must not turn into "every district").
func districtIDs(values []string) []string {
	var ids []string
	for _, v := range values {
		for id := range strings.SplitSeq(v, ",") {
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}

// newSyncCommand builds `rostermirror sync`.
func newSyncCommand(a *app) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync [--district ID]... [--dry-run] [--mode auto|full|events] | --approve-held RUN | --reject-held RUN",
		Short: "Sync districts now: progress on stderr, a summary table on stdout",
		Long: `Sync each district now, one after another: every district with a token (listed from Clever
with CLEVER_CLIENT_ID/CLEVER_CLIENT_SECRET, or given in CLEVER_DISTRICT_TOKENS), or only those named
with --district. Progress goes to stderr, a summary table to stdout.

--mode full reads the whole district. --mode events applies the district's events from Clever's Events
API since the last run; when they cannot be applied (never fully synced, the cursor older than
Clever's 30-day retention or gone from the feed, events not enabled for the app, an event it cannot
interpret) it runs a full sync instead and says why. --mode auto (the default) applies events when it
can and runs a full sync otherwise. --dry-run works out every change, prints the plan (counts and
sample Clever ids per record type) and writes nothing.

A run that would archive a large share of a district's users or sections is held: everything else is
written, the archives wait for a decision with --approve-held RUN or --reject-held RUN.

Exit status is 1 when any run failed, 0 otherwise (held runs included), 2 for a usage error.`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.districts = districtIDs(f.districts)
			if err := f.validate(); err != nil {
				return err
			}
			return a.runSync(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.districts, "district", nil, "Clever district `ID` to sync (repeatable, or comma-separated); default: every connected district")
	fl.BoolVar(&f.dryRun, "dry-run", false, "read Clever and work out every change, print the plan, write nothing")
	fl.StringVar(&f.mode, "mode", mirror.ModeAuto, "`auto` (events when the cursor is valid, else full), full, or events (falls back to full, saying why)")
	fl.StringVar(&f.approve, "approve-held", "", "apply the archives held by run `RUN`")
	fl.StringVar(&f.reject, "reject-held", "", "discard the archives held by run `RUN`")
	return cmd
}

// runSync runs `rostermirror sync`.
func (a *app) runSync(ctx context.Context, f syncFlags) error {
	s, err := a.openSyncer(ctx)
	if err != nil {
		return err
	}
	defer s.Close()

	if f.approve != "" || f.reject != "" {
		return a.decideHeld(ctx, s, f)
	}

	// Onboarding sees the CLI's runs like the scheduler's: districts listed are recorded (DISCOVERED) and
	// paused ones left out (their records come with the sync); link signals are evaluated after each run,
	// re-IDed students are linked by SIS id and the district's app records matched again (syncer.afterSync).
	links := link.New(link.Config{DB: s.db, Logger: a.logger})
	engine := links.Syncer(s.afterSync(s.engine))
	districts := f.districts
	if len(districts) == 0 {
		if districts, err = links.Discovery(s.tokens, nil).Connected(ctx); err != nil {
			return err // "list connected districts: …"
		}
		if len(districts) == 0 {
			return fmt.Errorf("no districts to sync: set %s and %s, or %s, or pass --district", envClientID, envClientSecret, envDistrictTokens)
		}
	}

	prog := newProgress(a.stderr, a.stderrTerminal)
	results := make([]mirror.Result, 0, len(districts))
	for _, id := range districts {
		if ctx.Err() != nil {
			break
		}
		res, err := engine.SyncDistrict(ctx, id, mirror.Options{Mode: f.mode, DryRun: f.dryRun, Trigger: "cli", Progress: prog.Report})
		if err != nil {
			// The run could not start; show it like a failed run so the other districts still sync.
			res = mirror.Result{DistrictID: id, Status: mirror.StatusFailed, DryRun: f.dryRun, Errors: []string{err.Error()}}
		}
		results = append(results, res)
	}
	prog.Close()

	if err := writeSummary(a.stdout, results); err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		switch {
		case r.Err() != nil:
			failed++
			fmt.Fprintf(a.stderr, "district %s: sync failed:\n", r.DistrictID)
			for _, e := range r.Errors {
				fmt.Fprintf(a.stderr, "  %s\n", e)
			}
		case r.Status == mirror.StatusHeld:
			fmt.Fprintf(a.stderr, "WARNING: district %s: %s\n", r.DistrictID, heldExplanation(r))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sync interrupted after %d of %d districts: %w", len(results), len(districts), err)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d sync %s failed", failed, len(results), plural(len(results), "run", "runs"))
	}
	return nil
}

// decideHeld approves or rejects a held run and prints the outcome.
func (a *app) decideHeld(ctx context.Context, s *syncer, f syncFlags) error {
	decide, runID, verb, outcome := s.engine.ApproveHeld, f.approve, "approve", "approved by %s: the held archives were applied"
	if f.reject != "" {
		decide, runID, verb, outcome = s.engine.RejectHeld, f.reject, "reject", "rejected by %s: the held archives were discarded"
	}
	by := a.decidedBy()
	res, err := decide(ctx, runID, by)
	if err != nil {
		return fmt.Errorf("%s held run %s: %w", verb, runID, err)
	}
	s.afterApproval(ctx, res) // (nothing for a rejection)
	if err := writeSummary(a.stdout, []mirror.Result{res}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "run %s "+outcome+"\n", runID, by)
	return err
}

// decidedBy names who approves or rejects a held run, or creates an API key, from the command line
// (audit.CLI: "cli:" and the user).
func (a *app) decidedBy() string {
	return audit.CLI(a.getenv("USER"))
}
