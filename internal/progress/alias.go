package progress

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/cleveridalias"
	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// LinkFormerCleverID records that formerCleverID was a Clever id of the student who now has cleverID
// (linkFormerCleverId; admin; audited): reads of progress follow it from then on. The current id must be
// a student of the mirror and not itself a former id; the former id must be an archived student of the
// same district, or an id progress was recorded under that the mirror does not have, and not linked
// already. Aliases stay flat: those that led to formerCleverID lead to cleverID.
func (s *Service) LinkFormerCleverID(ctx context.Context, formerCleverID, cleverID string) (*ent.CleverIDAlias, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	var id string
	err := s.inTx(ctx, func(tx *txn) error {
		a, err := link(ctx, tx.Client, strings.TrimSpace(formerCleverID), strings.TrimSpace(cleverID), cleveridalias.MethodMANUAL, actor, true)
		if err != nil {
			return err
		}
		id = a.ID
		return audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: audit.LinkFormerCleverID, Target: a.FormerCleverID,
			Outcome: fmt.Sprintf("former Clever id %s linked to %s (district %s)", a.FormerCleverID, a.CleverID, a.DistrictID)})
	})
	if err != nil {
		return nil, err
	}
	return s.db.Client.CleverIDAlias.Get(ctx, id)
}

// UnlinkFormerCleverID removes the alias of formerCleverID (unlinkFormerCleverId; admin; audited) and
// returns it: progress recorded under that id shows under it again. Progress itself is not touched.
func (s *Service) UnlinkFormerCleverID(ctx context.Context, formerCleverID string) (*ent.CleverIDAlias, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	var out *ent.CleverIDAlias
	err := s.inTx(ctx, func(tx *txn) error {
		a, err := tx.CleverIDAlias.Query().Where(cleveridalias.FormerCleverID(strings.TrimSpace(formerCleverID))).Only(ctx)
		if ent.IsNotFound(err) {
			return fmt.Errorf("%w: Clever id %q is not linked to another", ErrNotFound, formerCleverID)
		}
		if err != nil {
			return err
		}
		if err := tx.CleverIDAlias.DeleteOne(a).Exec(ctx); err != nil {
			return err
		}
		out = a
		return audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: audit.UnlinkFormerCleverID, Target: a.FormerCleverID,
			Outcome: fmt.Sprintf("former Clever id %s unlinked from %s (was %s, by %s)", a.FormerCleverID, a.CleverID, a.Method, cmp.Or(a.DecidedBy, "sync"))})
	})
	return out, err
}

// AddSISAlias records, for the sync, that formerCleverID is a former id of the student cleverID, both
// of districtID, whose SIS ids agree. Call it on the sync's transaction (c). It never overrides an
// alias already there (an admin's decision stands) and returns whether it added one. The same rules as
// LinkFormerCleverID apply, except that the former student need not be archived yet.
func AddSISAlias(ctx context.Context, c *ent.Client, districtID, formerCleverID, cleverID string) (bool, error) {
	exists, err := c.CleverIDAlias.Query().Where(cleveridalias.FormerCleverID(formerCleverID)).Exist(ctx)
	if err != nil || exists {
		return false, err
	}
	a, err := link(ctx, c, formerCleverID, cleverID, cleveridalias.MethodSIS_ID, "", false)
	if err != nil {
		return false, err
	}
	if a.DistrictID != districtID {
		return false, fmt.Errorf("%w: students %s and %s are not of district %s", ErrInvalid, formerCleverID, cleverID, districtID)
	}
	return true, nil
}

// link checks and writes an alias.
func link(ctx context.Context, c *ent.Client, former, current string, method cleveridalias.Method, actor string, needArchived bool) (*ent.CleverIDAlias, error) {
	if former == "" || current == "" {
		return nil, fmt.Errorf("%w: both Clever ids are needed", ErrInvalid)
	}
	if former == current {
		return nil, fmt.Errorf("%w: a Clever id cannot be a former id of itself", ErrInvalid)
	}
	cur, err := c.User.Query().Where(user.ID(current), user.HasRolesWith(userrole.RoleEQ(userrole.RoleStudent))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no student with Clever id %q in the mirror", ErrNotFound, current)
	}
	if err != nil {
		return nil, err
	}
	if a, err := c.CleverIDAlias.Query().Where(cleveridalias.FormerCleverID(current)).Only(ctx); err == nil {
		if a.CleverID == former {
			return nil, fmt.Errorf("%w: a cycle: %s is already a former id of %s", ErrInvalid, current, former)
		}
		return nil, fmt.Errorf("%w: %s is itself a former id of %s: link %s to %s", ErrInvalid, current, a.CleverID, former, a.CleverID)
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	if a, err := c.CleverIDAlias.Query().Where(cleveridalias.FormerCleverID(former)).Only(ctx); err == nil {
		return nil, fmt.Errorf("%w: %s is already linked to %s (%s): unlink it first", ErrInvalid, former, a.CleverID, a.Method)
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	district := ""
	old, err := c.User.Get(ctx, former)
	switch {
	case err == nil:
		district = old.DistrictID
		if needArchived && old.ArchivedAt == nil {
			return nil, fmt.Errorf("%w: %s is a student the district shares now: only an archived student's id (or one the mirror never had) can be a former id", ErrInvalid, former)
		}
	case ent.IsNotFound(err):
		p, err := c.ProgressRecord.Query().Where(progressrecord.StudentCleverID(former)).First(ctx)
		if ent.IsNotFound(err) {
			return nil, fmt.Errorf("%w: no student and no progress with Clever id %q", ErrNotFound, former)
		}
		if err != nil {
			return nil, err
		}
		district = p.DistrictID
	default:
		return nil, err
	}
	if district != cur.DistrictID {
		return nil, fmt.Errorf("%w: %s is of district %s and %s of district %s: a student keeps their district", ErrInvalid, former, district, current, cur.DistrictID)
	}
	a, err := c.CleverIDAlias.Create().SetFormerCleverID(former).SetCleverID(current).SetDistrictID(cur.DistrictID).
		SetMethod(method).SetDecidedBy(actor).Save(ctx)
	if err != nil {
		return nil, err
	}
	// Keep aliases flat: the ids that led to former lead to current.
	if err := c.CleverIDAlias.Update().Where(cleveridalias.CleverID(former)).SetCleverID(current).Exec(ctx); err != nil {
		return nil, err
	}
	return a, nil
}
