package link

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/linkproposal"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/org"
)

// Scores of the signals: how strongly each ties a district to an organization. An e-mail domain scores
// between 0.2 and 0.7 by the share of the district's users on it.
const (
	ScoreLoginState   = 0.95 // a sign-in through the organization's invite
	ScoreMDR          = 0.9  // the same MDR number
	ScoreContactEmail = 0.85 // a sign-in by one of the organization's contacts
	ScoreLoginDomain  = 0.6  // a sign-in by a user on one of the organization's e-mail domains
	ScoreName         = 0.4  // the same name once normalised, in the same state
)

// Thresholds of the e-mail domain signal: a domain counts when at least minDomainShare of the district's
// users with an e-mail, or minDomainUsers of them, are on it.
const (
	minDomainShare = 0.1
	minDomainUsers = 10
)

// computed are the signals Evaluate works out from the mirror and the organizations (the others come
// from sign-ins).
var computed = []linkproposal.Signal{linkproposal.SignalMDR_NUMBER, linkproposal.SignalEMAIL_DOMAIN, linkproposal.SignalNAME}

// claim is one signal's claim that a district is an organization's.
type claim struct {
	districtID, organizationID string
	signal                     linkproposal.Signal
	key, evidence              string
	score                      float64
}

// raise records c as a proposal unless the same evidence was raised before: an open proposal gets the
// fresh evidence text and score, a rejected or accepted one stays as it was decided, and one superseded
// because its evidence went away opens again now that it is back. Nothing is raised for the organization
// the district is already linked to. It returns the proposal (nil when none was raised).
func raise(ctx context.Context, c *ent.Client, cl claim) (*ent.LinkProposal, error) {
	if linked, err := c.DistrictLink.Query().Where(districtlink.DistrictID(cl.districtID), districtlink.OrganizationID(cl.organizationID)).Exist(ctx); err != nil || linked {
		return nil, err
	}
	// Raised at the same moment elsewhere: the insert does nothing (a failed insert would abort a Postgres
	// transaction) and the row is read back.
	err := c.LinkProposal.Create().SetDistrictID(cl.districtID).SetOrganizationID(cl.organizationID).SetSignal(cl.signal).
		SetEvidenceKey(cl.key).SetEvidence(cl.evidence).SetScore(cl.score).
		OnConflictColumns(linkproposal.FieldDistrictID, linkproposal.FieldOrganizationID, linkproposal.FieldSignal, linkproposal.FieldEvidenceKey).
		DoNothing().Exec(ctx)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	p, err := c.LinkProposal.Query().Where(linkproposal.DistrictID(cl.districtID), linkproposal.OrganizationID(cl.organizationID),
		linkproposal.SignalEQ(cl.signal), linkproposal.EvidenceKey(cl.key)).Only(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Status == linkproposal.StatusSUPERSEDED:
		return p.Update().SetStatus(linkproposal.StatusOPEN).ClearDecidedAt().SetDecidedBy("").SetEvidence(cl.evidence).SetScore(cl.score).Save(ctx)
	case p.Status == linkproposal.StatusOPEN && (p.Evidence != cl.evidence || p.Score != cl.score):
		return p.Update().SetEvidence(cl.evidence).SetScore(cl.score).Save(ctx)
	}
	return p, nil
}

// OrganizationsChanged re-evaluates the computed signals (MDR number, e-mail domains, name) of the
// organizations against every district (internal/org calls it after a create, update or import).
func (s *Service) OrganizationsChanged(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.evaluate(ctx, nil, ids)
}

// Evaluate re-evaluates the computed signals of the districts against every organization (after a sync
// or a discovery).
func (s *Service) Evaluate(ctx context.Context, districtIDs ...string) error {
	if len(districtIDs) == 0 {
		return nil
	}
	return s.evaluate(ctx, districtIDs, nil)
}

