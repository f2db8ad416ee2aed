package localdata

import (
	"context"
	"slices"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/localgroup"
	"github.com/rostermirror/rostermirror/ent/localmembership"
	"github.com/rostermirror/rostermirror/ent/roleoverride"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
)

// The loaders below take the ids of a list's records and return each one's value, for graph/batch.

// Subgroups are the local groups of each section, by name.
func (s *Service) Subgroups(ctx context.Context, sectionIDs []string) (map[string][]*ent.LocalGroup, error) {
	gs, err := s.db.Client.LocalGroup.Query().Where(localgroup.SectionIDIn(sectionIDs...)).
		Order(ent.Asc(localgroup.FieldName), ent.Asc(localgroup.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*ent.LocalGroup, len(sectionIDs))
	for _, g := range gs {
		out[*g.SectionID] = append(out[*g.SectionID], g)
	}
	return out, nil
}

// SectionAdditions are the hand additions to each section that hold now, oldest first.
func (s *Service) SectionAdditions(ctx context.Context, sectionIDs []string) (map[string][]*ent.LocalMembership, error) {
	ms, err := s.db.Client.LocalMembership.Query().Where(localmembership.SectionIDIn(sectionIDs...), localmembership.RemovedAtIsNil()).
		Order(ent.Asc(localmembership.FieldAddedAt), ent.Asc(localmembership.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*ent.LocalMembership, len(sectionIDs))
	for _, m := range ms {
		out[*m.SectionID] = append(out[*m.SectionID], m)
	}
	return out, nil
}

// GroupSections are the sections of the given groups (archived or not).
func (s *Service) GroupSections(ctx context.Context, groupIDs []string) (map[string]*ent.Section, error) {
	gs, err := s.db.Client.LocalGroup.Query().Where(localgroup.IDIn(groupIDs...), localgroup.SectionIDNotNil()).
		Select(localgroup.FieldID, localgroup.FieldSectionID).All(ctx)
	if err != nil {
		return nil, err
	}
	of := make(map[string]string, len(gs))
	for _, g := range gs {
		of[g.ID] = *g.SectionID
	}
	return sections(ctx, s.db.Client, of)
}

// MembershipSections are the sections of the given hand additions (archived or not).
func (s *Service) MembershipSections(ctx context.Context, membershipIDs []string) (map[string]*ent.Section, error) {
	ms, err := s.db.Client.LocalMembership.Query().Where(localmembership.IDIn(membershipIDs...), localmembership.SectionIDNotNil()).
		Select(localmembership.FieldID, localmembership.FieldSectionID).All(ctx)
	if err != nil {
		return nil, err
	}
	of := make(map[string]string, len(ms))
	for _, m := range ms {
		of[m.ID] = *m.SectionID
	}
	return sections(ctx, s.db.Client, of)
}

// MembershipUsers are the Clever users of the given memberships (archived or not).
func (s *Service) MembershipUsers(ctx context.Context, membershipIDs []string) (map[string]*ent.User, error) {
	ms, err := s.db.Client.LocalMembership.Query().Where(localmembership.IDIn(membershipIDs...), localmembership.UserIDNotNil()).
		Select(localmembership.FieldID, localmembership.FieldUserID).All(ctx)
	if err != nil {
		return nil, err
	}
	of := make(map[string]string, len(ms))
	for _, m := range ms {
		of[m.ID] = *m.UserID
	}
	return users(ctx, s.db.Client, of)
}

// OverrideUsers are the Clever users of the given role overrides (archived or not).
func (s *Service) OverrideUsers(ctx context.Context, overrideIDs []string) (map[string]*ent.User, error) {
	os, err := s.db.Client.RoleOverride.Query().Where(roleoverride.IDIn(overrideIDs...)).
		Select(roleoverride.FieldID, roleoverride.FieldUserID).All(ctx)
	if err != nil {
		return nil, err
	}
	of := make(map[string]string, len(os))
	for _, o := range os {
		of[o.ID] = o.UserID
	}
	return users(ctx, s.db.Client, of)
}

// Overrides are the role overrides of each user, by role.
func (s *Service) Overrides(ctx context.Context, userIDs []string) (map[string][]*ent.RoleOverride, error) {
	os, err := s.db.Client.RoleOverride.Query().Where(roleoverride.UserIDIn(userIDs...)).
		Order(ent.Asc(roleoverride.FieldUserID), ent.Asc(roleoverride.FieldRole)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*ent.RoleOverride, len(userIDs))
	for _, o := range os {
		out[o.UserID] = append(out[o.UserID], o)
	}
	return out, nil
}

// EffectiveRoles are each user's roles in the app: its current (not archived) Clever roles, with the
// overrides applied — a GRANT adds the role, a REVOKE takes it away — in the enum's order.
func (s *Service) EffectiveRoles(ctx context.Context, userIDs []string) (map[string][]userrole.Role, error) {
	roles, err := s.db.Client.UserRole.Query().Where(userrole.UserIDIn(userIDs...), userrole.ArchivedAtIsNil()).
		Select(userrole.FieldUserID, userrole.FieldRole).All(ctx)
	if err != nil {
		return nil, err
	}
	overrides, err := s.Overrides(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	held := make(map[string]map[userrole.Role]bool, len(userIDs))
	for _, id := range userIDs {
		held[id] = map[userrole.Role]bool{}
	}
	for _, r := range roles {
		held[r.UserID][r.Role] = true
	}
	for id, os := range overrides {
		for _, o := range os {
			held[id][userrole.Role(o.Role)] = o.Effect == roleoverride.EffectGRANT
		}
	}
	out := make(map[string][]userrole.Role, len(userIDs))
	for _, id := range userIDs {
		list := []userrole.Role{}
		for _, r := range roleOrder {
			if held[id][r] {
				list = append(list, r)
			}
		}
		out[id] = list
	}
	return out, nil
}

// Added is a member added to a section by hand, for the section's students and teachers.
type Added struct {
	// Membership is the addition.
	Membership *ent.LocalMembership
	// User is its Clever user, with what the query selects of it.
	User *ent.User
}

// Additions are the hand additions of role to each section that held now (asOf nil) or on asOf, whose
// user is mirrored and visible (not archived unless archived is true), oldest first; uq prepares the
// users' query (what the GraphQL query selects of them).
func Additions(ctx context.Context, c *ent.Client, sectionIDs []string, role localmembership.Role, asOf *time.Time, archived bool, uq func(*ent.UserQuery)) (map[string][]Added, error) {
	q := c.LocalMembership.Query().Where(localmembership.SectionIDIn(sectionIDs...), localmembership.RoleEQ(role), localmembership.UserIDNotNil())
	if asOf == nil {
		q.Where(localmembership.RemovedAtIsNil())
	} else {
		at := asOf.UTC()
		q.Where(localmembership.AddedAtLTE(at), localmembership.Or(localmembership.RemovedAtIsNil(), localmembership.RemovedAtGT(at)))
	}
	ms, err := q.Order(ent.Asc(localmembership.FieldAddedAt), ent.Asc(localmembership.FieldID)).All(ctx)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, *m.UserID)
	}
	users := c.User.Query().Where(user.IDIn(slices.Compact(slices.Sorted(slices.Values(ids)))...))
	if !archived {
		users.Where(user.ArchivedAtIsNil())
	}
	if uq != nil {
		uq(users)
	}
	us, err := users.All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ent.User, len(us))
	for _, u := range us {
		byID[u.ID] = u
	}
	out := map[string][]Added{}
	for _, m := range ms {
		if u := byID[*m.UserID]; u != nil {
			out[*m.SectionID] = append(out[*m.SectionID], Added{Membership: m, User: u})
		}
	}
	return out, nil
}

