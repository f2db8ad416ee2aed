package mirror

import (
	"time"

	"github.com/rostermirror/rostermirror/internal/bulk"
)

// txWriter runs one record type's writes inside its transaction (bulk.Writer), at one instant: now.
type txWriter struct {
	*bulk.Writer
	now time.Time
}
