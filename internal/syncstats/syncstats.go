// Package syncstats holds the per-record-type counts of a sync run. It is a leaf package so that the ent
// schema (which stores them) and the sync engine (which fills them) can share the type.
package syncstats

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

// Changed reports whether the run changed anything for the type.
func (o Outcome) Changed() bool {
	return o.Created+o.Updated+o.Archived+o.Restored+o.Held > 0
}

// Counts maps a record type ("districts", "schools", "users", "sections", "terms", "courses") to what the
// run did to it.
type Counts map[string]Outcome

// Held lists, per record type, the Clever ids whose archiving the mass-archive guard held.
type Held map[string][]string
