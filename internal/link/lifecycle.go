package link

import (
	"context"
	"fmt"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/linkproposal"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/ent/predicate"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// SignalManual is DistrictLink.signal of a link an admin made with linkDistrict.
const SignalManual = "MANUAL"

// LinkDistrict links the district to the organization (admin), replacing the link it had: a wrong link
// is corrected by linking again. The district's open proposals for that organization are accepted;
// those for others stay open (and show as conflicts) until an admin rejects them. Mirrored data does not
// move: only the link changes.
func (s *Service) LinkDistrict(ctx context.Context, districtID, organizationID string) (*ent.District, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		outcome, err := s.link(ctx, tx.Client(), districtID, organizationID, SignalManual, actor, "")
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{Actor: actor, Action: audit.LinkDistrict, Target: districtID, Outcome: outcome})
	})
	if err != nil {
		return nil, err
	}
	return s.cfg.DB.Client.District.Get(ctx, districtID)
}

// link points the district at the organization and accepts its open proposals for it, in the caller's
// transaction; it returns the audit outcome. acceptedID is a proposal accepted by the caller (not counted).
func (s *Service) link(ctx context.Context, c *ent.Client, districtID, organizationID, signal, actor, acceptedID string) (string, error) {
	if ok, err := c.District.Query().Where(districtIs(districtID)).Exist(ctx); err != nil {
		return "", err
	} else if !ok {
		return "", fmt.Errorf("%w: no district %q in the mirror", ErrNotFound, districtID)
	}
	org, err := c.Organization.Get(ctx, organizationID)
	if ent.IsNotFound(err) {
		return "", fmt.Errorf("%w: no organization %q", ErrNotFound, organizationID)
	} else if err != nil {
		return "", err
	}
	l, err := s.lock(ctx, c, districtID)
	if err != nil {
		return "", err
	}
	outcome := fmt.Sprintf("linked to %s (%s)", org.Name, org.ExternalID)
	if l.OrganizationID != nil {
		if *l.OrganizationID == organizationID {
			outcome = fmt.Sprintf("already linked to %s (%s)", org.Name, org.ExternalID)
		} else {
			outcome = fmt.Sprintf("moved from organization %s to %s (%s)", *l.OrganizationID, org.Name, org.ExternalID)
		}
	}
	now := s.now()
	if l.OrganizationID != nil && *l.OrganizationID != organizationID {
		if err := s.disown(ctx, c, districtID, *l.OrganizationID, actor, "moved to "+organizationID); err != nil {
			return "", err
		}
	}
	if l.OrganizationID == nil || *l.OrganizationID != organizationID {
		if l, err = l.Update().SetOrganizationID(organizationID).SetSignal(signal).SetLinkedBy(actor).SetLinkedAt(now).Save(ctx); err != nil {
			return "", err
		}
	}
	n, err := c.LinkProposal.Update().Where(linkproposal.DistrictID(districtID), linkproposal.OrganizationID(organizationID),
		linkproposal.StatusEQ(linkproposal.StatusOPEN), linkproposal.IDNEQ(acceptedID)).
		SetStatus(linkproposal.StatusACCEPTED).SetDecidedAt(now).SetDecidedBy(actor).Save(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		outcome += fmt.Sprintf("; %d open proposal(s) for it accepted", n)
	}
	if _, err := settle(ctx, c, l); err != nil {
		return "", err
	}
	return outcome, nil
}

// UnlinkDistrict removes the district's link (admin). The district goes back to DISCOVERED, or PROPOSED
// when open proposals remain; its mirrored data and its decided proposals stay as they are.
func (s *Service) UnlinkDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		if ok, err := c.District.Query().Where(districtIs(districtID)).Exist(ctx); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: no district %q in the mirror", ErrNotFound, districtID)
		}
		l, err := s.lock(ctx, c, districtID)
		if err != nil {
			return err
		}
		if l.OrganizationID == nil {
			return fmt.Errorf("%w: district %q is not linked", ErrInvalid, districtID)
		}
		was := *l.OrganizationID
		if err := s.disown(ctx, c, districtID, was, actor, "unlinked"); err != nil {
			return err
		}
		if l, err = l.Update().ClearOrganizationID().SetSignal("").SetLinkedBy("").ClearLinkedAt().Save(ctx); err != nil {
			return err
		}
		if _, err := settle(ctx, c, l); err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{Actor: actor, Action: audit.UnlinkDistrict, Target: districtID,
			Outcome: "unlinked from organization " + was})
	})
	if err != nil {
		return nil, err
	}
	return s.cfg.DB.Client.District.Get(ctx, districtID)
}

// AcceptProposal links the proposal's district to its organization (admin). Only an open proposal can be
// accepted.
func (s *Service) AcceptProposal(ctx context.Context, id string) (*ent.LinkProposal, error) {
	return s.decide(ctx, id, linkproposal.StatusACCEPTED, audit.AcceptLinkProposal,
		func(c *ent.Client, p *ent.LinkProposal, actor string) (string, error) {
			outcome, err := s.link(ctx, c, p.DistrictID, p.OrganizationID, string(p.Signal), actor, p.ID)
			return fmt.Sprintf("proposal %s (%s) accepted: %s", p.ID, p.Signal, outcome), err
		})
}

