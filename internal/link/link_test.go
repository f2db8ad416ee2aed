package link_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/auditentry"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/ent/linkproposal"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/schedule"
)

var admin = auth.WithKey(context.Background(), auth.Key{ID: "k1", Name: "onboarding", Scopes: []auth.Scope{auth.ScopeAdmin}})

// fixture is a database seeded with mirrored rows the way a sync writes them, and a link service.
type fixture struct {
	t   *testing.T
	db  *store.DB
	svc *link.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	db := dbtest.New(t)
	return &fixture{t: t, db: db, svc: link.New(link.Config{DB: db})}
}

var synced = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// district seeds a district with schools in the given US states and users with the given e-mails.
func (f *fixture) district(id, name, mdr, nces string, schoolStates []string, emails ...string) {
	f.t.Helper()
	ctx := context.Background()
	c := f.db.Client
	must(f.t, c.District.Create().SetID(id).SetDistrictID(id).SetName(name).SetMdrNumber(mdr).SetNcesID(nces).
		SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(synced).Exec(ctx))
	for i, st := range schoolStates {
		must(f.t, c.School.Create().SetID(fmt.Sprintf("%s-s%d", id, i)).SetDistrictID(id).SetName("School").SetState(st).
			SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(synced).Exec(ctx))
	}
	for i, e := range emails {
		must(f.t, c.User.Create().SetID(fmt.Sprintf("%s-u%d", id, i)).SetDistrictID(id).SetEmail(e).
			SetRaw([]byte(`{}`)).SetContentHash("h").SetLastSyncedAt(synced).Exec(ctx))
	}
}

func (f *fixture) org(ext, name, mdr, state string, domains []string, mod ...func(*ent.OrganizationCreate)) *ent.Organization {
	f.t.Helper()
	cr := f.db.Client.Organization.Create().SetExternalID(ext).SetName(name).SetMdrNumber(mdr).SetState(state).SetEmailDomains(domains)
	for _, m := range mod {
		m(cr)
	}
	o, err := cr.Save(context.Background())
	must(f.t, err)
	return o
}

func (f *fixture) proposals(districtID string) []*ent.LinkProposal {
	f.t.Helper()
	ps, err := f.db.Client.LinkProposal.Query().Where(linkproposal.DistrictID(districtID)).Order(ent.Asc(linkproposal.FieldSignal)).All(context.Background())
	must(f.t, err)
	return ps
}

