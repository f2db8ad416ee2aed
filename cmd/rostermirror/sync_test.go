package main

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// summaryRow is one district × resource row of the sync summary.
type summaryRow struct {
	district, kind                                              string
	read, created, updated, unchanged, archived, restored, held int
}

// parseSummary reads the table rows of a sync summary.
func parseSummary(t *testing.T, stdout string) []summaryRow {
	t.Helper()
	var rows []summaryRow
	for line := range strings.Lines(stdout) {
		f := strings.Fields(line)
		if len(f) != 9 || f[0] == "DISTRICT" {
			continue
		}
		n := make([]int, 7)
		for i := range n {
			v, err := strconv.Atoi(f[2+i])
			if err != nil {
				t.Fatalf("summary row %q: column %d is not a number", line, 3+i)
			}
			n[i] = v
		}
		rows = append(rows, summaryRow{f[0], f[1], n[0], n[1], n[2], n[3], n[4], n[5], n[6]})
	}
	return rows
}

// simEnv starts a Clever simulator with the demo district and returns the environment of a sync
// against it into a migrated database of the test's own.
func simEnv(t *testing.T) env {
	t.Helper()
	e, _, _ := simEnvData(t)
	return e
}

// simEnvData is simEnv that also returns the simulator and its dataset, to change what it shares.
func simEnvData(t *testing.T) (env, *cleversim.Server, *cleversim.Dataset) {
	t.Helper()
	ds := synth.Demo()
	sim, err := cleversim.New(cleversim.Config{Dataset: ds})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return env{
		envDatabaseURL:    dbtest.URL(t),
		envCleverAPIURL:   ts.URL,
		envCleverOAuthURL: ts.URL,
		envClientID:       cleversim.DefaultClientID,
		envClientSecret:   cleversim.DefaultClientSecret,
		envSecretKey:      testSecretKey,
		"USER":            "tester",
	}, sim, ds
}

func TestSyncAgainstSimulator(t *testing.T) {
	t.Parallel()
	e, sim, ds := simEnvData(t)

	first := runCLI(t, t.Context(), e, "sync")
	if first.code != exitOK {
		t.Fatalf("first sync: exit %d, want 0; stderr:\n%s", first.code, first.stderr)
	}
	rows := parseSummary(t, first.stdout)
	if got := kindsOf(rows); !slices.Equal(got, mirror.Kinds) {
		t.Fatalf("first sync summary lists %v, want one row for each of %v:\n%s", got, mirror.Kinds, first.stdout)
	}
	district := rows[0].district
	for _, r := range rows {
		if r.district != district {
			t.Errorf("row %+v: want district %s (the demo has one)", r, district)
		}
		if r.read == 0 || r.created != r.read {
			t.Errorf("first sync, %s: read %d, created %d; want every record read and created", r.kind, r.read, r.created)
		}
	}
	if !strings.Contains(first.stdout, "district "+district+": run ") || !strings.Contains(first.stdout, " succeeded") {
		t.Errorf("first sync summary lacks the run's status line:\n%s", first.stdout)
	}
	if !strings.Contains(first.stderr, "users: ") || !strings.Contains(first.stderr, "read, done") {
		t.Errorf("first sync: stderr lacks the plain progress lines:\n%s", first.stderr)
	}

	second := runCLI(t, t.Context(), e, "sync", "--district", district, "--mode", "full")
	if second.code != exitOK {
		t.Fatalf("second sync: exit %d, want 0; stderr:\n%s", second.code, second.stderr)
	}
	rows2 := parseSummary(t, second.stdout)
	if got := kindsOf(rows2); !slices.Equal(got, mirror.Kinds) {
		t.Fatalf("second sync summary lists %v, want %v", got, mirror.Kinds)
	}
	for i, r := range rows2 {
		want := summaryRow{district: district, kind: r.kind, read: rows[i].read, unchanged: rows[i].read}
		if r != want {
			t.Errorf("second sync, %s: %+v; want every record unchanged: %+v", r.kind, r, want)
		}
	}

	if !strings.Contains(second.stdout, "(full) succeeded") {
		t.Errorf("--mode full: the status line does not say it was a full run:\n%s", second.stdout)
	}
	// The default (auto) applies the events since the full sync: none.
	third := runCLI(t, t.Context(), e, "sync")
	if third.code != exitOK || !strings.Contains(third.stdout, "(events) succeeded") {
		t.Fatalf("auto sync after a full one: exit %d, want an events run:\n%s", third.code, third.stdout)
	}
	for _, r := range parseSummary(t, third.stdout) {
		if r.read != 0 {
			t.Errorf("events run with no new events, %s: %+v", r.kind, r)
		}
	}
	if bad := runCLI(t, t.Context(), e, "sync", "--mode", "incremental"); bad.code != exitUsage || !strings.Contains(bad.stderr, `--mode "incremental": want auto, full, events`) {
		t.Errorf("--mode incremental: exit %d, stderr %q", bad.code, bad.stderr)
	}

	// A change, then a dry run: it prints the plan, with the record's id, and writes nothing.
	var sec struct{ ID string }
	json.Unmarshal(ds.Sections[0], &sec)
	if err := sim.Modify(cleversim.KindSections, sec.ID, json.RawMessage(`{"period":"9"}`)); err != nil {
		t.Fatal(err)
	}
	dry := runCLI(t, t.Context(), e, "sync", "--dry-run")
	if dry.code != exitOK {
		t.Fatalf("dry run: exit %d, want 0", dry.code)
	}
	if !strings.Contains(dry.stdout, "dry run (events) succeeded") || !strings.Contains(dry.stdout, "  sections: 1 updated (e.g. "+sec.ID+")\n") {
		t.Errorf("dry run summary lacks the events plan naming section %s:\n%s", sec.ID, dry.stdout)
	}
	if again := runCLI(t, t.Context(), e, "sync", "--dry-run"); !strings.Contains(again.stdout, "sections: 1 updated") {
		t.Errorf("a second dry run no longer sees the change: the first wrote it (or moved the cursor):\n%s", again.stdout)
	}
	if !strings.Contains(dry.stdout, "dry run: nothing was written\n") {
		t.Errorf("dry run summary lacks %q:\n%s", "dry run: nothing was written", dry.stdout)
	}

	// Deciding a run that was never held is refused.
	approve := runCLI(t, t.Context(), e, "sync", "--approve-held", "no-such-run")
	if approve.code != exitFailure || !strings.Contains(approve.stderr, "approve held run no-such-run") {
		t.Errorf("approving an unknown run: exit %d, stderr %q; want 1 and an error naming it", approve.code, approve.stderr)
	}
}

