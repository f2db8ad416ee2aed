package graph

import (
	"github.com/rostermirror/rostermirror/internal/syncstats"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// syncCounts lists a run's counts in sync order, with every record type the run reached.
func syncCounts(c syncstats.Counts) []*SyncCount {
	out := make([]*SyncCount, 0, len(c))
	for _, kind := range mirror.Kinds {
		o, ok := c[kind]
		if !ok {
			continue
		}
		out = append(out, &SyncCount{Kind: kind, Read: o.Read, Created: o.Created, Updated: o.Updated, Missed: o.Missed, Rollover: o.Rollover, Deferred: o.Deferred,
			Unchanged: o.Unchanged, Archived: o.Archived, Restored: o.Restored, Held: o.Held})
	}
	return out
}