func (f *fixture) state(districtID string) districtlink.State {
	f.t.Helper()
	st, err := f.svc.State(context.Background(), districtID)
	must(f.t, err)
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Cedar Creek ISD", "cedar creek"},
		{"Cedar Creek Independent School District", "cedar creek"},
		{"Springfield Public Schools", "springfield"},
		{"St. Mary's School District", "st marys"},
		{"Saint Marys", "st marys"},
		{"Peñasco  Independent-School District", "penasco"},
		{"A & M Consolidated ISD", "a and m consolidated"},
		{"The Academy", "academy"},
		{"ISD", ""},
	} {
		if got := link.NormalizeName(tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMDRNumberSignal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d-mdr", "Lakeside School District", "01234567", "", []string{"TX"})
	f.district("d-nomdr", "Hillcrest ISD", "", "", []string{"TX"})
	withMDR := f.org("org-1", "Lake Co", "1234567", "TX", nil)
	f.org("org-empty", "Hill Group", "", "TX", nil) // no MDR on either side: never a match on empty
	f.org("org-other", "Other", "7654321", "TX", nil)
	must(t, f.svc.Evaluate(ctx, "d-mdr", "d-nomdr"))

	ps := f.proposals("d-mdr")
	if len(ps) != 1 || ps[0].Signal != linkproposal.SignalMDR_NUMBER || ps[0].OrganizationID != withMDR.ID || ps[0].Score != link.ScoreMDR {
		t.Fatalf("proposals of d-mdr = %+v, want one MDR_NUMBER for org-1", ps)
	}
	if !strings.Contains(ps[0].Evidence, "01234567") {
		t.Errorf("evidence %q does not show the MDR number", ps[0].Evidence)
	}
	if ps := f.proposals("d-nomdr"); len(ps) != 0 {
		t.Errorf("a district without an MDR number got proposals %+v", ps)
	}
	if st := f.state("d-mdr"); st != districtlink.StatePROPOSED {
		t.Errorf("state = %s, want PROPOSED", st)
	}
	if st := f.state("d-nomdr"); st != districtlink.StateDISCOVERED {
		t.Errorf("state = %s, want DISCOVERED", st)
	}
	// The organization's MDR number changes: the proposal's evidence is gone.
	must(t, f.db.Client.Organization.UpdateOne(withMDR).SetMdrNumber("").Exec(ctx))
	must(t, f.svc.OrganizationsChanged(ctx, []string{withMDR.ID}))
	if ps := f.proposals("d-mdr"); len(ps) != 1 || ps[0].Status != linkproposal.StatusSUPERSEDED {
		t.Fatalf("after the MDR went: %+v, want the proposal SUPERSEDED", ps)
	}
	if st := f.state("d-mdr"); st != districtlink.StateDISCOVERED {
		t.Errorf("state = %s, want DISCOVERED", st)
	}
}

func TestEmailDomainSignal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	emails := []string{"a@lakeside.k12.tx.us", "b@Lakeside.K12.TX.US", "c@lakeside.k12.tx.us", "d@gmail.com", "no-at-sign"}
	f.district("d1", "Lakeside", "", "", []string{"TX"}, emails...)
	o := f.org("org-1", "Lakeside Schools", "", "", []string{"lakeside.k12.tx.us", "gmail.com"})
	f.org("org-2", "Elsewhere", "", "", []string{"elsewhere.org"})
	must(t, f.svc.Evaluate(ctx, "d1"))
	ps := f.proposals("d1")
	if len(ps) != 1 || ps[0].Signal != linkproposal.SignalEMAIL_DOMAIN || ps[0].OrganizationID != o.ID {
		t.Fatalf("proposals = %+v, want one EMAIL_DOMAIN for org-1 (gmail.com is no evidence)", ps)
	}
	if want := "3 of the district's 4 synced users with an e-mail (75%) are on lakeside.k12.tx.us"; !strings.Contains(ps[0].Evidence, want) {
		t.Errorf("evidence %q, want it to contain %q", ps[0].Evidence, want)
	}
	if ps[0].Score >= link.ScoreMDR || ps[0].Score <= 0.2 {
		t.Errorf("score %v: a domain is a suggestion, weaker than an MDR number", ps[0].Score)
	}
}

func TestCandidatesTellSameNamesApart(t *testing.T) {
	f := newFixture(t)
	f.district("d-il", "Springfield Public Schools", "", "1700001", []string{"IL", "IL", "IL"})
	f.district("d-mo", "Springfield Public Schools", "2900002", "2900002", []string{"MO"})
	f.district("d-cedar", "Cedar Creek ISD", "", "", []string{"TX", "TX"})
	f.district("d-linked", "Springfield School District", "", "", []string{"IL"})
	o := f.org("org-spr", "Springfield School District", "", "IL", nil)
	other := f.org("org-x", "X", "", "", nil)
	if _, err := f.svc.LinkDistrict(admin, "d-linked", other.ID); err != nil {
		t.Fatal(err)
	}

	got, err := f.svc.Candidates(admin, o.ID, nil, nil)
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d candidates, want the 3 unlinked districts", len(got))
	}
	il, mo := got[0], got[1]
	if il.District.ID != "d-il" || mo.District.ID != "d-mo" || got[2].District.ID != "d-cedar" {
		t.Fatalf("ranking %s, %s, %s; want d-il (same name, same state), d-mo, d-cedar", il.District.ID, mo.District.ID, got[2].District.ID)
	}
	if il.State != "IL" || il.SchoolCount != 3 || il.NcesID != "1700001" || mo.State != "MO" || mo.SchoolCount != 1 || mo.MdrNumber != "2900002" {
		t.Errorf("facts: IL %+v, MO %+v", il, mo)
	}
	if !(il.Score > mo.Score) || !strings.Contains(il.Reason, "same state (IL)") || !strings.Contains(mo.Reason, "different state (MO") {
		t.Errorf("IL %v %q, MO %v %q: the same state must rank higher and say so", il.Score, il.Reason, mo.Score, mo.Reason)
	}
	// A search ranks by its own text.
	search := "cedar creek independent school district"
	got, err = f.svc.Candidates(admin, o.ID, &search, nil)
	must(t, err)
	if got[0].District.ID != "d-cedar" || got[0].Reason[:len("same name")] != "same name" {
		t.Errorf("search %q ranks %s first (%q)", search, got[0].District.ID, got[0].Reason)
	}
	if _, err := f.svc.Candidates(context.Background(), o.ID, nil, nil); !errors.Is(err, auth.ErrForbidden) && err == nil {
		t.Errorf("candidates without a key: %v, want refused", err)
	}
}

