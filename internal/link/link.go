// Package link is onboarding: which of the app's organizations each connected Clever district is. It
// discovers districts as Clever lists them, turns signals (MDR numbers, sign-ins, e-mail domains, names)
// into proposals with their evidence and a score, keeps each district's link state, and carries out the
// admin's link mutations, every one audited.
//
// A district's state is derived, never set: DISCONNECTED while Clever lists no token for it, else PAUSED
// while its scheduled syncs are paused, else LINKED when it has an organization, else PROPOSED when an
// open proposal names one, else DISCOVERED. Nothing here touches mirrored data: linking, unlinking and
// moving a district only change its DistrictLink row.
package link

import (
	"cmp"
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/linkproposal"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Errors of the mutations, matched with errors.Is.
var (
	// ErrInvalid is a request that cannot be carried out as asked (a proposal already decided, a district
	// that is not linked).
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound names a district, organization or proposal that does not exist.
	ErrNotFound = errors.New("not found")
)

// Config configures a Service. DB is required.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Refresh, when set, is called after a pause or a resume so that the scheduler drops or adds the
	// district's job at once (the scheduler's Refresh). A failure is logged: scheduled runs check the
	// pause themselves (see Syncer).
	Refresh func(ctx context.Context) error
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service carries out onboarding. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service.
func New(cfg Config) *Service {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// State is the district's link state (DISCOVERED for a district no link row names yet).
func (s *Service) State(ctx context.Context, districtID string) (districtlink.State, error) {
	l, err := s.cfg.DB.Client.DistrictLink.Query().Where(districtlink.DistrictID(districtID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return districtlink.StateDISCOVERED, nil
	case err != nil:
		return "", fmt.Errorf("link state of district %s: %w", districtID, err)
	}
	return l.State, nil
}

// Organization is the organization the district is linked to, nil when unlinked.
func (s *Service) Organization(ctx context.Context, districtID string) (*ent.Organization, error) {
	l, err := s.cfg.DB.Client.DistrictLink.Query().Where(districtlink.DistrictID(districtID), districtlink.OrganizationIDNotNil()).
		WithOrganization().Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("organization of district %s: %w", districtID, err)
	}
	return l.Edges.Organization, nil
}

// Conflict reports whether an open proposal disagrees with another open proposal for its district, or
// with the district's link.
func (s *Service) Conflict(ctx context.Context, p *ent.LinkProposal) (bool, error) {
	if p.Status != linkproposal.StatusOPEN {
		return false, nil
	}
	return conflicting(ctx, s.cfg.DB.Client, p.DistrictID, p.OrganizationID)
}

// conflicting reports whether pointing districtID at organizationID disagrees with an open proposal or
// the district's link.
func conflicting(ctx context.Context, c *ent.Client, districtID, organizationID string) (bool, error) {
	other, err := c.LinkProposal.Query().Where(linkproposal.DistrictID(districtID), linkproposal.StatusEQ(linkproposal.StatusOPEN),
		linkproposal.OrganizationIDNEQ(organizationID)).Exist(ctx)
	if err != nil || other {
		return other, err
	}
	return c.DistrictLink.Query().Where(districtlink.DistrictID(districtID), districtlink.OrganizationIDNotNil(),
		districtlink.OrganizationIDNEQ(organizationID)).Exist(ctx)
}

// inTx runs fn in a transaction.
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.cfg.DB.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// ensure returns the district's link row, creating it (DISCOVERED, connected) when there is none.
func ensure(ctx context.Context, c *ent.Client, districtID string) (*ent.DistrictLink, error) {
	l, err := c.DistrictLink.Query().Where(districtlink.DistrictID(districtID)).Only(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return l, err
	}
	err = c.DistrictLink.Create().SetDistrictID(districtID).OnConflictColumns(districtlink.FieldDistrictID).DoNothing().Exec(ctx)
	if err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("record discovered district %s: %w", districtID, err)
	}
	return c.DistrictLink.Query().Where(districtlink.DistrictID(districtID)).Only(ctx)
}

// lock reads the district's link row for the rest of the transaction, creating it first when there is
// none. On Postgres the row stays locked until the transaction ends, so that the decisions about one
// district — a link, an auto-link, a conflict check, a pause — are taken one at a time; SQLite serialises
// writers by itself.
func (s *Service) lock(ctx context.Context, c *ent.Client, districtID string) (*ent.DistrictLink, error) {
	if _, err := ensure(ctx, c, districtID); err != nil {
		return nil, err
	}
	q := c.DistrictLink.Query().Where(districtlink.DistrictID(districtID))
	if s.cfg.DB.Dialect == dialect.Postgres {
		q.Modify(func(sel *sql.Selector) { sel.ForUpdate() })
	}
	return q.Only(ctx)
}

// isNoRows matches ent's error for an upsert that inserted nothing (DO NOTHING on a conflict).
func isNoRows(err error) bool { return errors.Is(err, stdsql.ErrNoRows) }

// settle derives the district's state from its link row, its open proposals and its connection, and
// writes it when it changed.
func settle(ctx context.Context, c *ent.Client, l *ent.DistrictLink) (*ent.DistrictLink, error) {
	var st districtlink.State
	switch {
	case !l.Connected:
		st = districtlink.StateDISCONNECTED
	case l.PausedAt != nil:
		st = districtlink.StatePAUSED
	case l.OrganizationID != nil:
		st = districtlink.StateLINKED
	default:
		open, err := c.LinkProposal.Query().Where(linkproposal.DistrictID(l.DistrictID), linkproposal.StatusEQ(linkproposal.StatusOPEN)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		st = districtlink.StateDISCOVERED
		if open {
			st = districtlink.StatePROPOSED
		}
	}
	if st == l.State {
		return l, nil
	}
	return l.Update().SetState(st).Save(ctx)
}

// Stats are onboarding's counts, for metrics: districts by link state, open proposals, and the open
// proposals in conflict.
type Stats struct {
	Districts   map[districtlink.State]int
	Open        int
	Conflicting int
}

// Stats counts districts by link state and the open proposals, conflicting ones apart.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	c := s.cfg.DB.Client
	st := Stats{Districts: map[districtlink.State]int{}}
	for _, v := range []districtlink.State{districtlink.StateDISCOVERED, districtlink.StatePROPOSED, districtlink.StateLINKED,
		districtlink.StatePAUSED, districtlink.StateDISCONNECTED} {
		st.Districts[v] = 0
	}
	var rows []struct {
		State districtlink.State `json:"state"`
		Count int                `json:"count"`
	}
	if err := c.DistrictLink.Query().GroupBy(districtlink.FieldState).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return st, fmt.Errorf("onboarding stats: %w", err)
	}
	for _, r := range rows {
		st.Districts[r.State] = r.Count
	}
	open, err := c.LinkProposal.Query().Where(linkproposal.StatusEQ(linkproposal.StatusOPEN)).
		Select(linkproposal.FieldDistrictID, linkproposal.FieldOrganizationID).All(ctx)
	if err != nil {
		return st, fmt.Errorf("onboarding stats: %w", err)
	}
	links, err := c.DistrictLink.Query().Where(districtlink.OrganizationIDNotNil()).All(ctx)
	if err != nil {
		return st, fmt.Errorf("onboarding stats: %w", err)
	}
	orgsOf := map[string]map[string]bool{} // district → organizations pointed at (open proposals and link)
	for _, l := range links {
		orgsOf[l.DistrictID] = map[string]bool{*l.OrganizationID: true}
	}
	for _, p := range open {
		if orgsOf[p.DistrictID] == nil {
			orgsOf[p.DistrictID] = map[string]bool{}
		}
		orgsOf[p.DistrictID][p.OrganizationID] = true
	}
	st.Open = len(open)
	for _, p := range open {
		if len(orgsOf[p.DistrictID]) > 1 {
			st.Conflicting++
		}
	}
	return st, nil
}
