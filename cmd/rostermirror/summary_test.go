package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// summaryStart is the start of the fixed runs of the summary tests.
var summaryStart = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

func succeededResult() mirror.Result {
	return mirror.Result{
		RunID: "r-ok", DistrictID: "d-ok", Status: mirror.StatusSucceeded,
		Counts: syncstats.Counts{
			"districts": {Read: 1, Unchanged: 1},
			"schools":   {Read: 4, Created: 1, Updated: 1, Unchanged: 2},
			"terms":     {Read: 5, Unchanged: 5},
			"courses":   {Read: 40, Unchanged: 39, Restored: 1},
			"users":     {Read: 12345, Created: 10, Updated: 35, Unchanged: 12300, Archived: 4},
			"sections":  {Read: 60, Unchanged: 60},
		},
		Started: summaryStart, Finished: summaryStart.Add(2345 * time.Millisecond),
	}
}

func heldResult() mirror.Result {
	return mirror.Result{
		RunID: "r-held", DistrictID: "d-held", Status: mirror.StatusHeld,
		Counts: syncstats.Counts{
			"districts": {Read: 1, Unchanged: 1},
			"schools":   {Read: 2, Unchanged: 2},
			"terms":     {Read: 1, Unchanged: 1},
			"courses":   {Read: 3, Unchanged: 3},
			"users":     {Read: 30, Unchanged: 30},
			"sections":  {Read: 9, Unchanged: 9, Held: 3},
		},
		Held:    syncstats.Held{"sections": {"s1", "s2", "s3"}},
		Started: summaryStart, Finished: summaryStart.Add(time.Second),
	}
}

func failedResult() mirror.Result {
	return mirror.Result{
		RunID: "r-bad", DistrictID: "d-bad", Status: mirror.StatusFailed,
		Counts: syncstats.Counts{
			"districts": {Read: 1, Unchanged: 1},
			"schools":   {Read: 2, Unchanged: 2},
		},
		Errors:  []string{"sync users: read users: 500 Internal Server Error"},
		Started: summaryStart, Finished: summaryStart.Add(500 * time.Millisecond),
	}
}

func TestWriteSummary(t *testing.T) {
	t.Parallel()
	dry := succeededResult()
	dry.RunID, dry.DryRun, dry.Kind = "", true, "EVENTS"
	dry.Plan = mirror.Plan{"users": {"created": {"u1", "u2"}, "archived": {"u9"}}, "courses": {"restored": {"c1"}}}
	noStart := mirror.Result{DistrictID: "d-gone", Status: mirror.StatusFailed, Errors: []string{"a", "b"}}
	tests := []struct {
		name    string
		results []mirror.Result
		want    string
	}{
		{"succeeded", []mirror.Result{succeededResult()}, `
DISTRICT  RESOURCE   READ   CREATED  UPDATED  UNCHANGED  ARCHIVED  RESTORED  HELD
d-ok      districts  1      0        0        1          0         0         0
d-ok      schools    4      1        1        2          0         0         0
d-ok      terms      5      0        0        5          0         0         0
d-ok      courses    40     0        0        39         0         1         0
d-ok      users      12345  10       35       12300      4         0         0
d-ok      sections   60     0        0        60         0         0         0

district d-ok: run r-ok succeeded in 2.3s
`},
		{"held, failed part-way, failed to start", []mirror.Result{heldResult(), failedResult(), noStart}, `
DISTRICT  RESOURCE   READ  CREATED  UPDATED  UNCHANGED  ARCHIVED  RESTORED  HELD
d-held    districts  1     0        0        1          0         0         0
d-held    schools    2     0        0        2          0         0         0
d-held    terms      1     0        0        1          0         0         0
d-held    courses    3     0        0        3          0         0         0
d-held    users      30    0        0        30         0         0         0
d-held    sections   9     0        0        9          0         0         3
d-bad     districts  1     0        0        1          0         0         0
d-bad     schools    2     0        0        2          0         0         0
d-bad     terms      -     -        -        -          -         -         -
d-bad     courses    -     -        -        -          -         -         -
d-bad     users      -     -        -        -          -         -         -
d-bad     sections   -     -        -        -          -         -         -

district d-held: run r-held HELD in 1s: 3 of 12 sections (25%) would be archived: held for approval — run ` + "`rostermirror sync --approve-held r-held` or `--reject-held r-held`" + `
district d-bad: run r-bad FAILED in 500ms: 1 error (see stderr)
district d-gone: run FAILED: 2 errors (see stderr)
`},
		{"dry run", []mirror.Result{dry}, `
DISTRICT  RESOURCE   READ   CREATED  UPDATED  UNCHANGED  ARCHIVED  RESTORED  HELD
d-ok      districts  1      0        0        1          0         0         0
d-ok      schools    4      1        1        2          0         0         0
d-ok      terms      5      0        0        5          0         0         0
d-ok      courses    40     0        0        39         0         1         0
d-ok      users      12345  10       35       12300      4         0         0
d-ok      sections   60     0        0        60         0         0         0

district d-ok: dry run (events) succeeded in 2.3s
  schools: 1 created, 1 updated
  courses: 1 restored (e.g. c1)
  users: 10 created (e.g. u1, u2), 35 updated, 4 archived (e.g. u9)
dry run: nothing was written
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := writeSummary(&b, tt.results); err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimPrefix(tt.want, "\n"); b.String() != want {
				t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestHeldExplanation(t *testing.T) {
	t.Parallel()
	both := heldResult()
	both.Counts["users"] = syncstats.Outcome{Read: 70, Updated: 10, Unchanged: 60, Held: 30}
	dry := heldResult()
	dry.RunID, dry.DryRun = "", true
	// The share is of the sections shared before the run (9 seen again, 3 gone): the 4 new ones and the
	// one restored were not, as the guard weighs it.
	fresh := heldResult()
	fresh.Counts["sections"] = syncstats.Outcome{Read: 14, Created: 4, Restored: 1, Unchanged: 9, Held: 3}
	tests := []struct {
		name string
		r    mirror.Result
		want string
	}{
		{"sections", heldResult(), "3 of 12 sections (25%) would be archived: held for approval — run `rostermirror sync --approve-held r-held` or `--reject-held r-held`"},
		{"users and sections", both, "30 of 100 users (30%) and 3 of 12 sections (25%) would be archived: held for approval — run `rostermirror sync --approve-held r-held` or `--reject-held r-held`"},
		{"new records are not in the share", fresh, "3 of 12 sections (25%) would be archived: held for approval — run `rostermirror sync --approve-held r-held` or `--reject-held r-held`"},
		{"dry run", dry, "3 of 12 sections (25%) would be archived: a real run would hold them for approval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := heldExplanation(tt.r); got != tt.want {
				t.Errorf("heldExplanation:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