func TestLinkMoveUnlink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "Lakeside", "01234567", "", []string{"TX"}, "a@lakeside.org", "b@lakeside.org")
	wrong := f.org("org-wrong", "Wrong", "", "", nil)
	right := f.org("org-right", "Right", "1234567", "", nil)
	must(t, f.svc.Evaluate(ctx, "d1"))

	if _, err := f.svc.LinkDistrict(ctx, "d1", wrong.ID); err == nil {
		t.Fatal("linkDistrict without the admin scope succeeded")
	}
	if _, err := f.svc.LinkDistrict(admin, "d1", wrong.ID); err != nil {
		t.Fatal(err)
	}
	if st := f.state("d1"); st != districtlink.StateLINKED {
		t.Fatalf("state %s, want LINKED", st)
	}
	// The MDR proposal for the right organization now disagrees with the link.
	mdr := f.proposals("d1")[0]
	if c, err := f.svc.Conflict(ctx, mdr); err != nil || !c {
		t.Errorf("conflict = %v, %v; want true: the district is linked elsewhere", c, err)
	}
	users := f.db.Client.User.Query().CountX(ctx)
	// Moved to the right organization: the mirrored data stays as it was.
	if _, err := f.svc.LinkDistrict(admin, "d1", right.ID); err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.Organization(ctx, "d1")
	must(t, err)
	if o == nil || o.ID != right.ID {
		t.Fatalf("organization = %v, want org-right", o)
	}
	if n := f.db.Client.User.Query().CountX(ctx); n != users {
		t.Errorf("users %d → %d: a link must not touch mirrored data", users, n)
	}
	if p := f.db.Client.LinkProposal.GetX(ctx, mdr.ID); p.Status != linkproposal.StatusACCEPTED {
		t.Errorf("the MDR proposal for the organization linked to is %s, want ACCEPTED", p.Status)
	}
	if _, err := f.svc.UnlinkDistrict(admin, "d1"); err != nil {
		t.Fatal(err)
	}
	if st := f.state("d1"); st != districtlink.StateDISCOVERED {
		t.Errorf("after unlink: %s, want DISCOVERED", st)
	}
	if _, err := f.svc.UnlinkDistrict(admin, "d1"); !errors.Is(err, link.ErrInvalid) {
		t.Errorf("unlinking an unlinked district: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.LinkDistrict(admin, "nope", right.ID); !errors.Is(err, link.ErrNotFound) {
		t.Errorf("linking an unknown district: %v, want ErrNotFound", err)
	}
	// The move rejected the wrong organization's accepted proposals: the same evidence will not propose
	// the wrong link again.
	for _, p := range f.proposals("d1") {
		if p.OrganizationID == wrong.ID && p.Status != linkproposal.StatusREJECTED {
			t.Errorf("proposal for the wrong organization is %s after the move, want REJECTED", p.Status)
		}
	}
	actions := f.db.Client.AuditEntry.Query().Order(ent.Asc(auditentry.FieldAt)).Select(auditentry.FieldAction).StringsX(ctx)
	if want := "linkDistrict linkDistrict unlinkDistrict"; strings.Join(actions, " ") != want {
		t.Errorf("audit log %v, want %s", actions, want)
	}
	outcomes := f.db.Client.AuditEntry.Query().Select(auditentry.FieldOutcome).StringsX(ctx)
	if !strings.Contains(strings.Join(outcomes, "|"), "moved from organization "+wrong.ID) {
		t.Errorf("audit outcomes %q do not record the move", outcomes)
	}
}

func TestRejectedProposalIsNotRaisedAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "Lakeside", "1234567", "", []string{"TX"})
	f.org("org-1", "Lakeside", "1234567", "", nil)
	must(t, f.svc.Evaluate(ctx, "d1"))
	p := f.proposals("d1")[0]
	if _, err := f.svc.RejectProposal(admin, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RejectProposal(admin, p.ID); !errors.Is(err, link.ErrInvalid) {
		t.Errorf("rejecting twice: %v, want ErrInvalid", err)
	}
	must(t, f.svc.Evaluate(ctx, "d1"))
	ps := f.proposals("d1")
	if len(ps) != 1 || ps[0].Status != linkproposal.StatusREJECTED {
		t.Fatalf("after re-evaluation: %+v, want the one proposal still REJECTED", ps)
	}
	if st := f.state("d1"); st != districtlink.StateDISCOVERED {
		t.Errorf("state %s, want DISCOVERED", st)
	}
	// Accepting an open one links.
	f.org("org-2", "Lakeside 2", "", "", []string{"lakeside.org"})
	f.district("d2", "Lakeside 2", "01234567", "", nil)
	must(t, f.svc.Evaluate(ctx, "d2"))
	p2 := f.proposals("d2")[0]
	if _, err := f.svc.AcceptProposal(admin, p2.ID); err != nil {
		t.Fatal(err)
	}
	if st := f.state("d2"); st != districtlink.StateLINKED {
		t.Errorf("after accepting: %s, want LINKED", st)
	}
}

func TestSignInSignals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "Lakeside", "", "", nil)
	f.district("d2", "Hillcrest", "", "", nil)
	f.district("d3", "Auto", "", "", nil)
	a := f.org("org-a", "A", "", "", []string{"lakeside.org"}, func(c *ent.OrganizationCreate) { c.SetContactEmails([]string{"boss@hillcrest.org"}) })
	b := f.org("org-b", "B", "", "", nil)
	auto := f.org("org-auto", "Auto", "", "", nil, func(c *ent.OrganizationCreate) { c.SetAutoLinkInvites(true) })

	// Two users of one district follow invites of two organizations: a conflict, no link.
	out, err := f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d1", UserID: "u1", InviteOrganizationID: a.ID, AuthorizedBy: "district"})
	must(t, err)
	if !out.Proposed || out.Linked || out.Conflict {
		t.Errorf("first invite: %+v, want proposed only", out)
	}
	out, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d1", UserID: "u2", InviteOrganizationID: b.ID})
	must(t, err)
	if !out.Conflict || out.Linked || out.OrganizationID != "" {
		t.Errorf("second invite for another organization: %+v, want a conflict and no link", out)
	}
	for _, p := range f.proposals("d1") {
		if c, _ := f.svc.Conflict(ctx, p); !c || p.Signal != linkproposal.SignalLOGIN_STATE {
			t.Errorf("proposal %s (%s): conflict %v, want true", p.ID, p.Signal, c)
		}
	}
	if st := f.state("d1"); st != districtlink.StatePROPOSED {
		t.Errorf("d1 %s, want PROPOSED", st)
	}

	// Instant Login by a contact of an organization.
	out, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d2", UserID: "u3", Email: "Boss@Hillcrest.org"})
	must(t, err)
	ps := f.proposals("d2")
	if !out.Proposed || len(ps) != 1 || ps[0].Signal != linkproposal.SignalINSTANT_LOGIN || ps[0].OrganizationID != a.ID || ps[0].Score != link.ScoreContactEmail {
		t.Errorf("contact sign-in: %+v %+v", out, ps)
	}
	// ... and by a user on an organization's domain; the same domain again raises nothing new.
	for _, u := range []string{"u4", "u5"} {
		_, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d3", UserID: u, Email: u + "@lakeside.org"})
		must(t, err)
	}
	if ps := f.proposals("d3"); len(ps) != 1 || ps[0].Score != link.ScoreLoginDomain {
		t.Errorf("domain sign-ins: %+v, want one INSTANT_LOGIN proposal", ps)
	}

	// An invite of an organization that allows it links at once — unless something disagrees.
	out, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d2", UserID: "u6", InviteOrganizationID: auto.ID})
	must(t, err)
	if out.Linked || !out.Conflict {
		t.Errorf("auto-link invite against an open proposal for another organization: %+v, want no link, a conflict", out)
	}
	f.district("d4", "Fresh", "", "", nil)
	// A student, or a teacher through Clever Library, does not speak for the district: proposed only.
	for _, in := range []link.SignIn{{UserID: "s1", Roles: []string{"student"}}, {UserID: "t1", Roles: []string{"teacher", "staff"}, AuthorizedBy: "teacher"}} {
		in.DistrictID, in.InviteOrganizationID = "d4", auto.ID
		out, err = f.svc.SignedIn(ctx, in)
		must(t, err)
		if out.Linked || !out.Proposed {
			t.Errorf("sign-in of %v (authorized by %q) through an auto-link invite: %+v, want proposed only", in.Roles, in.AuthorizedBy, out)
		}
	}
	out, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d4", UserID: "u7", Roles: []string{"district_admin"}, AuthorizedBy: "district", InviteOrganizationID: auto.ID})
	must(t, err)
	if !out.Linked || out.OrganizationID != auto.ID || f.state("d4") != districtlink.StateLINKED {
		t.Errorf("auto-link invite: %+v, state %s; want linked", out, f.state("d4"))
	}
	// A sign-in from a linked district raises no Instant Login proposal.
	_, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d4", UserID: "u8", Email: "boss@hillcrest.org"})
	must(t, err)
	if ps := f.proposals("d4"); len(ps) != 3 {
		t.Errorf("linked district: %d proposals, want only the three invites'", len(ps))
	}
	// A sign-in from a district the mirror does not hold (a Library teacher whose district never
	// connected the app) is no evidence.
	out, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "not-mirrored", UserID: "u9", Email: "boss@hillcrest.org", InviteOrganizationID: a.ID})
	must(t, err)
	if out != (link.SignInOutcome{}) || len(f.proposals("not-mirrored")) != 0 {
		t.Errorf("sign-in from an unmirrored district: %+v, %d proposals", out, len(f.proposals("not-mirrored")))
	}
}

