package testlog_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/rostermirror/rostermirror/internal/testlog"
)

// TestLogAfterTheTestEnds: lines logged from several goroutines all reach the buffer, debug ones
// included; a line logged after its test ended still does, without t.Log's panic.
func TestLogAfterTheTestEnds(t *testing.T) {
	var logs *testlog.Log
	var late func(msg string)
	t.Run("inner", func(t *testing.T) {
		logger, l := testlog.New(t)
		logs, late = l, func(msg string) { logger.Info(msg) }
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { logger.Debug("during", "n", 1) })
		}
		wg.Wait()
	})
	late("after")
	if got := strings.Count(logs.String(), `"msg":"during"`); got != 8 {
		t.Errorf("%d lines logged during the test, want 8:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), `"msg":"after"`) {
		t.Errorf("the line logged after the test is not in the buffer:\n%s", logs)
	}
}
