// Package cleversim is a local stand-in for Clever's Data API v3.0 and OAuth endpoints, serving a
// Dataset over HTTP exactly as the real API answers: the same envelopes, link forms, paging, rate-limit
// headers, error bodies (including the HTML 404s) and Events API, on one address. Tests drive it as a
// black box; the change API (Go methods and POST /sim/...) mutates the roster the way a district's SIS
// would and appends the events Clever would emit, and Faults injects Clever's failure modes.
//
// The simulator stores and serves records as raw JSON and never shares types with the client package,
// so that a decoding bug cannot hide on both sides of a contract test. Where Clever's behaviour is not
// documented, the choice made is noted at the code that implements it.
package cleversim

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultClientID       = "cleversim-client"
	DefaultClientSecret   = "cleversim-secret"
	DefaultRateLimit      = 1200 // Clever's requests per minute per bearer token
	DefaultEventRetention = 30 * 24 * time.Hour
	// FixtureDistrictID is the "#DEMO Certification ISD - Events" district behind Clever's public demo
	// token; its token defaults to FixtureToken as in Clever's docs.
	FixtureDistrictID = "58da8a43cc70ab00017a1a87"
	FixtureToken      = "TEST_TOKEN"
)

// Config configures a Server. The zero value serves an empty simulator with Clever's limits.
type Config struct {
	// Dataset is the initial roster; nil starts without districts (add them with AddDistrict).
	Dataset *Dataset
	// ClientID is the app's OAuth client id, checked by Basic auth on /oauth/tokens and by
	// /oauth/authorize. Default DefaultClientID.
	ClientID string
	// ClientSecret is the app's OAuth client secret. It also seeds the default district-app tokens.
	// Default DefaultClientSecret.
	ClientSecret string
	// Tokens overrides the district-app bearer token of a district (district id → token). Districts not
	// listed get DistrictToken's deterministic default.
	Tokens map[string]string
	// RedirectURIs are the app's registered redirect URIs. When set, /oauth/authorize rejects any other
	// redirect_uri; /oauth/instant-login redirects to the first one unless the request names one.
	RedirectURIs []string
	// Now is the clock; it drives rate-limit windows, event ids and created times, and code expiry.
	// Default time.Now.
	Now func() time.Time
	// RateLimit is the number of requests per fixed one-minute window per bearer token. 0 means
	// DefaultRateLimit (Clever's); a negative value disables the limit (the headers are still sent).
	RateLimit int
	// EventRetention is how long events stay listed: an event created this long before its district's
	// newest event is not listed (the window counts back from the newest event, not the clock, so that a
	// recording of any age serves its events). 0 means DefaultEventRetention (Clever's 30 days); negative
	// keeps events forever.
	EventRetention time.Duration
	// EventsDisabled serves the district app as one whose Events API is not enabled (Clever's dashboard,
	// Settings > Integrations): /v3.0/events answers 403, and changes emit no events. SetEventsEnabled
	// switches it at run time.
	EventsDisabled bool
	// Faults injects failures into /v3.0 requests; the zero value injects none.
	Faults Faults
	// Logger receives one line per change and per injected fault. It never sees tokens or record
	// contents. Default discards.
	Logger *slog.Logger
}

// Faults describes the failures injected into /v3.0 requests. The sequence of injected faults is
// deterministic for a Seed and a sequence of requests. Rates are probabilities per request in [0,1];
// ErrorRate+RateLimitRate+CutRate should not exceed 1.
type Faults struct {
	// Seed seeds the fault generator; SetFaults restarts the sequence.
	Seed int64
	// ErrorRate is the share of requests answered 500, 502 or 503, some with JSON and some with HTML
	// bodies as Clever's load balancers do.
	ErrorRate float64
	// RateLimitRate is the share of requests that start a storm of 2–5 consecutive 429s for that token
	// (with the window's real X-RateLimit-Reset and Remaining 0).
	RateLimitRate float64
	// CutRate is the share of successful responses whose connection is cut mid-body: the status line and
	// headers announce the full Content-Length, part of the body is written, the connection is closed.
	CutRate float64
	// Latency delays every /v3.0 response.
	Latency time.Duration
}

// Server is the simulator: an http.Handler for the Data API, the OAuth endpoints and the /sim change
// API, plus the Go change API. It is safe for concurrent use.
type Server struct {
	clientID, clientSecret string
	tokenOverrides         map[string]string
	redirectURIs           []string
	now                    func() time.Time
	rateLimit              int
	retention              time.Duration
	eventsOff              atomic.Bool
	log                    *slog.Logger
	ids                    *ObjectIDs
	limiter                *rateLimiter
	faults                 *faultState
	sim                    http.Handler

	mu        sync.RWMutex
	districts []*districtState          // connection order: the order of /oauth/tokens
	byID      map[string]*districtState // district id → state
	owner     map[recordKey]*districtState
	tokens    map[string]*bearer // bearer token → owner
	codes     map[string]*authCode
	sessions  map[string]*session // session cookie value → the signed-in user
}

