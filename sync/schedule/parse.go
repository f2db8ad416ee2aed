package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// Named schedules accepted by ParseSchedule, as cron expressions in UTC.
const (
	cronDaily  = "0 3 * * *" // 03:00 UTC, after US school days and before they start again
	cronHourly = "0 * * * *"
)

// ParseSchedule turns ROSTERMIRROR_SYNC_SCHEDULE into a cron expression for gocron: "daily" (also the
// empty string) is 03:00 UTC, "hourly" is minute 0 of every hour, and anything else must be a cron
// expression of 5 fields, or 6 with a leading seconds field (a descriptor such as "@every 6h" and a
// "CRON_TZ=Zone " prefix are accepted too). Expressions without a zone run in UTC. withSeconds reports
// whether the expression has a seconds field.
func ParseSchedule(s string) (cron string, withSeconds bool, err error) {
	fields := strings.Fields(s)
	switch strings.ToLower(strings.Join(fields, " ")) {
	case "", "daily":
		return cronDaily, false, nil
	case "hourly":
		return cronHourly, false, nil
	}
	body := fields
	if strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=") {
		body = fields[1:]
	}
	switch {
	case len(body) > 0 && strings.HasPrefix(body[0], "@"):
	case len(body) == 5:
	case len(body) == 6:
		withSeconds = true
	default:
		return "", false, fmt.Errorf("parse schedule %q: want \"daily\", \"hourly\" or a cron expression of 5 fields (6 with seconds), got %d fields", s, len(body))
	}
	cron = strings.Join(fields, " ")
	if err := gocron.NewDefaultCron(withSeconds).IsValid(cron, time.UTC, time.Now()); err != nil {
		return "", false, fmt.Errorf("parse schedule %q: %w", s, cronCause(err))
	}
	return cron, withSeconds, nil
}

// cronCause picks the cron parser's own message out of gocron's error, which joins it with a generic
// one on a second line.
func cronCause(err error) error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		if errs := joined.Unwrap(); len(errs) > 0 {
			return errs[len(errs)-1]
		}
	}
	if errors.Is(err, gocron.ErrCronJobInvalid) {
		return errors.New("the expression never matches a future time")
	}
	return err
}
