package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/testlog"
)

// Districts and people of synth.Onboarding() (the demo's dataset).
const (
	obDemo            = "643744a5e1d2c30001d3e00a"
	obSpringIL        = "66af8a2f0e035dc8b50f68f6"
	obSpringMO        = "66c1ff2febbb0d46bfc19fb5"
	obRiverbend       = "66d5c5af56a8439d5b2a76eb"
	obCedarCreek      = "66e6e92f71806554722343ed"
	obStMarys         = "66faafaf036e5f34435a4eeb"
	obBright          = "670bd32f842f91700214eaa0"
	obStMarysBoss     = "66fc014ba1427d6d00000001" // a district admin, org-st-marys's contact
	obBrightBoss      = "670d24cb03bf3fc900000001" // a district admin of the charter
	obSpringMOBoss    = "66c350cbfeb55ef400000001" // a district admin of Springfield MO
	obSpringMOTeacher = "66c350c39994600d00000001"
)

// demoServer is `rostermirror demo` running for a test.
type demoServer struct {
	t    *testing.T
	base string
	key  string
	env  env
}

func startDemo(t *testing.T) *demoServer {
	t.Helper()
	e := env{envDatabaseURL: "file:" + t.TempDir() + "/demo.db"}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	out := &testlog.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", addr}, strings.NewReader(""), out, io.Discard, e.get)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("demo exited %d", code)
		}
	})
	var key string
	for deadline := time.Now().Add(60 * time.Second); key == ""; time.Sleep(50 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if k, ok := strings.CutPrefix(strings.TrimSpace(line), "API key:"); ok {
				key = strings.Fields(k)[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no API key:\n%s", out.String())
		}
	}
	return &demoServer{t: t, base: "http://" + addr, key: key, env: e}
}

// gql runs a GraphQL operation that must succeed and decodes its data into v.
func (d *demoServer) gql(query string, vars map[string]any, v any) {
	d.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, d.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		d.t.Fatalf("%s: %v %v", query, err, r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		d.t.Fatal(err)
	}
}

