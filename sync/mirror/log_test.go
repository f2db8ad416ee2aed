package mirror_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/testlog"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// TestOneSummaryLinePerRun: a run logs exactly one summary line with its outcome and counts, and no
// token or student data.
func TestOneSummaryLinePerRun(t *testing.T) {
	t.Parallel()
	logger, logs := testlog.New(t)
	h := setup(t, options{engine: mirror.Config{Logger: logger}})
	res := h.mustSucceed()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if m["msg"] == "sync run" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d summary lines, want 1:\n%s", len(lines), logs.String())
	}
	l := lines[0]
	if l["run"] != res.RunID || l["status"] != mirror.StatusSucceeded || l["created"] != float64(470) || l["duration"] == nil {
		t.Errorf("summary line = %v", l)
	}
	if tok := h.sim.DistrictToken(h.districtID); strings.Contains(logs.String(), tok) {
		t.Error("the token is in the logs")
	}
	var student struct{ Name struct{ Last string } }
	json.Unmarshal(h.data.Users[0], &student)
	if strings.Contains(logs.String(), student.Name.Last) {
		t.Errorf("a user's name (%s) is in the logs", student.Name.Last)
	}
}