// listed is a fixed list of connected districts (the token store's Connected).
type listed []string

func (l *listed) Connected(context.Context) ([]string, error) { return *l, nil }

func TestDiscoveryPauseAndDisconnect(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "One", "", "", nil)
	f.district("d2", "Two", "", "", nil)
	o := f.org("org", "Org", "", "", nil)
	ids := listed{"d1", "d2", "d3"} // d3's record is not in the mirror yet
	var started []string
	disc := f.svc.Discovery(&ids, nil)
	disc.StartSync = func(id string) { started = append(started, id) }
	got, err := disc.Connected(ctx)
	must(t, err)
	if strings.Join(got, ",") != "d1,d2,d3" || strings.Join(started, ",") != "d1,d2,d3" {
		t.Fatalf("listed %v, first syncs %v", got, started)
	}
	for _, id := range ids {
		if st := f.state(id); st != districtlink.StateDISCOVERED {
			t.Errorf("%s is %s, want DISCOVERED", id, st)
		}
	}
	if _, err := f.svc.LinkDistrict(admin, "d1", o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PauseDistrict(admin, "d2"); err != nil {
		t.Fatal(err)
	}
	started = nil
	if got, _ = disc.Connected(ctx); strings.Join(got, ",") != "d1,d3" || len(started) != 0 {
		t.Errorf("after pausing d2: listed %v (want d1,d3), started %v (want none)", got, started)
	}
	if st := f.state("d2"); st != districtlink.StatePAUSED {
		t.Errorf("d2 %s, want PAUSED", st)
	}
	// A scheduled run of a paused district is skipped; a run by hand goes on.
	runs := &countingSyncer{}
	sy := f.svc.Syncer(runs)
	res, err := sy.SyncDistrict(ctx, "d2", mirror.Options{Trigger: schedule.Trigger})
	if err != nil || res.Status != link.StatusPaused || runs.n != 0 {
		t.Errorf("scheduled run of a paused district: %+v %v, %d runs", res, err, runs.n)
	}
	if _, err := sy.SyncDistrict(ctx, "d2", mirror.Options{Trigger: "api"}); err != nil || runs.n != 1 {
		t.Errorf("run by hand of a paused district: %v, %d runs", err, runs.n)
	}
	if _, err := f.svc.ResumeDistrict(admin, "d2"); err != nil {
		t.Fatal(err)
	}
	// d1's token goes (Clever no longer lists it): DISCONNECTED, its link kept; it comes back LINKED.
	must(t, f.db.Client.DistrictToken.Create().SetID("d1").SetCiphertext([]byte("x")).SetSource(districttoken.SourceOAuth).
		SetStatus(districttoken.StatusRevoked).SetUpdatedAt(synced).Exec(ctx))
	ids = listed{"d2", "d3"}
	_, err = disc.Connected(ctx)
	must(t, err)
	if st := f.state("d1"); st != districtlink.StateDISCONNECTED {
		t.Errorf("d1 %s, want DISCONNECTED", st)
	}
	if o2, _ := f.svc.Organization(ctx, "d1"); o2 == nil || o2.ID != o.ID {
		t.Errorf("a disconnected district keeps its organization; got %v", o2)
	}
	must(t, f.db.Client.DistrictToken.UpdateOneID("d1").SetStatus(districttoken.StatusOk).Exec(ctx))
	ids = listed{"d1", "d2", "d3"}
	_, err = disc.Connected(ctx)
	must(t, err)
	if st := f.state("d1"); st != districtlink.StateLINKED {
		t.Errorf("d1 back: %s, want LINKED", st)
	}
	actions := f.db.Client.AuditEntry.Query().Select(auditentry.FieldAction).StringsX(ctx)
	if !strings.Contains(strings.Join(actions, " "), "pauseDistrict") || !strings.Contains(strings.Join(actions, " "), "resumeDistrict") {
		t.Errorf("audit %v lacks pause and resume", actions)
	}
}

