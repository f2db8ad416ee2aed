package login

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/rostermirror/rostermirror/ent/loginstate"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/link"
)

// CreateInvite makes a district invite for an organization (the mutation createDistrictInvite): a URL,
// PublicURL/auth/clever/login?invite=<signed state>, to send to someone at the district, and when it
// stops working (Config.InviteTTL from now). The first sign-in that comes back through it uses it up and
// tells onboarding that the district signed in through the organization's invite.
//
// It needs an API key with the admin scope, and the organization must exist (an error matching
// ent.IsNotFound otherwise). The invite and its audit entry are written in one transaction; the entry
// names the organization and the expiry, never the URL.
func (s *Service) CreateInvite(ctx context.Context, organizationID string) (*link.Invite, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	now := s.now()
	tx, err := s.cfg.DB.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("create district invite: %w", err)
	}
	defer tx.Rollback()
	org, err := tx.Organization.Get(ctx, organizationID)
	if err != nil {
		return nil, fmt.Errorf("create district invite for organization %s: %w", organizationID, err)
	}
	st := newState(loginstate.PurposeINVITE, org.ID, s.linkRedirect, now.Add(s.cfg.InviteTTL))
	signed, err := s.issue(ctx, tx.Client(), st, actor)
	if err != nil {
		return nil, fmt.Errorf("create district invite: %w", err)
	}
	if err := audit.Record(ctx, tx.Client(), audit.Entry{At: now, Actor: actor, Action: audit.CreateDistrictInvite,
		Target: org.ID, Outcome: "invite expires " + st.expires.Format(time.RFC3339)}); err != nil {
		return nil, fmt.Errorf("create district invite: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create district invite: %w", err)
	}
	s.log.InfoContext(ctx, "district invite created", slog.String(logOrganization, org.ID), slog.Time("expires", st.expires))
	return &link.Invite{URL: s.cfg.PublicURL + LoginPath + "?invite=" + url.QueryEscape(signed), ExpiresAt: st.expires}, nil
}