// sections loads the sections named by of (record id → section id), by record id.
func sections(ctx context.Context, c *ent.Client, of map[string]string) (map[string]*ent.Section, error) {
	ids := make([]string, 0, len(of))
	for _, id := range of {
		ids = append(ids, id)
	}
	ss, err := c.Section.Query().Where(section.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ent.Section, len(ss))
	for _, x := range ss {
		byID[x.ID] = x
	}
	out := make(map[string]*ent.Section, len(of))
	for rec, id := range of {
		if x := byID[id]; x != nil {
			out[rec] = x
		}
	}
	return out, nil
}

// users loads the users named by of (record id → Clever user id), by record id.
func users(ctx context.Context, c *ent.Client, of map[string]string) (map[string]*ent.User, error) {
	ids := make([]string, 0, len(of))
	for _, id := range of {
		ids = append(ids, id)
	}
	us, err := c.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ent.User, len(us))
	for _, u := range us {
		byID[u.ID] = u
	}
	out := make(map[string]*ent.User, len(of))
	for rec, id := range of {
		if u := byID[id]; u != nil {
			out[rec] = u
		}
	}
	return out, nil
}

// roleOrder is the order of effectiveRoles: the enum's.
var roleOrder = []userrole.Role{userrole.RoleStudent, userrole.RoleTeacher, userrole.RoleStaff, userrole.RoleDistrictAdmin, userrole.RoleContact}
