// Package syncstats holds the per-record-type counts of a sync run. It is a leaf package so that the ent
// schema (which stores them) and the sync engine (which fills them) can share the type.
package syncstats

import "math"

// Outcome counts what one sync run did to one record type.
type Outcome struct {
	Read      int `json:"read"`      // records Clever returned
	Created   int `json:"created"`   // new in the mirror
	Updated   int `json:"updated"`   // content changed
	Unchanged int `json:"unchanged"` // seen again, not rewritten
	Archived  int `json:"archived"`  // no longer shared: archived
	Restored  int `json:"restored"`  // archived before, shared again
	Held      int `json:"held"`      // would have been archived, held by the mass-archive guard
}

// Add adds o2 to o.
func (o *Outcome) Add(o2 Outcome) {
	o.Read += o2.Read
	o.Created += o2.Created
	o.Updated += o2.Updated
	o.Unchanged += o2.Unchanged
	o.Archived += o2.Archived
	o.Restored += o2.Restored
	o.Held += o2.Held
}

// HeldShare returns the share of the type's records that the mass-archive guard held: held of base,
// and that as a whole percentage (rounded to nearest). base is the number of records the mirror held as
// shared before the run — those the run saw again (updated or unchanged) plus those it archived or held;
// created and restored records were not shared before — which is the count the guard weighs the unshared
// records against. It is meant for a run still held: approving one adds the archives it applies to
// Archived, where they would count twice. percent is 0 when base is.
func (o Outcome) HeldShare() (held, base, percent int) {
	base = o.Updated + o.Unchanged + o.Archived + o.Held
	if base > 0 {
		percent = int(math.Round(100 * float64(o.Held) / float64(base)))
	}
	return o.Held, base, percent
}

// Counts maps a record type ("districts", "schools", "users", "sections", "terms", "courses") to what the
// run did to it.
type Counts map[string]Outcome

// Held lists, per record type, the Clever ids whose archiving the mass-archive guard held. A run's held
// memberships use it too: per membership table ("section_students", "section_teachers",
// "contact_relationships"), the ids of the rows kept open because their ending follows from held user
// archives.
type Held map[string][]string