type recordKey struct {
	kind Kind
	id   string
}

// bearer is what a bearer token stands for: a district-app token (user == "") or an SSO user token.
type bearer struct {
	district     string
	user         string
	role         string // the user's role type for /me ("teacher", "student", …)
	authorizedBy string // "district" or "teacher"
}

// Log attribute keys, defined once.
const (
	logKind     = "kind"
	logID       = "id"
	logDistrict = "district"
	logEvents   = "events"
	logFault    = "fault"
	logStatus   = "status"
	logPath     = "path"
)

// New validates cfg, loads its dataset and returns a ready Server.
func New(cfg Config) (*Server, error) {
	s := &Server{
		clientID:       cmp.Or(cfg.ClientID, DefaultClientID),
		clientSecret:   cmp.Or(cfg.ClientSecret, DefaultClientSecret),
		tokenOverrides: cfg.Tokens,
		redirectURIs:   slices.Clone(cfg.RedirectURIs),
		now:            cfg.Now,
		rateLimit:      cmp.Or(cfg.RateLimit, DefaultRateLimit),
		retention:      cmp.Or(cfg.EventRetention, DefaultEventRetention),
		log:            cfg.Logger,
		limiter:        newRateLimiter(),
		byID:           map[string]*districtState{},
		owner:          map[recordKey]*districtState{},
		tokens:         map[string]*bearer{},
		codes:          map[string]*authCode{},
		sessions:       map[string]*session{},
	}
	s.eventsOff.Store(cfg.EventsDisabled)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := validateFaults(cfg.Faults); err != nil {
		return nil, fmt.Errorf("new simulator: %w", err)
	}
	s.faults = newFaultState(cfg.Faults)
	seen := map[string]string{}
	for d, tok := range cfg.Tokens {
		if tok == "" {
			return nil, fmt.Errorf("new simulator: empty token for district %s", d)
		}
		if other, dup := seen[tok]; dup {
			return nil, fmt.Errorf("new simulator: districts %s and %s share a token", other, d)
		}
		seen[tok] = d
	}
	h := fnv.New32a()
	h.Write([]byte(s.clientID))
	s.ids = NewObjectIDs(s.now(), h.Sum32())
	if cfg.Dataset != nil {
		states, err := s.buildDistricts(cfg.Dataset, true)
		if err != nil {
			return nil, fmt.Errorf("new simulator: %w", err)
		}
		for _, ds := range states {
			s.attach(ds)
			if id := ds.lastEventID(); id != "" {
				s.ids.Advance(id)
			}
			for _, k := range rosterKinds() {
				for _, r := range ds.all(k) {
					s.ids.Advance(r.id)
				}
			}
		}
	}
	s.sim = s.simRoutes()
	return s, nil
}

// ServeHTTP routes /v3.0/... and /me to the Data API, /oauth/... to the OAuth endpoints and /sim/... to
// the change API. Anything else gets Express's HTML 404, as Clever's hosts answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/me" || p == "/me/" || p == "/v3.0" || strings.HasPrefix(p, "/v3.0/"):
		s.serveAPI(w, r)
	case strings.HasPrefix(p, "/oauth/"):
		s.serveOAuth(w, r)
	case p == "/sim" || strings.HasPrefix(p, "/sim/"):
		s.sim.ServeHTTP(w, r)
	default:
		writeCannot(w, r)
	}
}

// DistrictToken returns the current district-app bearer token of a district ("" for an unknown
// district). By default it is the 40 lower-hex digits of HMAC-SHA1(client secret, district id) — the
// shape of Clever's tokens — and FixtureToken for FixtureDistrictID; Config.Tokens overrides it and
// RotateToken replaces it.
func (s *Server) DistrictToken(districtID string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ds := s.byID[districtID]; ds != nil {
		return ds.token
	}
	return ""
}

// SetFaults replaces the injected faults and restarts their sequence from f.Seed. An invalid f (a
// negative rate or rates summing above 1) is ignored and reported.
func (s *Server) SetFaults(f Faults) {
	if err := validateFaults(f); err != nil {
		s.log.Warn("set faults: ignored", slog.String("error", err.Error()))
		return
	}
	s.faults.set(f)
}

// Faults returns the faults currently injected.
func (s *Server) Faults() Faults {
	return s.faults.get()
}

