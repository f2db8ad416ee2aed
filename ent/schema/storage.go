package schema

import "entgo.io/ent/schema"

// Storage declares what kind of row a type stores, for code that writes its own SQL over ent's tables
// (the sync engine, node lookups). The Mirrored and Membership mixins carry it, so a schema declares it
// by the mixin it uses; code generation puts it into ent.StorageTypes (Mirrored, Membership).
type Storage struct {
	// Mirrored: a Clever record keyed by its Clever id (the Mirrored mixin).
	Mirrored bool `json:"mirrored,omitempty"`
	// Membership: a history-keeping association between two records (the Membership mixin); one of its
	// fields is marked MembershipOwner.
	Membership bool `json:"membership,omitempty"`
}

// Name of the annotation.
func (Storage) Name() string { return "Storage" }

// Merge keeps what either annotation declares (a type mixing in both would be both).
func (s Storage) Merge(other schema.Annotation) schema.Annotation {
	if o, ok := other.(Storage); ok {
		s.Mirrored = s.Mirrored || o.Mirrored
		s.Membership = s.Membership || o.Membership
	}
	return s
}

// MembershipOwner marks the field of a membership that names its owner: the record whose Clever data
// lists the memberships — a section its teachers and students, a role its schools, a contact its
// students. A sync reconciles the memberships of each owner it reads with the list Clever sent. Code
// generation puts it into ent.StorageTypes (Membership.Owner; the membership's other edge field is
// Membership.Other) and fails when a membership has no owner, or more than one.
type MembershipOwner struct{}

// Name of the annotation.
func (MembershipOwner) Name() string { return "MembershipOwner" }

// Owner marks a membership's owner field (MembershipOwner).
func Owner() MembershipOwner { return MembershipOwner{} }

// MembershipAttribute marks a field of a membership that may change while the membership holds (a
// teacher's position in a section, a contact link's relationship and type): a sync updates it in place
// rather than ending the membership. Code generation puts it into ent.StorageTypes
// (Membership.Attributes).
type MembershipAttribute struct{}

// Name of the annotation.
func (MembershipAttribute) Name() string { return "MembershipAttribute" }

// Attribute marks a membership attribute field (MembershipAttribute).
func Attribute() MembershipAttribute { return MembershipAttribute{} }