// RejectProposal rejects an open proposal (admin): the same evidence will not raise it again.
func (s *Service) RejectProposal(ctx context.Context, id string) (*ent.LinkProposal, error) {
	return s.decide(ctx, id, linkproposal.StatusREJECTED, audit.RejectLinkProposal,
		func(c *ent.Client, p *ent.LinkProposal, _ string) (string, error) {
			return fmt.Sprintf("proposal %s (%s, organization %s) rejected", p.ID, p.Signal, p.OrganizationID),
				resettle(ctx, c, p.DistrictID)
		})
}

// decide settles an open proposal as status (admin), then carries out what follows from it (then returns
// the audit outcome), and records action in the audit log, all in one transaction.
func (s *Service) decide(ctx context.Context, id string, status linkproposal.Status, action string,
	then func(c *ent.Client, p *ent.LinkProposal, actor string) (string, error)) (*ent.LinkProposal, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		p, err := openProposal(ctx, c, id)
		if err != nil {
			return err
		}
		if _, err := s.lock(ctx, c, p.DistrictID); err != nil {
			return err
		}
		if p, err = openProposal(ctx, c, id); err != nil { // decided while we waited for the lock?
			return err
		}
		if err := p.Update().SetStatus(status).SetDecidedAt(s.now()).SetDecidedBy(actor).Exec(ctx); err != nil {
			return err
		}
		outcome, err := then(c, p, actor)
		if err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{Actor: actor, Action: action, Target: p.DistrictID, Outcome: outcome})
	})
	if err != nil {
		return nil, err
	}
	return s.cfg.DB.Client.LinkProposal.Get(ctx, id)
}

// disown records that an admin took the district away from an organization (a move or an unlink): the
// proposals for it that were accepted are rejected, so that the evidence that made the wrong link does not
// propose it again.
func (s *Service) disown(ctx context.Context, c *ent.Client, districtID, organizationID, actor, why string) error {
	return c.LinkProposal.Update().Where(linkproposal.DistrictID(districtID), linkproposal.OrganizationID(organizationID),
		linkproposal.StatusEQ(linkproposal.StatusACCEPTED)).
		SetStatus(linkproposal.StatusREJECTED).SetDecidedAt(s.now()).SetDecidedBy(actor + " (" + why + ")").Exec(ctx)
}

func openProposal(ctx context.Context, c *ent.Client, id string) (*ent.LinkProposal, error) {
	p, err := c.LinkProposal.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no link proposal %q", ErrNotFound, id)
	} else if err != nil {
		return nil, err
	}
	if p.Status != linkproposal.StatusOPEN {
		return nil, fmt.Errorf("%w: link proposal %s is %s, not OPEN", ErrInvalid, id, p.Status)
	}
	return p, nil
}

// resettle re-derives the state of the district's link row, if it has one.
func resettle(ctx context.Context, c *ent.Client, districtID string) error {
	l, err := c.DistrictLink.Query().Where(districtlink.DistrictID(districtID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	_, err = settle(ctx, c, l)
	return err
}

// PauseDistrict stops the district's scheduled syncs (admin), keeping its data and its link. A sync
// started by hand (syncDistrict, `rostermirror sync`) still runs.
func (s *Service) PauseDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	return s.setPaused(ctx, districtID, true)
}

// ResumeDistrict starts the district's scheduled syncs again (admin).
func (s *Service) ResumeDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	return s.setPaused(ctx, districtID, false)
}

func (s *Service) setPaused(ctx context.Context, districtID string, pause bool) (*ent.District, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	action, outcome := audit.ResumeDistrict, "scheduled syncs resumed"
	if pause {
		action, outcome = audit.PauseDistrict, "scheduled syncs paused"
	}
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		if ok, err := c.District.Query().Where(districtIs(districtID)).Exist(ctx); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: no district %q in the mirror", ErrNotFound, districtID)
		}
		l, err := s.lock(ctx, c, districtID)
		if err != nil {
			return err
		}
		switch {
		case pause && l.PausedAt != nil:
			outcome = "already paused"
		case !pause && l.PausedAt == nil:
			outcome = "not paused"
		case pause:
			if l, err = l.Update().SetPausedAt(s.now()).Save(ctx); err != nil {
				return err
			}
		default:
			if l, err = l.Update().ClearPausedAt().Save(ctx); err != nil {
				return err
			}
		}
		if _, err := settle(ctx, c, l); err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{Actor: actor, Action: action, Target: districtID, Outcome: outcome})
	})
	if err != nil {
		return nil, err
	}
	if s.cfg.Refresh != nil {
		if err := s.cfg.Refresh(ctx); err != nil {
			s.log.WarnContext(ctx, "refresh the sync schedule after a pause or resume", "district", districtID, "error", err.Error())
		}
	}
	return s.cfg.DB.Client.District.Get(ctx, districtID)
}

// Paused reports whether the district's scheduled syncs are paused.
func (s *Service) Paused(ctx context.Context, districtID string) (bool, error) {
	return s.cfg.DB.Client.DistrictLink.Query().Where(districtlink.DistrictID(districtID), districtlink.PausedAtNotNil()).Exist(ctx)
}

// districtIs selects the district by its Clever id.
func districtIs(id string) predicate.District { return district.ID(id) }

// organizationIn selects organizations by id.
func organizationIn(ids []string) predicate.Organization { return organization.IDIn(ids...) }
