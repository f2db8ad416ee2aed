package syncstats_test

import (
	"testing"

	"github.com/rostermirror/rostermirror/internal/syncstats"
)

func TestHeldShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		o                   syncstats.Outcome
		held, base, percent int
	}{
		{"nothing", syncstats.Outcome{}, 0, 0, 0},
		{"nothing held", syncstats.Outcome{Read: 10, Unchanged: 10}, 0, 10, 0},
		// 60 were shared before the run: 45 seen again, 15 gone. New and restored records were not.
		{"held", syncstats.Outcome{Read: 52, Created: 5, Restored: 2, Unchanged: 40, Updated: 5, Held: 15}, 15, 60, 25},
		{"rounded", syncstats.Outcome{Read: 159, Unchanged: 159, Held: 41}, 41, 200, 21}, // 20.5%
		{"all held", syncstats.Outcome{Held: 12}, 12, 12, 100},
	}
	for _, tt := range tests {
		held, base, percent := tt.o.HeldShare()
		if held != tt.held || base != tt.base || percent != tt.percent {
			t.Errorf("%s: HeldShare() = %d, %d, %d; want %d, %d, %d", tt.name, held, base, percent, tt.held, tt.base, tt.percent)
		}
	}
}
