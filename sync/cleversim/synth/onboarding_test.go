package synth_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// Committed onboarding files, relative to this package.
const (
	onboardingFile    = "../../../testdata/onboarding-districts.json"
	organizationsFile = "../../../testdata/onboarding-organizations.csv"
)

// design is what Onboarding promises of one district. mdr and nces are the raw JSON of the district's
// mdr_number and nces_id, "" when the key is absent.
type design struct {
	name   string
	state  string // US state of its schools
	mdr    string
	nces   string
	domain string // the district's own e-mail domain; "" for the demo's example domains
	sizes  sizes
}

// designs are Onboarding's districts in dataset order, keyed in the tests by their (distinct) states.
var designs = []design{
	{"#DEMO Rostermirror ISD", "NY", `"04839360"`, `"3600077"`, "",
		sizes{schools: 4, students: 300, teachers: 16, staff: 6, admins: 2, contacts: 40, sections: 60, courses: 40, terms: 5}},
	{"Springfield Public Schools", "IL", `"00618843"`, `"1799101"`, "springfield.k12.il.us",
		sizes{schools: 3, students: 36, teachers: 6, staff: 2, admins: 2, contacts: 12, sections: 12, courses: 8, terms: 2}},
	{"Springfield Public Schools", "MO", `"12951674"`, `"2999102"`, "springfield.k12.mo.us",
		sizes{schools: 5, students: 45, teachers: 8, staff: 3, admins: 2, contacts: 15, sections: 16, courses: 10, terms: 2}},
	{"Riverbend Unified School District", "CA", "", `"0699103"`, "riverbend.k12.ca.us",
		sizes{schools: 3, students: 30, teachers: 6, staff: 2, admins: 2, contacts: 10, sections: 12, courses: 8, terms: 2}},
	{"Cedar Creek ISD", "TX", `"45102239"`, `"4899104"`, "cedarcreek.k12.tx.us",
		sizes{schools: 2, students: 24, teachers: 4, staff: 2, admins: 1, contacts: 8, sections: 8, courses: 6, terms: 2}},
	{"St. Mary's County Public Schools", "MD", `""`, `"2499105"`, "stmarys.k12.md.us",
		sizes{schools: 3, students: 30, teachers: 6, staff: 2, admins: 3, contacts: 10, sections: 12, courses: 8, terms: 2}},
	{"Bright Horizons Charter School", "OH", `"00745120"`, `null`, "brighthorizonscharter.org",
		sizes{schools: 1, students: 20, teachers: 3, staff: 1, admins: 1, contacts: 6, sections: 6, courses: 5, terms: 1}},
}

// fips are the states' FIPS codes: the first two digits of an NCES district id.
var fips = map[string]string{"NY": "36", "IL": "17", "MO": "29", "CA": "06", "TX": "48", "MD": "24", "OH": "39"}

// webmail are the personal domains the generator gives some students, staff and all parents.
var webmail = enum("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com")

// part is one district of a multi-district dataset with what the onboarding tests read from it.
type part struct {
	id       string
	data     *cleversim.Dataset
	district map[string]json.RawMessage
	users    []map[string]any
	schools  []map[string]any
}

// splitDistricts cuts a dataset into its districts, in the order of its districts array, failing on a
// record of no listed district.
func splitDistricts(t *testing.T, d *cleversim.Dataset) []*part {
	t.Helper()
	var parts []*part
	byID := map[string]*part{}
	for i, raw := range d.Districts {
		p := &part{data: &cleversim.Dataset{Districts: []json.RawMessage{raw}}}
		if err := json.Unmarshal(raw, &p.district); err != nil {
			t.Fatalf("districts[%d]: %v", i, err)
		}
		if err := json.Unmarshal(p.district["id"], &p.id); err != nil || byID[p.id] != nil {
			t.Fatalf("districts[%d]: id %s missing or repeated", i, p.district["id"])
		}
		byID[p.id] = p
		parts = append(parts, p)
	}
	for _, c := range []struct {
		name string
		recs []json.RawMessage
		dst  func(*cleversim.Dataset) *[]json.RawMessage
	}{
		{"schools", d.Schools, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Schools }},
		{"users", d.Users, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Users }},
		{"sections", d.Sections, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Sections }},
		{"terms", d.Terms, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Terms }},
		{"courses", d.Courses, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Courses }},
		{"events", d.Events, func(d *cleversim.Dataset) *[]json.RawMessage { return &d.Events }},
	} {
		for i, raw := range c.recs {
			var head struct{ District string }
			if err := json.Unmarshal(raw, &head); err != nil {
				t.Fatalf("%s[%d]: %v", c.name, i, err)
			}
			p := byID[head.District]
			if p == nil {
				t.Fatalf("%s[%d]: district %q is not in the dataset", c.name, i, head.District)
			}
			*c.dst(p.data) = append(*c.dst(p.data), raw)
		}
	}
	for _, p := range parts {
		var err error
		if p.users, err = decode("users", p.data.Users); err != nil {
			t.Fatal(err)
		}
		if p.schools, err = decode("schools", p.data.Schools); err != nil {
			t.Fatal(err)
		}
	}
	return parts
}

