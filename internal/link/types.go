package link

import (
	"slices"
	"time"

	"github.com/rostermirror/rostermirror/ent"
)

// Candidate is an unlinked district ranked for an organization's pick-list (districtLinkCandidates).
type Candidate struct {
	District    *ent.District
	Score       float64
	State       string
	MdrNumber   string
	NcesID      string
	SchoolCount int
	Reason      string
}

// Invite is a sign-in link that ties the district signing in through it to an organization
// (createDistrictInvite).
type Invite struct {
	URL       string
	ExpiresAt time.Time
}

// SignIn is what a Clever sign-in tells onboarding: who signed in, from which district, and — when the
// sign-in came through an invite — for which organization. internal/login reports every sign-in.
type SignIn struct {
	// DistrictID is the user's district, from /me.
	DistrictID string
	// UserID is the user's Clever id.
	UserID string
	// Email is the user's e-mail as Clever has it ("" when none).
	Email string
	// AuthorizedBy is "district" or "teacher" (/me's authorized_by).
	AuthorizedBy string
	// Roles are the user's Clever roles (student, teacher, staff, district_admin, contact).
	Roles []string
	// InviteOrganizationID is the organization of the invite the sign-in came through ("" without one).
	InviteOrganizationID string
	// Actor names the signed-in user for the audit log and proposal evidence.
	Actor string
}

// SignInOutcome is what onboarding made of a sign-in.
type SignInOutcome struct {
	// OrganizationID is the district's organization after the sign-in ("" while unlinked).
	OrganizationID string
	// Linked is true when this sign-in made the link (an invite of an auto-linking organization).
	Linked bool
	// Proposed is true when it raised a proposal (or found one already raised by the same evidence).
	Proposed bool
	// Conflict is true when the district's proposals now point at different organizations.
	Conflict bool
}

// mayLink reports whether the person signing in may link their district through an invite on their own: a
// district admin or staff member, signing in with the district's authorization (not a teacher's Library
// one). Anyone else's sign-in through an invite is only proposed.
func (in SignIn) mayLink() bool {
	return in.AuthorizedBy != "teacher" && (slices.Contains(in.Roles, "district_admin") || slices.Contains(in.Roles, "staff"))
}