// evaluate works out the computed claims between districts (nil: all) and organizations (nil: all),
// raises them, and supersedes the open computed proposals between them that no longer hold.
func (s *Service) evaluate(ctx context.Context, districtIDs, orgIDs []string) error {
	c := s.cfg.DB.Client
	dq := c.District.Query().Order(ent.Asc(district.FieldID))
	if districtIDs != nil {
		dq.Where(district.IDIn(districtIDs...))
	}
	districts, err := dq.All(ctx)
	if err != nil {
		return fmt.Errorf("evaluate link signals: %w", err)
	}
	oq := c.Organization.Query()
	if orgIDs != nil {
		oq.Where(organizationIn(orgIDs))
	}
	orgs, err := oq.All(ctx)
	if err != nil {
		return fmt.Errorf("evaluate link signals: %w", err)
	}
	if len(districts) == 0 || len(orgs) == 0 {
		return nil
	}
	ids := make([]string, len(districts))
	for i, d := range districts {
		ids[i] = d.ID
	}
	facts, err := s.facts(ctx, districts)
	if err != nil {
		return fmt.Errorf("evaluate link signals: %w", err)
	}
	domains, err := s.domainCounts(ctx, ids, orgDomains(orgs))
	if err != nil {
		return fmt.Errorf("evaluate link signals: %w", err)
	}
	var claims []claim
	for _, d := range districts {
		f := facts[d.ID]
		for _, o := range orgs {
			claims = append(claims, computedClaims(d, f, domains[d.ID], o)...)
		}
	}
	return s.inTx(ctx, func(tx *ent.Tx) error {
		tc := tx.Client()
		for _, id := range ids { // sorted: two evaluations lock in the same order
			if _, err := s.lock(ctx, tc, id); err != nil {
				return err
			}
		}
		kept := map[string]bool{}
		for _, cl := range claims {
			p, err := raise(ctx, tc, cl)
			if err != nil {
				return fmt.Errorf("raise %s proposal: %w", cl.signal, err)
			}
			if p != nil {
				kept[p.ID] = true
			}
		}
		stale := tc.LinkProposal.Update().Where(linkproposal.StatusEQ(linkproposal.StatusOPEN), linkproposal.SignalIn(computed...),
			linkproposal.IDNotIn(slices.Collect(maps.Keys(kept))...))
		if districtIDs != nil {
			stale.Where(linkproposal.DistrictIDIn(ids...))
		}
		if orgIDs != nil {
			stale.Where(linkproposal.OrganizationIDIn(orgIDs...))
		}
		if _, err := stale.SetStatus(linkproposal.StatusSUPERSEDED).SetDecidedAt(s.now()).SetDecidedBy("rostermirror: the evidence no longer holds").Save(ctx); err != nil {
			return err
		}
		for _, id := range ids {
			if err := resettle(ctx, tc, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// computedClaims are the MDR number, e-mail domain and name claims between one district and one
// organization.
func computedClaims(d *ent.District, f districtFacts, domains domainCount, o *ent.Organization) []claim {
	var out []claim
	if k := org.MDRKey(d.MdrNumber); k != "" && k == org.MDRKey(o.MdrNumber) {
		out = append(out, claim{d.ID, o.ID, linkproposal.SignalMDR_NUMBER, "mdr:" + k,
			fmt.Sprintf("the district's MDR number %s is the organization's (%s)", d.MdrNumber, o.MdrNumber), ScoreMDR})
	}
	for _, dom := range o.EmailDomains {
		n := domains.byDomain[dom]
		if n == 0 || org.IsPublicEmailDomain(dom) {
			continue
		}
		share := float64(n) / float64(domains.total)
		if share < minDomainShare && n < minDomainUsers {
			continue
		}
		out = append(out, claim{d.ID, o.ID, linkproposal.SignalEMAIL_DOMAIN, "domain:" + dom,
			fmt.Sprintf("%d of the district's %d synced users with an e-mail (%.0f%%) are on %s, one of the organization's domains", n, domains.total, 100*share, dom),
			round2(0.2 + 0.5*share)})
	}
	if n := NormalizeName(d.Name); n != "" && n == NormalizeName(o.Name) && f.state != "" && f.state == o.State {
		out = append(out, claim{d.ID, o.ID, linkproposal.SignalNAME, "name:" + n + "|" + f.state,
			fmt.Sprintf("the district %q (%s) has the organization's name once normalised, in the same state", d.Name, f.state), ScoreName})
	}
	return out
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func orgDomains(orgs []*ent.Organization) []string {
	set := map[string]bool{}
	for _, o := range orgs {
		for _, d := range o.EmailDomains {
			if !org.IsPublicEmailDomain(d) {
				set[d] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// districtFacts are what the pick-list and the name signal know of a district beyond its row.
type districtFacts struct {
	state   string // the US state most of its schools are in
	schools int    // its schools in the mirror, not archived
}

// facts works out the districts' US states and school counts. Clever's district object has no US state
// (its state is Clever's sync state): it is the state most of the district's schools are in, or the one
// its NCES id's FIPS prefix names.
func (s *Service) facts(ctx context.Context, districts []*ent.District) (map[string]districtFacts, error) {
	districtIDs := make([]string, len(districts))
	for i, d := range districts {
		districtIDs[i] = d.ID
	}
	var rows []struct {
		DistrictID string `json:"district_id"`
		State      string `json:"state"`
		Count      int    `json:"count"`
	}
	err := s.cfg.DB.Client.School.Query().Where(school.DistrictIDIn(districtIDs...), school.ArchivedAtIsNil()).
		GroupBy(school.FieldDistrictID, school.FieldState).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := map[string]districtFacts{}
	most := map[string]int{}
	for _, r := range rows {
		f := out[r.DistrictID]
		f.schools += r.Count
		if st := strings.ToUpper(strings.TrimSpace(r.State)); st != "" && (r.Count > most[r.DistrictID] || (r.Count == most[r.DistrictID] && st < f.state)) {
			f.state, most[r.DistrictID] = st, r.Count
		}
		out[r.DistrictID] = f
	}
	for _, d := range districts {
		if f := out[d.ID]; f.state == "" {
			f.state = ncesState(d.NcesID)
			out[d.ID] = f
		}
	}
	return out, nil
}

// domainCount is how a district's synced users (not archived, with an e-mail) spread over domains.
type domainCount struct {
	total    int
	byDomain map[string]int
}

// domainCounts counts the districts' users per e-mail domain, for the given domains only.
func (s *Service) domainCounts(ctx context.Context, districtIDs, domains []string) (map[string]domainCount, error) {
	out := map[string]domainCount{}
	if len(domains) == 0 {
		return out, nil
	}
	pg := s.cfg.DB.Dialect == dialect.Postgres
	domainExpr := "lower(substr(email, instr(email, '@') + 1))"
	if pg {
		domainExpr = "lower(split_part(email, '@', 2))"
	}
	args := []any{}
	ph := func(v string) string {
		args = append(args, v)
		if pg {
			return fmt.Sprintf("$%d", len(args))
		}
		return "?"
	}
	in := func(vs []string) string {
		p := make([]string, len(vs))
		for i, v := range vs {
			p[i] = ph(v)
		}
		return strings.Join(p, ", ")
	}
	where := func() string {
		return "archived_at IS NULL AND email LIKE '%@%' AND district_id IN (" + in(districtIDs) + ")"
	}
	// Placeholders are numbered (Postgres) or consumed (SQLite) in the order they appear.
	q := "SELECT district_id, '' AS domain, count(*) FROM users WHERE " + where() + " GROUP BY district_id"
	q += " UNION ALL SELECT district_id, " + domainExpr + " AS domain, count(*) FROM users WHERE " + where()
	q += " AND " + domainExpr + " IN (" + in(domains) + ") GROUP BY district_id, " + domainExpr
	rows, err := s.cfg.DB.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count e-mail domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, dom string
		var n int
		if err := rows.Scan(&d, &dom, &n); err != nil {
			return nil, err
		}
		dc := out[d]
		if dc.byDomain == nil {
			dc.byDomain = map[string]int{}
		}
		if dom == "" {
			dc.total = n
		} else {
			dc.byDomain[dom] = n
		}
		out[d] = dc
	}
	return out, rows.Err()
}

// SignedIn takes what a Clever sign-in tells of its district (internal/login calls it for every
// sign-in). Through an invite it raises a LOGIN_STATE proposal for the invite's organization, and links
// the district at once when the organization allows it, nothing disagrees and the person is one who may
// speak for the district (a district admin or staff member signing in with the district's authorization);
// any sign-in from an unlinked district by one of an organization's contacts, or a user on one of its
// e-mail domains, raises an INSTANT_LOGIN proposal. A district not in the mirror gets nothing.
func (s *Service) SignedIn(ctx context.Context, in SignIn) (SignInOutcome, error) {
	var out SignInOutcome
	if in.DistrictID == "" {
		return out, errors.New("sign-in without a district")
	}
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		out = SignInOutcome{}
		c := tx.Client()
		// A district whose record is not in the mirror (a teacher-authorized Library sign-in from a
		// district that never connected the app) is no onboarding evidence: nothing could be linked.
		if ok, err := c.District.Query().Where(districtIs(in.DistrictID)).Exist(ctx); err != nil || !ok {
			return err
		}
		l, err := s.lock(ctx, c, in.DistrictID)
		if err != nil {
			return err
		}
		who := cmpOr(in.Actor, "user "+in.UserID)
		var claims []claim
		var inviter *ent.Organization // the invite's organization
		if in.InviteOrganizationID != "" {
			o, err := c.Organization.Get(ctx, in.InviteOrganizationID)
			if ent.IsNotFound(err) {
				return fmt.Errorf("%w: the invite's organization %q no longer exists", ErrInvalid, in.InviteOrganizationID)
			} else if err != nil {
				return err
			}
			inviter = o
			claims = append(claims, claim{in.DistrictID, o.ID, linkproposal.SignalLOGIN_STATE, "user:" + in.UserID,
				fmt.Sprintf("%s (authorized by %s) signed in through an invite of %s (%s)", who, cmpOr(in.AuthorizedBy, "district"), o.Name, o.ExternalID),
				ScoreLoginState})
		} else if l.OrganizationID == nil && in.Email != "" {
			orgs, err := c.Organization.Query().All(ctx)
			if err != nil {
				return err
			}
			claims = append(claims, loginClaims(in, who, orgs)...)
		}
		for _, cl := range claims {
			p, err := raise(ctx, c, cl)
			if err != nil {
				return err
			}
			if p != nil && p.Status == linkproposal.StatusOPEN {
				out.Proposed = true
			}
		}
		if o := inviter; o != nil && l.OrganizationID == nil {
			conflict, err := conflicting(ctx, c, in.DistrictID, o.ID)
			if err != nil {
				return err
			}
			if o.AutoLinkInvites && !conflict && in.mayLink() {
				outcome, err := s.link(ctx, c, in.DistrictID, o.ID, string(linkproposal.SignalLOGIN_STATE), "invite: "+who, "")
				if err != nil {
					return err
				}
				out.Linked = true
				if err := audit.Record(ctx, c, audit.Entry{Actor: who, Action: audit.LinkDistrict, Target: in.DistrictID,
					Outcome: "auto-linked from an invite of an organization that allows it: " + outcome}); err != nil {
					return err
				}
			}
		}
		if l, err = c.DistrictLink.Get(ctx, l.ID); err != nil {
			return err
		}
		if l, err = settle(ctx, c, l); err != nil {
			return err
		}
		if l.OrganizationID != nil {
			out.OrganizationID = *l.OrganizationID
		}
		if in.InviteOrganizationID != "" {
			out.Conflict, err = conflicting(ctx, c, in.DistrictID, in.InviteOrganizationID)
		}
		return err
	})
	return out, err
}

// loginClaims are the INSTANT_LOGIN claims of a sign-in without an invite: the user is one of an
// organization's contacts, or on one of its e-mail domains.
func loginClaims(in SignIn, who string, orgs []*ent.Organization) []claim {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" {
		return nil
	}
	domain := org.EmailDomainOf(email) // "" for a public provider's: no domain evidence (a contact may still be there)
	var out []claim
	for _, o := range orgs {
		if slices.Contains(o.ContactEmails, email) {
			out = append(out, claim{in.DistrictID, o.ID, linkproposal.SignalINSTANT_LOGIN, "email:" + email,
				fmt.Sprintf("%s, one of the organization's contacts, signed in from this district", who), ScoreContactEmail})
		} else if domain != "" && slices.Contains(o.EmailDomains, domain) {
			out = append(out, claim{in.DistrictID, o.ID, linkproposal.SignalINSTANT_LOGIN, "domain:" + domain,
				fmt.Sprintf("%s signed in from this district with an e-mail on %s, one of the organization's domains", who, domain), ScoreLoginDomain})
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
