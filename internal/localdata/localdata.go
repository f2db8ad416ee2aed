// Package localdata keeps the app's own data beside the mirror: local users and groups (not managed by
// Clever), subgroups of synced sections, members added to a synced section by hand, and admins' role
// overrides. They live in tables of their own (ent's LocalUser, LocalGroup, LocalMembership,
// RoleOverride) that only this package writes: a sync never reads or writes them, so nothing it does —
// an archive, a restore, an unshare and reshare — changes them. Removing a local addition is a deliberate
// mutation, and it ends the membership (removed_at) rather than deleting it.
//
// Every mutation needs the admin scope and is written to the audit log in the transaction that makes it.
package localdata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/localmembership"
	"github.com/rostermirror/rostermirror/ent/localuser"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/ent/roleoverride"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/sectionstudent"
	"github.com/rostermirror/rostermirror/ent/sectionteacher"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Actions in the audit log: the mutations' names.
const (
	CreateLocalUser     = "createLocalUser"
	UpdateLocalUser     = "updateLocalUser"
	DeleteLocalUser     = "deleteLocalUser"
	CreateLocalGroup    = "createLocalGroup"
	UpdateLocalGroup    = "updateLocalGroup"
	DeleteLocalGroup    = "deleteLocalGroup"
	AddLocalMember      = "addLocalMember"
	RemoveLocalMember   = "removeLocalMember"
	AddSectionMember    = "addSectionMember"
	RemoveSectionMember = "removeSectionMember"
	SetRoleOverride     = "setRoleOverride"
	ClearRoleOverride   = "clearRoleOverride"
)

var (
	// ErrInvalid is matched by the error of a mutation whose input is wrong (a missing name, a user of
	// another district, both or neither of userId and localUserId).
	ErrInvalid = errors.New("invalid local data")
	// ErrNotFound is matched by the error of a mutation naming a record that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate is matched by the error of an addition the group or section already holds, or of an
	// external id another local user has.
	ErrDuplicate = errors.New("already exists")
)

// Service reads and writes the app's own data.
type Service struct {
	db *store.DB
}

// New returns a Service over db.
func New(db *store.DB) *Service { return &Service{db: db} }