// defaultToken derives a district's token for generation gen (0 at connection, +1 per rotation).
func (s *Server) defaultToken(districtID string, gen int) string {
	if gen == 0 {
		if tok, ok := s.tokenOverrides[districtID]; ok {
			return tok
		}
		if districtID == FixtureDistrictID {
			return FixtureToken
		}
	}
	m := hmac.New(sha1.New, []byte(s.clientSecret))
	m.Write([]byte(districtID))
	if gen > 0 {
		m.Write([]byte("#" + strconv.Itoa(gen)))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// issueToken gives ds the token of its current generation and registers it. Callers hold s.mu.
func (s *Server) issueToken(ds *districtState) {
	tok := s.defaultToken(ds.id(), ds.tokenGen)
	for s.tokens[tok] != nil { // an override equal to a derived token: move on to the next generation
		ds.tokenGen++
		tok = s.defaultToken(ds.id(), ds.tokenGen)
	}
	sum := sha1.Sum([]byte("token:" + ds.id() + "#" + strconv.Itoa(ds.tokenGen)))
	ds.token = tok
	ds.tokenID = hex.EncodeToString(sum[:12])
	ds.tokenCreated = formatTime(s.now())
	s.tokens[tok] = &bearer{district: ds.id()}
}

// attach connects a built district. Callers hold s.mu (or own s exclusively).
func (s *Server) attach(ds *districtState) {
	s.districts = append(s.districts, ds)
	s.byID[ds.id()] = ds
	s.owner[recordKey{KindDistricts, ds.id()}] = ds
	for _, k := range rosterKinds() {
		for _, r := range ds.all(k) {
			s.owner[recordKey{k, r.id}] = ds
		}
	}
	s.issueToken(ds)
}

// buildDistricts validates d and builds one state per district. withEvents loads d.Events as history.
// Callers hold s.mu (or own s exclusively).
func (s *Server) buildDistricts(d *Dataset, withEvents bool) ([]*districtState, error) {
	var states []*districtState
	byID := map[string]*districtState{}
	for i, raw := range d.Districts {
		rec, err := parseRecord(KindDistricts, raw)
		if err != nil {
			return nil, fmt.Errorf("districts[%d]: %w", i, err)
		}
		if byID[rec.id] != nil || s.byID[rec.id] != nil {
			return nil, fmt.Errorf("districts[%d]: district %s is already connected", i, rec.id)
		}
		ds := newDistrictState(rec)
		byID[rec.id] = ds
		states = append(states, ds)
	}
	pick := func(name string, i int, district string) (*districtState, error) {
		if district == "" && len(states) == 1 {
			return states[0], nil
		}
		if ds := byID[district]; ds != nil {
			return ds, nil
		}
		return nil, fmt.Errorf("%s[%d]: district %q is not in the dataset", name, i, district)
	}
	seen := map[recordKey]bool{}
	for _, c := range d.collections() {
		k := Kind(c.name)
		if k == KindDistricts || k == "events" {
			continue
		}
		for i, raw := range *c.records {
			rec, err := parseRecord(k, raw)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", k, i, err)
			}
			key := recordKey{k, rec.id}
			if seen[key] || s.owner[key] != nil {
				return nil, fmt.Errorf("%s[%d]: duplicate id %s", k, i, rec.id)
			}
			seen[key] = true
			ds, err := pick(c.name, i, rec.district)
			if err != nil {
				return nil, err
			}
			ds.tables[k].recs = append(ds.tables[k].recs, rec)
		}
	}
	for _, ds := range states {
		for _, k := range rosterKinds() {
			slices.SortFunc(ds.tables[k].recs, func(a, b *record) int { return strings.Compare(a.id, b.id) })
		}
	}
	if withEvents {
		for i, raw := range d.Events {
			e, err := parseEvent(raw)
			if err != nil {
				return nil, fmt.Errorf("events[%d]: %w", i, err)
			}
			ds, err := pick("events", i, e.district())
			if err != nil {
				return nil, err
			}
			ds.insertEvent(e)
		}
		for _, ds := range states {
			for i := 1; i < len(ds.events); i++ {
				if ds.events[i].id == ds.events[i-1].id {
					return nil, fmt.Errorf("events: duplicate id %s", ds.events[i].id)
				}
			}
		}
	}
	return states, nil
}

// district returns the state of a connected district. Callers hold s.mu.
func (s *Server) district(id string) (*districtState, error) {
	ds := s.byID[id]
	if ds == nil {
		return nil, fmt.Errorf("district %s: %w", id, ErrNotFound)
	}
	return ds, nil
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

var errBadKind = errors.New("unknown kind")

func checkKind(k Kind) error {
	if !k.valid() {
		return fmt.Errorf("%w %q (want districts, schools, users, sections, terms or courses)", errBadKind, string(k))
	}
	return nil
}
