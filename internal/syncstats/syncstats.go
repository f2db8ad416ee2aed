// Package syncstats holds the per-record-type counts of a sync run. It is a leaf package so that the ent
// schema (which stores them) and the sync engine (which fills them) can share the type.
package syncstats

import (
	"fmt"
	"math"
	"strings"
)

// Outcome counts what one sync run did to one record type.
type Outcome struct {
	Read      int `json:"read"`      // records Clever returned
	Created   int `json:"created"`   // new in the mirror
	Updated   int `json:"updated"`   // content changed
	Unchanged int `json:"unchanged"` // seen again, not rewritten
	Archived  int `json:"archived"`  // no longer shared: archived
	Restored  int `json:"restored"`  // archived before, shared again
	Held      int `json:"held"`      // would have been archived, held by the mass-archive guard
	// Base is, for an events run (which reads only what changed), the type's shared records before the
	// run: what the guard weighs the unshared ones against. A full run leaves it 0: its counts give it.
	Base int `json:"base,omitempty"`
	// Rollover counts, of Archived, the records archived because a term ended (the sections of an
	// ended term, and the users and contacts whose only sections were such): the mass-archive guard does
	// not weigh them (see the README's mass-archive guard).
	Rollover int `json:"rollover,omitempty"`
	// Deferred counts the records the run did not archive because the district was paused in Clever
	// (its summer pause): unseen by a full read, or deleted by an event. The first full sync after the
	// pause archives those still not shared.
	Deferred int `json:"deferred,omitempty"`
	// Missed is, for a full run of a district whose events are applied (the daily reconcile), the records
	// it changed (created, updated, archived or restored) that no event since the events cursor
	// explains: what the events path had missed. It should be 0.
	Missed int `json:"missed,omitempty"`
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
	o.Base += o2.Base
	o.Missed += o2.Missed
	o.Rollover += o2.Rollover
	o.Deferred += o2.Deferred
}

// Changed reports whether the run changed the mirror's records of the type: created, updated, archived
// or restored any.
func (o Outcome) Changed() bool { return o.Created+o.Updated+o.Archived+o.Restored > 0 }

// Changed reports whether the run changed any record.
func (c Counts) Changed() bool {
	for _, o := range c {
		if o.Changed() {
			return true
		}
	}
	return false
}

// HeldShare returns the share of the type's records that the mass-archive guard held: held of base,
// and that as a whole percentage (rounded to nearest). base is the number of records the mirror held as
// shared before the run — those the run saw again (updated or unchanged) plus those it archived or held;
// created and restored records were not shared before — less those archived by a rollover (Rollover),
// which is the count the guard weighs the unshared records against. It is meant for a run still held: approving one adds the archives it applies to
// Archived, where they would count twice. percent is 0 when base is.
func (o Outcome) HeldShare() (held, base, percent int) {
	base = o.Updated + o.Unchanged + o.Archived + o.Held
	if o.Base > 0 {
		base = o.Base
	}
	base -= o.Rollover
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

// membershipNames name the membership tables a run may hold rows of, in the order a summary lists them.
var membershipNames = []struct{ table, singular, plural string }{
	{"section_students", "enrollment", "enrollments"},
	{"section_teachers", "section teacher", "section teachers"},
	{"contact_relationships", "contact link", "contact links"},
}

// Memberships says in words how many rows of each membership table h holds ("412 enrollments, 1
// section teacher and 9 contact links"; h maps membership tables to row ids, as a run's held
// memberships do) and how many in all; "" and 0 when none.
func (h Held) Memberships() (string, int) {
	var parts []string
	total := 0
	for _, m := range membershipNames {
		n := len(h[m.table])
		if n == 0 {
			continue
		}
		name := m.plural
		if n == 1 {
			name = m.singular
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
		total += n
	}
	if len(parts) == 0 {
		return "", 0
	}
	list := parts[len(parts)-1]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + list
	}
	return list, total
}