// str reads a district field as a Go string ("" for null or absent).
func (p *part) str(key string) string {
	var s string
	json.Unmarshal(p.district[key], &s)
	return s
}

// emailDomain returns the domain of an address, "" without one.
func emailDomain(email string) string {
	_, d, ok := strings.Cut(email, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}

func TestOnboardingDeterministic(t *testing.T) {
	t.Parallel()
	a := encode(t, synth.Onboarding())
	if !bytes.Equal(a, encode(t, synth.Onboarding())) {
		t.Fatal("two Onboarding calls differ")
	}
	// The demo district is Demo's, byte for byte, so the demo and the onboarding dataset tell one story.
	parts := splitDistricts(t, synth.Onboarding())
	if !bytes.Equal(encode(t, parts[0].data), encode(t, synth.Demo())) {
		t.Error("Onboarding's first district is not Demo()")
	}
}

func TestOnboardingFile(t *testing.T) {
	t.Parallel()
	got := encode(t, synth.Onboarding())
	if *update {
		if err := os.WriteFile(onboardingFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(onboardingFile)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./sync/cleversim/synth -run TestOnboardingFile -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not Onboarding(); review the change and rewrite it with: go test ./sync/cleversim/synth -run TestOnboardingFile -update", onboardingFile)
	}
	if _, err := cleversim.LoadDataset(onboardingFile); err != nil {
		t.Fatal(err)
	}
}

// TestOnboarding checks every district of the dataset on its own (all of check's invariants: references
// resolve, ids are valid and unique, sizes) and that the edge cases onboarding needs are really there.
func TestOnboarding(t *testing.T) {
	t.Parallel()
	d := synth.Onboarding()
	parts := splitDistricts(t, d)
	if len(parts) != len(designs) {
		t.Fatalf("%d districts, want %d", len(parts), len(designs))
	}

	// Ids are unique across the whole file, not only within each district.
	seen := map[string]bool{}
	for _, recs := range [][]json.RawMessage{d.Districts, d.Schools, d.Users, d.Sections, d.Terms, d.Courses} {
		for _, raw := range recs {
			var head struct{ ID string }
			json.Unmarshal(raw, &head)
			if seen[head.ID] {
				t.Errorf("id %s is used twice in the dataset", head.ID)
			}
			seen[head.ID] = true
		}
	}

	domainOwner := map[string]string{}
	for i, p := range parts {
		want := designs[i]
		t.Run(want.state, func(t *testing.T) {
			check(t, p.data, want.sizes)
			if got := p.str("name"); got != want.name {
				t.Errorf("name %q, want %q", got, want.name)
			}
			if got := string(p.district["mdr_number"]); got != want.mdr {
				t.Errorf("mdr_number %s, want %s", got, want.mdr)
			}
			if got := string(p.district["nces_id"]); got != want.nces {
				t.Errorf("nces_id %s, want %s", got, want.nces)
			}
			// The US state: every school's location.state, and the NCES id's FIPS prefix.
			for _, s := range p.schools {
				if got := s["location"].(map[string]any)["state"]; got != want.state {
					t.Errorf("school %v in state %v, want %s", s["name"], got, want.state)
				}
			}
			if nces := p.str("nces_id"); nces != "" && !strings.HasPrefix(nces, fips[want.state]) {
				t.Errorf("nces_id %s does not start with %s's FIPS code %s", nces, want.state, fips[want.state])
			}
			if want.domain == "" {
				return
			}
			checkDomain(t, p, want.domain)
			for _, u := range p.users {
				email, _ := u["email"].(string)
				if dom := emailDomain(email); dom != "" && !webmail[dom] {
					if other, ok := domainOwner[dom]; ok && other != p.id {
						t.Errorf("domain %s is used by districts %s and %s", dom, other, p.id)
					}
					domainOwner[dom] = p.id
				}
			}
		})
	}

	// The edge cases Clever's onboarding guide warns about.
	byState := map[string]*part{}
	for i, p := range parts {
		byState[designs[i].state] = p
	}
	il, mo := byState["IL"], byState["MO"]
	if il.str("name") != mo.str("name") {
		t.Errorf("the two Springfields are named %q and %q", il.str("name"), mo.str("name"))
	}
	if il.str("mdr_number") == mo.str("mdr_number") || il.str("nces_id") == mo.str("nces_id") || len(il.schools) == len(mo.schools) {
		t.Error("the two Springfields cannot be told apart by MDR, NCES and school count")
	}
	if _, ok := byState["CA"].district["mdr_number"]; ok {
		t.Error("no district without an mdr_number key")
	}
	if byState["MD"].str("mdr_number") != "" {
		t.Error(`no district with mdr_number ""`)
	}
	if string(byState["OH"].district["nces_id"]) != "null" {
		t.Error("no district with nces_id null")
	}
	leading := 0
	for _, p := range parts {
		if strings.HasPrefix(p.str("mdr_number"), "0") {
			leading++
		}
	}
	if leading < 2 {
		t.Errorf("%d districts with a leading-zero MDR number, want at least 2", leading)
	}
	if oh := byState["OH"]; len(oh.schools) != 1 || oh.schools[0]["ext"].(map[string]any)["charter_school"] != "Y" ||
		oh.schools[0]["name"] != oh.str("name") {
		t.Error("no single-school charter district named as its school")
	}
}

// checkDomain checks a district's e-mail domain: most of its people use it, not all (webmail), parents
// never, and a pure district admin and a teacher can sign in with it.
func checkDomain(t *testing.T, p *part, domain string) {
	t.Helper()
	var on, off, webmailUsers int
	var admin, teacher bool
	for _, u := range p.users {
		email, _ := u["email"].(string)
		dom := emailDomain(email)
		if role(u, "contact") != nil {
			if dom == domain {
				t.Errorf("parent %v has a district address", u["id"])
			}
			continue
		}
		switch {
		case dom == domain:
			on++
		case dom != "":
			off++
			if webmail[dom] {
				webmailUsers++
			}
		}
		if dom != domain {
			continue
		}
		if roles := u["roles"].(map[string]any); len(roles) == 1 && roles["district_admin"] != nil {
			admin = true
		}
		teacher = teacher || role(u, "teacher") != nil
	}
	if on == 0 || off == 0 || webmailUsers == 0 || on < 2*off {
		t.Errorf("%s: %d users on the domain, %d elsewhere (%d on webmail): want most, not all", domain, on, off, webmailUsers)
	}
	if !admin || !teacher {
		t.Errorf("%s: district admin on the domain %v, teacher on the domain %v", domain, admin, teacher)
	}
}

// TestOnboardingServe loads the dataset into the simulator: one token per district in dataset order, each
// token reads exactly its district's records through the sync client, and each district's admin can sign
// in with Instant Login.
func TestOnboardingServe(t *testing.T) {
	t.Parallel()
	d := synth.Onboarding()
	parts := splitDistricts(t, d)
	sim, err := cleversim.New(cleversim.Config{Dataset: d, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	defer ts.Close()
	ctx := t.Context()

	// GET /oauth/tokens by hand: one token per district, in the dataset's order.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/oauth/tokens?owner_type=district", nil)
	req.SetBasicAuth(cleversim.DefaultClientID, cleversim.DefaultClientSecret)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []struct {
			Owner       struct{ Type, ID string }
			AccessToken string `json:"access_token"`
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /oauth/tokens: %d %v", resp.StatusCode, err)
	}
	var owners []string
	tokens := map[string]bool{}
	for _, tok := range list.Data {
		if tok.Owner.Type != "district" || tok.AccessToken == "" || tokens[tok.AccessToken] {
			t.Errorf("token %+v", tok)
		}
		tokens[tok.AccessToken] = true
		owners = append(owners, tok.Owner.ID)
	}
	var ids []string
	for _, p := range parts {
		ids = append(ids, p.id)
	}
	if !slices.Equal(owners, ids) {
		t.Fatalf("token owners %v, want %v", owners, ids)
	}

	client := clever.New(clever.Config{
		APIURL: ts.URL, OAuthURL: ts.URL, HTTPClient: ts.Client(),
		ClientID: cleversim.DefaultClientID, ClientSecret: cleversim.DefaultClientSecret,
	})
	dts, err := client.DistrictTokens(ctx, "")
	if err != nil || len(dts) != len(parts) {
		t.Fatalf("DistrictTokens: %d tokens, %v", len(dts), err)
	}
	noRedirect := *ts.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for i, p := range parts {
		tc := client.WithToken(dts[i].AccessToken)
		counts := map[string]int{}
		var foreign []string
		count := func(kind, district string, err error) {
			if err != nil {
				t.Errorf("%s: %s: %v", p.id, kind, err)
				return
			}
			counts[kind]++
			if district != p.id {
				foreign = append(foreign, kind)
			}
		}
		for r, err := range tc.Districts(ctx) {
			count("districts", r.ID, err)
		}
		for r, err := range tc.Schools(ctx) {
			count("schools", r.District, err)
		}
		for r, err := range tc.Users(ctx) {
			count("users", r.District, err)
		}
		for r, err := range tc.Sections(ctx) {
			count("sections", r.District, err)
		}
		for r, err := range tc.Terms(ctx) {
			count("terms", r.District, err)
		}
		for r, err := range tc.Courses(ctx) {
			count("courses", r.District, err)
		}
		want := map[string]int{"districts": 1, "schools": len(p.data.Schools), "users": len(p.data.Users),
			"sections": len(p.data.Sections), "terms": len(p.data.Terms), "courses": len(p.data.Courses)}
		if !maps.Equal(counts, want) || len(foreign) > 0 {
			t.Errorf("%s: read %v (other districts' records: %v), want %v", p.id, counts, foreign, want)
		}

		// Instant Login as the district's first pure district admin.
		var admin string
		for _, u := range p.users {
			if roles := u["roles"].(map[string]any); len(roles) == 1 && roles["district_admin"] != nil {
				admin = u["id"].(string)
				break
			}
		}
		const redirect = "https://app.example/auth/clever/callback"
		q := url.Values{"client_id": {cleversim.DefaultClientID}, "district_id": {p.id}, "user_id": {admin}, "redirect_uri": {redirect}}
		resp, err := noRedirect.Get(ts.URL + "/oauth/instant-login?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("%s: instant login: %d %v", p.id, resp.StatusCode, err)
		}
		tok, err := client.ExchangeCode(ctx, loc.Query().Get("code"), redirect)
		if err != nil {
			t.Fatalf("%s: exchange: %v", p.id, err)
		}
		me, err := client.WithToken(tok).Me(ctx)
		if err != nil || me.Data.ID != admin || me.Data.District != p.id || me.Data.Type != "district_admin" {
			t.Errorf("%s: /me %+v %v, want district admin %s", p.id, me, err, admin)
		}
	}
}

// organization is one row of testdata/onboarding-organizations.csv.
type organization struct {
	externalID, name, mdr, nces, state string
	domains, contacts                  []string
	autoLink                           bool
}

func readOrganizations(t *testing.T) []organization {
	t.Helper()
	f, err := os.Open(organizationsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := "external_id,name,mdr_number,nces_id,state,email_domains,contact_emails,auto_link_invites"
	if len(rows) == 0 || strings.Join(rows[0], ",") != header {
		t.Fatalf("header %v, want %s", rows[:min(1, len(rows))], header)
	}
	list := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ";")
	}
	var orgs []organization
	for _, r := range rows[1:] {
		if r[7] != "true" && r[7] != "false" {
			t.Errorf("%s: auto_link_invites %q", r[0], r[7])
		}
		orgs = append(orgs, organization{r[0], r[1], r[2], r[3], r[4], list(r[5]), list(r[6]), r[7] == "true"})
	}
	return orgs
}

// mdrKey is an MDR number as onboarding compares it: without leading zeros; "" matches nothing.
func mdrKey(s string) string { return strings.TrimLeft(s, "0") }

// normName is a district name as the pick-list compares it: lower case, no punctuation, "Independent
// School District" as "isd".
func normName(s string) string {
	s = strings.NewReplacer("'", "", "’", "", ".", "").Replace(strings.ToLower(s))
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }), " ")
	return strings.ReplaceAll(s, "independent school district", "isd")
}