// MemberInput is who to add to a local group (GraphQL's LocalMemberInput).
type MemberInput struct {
	GroupID     string               `json:"groupId"`
	UserID      *string              `json:"userId"`
	LocalUserID *string              `json:"localUserId"`
	Role        localmembership.Role `json:"role"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func notFound(what, id string) error { return fmt.Errorf("%w: %s %q", ErrNotFound, what, id) }

// write runs fn in a transaction after checking the admin scope, and records the audit entry fn
// returns (its target and outcome) in the same transaction.
func (s *Service) write(ctx context.Context, action string, fn func(tx *ent.Tx) (target, outcome string, err error)) error {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	target, outcome, err := fn(tx)
	if err == nil {
		err = audit.Record(ctx, tx.Client(), audit.Entry{Actor: auth.Actor(ctx), Action: action, Target: target, Outcome: outcome})
	}
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (and roll back: %w)", err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Longest values of the fields (the schema's limits).
const (
	maxNameLen        = 255 // a user's first and last name, an external id
	maxEmailLen       = 320
	maxGroupNameLen   = 500
	maxDescriptionLen = 2000 // a group's description, an override's reason
)

// text trims a name-like value and checks it (csvin.CleanText): at most max bytes, no control
// characters, and not empty when required.
func text(field, v string, max int, required bool) (string, error) {
	if required && strings.TrimSpace(v) == "" {
		return "", invalid("%s: required", field)
	}
	v, err := csvin.CleanText(v, max)
	if err != nil {
		return "", invalid("%s: %v", field, err)
	}
	return v, nil
}

// optText is text for an optional value (nil stays nil).
func optText(field string, v *string, max int) (*string, error) {
	if v == nil {
		return nil, nil
	}
	t, err := text(field, *v, max, false)
	return &t, err
}

// userTexts checks a local user's names, e-mail and external id.
func userTexts(first, email, external *string) (*string, *string, *string, error) {
	f, err := optText("firstName", first, maxNameLen)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := optText("email", email, maxEmailLen)
	if err != nil {
		return nil, nil, nil, err
	}
	x, err := optText("externalId", external, maxNameLen)
	return f, e, x, err
}

// saveError explains a constraint error of a write: a unique index of the table.
func saveError(err error, what string) error {
	if ent.IsConstraintError(err) {
		return fmt.Errorf("%w: %s", ErrDuplicate, what)
	}
	return err
}

// CreateUser creates a local user (admin; audited). It needs a last name and a district or an
// organization; an externalId another local user has is refused.
func (s *Service) CreateUser(ctx context.Context, in ent.CreateLocalUserInput) (*ent.LocalUser, error) {
	var u *ent.LocalUser
	err := s.write(ctx, CreateLocalUser, func(tx *ent.Tx) (string, string, error) {
		var err error
		if in.LastName, err = text("lastName", in.LastName, maxNameLen, true); err != nil {
			return "", "", err
		}
		if in.FirstName, in.Email, in.ExternalID, err = userTexts(in.FirstName, in.Email, in.ExternalID); err != nil {
			return "", "", err
		}
		if in.DistrictID == nil && in.OrganizationID == nil {
			return "", "", invalid("a local user needs a districtID or an organizationID")
		}
		if err := checkScope(ctx, tx, in.DistrictID, in.OrganizationID); err != nil {
			return "", "", err
		}
		if in.ExternalID != nil {
			if err := checkExternalID(ctx, tx, *in.ExternalID, ""); err != nil {
				return "", "", err
			}
		}
		u, err = tx.LocalUser.Create().SetInput(in).SetCreatedBy(auth.Actor(ctx)).Save(ctx)
		if err != nil {
			return "", "", saveError(err, "external id taken")
		}
		return u.ID, fmt.Sprintf("created local user %s (%s)", u.ID, u.Role), nil
	})
	if err != nil {
		return nil, fmt.Errorf("create local user: %w", err)
	}
	return u, nil
}

// UpdateUser changes a local user (admin; audited).
func (s *Service) UpdateUser(ctx context.Context, id string, in ent.UpdateLocalUserInput) (*ent.LocalUser, error) {
	var u *ent.LocalUser
	err := s.write(ctx, UpdateLocalUser, func(tx *ent.Tx) (string, string, error) {
		old, err := tx.LocalUser.Get(ctx, id)
		if ent.IsNotFound(err) {
			return "", "", notFound("local user", id)
		} else if err != nil {
			return "", "", err
		}
		if in.LastName != nil {
			v, err := text("lastName", *in.LastName, maxNameLen, true)
			if err != nil {
				return "", "", err
			}
			in.LastName = &v
		}
		if in.FirstName, in.Email, in.ExternalID, err = userTexts(in.FirstName, in.Email, in.ExternalID); err != nil {
			return "", "", err
		}
		district, org := old.DistrictID, old.OrganizationID
		if in.ClearDistrictID {
			district = nil
		}
		if in.DistrictID != nil {
			district = in.DistrictID
		}
		if in.ClearOrganizationID {
			org = nil
		}
		if in.OrganizationID != nil {
			org = in.OrganizationID
		}
		if district == nil && org == nil {
			return "", "", invalid("a local user needs a districtID or an organizationID")
		}
		if err := checkScope(ctx, tx, in.DistrictID, in.OrganizationID); err != nil {
			return "", "", err
		}
		if in.ExternalID != nil {
			if err := checkExternalID(ctx, tx, *in.ExternalID, id); err != nil {
				return "", "", err
			}
		}
		if u, err = tx.LocalUser.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return "", "", saveError(err, "external id taken")
		}
		return id, "updated local user " + id, nil
	})
	if err != nil {
		return nil, fmt.Errorf("update local user %s: %w", id, err)
	}
	return u, nil
}

// DeleteUser deletes a local user (admin; audited); its memberships are removed, not deleted.
func (s *Service) DeleteUser(ctx context.Context, id string) (string, error) {
	err := s.write(ctx, DeleteLocalUser, func(tx *ent.Tx) (string, string, error) {
		n, err := tx.LocalMembership.Update().Where(localmembership.LocalUserID(id), localmembership.RemovedAtIsNil()).
			SetRemovedAt(now()).SetRemovedBy(auth.Actor(ctx)).Save(ctx)
		if err != nil {
			return "", "", err
		}
		if err := tx.LocalUser.DeleteOneID(id).Exec(ctx); ent.IsNotFound(err) {
			return "", "", notFound("local user", id)
		} else if err != nil {
			return "", "", err
		}
		return id, fmt.Sprintf("deleted local user %s; removed %d memberships", id, n), nil
	})
	if err != nil {
		return "", fmt.Errorf("delete local user %s: %w", id, err)
	}
	return id, nil
}

// CreateGroup creates a local group (admin; audited). With a sectionID it is a subgroup of that synced
// section and takes the section's district.
func (s *Service) CreateGroup(ctx context.Context, in ent.CreateLocalGroupInput) (*ent.LocalGroup, error) {
	var g *ent.LocalGroup
	err := s.write(ctx, CreateLocalGroup, func(tx *ent.Tx) (string, string, error) {
		var err error
		if in.Name, err = text("name", in.Name, maxGroupNameLen, true); err != nil {
			return "", "", err
		}
		if in.Description, err = optText("description", in.Description, maxDescriptionLen); err != nil {
			return "", "", err
		}
		if in.SectionID != nil {
			sec, err := tx.Section.Query().Where(section.ID(*in.SectionID)).Select(section.FieldID, section.FieldDistrictID).Only(ctx)
			if ent.IsNotFound(err) {
				return "", "", notFound("section", *in.SectionID)
			} else if err != nil {
				return "", "", err
			}
			if in.DistrictID != nil && *in.DistrictID != sec.DistrictID {
				return "", "", invalid("districtID %q is not the district of section %q (%s)", *in.DistrictID, sec.ID, sec.DistrictID)
			}
			in.DistrictID = &sec.DistrictID
		}
		if in.DistrictID == nil && in.OrganizationID == nil {
			return "", "", invalid("a local group needs a sectionID, a districtID or an organizationID")
		}
		if err := checkScope(ctx, tx, in.DistrictID, in.OrganizationID); err != nil {
			return "", "", err
		}
		if g, err = tx.LocalGroup.Create().SetInput(in).SetCreatedBy(auth.Actor(ctx)).Save(ctx); err != nil {
			return "", "", err
		}
		what := "local group"
		if g.SectionID != nil {
			what = "subgroup of section " + *g.SectionID
		}
		return g.ID, fmt.Sprintf("created %s %q (%s)", what, g.Name, g.ID), nil
	})
	if err != nil {
		return nil, fmt.Errorf("create local group: %w", err)
	}
	return g, nil
}

// UpdateGroup changes a local group (admin; audited).
func (s *Service) UpdateGroup(ctx context.Context, id string, in ent.UpdateLocalGroupInput) (*ent.LocalGroup, error) {
	var g *ent.LocalGroup
	err := s.write(ctx, UpdateLocalGroup, func(tx *ent.Tx) (string, string, error) {
		old, err := tx.LocalGroup.Get(ctx, id)
		if ent.IsNotFound(err) {
			return "", "", notFound("local group", id)
		} else if err != nil {
			return "", "", err
		}
		if in.Name != nil {
			v, err := text("name", *in.Name, maxGroupNameLen, true)
			if err != nil {
				return "", "", err
			}
			in.Name = &v
		}
		if in.Description, err = optText("description", in.Description, maxDescriptionLen); err != nil {
			return "", "", err
		}
		if old.DistrictID == nil && (in.ClearOrganizationID && in.OrganizationID == nil) {
			return "", "", invalid("a local group needs a districtID or an organizationID: this one has only its organization")
		}
		if err := checkScope(ctx, tx, nil, in.OrganizationID); err != nil {
			return "", "", err
		}
		if g, err = tx.LocalGroup.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return "", "", err
		}
		return id, fmt.Sprintf("updated local group %q (%s)", g.Name, id), nil
	})
	if err != nil {
		return nil, fmt.Errorf("update local group %s: %w", id, err)
	}
	return g, nil
}

// DeleteGroup deletes a local group (admin; audited); its memberships are removed, not deleted.
func (s *Service) DeleteGroup(ctx context.Context, id string) (string, error) {
	err := s.write(ctx, DeleteLocalGroup, func(tx *ent.Tx) (string, string, error) {
		n, err := tx.LocalMembership.Update().Where(localmembership.GroupID(id), localmembership.RemovedAtIsNil()).
			SetRemovedAt(now()).SetRemovedBy(auth.Actor(ctx)).Save(ctx)
		if err != nil {
			return "", "", err
		}
		if err := tx.LocalGroup.DeleteOneID(id).Exec(ctx); ent.IsNotFound(err) {
			return "", "", notFound("local group", id)
		} else if err != nil {
			return "", "", err
		}
		return id, fmt.Sprintf("deleted local group %s; removed %d memberships", id, n), nil
	})
	if err != nil {
		return "", fmt.Errorf("delete local group %s: %w", id, err)
	}
	return id, nil
}

// AddMember adds a Clever user or a local user to a local group (admin; audited). A Clever user must
// be of the group's district and, for a subgroup, a member of its section now (from Clever or by hand).
func (s *Service) AddMember(ctx context.Context, in MemberInput) (*ent.LocalMembership, error) {
	var m *ent.LocalMembership
	err := s.write(ctx, AddLocalMember, func(tx *ent.Tx) (string, string, error) {
		if (in.UserID == nil) == (in.LocalUserID == nil) {
			return "", "", invalid("give exactly one of userId (a Clever user) and localUserId (a local user)")
		}
		g, err := tx.LocalGroup.Get(ctx, in.GroupID)
		if ent.IsNotFound(err) {
			return "", "", notFound("local group", in.GroupID)
		} else if err != nil {
			return "", "", err
		}
		create := tx.LocalMembership.Create().SetGroupID(g.ID).SetRole(in.Role).SetAddedBy(auth.Actor(ctx)).SetAddedAt(now())
		member := ""
		if in.UserID != nil {
			member = *in.UserID
			if err := s.checkCleverMember(ctx, tx, g, member, in.Role); err != nil {
				return "", "", err
			}
			create.SetUserID(member)
		} else {
			member = *in.LocalUserID
			lu, err := tx.LocalUser.Get(ctx, member)
			if ent.IsNotFound(err) {
				return "", "", notFound("local user", member)
			} else if err != nil {
				return "", "", err
			}
			if g.DistrictID != nil && lu.DistrictID != nil && *g.DistrictID != *lu.DistrictID {
				return "", "", invalid("local user %q is of district %q, the group of %q", lu.ID, *lu.DistrictID, *g.DistrictID)
			}
			create.SetLocalUserID(member)
		}
		if m, err = create.Save(ctx); err != nil {
			return "", "", saveError(err, fmt.Sprintf("%q is a member of group %q already", member, g.ID))
		}
		return g.ID, fmt.Sprintf("added %s %s to local group %q", strings.ToLower(string(in.Role)), member, g.Name), nil
	})
	if err != nil {
		return nil, fmt.Errorf("add member to local group %s: %w", in.GroupID, err)
	}
	return m, nil
}

// checkCleverMember checks that Clever user id may join group g.
func (s *Service) checkCleverMember(ctx context.Context, tx *ent.Tx, g *ent.LocalGroup, id string, role localmembership.Role) error {
	u, err := tx.User.Query().Where(user.ID(id)).Select(user.FieldID, user.FieldDistrictID).Only(ctx)
	if ent.IsNotFound(err) {
		return notFound("user", id)
	} else if err != nil {
		return err
	}
	if g.DistrictID != nil && u.DistrictID != *g.DistrictID {
		return invalid("user %q is of district %q, the group of %q", id, u.DistrictID, *g.DistrictID)
	}
	if g.SectionID == nil {
		return nil
	}
	var in bool
	if role == localmembership.RoleTEACHER {
		in, err = tx.SectionTeacher.Query().Where(sectionteacher.SectionID(*g.SectionID), sectionteacher.UserID(id), sectionteacher.EndedAtIsNil()).Exist(ctx)
	} else {
		in, err = tx.SectionStudent.Query().Where(sectionstudent.SectionID(*g.SectionID), sectionstudent.UserID(id), sectionstudent.EndedAtIsNil()).Exist(ctx)
	}
	if err != nil || in {
		return err
	}
	in, err = tx.LocalMembership.Query().Where(localmembership.SectionID(*g.SectionID), localmembership.UserID(id),
		localmembership.RoleEQ(role), localmembership.RemovedAtIsNil()).Exist(ctx)
	if err != nil || in {
		return err
	}
	return invalid("user %q is not a %s of section %q now: a subgroup holds members of its section", id, strings.ToLower(string(role)), *g.SectionID)
}

// RemoveMember ends a membership of a local group (admin; audited).
func (s *Service) RemoveMember(ctx context.Context, id string) (*ent.LocalMembership, error) {
	var m *ent.LocalMembership
	err := s.write(ctx, RemoveLocalMember, func(tx *ent.Tx) (string, string, error) {
		old, err := tx.LocalMembership.Get(ctx, id)
		if ent.IsNotFound(err) || err == nil && old.GroupID == nil {
			return "", "", notFound("local group membership", id)
		} else if err != nil {
			return "", "", err
		}
		if old.RemovedAt != nil {
			return "", "", invalid("membership %q was removed already, at %s", id, old.RemovedAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
		if m, err = tx.LocalMembership.UpdateOneID(id).SetRemovedAt(now()).SetRemovedBy(auth.Actor(ctx)).Save(ctx); err != nil {
			return "", "", err
		}
		return *old.GroupID, fmt.Sprintf("removed membership %s from local group %s", id, *old.GroupID), nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove local member %s: %w", id, err)
	}
	return m, nil
}

// AddSectionMember adds a Clever student or teacher of the section's district to a synced section by
// hand (admin; audited). A user the section holds already, from Clever or by hand, is refused.
func (s *Service) AddSectionMember(ctx context.Context, sectionID, userID string, role localmembership.Role) (*ent.LocalMembership, error) {
	var m *ent.LocalMembership
	err := s.write(ctx, AddSectionMember, func(tx *ent.Tx) (string, string, error) {
		sec, err := tx.Section.Query().Where(section.ID(sectionID)).Select(section.FieldID, section.FieldDistrictID).Only(ctx)
		if ent.IsNotFound(err) {
			return "", "", notFound("section", sectionID)
		} else if err != nil {
			return "", "", err
		}
		u, err := tx.User.Query().Where(user.ID(userID)).Select(user.FieldID, user.FieldDistrictID).Only(ctx)
		if ent.IsNotFound(err) {
			return "", "", notFound("user", userID)
		} else if err != nil {
			return "", "", err
		}
		if u.DistrictID != sec.DistrictID {
			return "", "", invalid("user %q is of district %q, section %q of %q", userID, u.DistrictID, sectionID, sec.DistrictID)
		}
		var inClever bool
		if role == localmembership.RoleTEACHER {
			inClever, err = tx.SectionTeacher.Query().Where(sectionteacher.SectionID(sectionID), sectionteacher.UserID(userID), sectionteacher.EndedAtIsNil()).Exist(ctx)
		} else {
			inClever, err = tx.SectionStudent.Query().Where(sectionstudent.SectionID(sectionID), sectionstudent.UserID(userID), sectionstudent.EndedAtIsNil()).Exist(ctx)
		}
		if err != nil {
			return "", "", err
		}
		if inClever {
			return "", "", fmt.Errorf("%w: user %q is a %s of section %q in Clever", ErrDuplicate, userID, strings.ToLower(string(role)), sectionID)
		}
		held, err := tx.LocalMembership.Query().Where(localmembership.SectionID(sectionID), localmembership.UserID(userID), localmembership.RemovedAtIsNil()).Exist(ctx)
		if err != nil {
			return "", "", err
		}
		if held {
			return "", "", fmt.Errorf("%w: user %q was added to section %q by hand already", ErrDuplicate, userID, sectionID)
		}
		m, err = tx.LocalMembership.Create().SetSectionID(sectionID).SetUserID(userID).SetRole(role).SetAddedBy(auth.Actor(ctx)).SetAddedAt(now()).Save(ctx)
		if err != nil {
			return "", "", saveError(err, fmt.Sprintf("user %q was added to section %q by hand already", userID, sectionID))
		}
		return sectionID, fmt.Sprintf("added %s %s to section %s by hand", strings.ToLower(string(role)), userID, sectionID), nil
	})
	if err != nil {
		return nil, fmt.Errorf("add member to section %s: %w", sectionID, err)
	}
	return m, nil
}

// RemoveSectionMember ends the hand addition of a user to a synced section (admin; audited). Clever's
// members are not the app's to remove.
func (s *Service) RemoveSectionMember(ctx context.Context, sectionID, userID string) (*ent.LocalMembership, error) {
	var m *ent.LocalMembership
	err := s.write(ctx, RemoveSectionMember, func(tx *ent.Tx) (string, string, error) {
		old, err := tx.LocalMembership.Query().Where(localmembership.SectionID(sectionID), localmembership.UserID(userID), localmembership.RemovedAtIsNil()).Only(ctx)
		if ent.IsNotFound(err) {
			return "", "", fmt.Errorf("%w: user %q was not added to section %q by hand (Clever's members change only in Clever)", ErrNotFound, userID, sectionID)
		} else if err != nil {
			return "", "", err
		}
		if m, err = tx.LocalMembership.UpdateOneID(old.ID).SetRemovedAt(now()).SetRemovedBy(auth.Actor(ctx)).Save(ctx); err != nil {
			return "", "", err
		}
		return sectionID, fmt.Sprintf("removed %s %s added by hand from section %s", strings.ToLower(string(old.Role)), userID, sectionID), nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove member from section %s: %w", sectionID, err)
	}
	return m, nil
}

// SetRoleOverride grants or revokes a role of a Clever user in the app (admin; audited), replacing the
// override of that role the user had.
func (s *Service) SetRoleOverride(ctx context.Context, userID string, role roleoverride.Role, effect roleoverride.Effect, reason *string) (*ent.RoleOverride, error) {
	var o *ent.RoleOverride
	err := s.write(ctx, SetRoleOverride, func(tx *ent.Tx) (string, string, error) {
		u, err := tx.User.Query().Where(user.ID(userID)).Select(user.FieldID, user.FieldDistrictID).Only(ctx)
		if ent.IsNotFound(err) {
			return "", "", notFound("user", userID)
		} else if err != nil {
			return "", "", err
		}
		why := ""
		if reason != nil {
			if why, err = text("reason", *reason, maxDescriptionLen, false); err != nil {
				return "", "", err
			}
		}
		if _, err := tx.RoleOverride.Delete().Where(roleoverride.UserID(userID), roleoverride.RoleEQ(role)).Exec(ctx); err != nil {
			return "", "", err
		}
		o, err = tx.RoleOverride.Create().SetUserID(userID).SetDistrictID(u.DistrictID).SetRole(role).SetEffect(effect).
			SetReason(why).SetDecidedBy(auth.Actor(ctx)).Save(ctx)
		if err != nil {
			return "", "", err
		}
		return userID, fmt.Sprintf("%s role %s", strings.ToLower(string(effect)), role), nil
	})
	if err != nil {
		return nil, fmt.Errorf("set role override of user %s: %w", userID, err)
	}
	return o, nil
}

// ClearRoleOverride clears the override of a role of a user (admin; audited); it reports whether there
// was one.
func (s *Service) ClearRoleOverride(ctx context.Context, userID string, role roleoverride.Role) (bool, error) {
	var n int
	err := s.write(ctx, ClearRoleOverride, func(tx *ent.Tx) (string, string, error) {
		var err error
		if n, err = tx.RoleOverride.Delete().Where(roleoverride.UserID(userID), roleoverride.RoleEQ(role)).Exec(ctx); err != nil {
			return "", "", err
		}
		if n == 0 {
			return userID, fmt.Sprintf("no override of role %s to clear", role), nil
		}
		return userID, fmt.Sprintf("cleared the override of role %s", role), nil
	})
	if err != nil {
		return false, fmt.Errorf("clear role override of user %s: %w", userID, err)
	}
	return n > 0, nil
}

// checkScope checks that the district and organization named (when not nil) exist.
func checkScope(ctx context.Context, tx *ent.Tx, districtID, org *string) error {
	if districtID != nil {
		ok, err := tx.District.Query().Where(district.ID(*districtID)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("district", *districtID)
		}
	}
	if org != nil {
		ok, err := tx.Organization.Query().Where(organization.ID(*org)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("organization", *org)
		}
	}
	return nil
}

// checkExternalID refuses an external id another local user than self has.
func checkExternalID(ctx context.Context, tx *ent.Tx, externalID, self string) error {
	other, err := tx.LocalUser.Query().Where(localuser.ExternalID(externalID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case other.ID == self:
		return nil
	}
	return fmt.Errorf("%w: external id %q is local user %s's", ErrDuplicate, externalID, other.ID)
}

// now is the time a mutation records, in UTC as every time is stored.
func now() time.Time { return time.Now().UTC() }