type countingSyncer struct{ n int }

func (c *countingSyncer) SyncDistrict(_ context.Context, id string, _ mirror.Options) (mirror.Result, error) {
	c.n++
	return mirror.Result{DistrictID: id, Status: mirror.StatusSucceeded}, nil
}

// TestEvidenceBackAfterItWent: a proposal superseded because its evidence went away opens again when the
// evidence comes back (only a rejection sticks).
func TestEvidenceBackAfterItWent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d", "Lakeside School District", "01234567", "", []string{"TX"})
	o := f.org("o", "Lake Co", "1234567", "TX", nil)
	must(t, f.svc.Evaluate(ctx, "d"))
	must(t, f.db.Client.Organization.UpdateOne(o).SetMdrNumber("").Exec(ctx))
	must(t, f.svc.OrganizationsChanged(ctx, []string{o.ID}))
	if st := f.state("d"); st != districtlink.StateDISCOVERED {
		t.Fatalf("evidence gone: %s, want DISCOVERED", st)
	}
	must(t, f.db.Client.Organization.UpdateOne(o).SetMdrNumber("1234567").Exec(ctx))
	must(t, f.svc.OrganizationsChanged(ctx, []string{o.ID}))
	if ps := f.proposals("d"); len(ps) != 1 || ps[0].Status != linkproposal.StatusOPEN || f.state("d") != districtlink.StatePROPOSED {
		t.Errorf("evidence back: %+v, state %s; want the proposal OPEN again", ps, f.state("d"))
	}
}