// TestOnboardingOrganizations keeps testdata/onboarding-organizations.csv in step with the dataset: each
// organization finds exactly the districts it was written for, by the signals it was written for, and
// the decoy finds nothing.
func TestOnboardingOrganizations(t *testing.T) {
	t.Parallel()
	parts := splitDistricts(t, synth.Onboarding())
	state := map[string]string{} // district id → design state
	for i, p := range parts {
		state[p.id] = designs[i].state
	}
	// signals: external_id → signal → the states of the districts it finds.
	want := map[string]map[string][]string{
		"org-demo":            {"MDR_NUMBER": {"NY"}},
		"org-springfield-il":  {"MDR_NUMBER": {"IL"}, "EMAIL_DOMAIN": {"IL"}, "NAME": {"IL", "MO"}, "NAME+STATE": {"IL"}},
		"org-springfield-mo":  {"NAME": {"IL", "MO"}, "NAME+STATE": {"MO"}},
		"org-riverbend":       {"EMAIL_DOMAIN": {"CA"}},
		"org-cedar-creek":     {"NAME": {"TX"}, "NAME+STATE": {"TX"}},
		"org-st-marys":        {"INSTANT_LOGIN": {"MD"}, "NAME": {"MD"}, "NAME+STATE": {"MD"}},
		"org-bright-horizons": {"LOGIN_STATE": {"OH"}},
		"org-northwind":       {},
	}
	orgs := readOrganizations(t)
	got := map[string]map[string][]string{}
	for _, o := range orgs {
		sig := map[string][]string{}
		if o.autoLink {
			sig["LOGIN_STATE"] = []string{"OH"} // the invite flow: whichever district signs in through it
		}
		for _, p := range parts {
			st := state[p.id]
			if k := mdrKey(o.mdr); k != "" && k == mdrKey(p.str("mdr_number")) {
				sig["MDR_NUMBER"] = append(sig["MDR_NUMBER"], st)
			}
			if normName(o.name) == normName(p.str("name")) {
				sig["NAME"] = append(sig["NAME"], st)
				if o.state == st {
					sig["NAME+STATE"] = append(sig["NAME+STATE"], st)
				}
			}
			domains, admins := map[string]bool{}, map[string]bool{}
			for _, u := range p.users {
				email, _ := u["email"].(string)
				if role(u, "contact") == nil && emailDomain(email) != "" {
					domains[emailDomain(email)] = true
				}
				if role(u, "district_admin") != nil {
					admins[strings.ToLower(email)] = true
				}
			}
			if slices.ContainsFunc(o.domains, func(d string) bool { return domains[d] }) {
				sig["EMAIL_DOMAIN"] = append(sig["EMAIL_DOMAIN"], st)
			}
			if slices.ContainsFunc(o.contacts, func(e string) bool { return admins[strings.ToLower(e)] }) {
				sig["INSTANT_LOGIN"] = append(sig["INSTANT_LOGIN"], st)
			}
		}
		got[o.externalID] = sig
	}
	if len(got) != len(orgs) {
		t.Errorf("duplicate external ids in %s", organizationsFile)
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("%s: missing from %s", id, organizationsFile)
			continue
		}
		if !maps.EqualFunc(g, w, slices.Equal[[]string]) {
			t.Errorf("%s finds %v, want %v", id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: not expected in %s", id, organizationsFile)
		}
	}
	// An organization's identifiers are written differently from Clever's where the design says so.
	for _, o := range orgs {
		if o.externalID == "org-springfield-il" && o.mdr == strings.Trim(string(parts[1].district["mdr_number"]), `"`) {
			t.Error("org-springfield-il's MDR number should differ from Clever's in format (leading zeros)")
		}
	}
}
