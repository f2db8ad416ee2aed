// Package link is onboarding: which of the app's organizations each connected Clever district is. It
// discovers districts as Clever lists them, turns signals (MDR numbers, sign-ins, e-mail domains, names)
// into proposals with their evidence, keeps each district's link state, and carries out the admin's link
// mutations, every one audited.
package link

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Config configures a Service. DB is required.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Refresh, when set, is called after a pause or a resume so that the scheduler drops or adds the
	// district's job at once (the scheduler's Refresh).
	Refresh func(ctx context.Context) error
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service carries out onboarding.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) *Service {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

var errTODO = errors.New("TODO")

func (s *Service) State(ctx context.Context, districtID string) (districtlink.State, error) {
	return "", errTODO
}
func (s *Service) Organization(ctx context.Context, districtID string) (*ent.Organization, error) {
	return nil, errTODO
}
func (s *Service) Conflict(ctx context.Context, p *ent.LinkProposal) (bool, error) {
	return false, errTODO
}
func (s *Service) LinkDistrict(ctx context.Context, districtID, organizationID string) (*ent.District, error) {
	return nil, errTODO
}
func (s *Service) UnlinkDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	return nil, errTODO
}
func (s *Service) AcceptProposal(ctx context.Context, id string) (*ent.LinkProposal, error) {
	return nil, errTODO
}
func (s *Service) RejectProposal(ctx context.Context, id string) (*ent.LinkProposal, error) {
	return nil, errTODO
}
func (s *Service) PauseDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	return nil, errTODO
}
func (s *Service) ResumeDistrict(ctx context.Context, districtID string) (*ent.District, error) {
	return nil, errTODO
}
func (s *Service) Candidates(ctx context.Context, organizationID string, search *string, first *int) ([]*Candidate, error) {
	return nil, errTODO
}

// SignedIn is told of every Clever sign-in (internal/login).
func (s *Service) SignedIn(ctx context.Context, in SignIn) (SignInOutcome, error) {
	return SignInOutcome{}, errTODO
}

// OrganizationsChanged re-evaluates the signals for changed organizations (internal/org).
func (s *Service) OrganizationsChanged(ctx context.Context, ids []string) error { return nil }
