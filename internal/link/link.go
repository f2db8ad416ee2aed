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

// States are the districts' link states (DISCOVERED for a district no link row names yet), in one query.
func (s *Service) States(ctx context.Context, districtIDs []string) (map[string]districtlink.State, error) {
	links, err := s.cfg.DB.Client.DistrictLink.Query().Where(districtlink.DistrictIDIn(districtIDs...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("link states: %w", err)
	}
	out := make(map[string]districtlink.State, len(districtIDs))
	for _, id := range districtIDs {
		out[id] = districtlink.StateDISCOVERED
	}
	for _, l := range links {
		out[l.DistrictID] = l.State
	}
	return out, nil
}

// State is the district's link state.
func (s *Service) State(ctx context.Context, districtID string) (districtlink.State, error) {
	m, err := s.States(ctx, []string{districtID})
	return m[districtID], err
}

// Organizations are the organizations the districts are linked to (absent when unlinked), in one query.
func (s *Service) Organizations(ctx context.Context, districtIDs []string) (map[string]*ent.Organization, error) {
	links, err := s.cfg.DB.Client.DistrictLink.Query().
		Where(districtlink.DistrictIDIn(districtIDs...), districtlink.OrganizationIDNotNil()).WithOrganization().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("organizations of districts: %w", err)
	}
	out := make(map[string]*ent.Organization, len(links))
	for _, l := range links {
		out[l.DistrictID] = l.Edges.Organization
	}
	return out, nil
}

// Organization is the organization the district is linked to, nil when unlinked.
func (s *Service) Organization(ctx context.Context, districtID string) (*ent.Organization, error) {
	m, err := s.Organizations(ctx, []string{districtID})
	return m[districtID], err
}

// Conflicts reports, for each of the proposals, whether it is open and disagrees with another open
// proposal for its district or with the district's link — in a fixed number of queries.
func (s *Service) Conflicts(ctx context.Context, proposalIDs []string) (map[string]bool, error) {
	c := s.cfg.DB.Client
	ps, err := c.LinkProposal.Query().Where(linkproposal.IDIn(proposalIDs...), linkproposal.StatusEQ(linkproposal.StatusOPEN)).All(ctx)
	if err != nil || len(ps) == 0 {
		return map[string]bool{}, err
	}
	districts := make([]string, len(ps))
	for i, p := range ps {
		districts[i] = p.DistrictID
	}
	pointed, err := s.pointedAt(ctx, c, districts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ps))
	for _, p := range ps {
		for o := range pointed[p.DistrictID] {
			out[p.ID] = out[p.ID] || o != p.OrganizationID
		}
	}
	return out, nil
}

// pointedAt is, per district, the organizations its open proposals and its link point it at.
func (s *Service) pointedAt(ctx context.Context, c *ent.Client, districtIDs []string) (map[string]map[string]bool, error) {
	pq := c.LinkProposal.Query().Where(linkproposal.StatusEQ(linkproposal.StatusOPEN))
	if districtIDs != nil {
		pq.Where(linkproposal.DistrictIDIn(districtIDs...))
	}
	open, err := pq.Select(linkproposal.FieldDistrictID, linkproposal.FieldOrganizationID).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("open proposals: %w", err)
	}
	lq := c.DistrictLink.Query().Where(districtlink.OrganizationIDNotNil())
	if districtIDs != nil {
		lq.Where(districtlink.DistrictIDIn(districtIDs...))
	}
	links, err := lq.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	out := map[string]map[string]bool{}
	add := func(d, o string) {
		if out[d] == nil {
			out[d] = map[string]bool{}
		}
		out[d][o] = true
	}
	for _, l := range links {
		add(l.DistrictID, *l.OrganizationID)
	}
	for _, p := range open {
		add(p.DistrictID, p.OrganizationID)
	}
	return out, nil
}

// Conflict reports whether an open proposal disagrees with another open proposal for its district, or
// with the district's link.
func (s *Service) Conflict(ctx context.Context, p *ent.LinkProposal) (bool, error) {
	m, err := s.Conflicts(ctx, []string{p.ID})
	return m[p.ID], err
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
	pointed, err := s.pointedAt(ctx, c, nil)
	if err != nil {
		return st, fmt.Errorf("onboarding stats: %w", err)
	}
	st.Open = len(open)
	for _, p := range open {
		if len(pointed[p.DistrictID]) > 1 {
			st.Conflicting++
		}
	}
	return st, nil
}
