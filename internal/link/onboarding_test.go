package link_test

import (
	"context"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/ent/linkproposal"
	"github.com/rostermirror/rostermirror/ent/organization"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/org"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// Districts of synth.Onboarding().
const (
	demoDistrict   = "643744a5e1d2c30001d3e00a"
	springfieldIL  = "66af8a2f0e035dc8b50f68f6"
	springfieldMO  = "66c1ff2febbb0d46bfc19fb5"
	riverbend      = "66d5c5af56a8439d5b2a76eb"
	cedarCreek     = "66e6e92f71806554722343ed"
	stMarys        = "66faafaf036e5f34435a4eeb"
	brightHorizons = "670bd32f842f91700214eaa0"
)

// TestOnboardingAgainstTheSimulator takes the multi-district dataset through discovery, the
// organizations CSV and a sync of every district, with the real token store listing Clever's tokens:
// every district shows with its facts before anyone acts, each computed signal finds its organization,
// same-name districts are told apart, a rotated token leaves the link as it was, and a disconnection
// keeps it.
func TestOnboardingAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, err := cleversim.New(cleversim.Config{Dataset: synth.Onboarding()})
	must(t, err)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := clever.New(clever.Config{APIURL: srv.URL, OAuthURL: srv.URL, ClientID: cleversim.DefaultClientID, ClientSecret: cleversim.DefaultClientSecret,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	db := dbtest.New(t)
	key, err := secret.GenerateKey()
	must(t, err)
	box, err := secret.NewBox(key)
	must(t, err)
	ts, err := tokens.New(tokens.Config{DB: db, Box: box, OAuth: c})
	must(t, err)
	engine, err := mirror.New(mirror.Config{DB: db, Reader: func(tok clever.Token) mirror.Reader { return c.WithToken(tok) }, Tokens: ts})
	must(t, err)
	svc := link.New(link.Config{DB: db})
	disc := svc.Discovery(ts, engine)

	// Discovery: every district, DISCOVERED, with its Clever facts, before any sync.
	ids, err := disc.Connected(ctx)
	must(t, err)
	want := []string{demoDistrict, springfieldIL, springfieldMO, riverbend, cedarCreek, stMarys, brightHorizons}
	if !sameSet(ids, want) {
		t.Fatalf("connected %v, want the 7 districts", ids)
	}
	if n := db.Client.SyncRun.Query().CountX(ctx); n != 0 {
		t.Fatalf("%d sync runs: discovery must not need one", n)
	}
	for _, id := range want {
		d, err := db.Client.District.Get(ctx, id)
		if err != nil {
			t.Fatalf("district %s not in the mirror after discovery: %v", id, err)
		}
		if d.Name == "" || len(d.LoginMethods) == 0 || d.LaunchDate == nil {
			t.Errorf("district %s lacks its Clever facts: %+v", id, d)
		}
		if st, _ := svc.State(ctx, id); st != districtlink.StateDISCOVERED {
			t.Errorf("%s is %s, want DISCOVERED", id, st)
		}
	}
	if d := db.Client.District.GetX(ctx, springfieldIL); d.MdrNumber != "00618843" {
		t.Errorf("Springfield IL's MDR %q", d.MdrNumber)
	}

	// The app's customers, then a sync of every district (e-mail domains need the users).
	f, err := os.Open("../../testdata/onboarding-organizations.csv")
	must(t, err)
	defer f.Close()
	orgs := org.New(db, svc)
	if _, err := orgs.Import(ctx, f, "test"); err != nil {
		t.Fatal(err)
	}
	synced := svc.Syncer(engine)
	for _, id := range want {
		res, err := synced.SyncDistrict(ctx, id, mirror.Options{Trigger: "test"})
		if err != nil || res.Status != mirror.StatusSucceeded {
			t.Fatalf("sync %s: %v %+v", id, err, res.Errors)
		}
	}
	orgID := func(ext string) string {
		return db.Client.Organization.Query().Where(organization.ExternalID(ext)).OnlyIDX(ctx)
	}
	type sig struct{ org, signal string }
	proposed := func(districtID string) []sig {
		var out []sig
		for _, p := range db.Client.LinkProposal.Query().Where(linkproposal.DistrictID(districtID), linkproposal.StatusEQ(linkproposal.StatusOPEN)).AllX(ctx) {
			ext := db.Client.Organization.GetX(ctx, p.OrganizationID).ExternalID
			out = append(out, sig{ext, string(p.Signal)})
		}
		slices.SortFunc(out, func(a, b sig) int { return strings.Compare(a.org+a.signal, b.org+b.signal) })
		return out
	}
	for _, tc := range []struct {
		district string
		want     []sig
	}{
		{demoDistrict, []sig{{"org-demo", "MDR_NUMBER"}}},
		// MDR written without its leading zeros; its domain; its name in its state — not Springfield MO's.
		{springfieldIL, []sig{{"org-springfield-il", "EMAIL_DOMAIN"}, {"org-springfield-il", "MDR_NUMBER"}, {"org-springfield-il", "NAME"}}},
		{springfieldMO, []sig{{"org-springfield-mo", "NAME"}}},
		{riverbend, []sig{{"org-riverbend", "EMAIL_DOMAIN"}}}, // no MDR on the district: no MDR signal
		{cedarCreek, []sig{{"org-cedar-creek", "NAME"}}},      // "ISD" = "Independent School District"
		{stMarys, []sig{{"org-st-marys", "NAME"}}},            // punctuation set aside
		{brightHorizons, nil}, // left for the invite
	} {
		if got := proposed(tc.district); !slices.Equal(got, tc.want) {
			t.Errorf("district %s: proposals %v, want %v", tc.district, got, tc.want)
		}
	}
	if st, _ := svc.State(ctx, springfieldIL); st != districtlink.StatePROPOSED {
		t.Errorf("Springfield IL %s, want PROPOSED", st)
	}

	// The pick-list tells the two Springfields apart.
	mo := orgID("org-springfield-mo")
	cands, err := svc.Candidates(admin, mo, nil, nil)
	must(t, err)
	if cands[0].District.ID != springfieldMO || cands[1].District.ID != springfieldIL {
		t.Fatalf("candidates for Springfield MO: %s, %s first", cands[0].District.ID, cands[1].District.ID)
	}
	if cands[0].State != "MO" || cands[1].State != "IL" || cands[0].SchoolCount != 5 || cands[1].SchoolCount != 3 ||
		cands[0].MdrNumber == cands[1].MdrNumber || cands[0].NcesID == cands[1].NcesID {
		t.Errorf("the same-name candidates are not told apart: %+v / %+v", cands[0], cands[1])
	}

	// Linked by accepting the MDR proposal; the token rotates between two syncs: the link stays.
	p := db.Client.LinkProposal.Query().Where(linkproposal.DistrictID(springfieldIL), linkproposal.SignalEQ(linkproposal.SignalMDR_NUMBER)).OnlyX(ctx)
	if _, err := svc.AcceptProposal(admin, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.RotateToken(springfieldIL); err != nil {
		t.Fatal(err)
	}
	if _, err := disc.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := synced.SyncDistrict(ctx, springfieldIL, mirror.Options{Trigger: "test"})
	if err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync after the token rotated: %v %+v", err, res.Errors)
	}
	if st, _ := svc.State(ctx, springfieldIL); st != districtlink.StateLINKED {
		t.Errorf("after a token rotation: %s, want LINKED", st)
	}
	if o, _ := svc.Organization(ctx, springfieldIL); o == nil || o.ExternalID != "org-springfield-il" {
		t.Errorf("after a token rotation the organization is %v", o)
	}

	// The district disconnects the app: DISCONNECTED, its link and data kept.
	users := db.Client.User.Query().CountX(ctx)
	must(t, sim.RemoveDistrict(springfieldIL))
	if _, err := disc.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := svc.State(ctx, springfieldIL); st != districtlink.StateDISCONNECTED {
		t.Errorf("after the district disconnected: %s, want DISCONNECTED", st)
	}
	if o, _ := svc.Organization(ctx, springfieldIL); o == nil || db.Client.User.Query().CountX(ctx) != users {
		t.Errorf("a disconnection must keep the link (%v) and the data", o)
	}
	if n := db.Client.SyncRun.Query().Where(syncrun.DistrictID(springfieldIL)).CountX(ctx); n != 2 {
		t.Errorf("%d runs of Springfield IL, want 2", n)
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
