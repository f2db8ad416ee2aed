package mirror_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// harness is one simulator, one database and one engine syncing the simulator's district into it.
type harness struct {
	t          *testing.T
	sim        *cleversim.Server
	url        string
	db         *store.DB
	engine     *mirror.Engine
	client     *clever.Client
	tokens     *simTokens
	districtID string
	data       *cleversim.Dataset
}

type options struct {
	data      *cleversim.Dataset
	client    clever.Config // APIURL/OAuthURL are filled in
	engine    mirror.Config // DB/Reader/Tokens are filled in
	simConfig cleversim.Config
	dbURL     string // when set, the database is opened from it (dbtest.URL) instead of dbtest.New
}

// simTokens hands out the simulator's district token the way Clever's /oauth/tokens would; the tokens
// package has its own tests of the real token store.
type simTokens struct {
	sim     *cleversim.Server
	revoked map[string]error
	err     error // when set, Token fails with it (a token outage, a disconnection seen by the token source)
}

func (s *simTokens) Token(_ context.Context, id string) (clever.Token, error) {
	if s.err != nil {
		return "", s.err
	}
	return clever.Token(s.sim.DistrictToken(id)), nil
}
func (s *simTokens) Used(context.Context, string) error { return nil }
func (s *simTokens) Revoked(_ context.Context, id string, cause error) error {
	s.revoked[id] = cause
	return nil
}

func setup(t *testing.T, o options) *harness {
	t.Helper()
	if o.data == nil {
		o.data = synth.Demo()
	}
	o.simConfig.Dataset = o.data
	if o.simConfig.Now == nil { // changes stamp last_modified: the same history must give the same bytes
		o.simConfig.Now = func() time.Time { return time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC) }
	}
	sim, err := cleversim.New(o.simConfig)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	o.client.APIURL, o.client.OAuthURL = srv.URL, srv.URL
	if o.client.Sleep == nil {
		o.client.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() } // retries without waiting
	}
	c := clever.New(o.client)
	var db *store.DB
	if o.dbURL != "" {
		db = openDB(t, o.dbURL)
	} else {
		db = dbtest.New(t)
	}
	o.engine.DB = db
	o.engine.Reader = func(tok clever.Token) mirror.Reader { return c.WithToken(tok) }
	tokens := &simTokens{sim: sim, revoked: map[string]error{}}
	if o.engine.Tokens == nil {
		o.engine.Tokens = tokens
	}
	e, err := mirror.New(o.engine)
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ ID string }
	json.Unmarshal(o.data.Districts[0], &head)
	return &harness{t: t, sim: sim, url: srv.URL, db: db, engine: e, client: c, tokens: tokens, districtID: head.ID, data: o.data}
}

// openDB opens a connection pool of its own to the database at url, closed when t ends: another
// replica's view of the same database.
func openDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sync runs a sync and fails the test if it could not run. The harness's runs are full syncs unless
// opts.Mode says otherwise: most tests here are about what a full read does.
func (h *harness) sync(opts mirror.Options) mirror.Result {
	h.t.Helper()
	if opts.Mode == "" {
		opts.Mode = mirror.ModeFull
	}
	res, err := h.engine.SyncDistrict(context.Background(), h.districtID, opts)
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return res
}

// mustSucceed runs a sync that must succeed.
func (h *harness) mustSucceed() mirror.Result {
	h.t.Helper()
	res := h.sync(mirror.Options{})
	if res.Status != mirror.StatusSucceeded {
		h.t.Fatalf("sync status %s: %v", res.Status, res.Errors)
	}
	return res
}

func (h *harness) change(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// rows runs a query and returns each row's columns joined with "|", in the query's order.
func (h *harness) rows(query string, args ...any) []string {
	h.t.Helper()
	return queryRows(h.t, h.db, query, args...)
}

func queryRows(t *testing.T, db *store.DB, query string, args ...any) []string {
	t.Helper()
	if db.Dialect == "postgres" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	rs, err := db.SQL.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = v.String
			if !v.Valid {
				parts[i] = "NULL"
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

// archived reports whether a mirrored record is archived; it fails the test when the record is absent.
func (h *harness) archived(table, id string) bool {
	h.t.Helper()
	r := h.rows("SELECT archived_at IS NOT NULL FROM "+table+" WHERE clever_id = ?", id)
	if len(r) != 1 {
		h.t.Fatalf("%s %s is not in the mirror", table, id)
	}
	return r[0] == "true" || r[0] == "1"
}

// snapshot is the mirror's content without what legitimately differs between two databases synced from
// the same data (timestamps, generated membership ids): two equal snapshots are the same mirror.
func snapshot(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"districts", "schools", "terms", "courses", "users", "sections"} {
		out[table] = queryRows(t, db, "SELECT clever_id, content_hash, archived_at IS NOT NULL FROM "+table+" ORDER BY clever_id")
	}
	out["user_roles"] = queryRows(t, db, "SELECT id, content_hash, archived_at IS NOT NULL, school_id, grade, title FROM user_roles ORDER BY id")
	for table, cols := range map[string]string{
		"role_schools":          "role_id, school_id",
		"section_teachers":      "section_id, user_id, position",
		"section_students":      "section_id, user_id",
		"contact_relationships": "contact_id, student_id, relationship, type",
	} {
		out[table] = queryRows(t, db, "SELECT "+cols+", ended_at IS NOT NULL FROM "+table+" ORDER BY "+cols+", ended_at IS NOT NULL")
	}
	for k, v := range out {
		for i := range v { // booleans read as true/false on Postgres and 1/0 on SQLite
			v[i] = strings.NewReplacer("|true", "|1", "|false", "|0").Replace(v[i] + "|")
		}
		out[k] = v
	}
	return out
}

func sameSnapshot(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for table, rows := range want {
		if !slices.Equal(got[table], rows) {
			t.Errorf("%s differs: got %d rows, want %d", table, len(got[table]), len(rows))
		}
	}
}

// record returns a dataset record by id as a map.
func record(t *testing.T, raws []json.RawMessage, id string) map[string]any {
	t.Helper()
	for _, raw := range raws {
		var m map[string]any
		json.Unmarshal(raw, &m)
		if m["id"] == id {
			return m
		}
	}
	t.Fatalf("no record %s", id)
	return nil
}

// pick returns the first dataset record for which keep is true.
func pick(t *testing.T, raws []json.RawMessage, keep func(map[string]any) bool) map[string]any {
	t.Helper()
	for _, raw := range raws {
		var m map[string]any
		json.Unmarshal(raw, &m)
		if keep(m) {
			return m
		}
	}
	t.Fatal("no such record")
	return nil
}

func roles(u map[string]any) map[string]any { r, _ := u["roles"].(map[string]any); return r }

func hasRole(u map[string]any, role string) bool { _, ok := roles(u)[role]; return ok }

func patch(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