// noFollow is a client that shows each redirect instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// getNoFollow GETs u and returns the response's status, Location and body.
func getNoFollow(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestOnboardingInTheDemo is the "done when": in `rostermirror demo` (the multi-district
// dataset), an admin takes every district from DISCOVERED to LINKED by each method — the organizations
// CSV through the CLI, then only GraphQL and Clever sign-ins: an invite signed in through (LOGIN_STATE,
// auto-linked), an Instant Login by an organization's contact (INSTANT_LOGIN), the MDR number, an e-mail
// domain, a normalised name, and the pick-list for a name shared by two districts.
func TestOnboardingInTheDemo(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	type district struct {
		CleverID, Name, LinkState string
		Organization              *struct{ ExternalID string }
	}
	states := func() map[string]district {
		var ds struct {
			Districts struct{ Edges []struct{ Node district } }
		}
		d.gql(`{ districts { edges { node { cleverId name linkState organization { externalId } } } } }`, nil, &ds)
		out := map[string]district{}
		for _, e := range ds.Districts.Edges {
			out[e.Node.CleverID] = e.Node
		}
		return out
	}
	// Discovered: all seven, none linked, before any organization exists.
	var ds map[string]district
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ds = states(); len(ds) == 7 && ds[obBright].LinkState == "DISCOVERED" || time.Now().After(deadline) {
			break
		}
	}
	for id, n := range ds {
		if n.LinkState != "DISCOVERED" {
			t.Errorf("%s (%s) is %s before any organization exists, want DISCOVERED", n.Name, id, n.LinkState)
		}
	}

	// The customers, from the CSV, with the CLI (the demo's database, while it serves).
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"org", "import", "../../testdata/onboarding-organizations.csv"}, nil, &stdout, &stderr, d.env.get); code != exitOK {
		t.Fatalf("org import → %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var orgs struct {
		Organizations struct {
			Edges []struct {
				Node struct{ ID, ExternalID string }
			}
		}
	}
	d.gql(`{ organizations(first: 20) { edges { node { id externalId } } } }`, nil, &orgs)
	orgID := map[string]string{}
	for _, e := range orgs.Organizations.Edges {
		orgID[e.Node.ExternalID] = e.Node.ID
	}
	if len(orgID) != 8 {
		t.Fatalf("organizations after the import: %v", orgID)
	}

	// LOGIN_STATE: an invite of an organization that auto-links, signed in through by the charter's admin.
	var inv struct{ CreateDistrictInvite struct{ URL string } }
	d.gql(`mutation($o: ID!) { createDistrictInvite(organizationId: $o) { url expiresAt } }`, map[string]any{"o": orgID["org-bright-horizons"]}, &inv)
	if !strings.HasPrefix(inv.CreateDistrictInvite.URL, d.base+"/auth/clever/login?invite=") {
		t.Fatalf("invite URL %q", inv.CreateDistrictInvite.URL)
	}
	// signIn follows start in a browser of its own (a cookie jar: the state sent to Clever is bound to the
	// browser that followed the link) and signs in at the simulator as userID.
	signIn := func(start, userID string) string {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(u string) (int, string, string) {
			t.Helper()
			resp, err := b.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Location"), string(body)
		}
		status, authorize, body := get(start)
		if status != http.StatusFound {
			t.Fatalf("%s → %d %s", start, status, body)
		}
		status, callback, body := get(authorize + "&user_id=" + userID) // the simulator's "pick this user"
		if status != http.StatusFound || !strings.HasPrefix(callback, d.base+"/auth/clever/callback?") {
			t.Fatalf("Clever's authorize → %d %q %s", status, callback, body)
		}
		status, _, body = get(callback)
		if status != http.StatusOK {
			t.Fatalf("callback → %d %s", status, body)
		}
		return body
	}
	if page := signIn(inv.CreateDistrictInvite.URL, obBrightBoss); !strings.Contains(page, "is now linked to Bright Horizons Academy Network") {
		t.Errorf("the invite's sign-in page says:\n%s", page)
	}
	// The invite is spent.
	if status, _, body := getNoFollow(t, inv.CreateDistrictInvite.URL); status != http.StatusBadRequest || !strings.Contains(body, "already") {
		t.Errorf("a used invite → %d %s", status, body)
	}

	// INSTANT_LOGIN: St. Mary's admin, one of org-st-marys's contacts, signs in from the Clever Portal.
	// In a browser (cookies): the simulator remembers who signed in, as Clever does, and the callback,
	// given no state, exchanges nothing and sends the browser back to Clever with a state bound to it.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	browse := func(u string) (int, string, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	_, authorize, _ := getNoFollow(t, d.base+"/auth/clever/login")
	sim, _ := url.Parse(authorize)
	instant := sim.Scheme + "://" + sim.Host + "/oauth/instant-login?" + url.Values{"client_id": {"cleversim-client"}, "district_id": {obStMarys},
		"user_id": {obStMarysBoss}, "redirect_uri": {d.base + "/auth/clever/callback"}}.Encode()
	status, callback, body := browse(instant)
	if status != http.StatusFound || strings.Contains(callback, "state=") {
		t.Fatalf("instant login → %d %q %s", status, callback, body)
	}
	status, authorize, body = browse(callback) // no state: back to Clever, with a state bound to this browser
	if status != http.StatusFound || !strings.HasPrefix(authorize, sim.Scheme+"://"+sim.Host+"/oauth/authorize?") || !strings.Contains(authorize, "state=") {
		t.Fatalf("callback without state → %d %q %s", status, authorize, body)
	}
	status, callback, body = browse(authorize) // signed in at Clever: straight back with a code and the state
	if status != http.StatusFound || !strings.HasPrefix(callback, d.base+"/auth/clever/callback?") || !strings.Contains(callback, "state=") {
		t.Fatalf("Clever's authorize, signed in → %d %q %s", status, callback, body)
	}
	if status, _, body = browse(callback); status != http.StatusOK || !strings.Contains(body, "proposed") {
		t.Errorf("instant login's page: %d %s", status, body)
	}

	// The review queue now has a proposal of every signal.
	type proposal struct {
		ID, Signal, Evidence string
		Conflict             bool
		District             struct{ CleverID string }
		Organization         struct{ ExternalID string }
	}
	var q struct {
		LinkProposals struct{ Edges []struct{ Node proposal } }
	}
	d.gql(`{ linkProposals(first: 100, where: {status: OPEN}) { edges { node { id signal evidence conflict district { cleverId } organization { externalId } } } } }`, nil, &q)
	find := func(district, signal string) proposal {
		t.Helper()
		for _, e := range q.LinkProposals.Edges {
			if e.Node.District.CleverID == district && e.Node.Signal == signal {
				return e.Node
			}
		}
		t.Fatalf("no open %s proposal for %s in %+v", signal, district, q.LinkProposals.Edges)
		return proposal{}
	}
	accept := func(p proposal) {
		t.Helper()
		var out struct{ AcceptLinkProposal struct{ Status string } }
		d.gql(`mutation($id: ID!) { acceptLinkProposal(id: $id) { status } }`, map[string]any{"id": p.ID}, &out)
		if out.AcceptLinkProposal.Status != "ACCEPTED" {
			t.Errorf("accept %s: %+v", p.ID, out)
		}
	}
	accept(find(obDemo, "MDR_NUMBER"))
	accept(find(obStMarys, "INSTANT_LOGIN"))
	accept(find(obRiverbend, "EMAIL_DOMAIN"))
	accept(find(obCedarCreek, "NAME"))
	accept(find(obSpringIL, "MDR_NUMBER"))
	if p := find(obStMarys, "INSTANT_LOGIN"); !strings.Contains(p.Evidence, "contacts") {
		t.Errorf("instant login evidence %q", p.Evidence)
	}

	// Two people of Springfield MO follow invites of two organizations (neither auto-links): a conflict,
	// and no link.
	invite := func(ext string) string {
		var inv struct{ CreateDistrictInvite struct{ URL string } }
		d.gql(`mutation($o: ID!) { createDistrictInvite(organizationId: $o) { url } }`, map[string]any{"o": orgID[ext]}, &inv)
		return inv.CreateDistrictInvite.URL
	}
	signIn(invite("org-springfield-mo"), obSpringMOBoss)
	if page := signIn(invite("org-northwind"), obSpringMOTeacher); !strings.Contains(page, "more than one organization") {
		t.Errorf("the second invite's page says:\n%s", page)
	}
	d.gql(`{ linkProposals(first: 100, where: {status: OPEN}) { edges { node { id signal evidence conflict district { cleverId } organization { externalId } } } } }`, nil, &q)
	var conflicted []string
	for _, e := range q.LinkProposals.Edges {
		if e.Node.District.CleverID == obSpringMO && e.Node.Signal == "LOGIN_STATE" && e.Node.Conflict {
			conflicted = append(conflicted, e.Node.Organization.ExternalID)
		}
	}
	if strings.Join(conflicted, ",") != "org-springfield-mo,org-northwind" && strings.Join(conflicted, ",") != "org-northwind,org-springfield-mo" {
		t.Errorf("conflicting invite proposals of Springfield MO: %v", conflicted)
	}
	if st := states()[obSpringMO]; st.LinkState != "PROPOSED" || st.Organization != nil {
		t.Errorf("Springfield MO after two conflicting invites: %+v, want PROPOSED and unlinked", st)
	}
	var rej struct{ RejectLinkProposal struct{ Status string } }
	d.gql(`mutation($id: ID!) { rejectLinkProposal(id: $id) { status } }`, map[string]any{"id": func() string {
		for _, e := range q.LinkProposals.Edges {
			if e.Node.District.CleverID == obSpringMO && e.Node.Organization.ExternalID == "org-northwind" {
				return e.Node.ID
			}
		}
		return ""
	}()}, &rej)

	// The pick-list for the other Springfield: two districts of that name, told apart by state.
	var c struct {
		DistrictLinkCandidates []struct {
			District struct{ CleverID string }
			State    string
			Reason   string
		}
	}
	d.gql(`query($o: ID!) { districtLinkCandidates(organizationId: $o, search: "Springfield") { district { cleverId } state schoolCount mdrNumber ncesId reason } }`,
		map[string]any{"o": orgID["org-springfield-mo"]}, &c)
	if len(c.DistrictLinkCandidates) == 0 || c.DistrictLinkCandidates[0].District.CleverID != obSpringMO || c.DistrictLinkCandidates[0].State != "MO" {
		t.Fatalf("pick-list for Springfield MO: %+v", c.DistrictLinkCandidates)
	}
	// Linked to the wrong customer first, then moved: the mirrored data stays where it is.
	usersOf := func() int {
		var u struct {
			Node struct{ Users struct{ TotalCount int } }
		}
		d.gql(`query($id: ID!) { node(id: $id) { ... on District { users { totalCount } } } }`, map[string]any{"id": obSpringMO}, &u)
		return u.Node.Users.TotalCount
	}
	before := usersOf()
	var linked struct{ LinkDistrict struct{ LinkState string } }
	for _, ext := range []string{"org-springfield-il", "org-springfield-mo"} {
		d.gql(`mutation($d: ID!, $o: ID!) { linkDistrict(districtId: $d, organizationId: $o) { linkState } }`,
			map[string]any{"d": obSpringMO, "o": orgID[ext]}, &linked)
	}
	if after := usersOf(); after != before || before == 0 {
		t.Errorf("Springfield MO's users %d → %d across a wrong link and its correction", before, after)
	}

	// The metrics show where onboarding stands: all seven linked, no conflict left.
	req, _ := http.NewRequest(http.MethodGet, d.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+d.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`rostermirror_districts{link_state="LINKED"} 7`, `rostermirror_districts{link_state="DISCOVERED"} 0`,
		"rostermirror_link_proposals_conflicting 0"} {
		if !strings.Contains(string(metrics), "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	want := map[string]string{obDemo: "org-demo", obSpringIL: "org-springfield-il", obSpringMO: "org-springfield-mo", obRiverbend: "org-riverbend",
		obCedarCreek: "org-cedar-creek", obStMarys: "org-st-marys", obBright: "org-bright-horizons"}
	for id, n := range states() {
		if n.LinkState != "LINKED" || n.Organization == nil || n.Organization.ExternalID != want[id] {
			t.Errorf("%s (%s): %s %+v, want LINKED to %s", n.Name, id, n.LinkState, n.Organization, want[id])
		}
	}
}