// TestConcurrentSignIns: sign-ins at the same moment (two invites of two auto-linking organizations; the
// same user twice) neither link a district twice nor fail on a proposal raised meanwhile. Postgres is
// where this can go wrong (SQLite serialises writers).
func TestConcurrentSignIns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	domainOrg := f.org("dom", "Hill", "", "TX", []string{"hill.org"})
	for i := range 10 {
		d := fmt.Sprintf("race-d%d", i)
		f.district(d, "Race District", "", "", []string{"TX"})
		a := f.org(fmt.Sprintf("a%d", i), "Org A", "", "TX", nil, func(c *ent.OrganizationCreate) { c.SetAutoLinkInvites(true) })
		b := f.org(fmt.Sprintf("b%d", i), "Org B", "", "TX", nil, func(c *ent.OrganizationCreate) { c.SetAutoLinkInvites(true) })
		must(t, f.svc.Evaluate(ctx, d)) // discovered first, as in production: its link row exists
		ins := []link.SignIn{
			{UserID: "admin-a", InviteOrganizationID: a.ID}, {UserID: "admin-b", InviteOrganizationID: b.ID},
			{UserID: "same", Email: "x@hill.org"}, {UserID: "same", Email: "x@hill.org"},
		}
		outs := make([]link.SignInOutcome, len(ins))
		errs := make([]error, len(ins))
		var wg sync.WaitGroup
		for j, in := range ins {
			in.DistrictID, in.Roles, in.AuthorizedBy = d, []string{"district_admin"}, "district"
			wg.Go(func() { outs[j], errs[j] = f.svc.SignedIn(ctx, in) })
		}
		wg.Wait()
		linked := 0
		for j, err := range errs {
			if err != nil {
				t.Errorf("round %d: sign-in %d failed: %v", i, j, err)
			}
			if outs[j].Linked {
				linked++
			}
		}
		accepted := f.db.Client.LinkProposal.Query().Where(linkproposal.DistrictID(d), linkproposal.StatusEQ(linkproposal.StatusACCEPTED)).CountX(ctx)
		if linked > 1 || accepted > 1 {
			t.Errorf("round %d: %d sign-ins linked the district, %d proposals accepted: a conflict linked", i, linked, accepted)
		}
		// (none when an invite linked the district first: a linked district's sign-ins propose nothing)
		if n := f.db.Client.LinkProposal.Query().Where(linkproposal.DistrictID(d), linkproposal.OrganizationID(domainOrg.ID)).CountX(ctx); n > 1 {
			t.Errorf("round %d: %d proposals for the same user's same evidence, want at most 1", i, n)
		}
	}
}

func TestStats(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "One", "1234567", "", nil)
	f.district("d2", "Two", "", "", nil)
	a := f.org("a", "A", "1234567", "", nil)
	b := f.org("b", "B", "", "", nil)
	must(t, f.svc.Evaluate(ctx, "d1", "d2"))
	_, err := f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d1", UserID: "u", InviteOrganizationID: b.ID})
	must(t, err)
	st, err := f.svc.Stats(ctx)
	must(t, err)
	if st.Districts[districtlink.StatePROPOSED] != 1 || st.Districts[districtlink.StateDISCOVERED] != 1 || st.Districts[districtlink.StateLINKED] != 0 ||
		st.Open != 2 || st.Conflicting != 2 {
		t.Errorf("stats %+v, want d1 PROPOSED with two conflicting proposals, d2 DISCOVERED", st)
	}
	if _, err := f.svc.LinkDistrict(admin, "d1", a.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ = f.svc.Stats(ctx); st.Districts[districtlink.StateLINKED] != 1 || st.Open != 1 || st.Conflicting != 1 {
		t.Errorf("after linking d1 to a: %+v, want the invite's proposal for b open and in conflict with the link", st)
	}
}

// TestSignInOnWebmail: a sign-in on a public provider's address is no domain evidence — even when an
// organization lists that domain by mistake — but a known contact's address there still is.
func TestSignInOnWebmail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.district("d1", "One", "", "", nil)
	f.district("d2", "Two", "", "", nil)
	o := f.org("o", "Org", "", "", []string{"gmail.com"}, func(c *ent.OrganizationCreate) { c.SetContactEmails([]string{"boss@gmail.com"}) })
	_, err := f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d1", UserID: "u1", Email: "student@gmail.com"})
	must(t, err)
	if ps := f.proposals("d1"); len(ps) != 0 {
		t.Errorf("a gmail.com sign-in proposed %+v", ps)
	}
	_, err = f.svc.SignedIn(ctx, link.SignIn{DistrictID: "d2", UserID: "u2", Email: "Boss@Gmail.com"})
	must(t, err)
	if ps := f.proposals("d2"); len(ps) != 1 || ps[0].OrganizationID != o.ID || ps[0].Score != link.ScoreContactEmail {
		t.Errorf("a contact's sign-in on gmail.com: %+v, want the contact proposal", ps)
	}
}
