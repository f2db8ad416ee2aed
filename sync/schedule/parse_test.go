package schedule

import (
	"strings"
	"testing"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		cron        string
		withSeconds bool
		err         string // substring of the error; empty: no error
	}{
		{in: "", cron: "0 3 * * *"},
		{in: "daily", cron: "0 3 * * *"},
		{in: " Daily ", cron: "0 3 * * *"},
		{in: "hourly", cron: "0 * * * *"},
		{in: "HOURLY", cron: "0 * * * *"},
		{in: "30 2 * * 1-5", cron: "30 2 * * 1-5"},
		{in: "  */15   * * * *", cron: "*/15 * * * *"},
		{in: "0 30 2 * * *", cron: "0 30 2 * * *", withSeconds: true},
		{in: "CRON_TZ=America/Chicago 0 2 * * *", cron: "CRON_TZ=America/Chicago 0 2 * * *"},
		{in: "@every 6h", cron: "@every 6h"},
		{in: "weekly", err: "got 1 fields"},
		{in: "* * * *", err: "got 4 fields"},
		{in: "1 2 3 4 5 6 7", err: "got 7 fields"},
		{in: "61 * * * *", err: "61"},
		{in: "0 3 * * mon-xyz", err: "xyz"},
		{in: "0 0 30 2 *", err: "never"}, // February 30th
		{in: "CRON_TZ=Nowhere/Atlantis 0 3 * * *", err: "Atlantis"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			cron, withSeconds, err := ParseSchedule(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseSchedule(%q) = %q, %v; want an error containing %q", tt.in, cron, withSeconds, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "parse schedule ") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("ParseSchedule(%q) error %q: want one line starting \"parse schedule\" containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || cron != tt.cron || withSeconds != tt.withSeconds {
				t.Fatalf("ParseSchedule(%q) = %q, %v, %v; want %q, %v", tt.in, cron, withSeconds, err, tt.cron, tt.withSeconds)
			}
		})
	}
}