func TestSyncHeldThenApproved(t *testing.T) {
	t.Parallel()
	e, sim, ds := simEnvData(t)
	if r := runCLI(t, t.Context(), e, "sync"); r.code != exitOK {
		t.Fatalf("first sync: exit %d, want 0", r.code)
	}

	// The district stops sharing a quarter of its sections: the mass-archive guard holds the archives.
	const unshared = 15
	if len(ds.Sections) != 60 {
		t.Fatalf("the demo has %d sections, want 60", len(ds.Sections))
	}
	for _, raw := range ds.Sections[:unshared] {
		var sec struct{ ID string }
		if err := json.Unmarshal(raw, &sec); err != nil {
			t.Fatal(err)
		}
		if err := sim.Unshare(cleversim.KindSections, sec.ID); err != nil {
			t.Fatalf("unshare section %s: %v", sec.ID, err)
		}
	}
	held := runCLI(t, t.Context(), e, "sync")
	if held.code != exitOK {
		t.Fatalf("held sync: exit %d, want 0 (a held run is not a failure)", held.code)
	}
	m := regexp.MustCompile(`district \S+: run (\S+) \(events\) HELD.*: 15 of 60 sections \(25%\) would be archived: held for approval — run ` +
		"`rostermirror sync --approve-held (\\S+)` or `--reject-held (\\S+)`").FindStringSubmatch(held.stdout)
	if m == nil || m[1] != m[2] || m[1] != m[3] {
		t.Fatalf("held sync summary does not explain the held run:\n%s", held.stdout)
	}
	runID := m[1]
	if !strings.Contains(held.stderr, "WARNING: ") || !strings.Contains(held.stderr, "--approve-held "+runID) {
		t.Errorf("held sync did not warn on stderr:\n%s", held.stderr)
	}
	for _, r := range parseSummary(t, held.stdout) {
		if r.kind == "sections" && (r.held != unshared || r.archived != 0) {
			t.Errorf("held sync, sections: %+v; want %d held, none archived", r, unshared)
		}
	}

	for _, bad := range [][]string{{"--reject-held", runID, "--district", "x"}, {"--approve-held", runID, "--dry-run"}} {
		if r := runCLI(t, t.Context(), e, append([]string{"sync"}, bad...)...); r.code != exitUsage {
			t.Errorf("sync %v: exit %d, want %d", bad, r.code, exitUsage)
		}
	}

	approved := runCLI(t, t.Context(), e, "sync", "--approve-held", runID)
	if approved.code != exitOK {
		t.Fatalf("approve: exit %d, want 0", approved.code)
	}
	if !strings.Contains(approved.stdout, "run "+runID+" approved by cli:tester: the held archives were applied\n") {
		t.Errorf("approve summary does not say the run was approved, and by whom:\n%s", approved.stdout)
	}
	for _, r := range parseSummary(t, approved.stdout) {
		if r.kind == "sections" && r.archived != unshared {
			t.Errorf("approved run, sections: %+v; want %d archived", r, unshared)
		}
	}
	again := runCLI(t, t.Context(), e, "sync", "--reject-held", runID)
	if again.code != exitFailure || !strings.Contains(again.stderr, "reject held run "+runID) {
		t.Errorf("rejecting an approved run: exit %d, stderr %q; want 1 and an error naming the run", again.code, again.stderr)
	}
}

func TestSyncUnknownDistrictFails(t *testing.T) {
	t.Parallel()
	e := simEnv(t)
	r := runCLI(t, t.Context(), e, "sync", "--district", "000000000000000000000000")
	if r.code != exitFailure {
		t.Errorf("exit %d, want %d", r.code, exitFailure)
	}
	if !strings.Contains(r.stderr, "district 000000000000000000000000: sync failed") || !strings.Contains(r.stderr, "1 of 1 sync run failed") {
		t.Errorf("stderr does not report the failed run:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "district 000000000000000000000000: ") || !strings.Contains(r.stdout, "FAILED") {
		t.Errorf("summary does not show the failed run:\n%s", r.stdout)
	}
}

func TestSyncWithoutDistricts(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: dbtest.URL(t), envSecretKey: testSecretKey}
	r := runCLI(t, t.Context(), e, "sync")
	if r.code != exitFailure || !strings.Contains(r.stderr, "no districts to sync") {
		t.Errorf("exit %d, stderr %q; want 1 and \"no districts to sync\"", r.code, r.stderr)
	}
}

// kindsOf returns the resources of rows in order.
func kindsOf(rows []summaryRow) []string {
	var kinds []string
	for _, r := range rows {
		kinds = append(kinds, r.kind)
	}
	return kinds
}
