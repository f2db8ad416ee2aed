package apprecord_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	recs "github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// env is a district served by the simulator and synced into a test database, with the matching service
// following every sync as serve wires it.
type env struct {
	t        testing.TB
	ctx      context.Context
	db       *store.DB
	sim      *cleversim.Server
	svc      *recs.Service
	syncer   recs.Syncer
	engine   *mirror.Engine
	district string
	// log is the service's log, debug level: what it did, never a record's values.
	log *bytes.Buffer
}

func newEnv(t *testing.T, ds *cleversim.Dataset) *env { return newEnvTB(t, ds) }

func newEnvTB(t testing.TB, ds *cleversim.Dataset) *env {
	t.Helper()
	sim, err := cleversim.New(cleversim.Config{Dataset: ds})
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
	log := &bytes.Buffer{}
	svc := recs.New(db, recs.WithLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var d struct {
		ID string `json:"id"`
	}
	must(t, json.Unmarshal(ds.Districts[0], &d))
	e := &env{t: t, ctx: context.Background(), db: db, sim: sim, svc: svc, syncer: svc.Syncer(engine), engine: engine, district: d.ID, log: log}
	e.sync()
	return e
}

// sync runs a full sync of the district through the matching service's Syncer.
func (e *env) sync() {
	e.t.Helper()
	res, err := e.syncer.SyncDistrict(e.ctx, e.district, mirror.Options{})
	must(e.t, err)
	if res.Status != mirror.StatusSucceeded {
		e.t.Fatalf("sync: %s", res.Status)
	}
}

// admin is a request context with an admin API key.
func admin(ctx context.Context) context.Context {
	return auth.WithKey(ctx, auth.Key{ID: "0123456789abcdef0123456789abcdef", Name: "reviewer", Scopes: []auth.Scope{auth.ScopeAdmin}})
}

// importCSV imports text as the app's records of typ.
func (e *env) importCSV(typ match.Type, text string) (*ent.AppImport, error) {
	return e.svc.Import(e.ctx, recs.ImportInput{DistrictID: e.district, Type: typ, FileName: "test.csv",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}, "test")
}

// record returns the app record of typ with the external id.
func (e *env) record(typ match.Type, ext string) *ent.AppRecord {
	e.t.Helper()
	r, err := e.db.Client.AppRecord.Query().Where(apprecord.DistrictID(e.district),
		apprecord.TypeEQ(apprecord.Type(strings.ToUpper(string(typ)))), apprecord.ExternalID(ext)).Only(e.ctx)
	must(e.t, err)
	return r
}

// open returns a record's open suggestions, best first.
func (e *env) open(r *ent.AppRecord) []*ent.MatchSuggestion {
	e.t.Helper()
	s, err := e.db.Client.MatchSuggestion.Query().Where(matchsuggestion.AppRecordID(r.ID), matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN)).
		Order(ent.Asc(matchsuggestion.FieldRank)).All(e.ctx)
	must(e.t, err)
	return s
}

// export returns the Matchmaker export of typ as rows by header name.
func (e *env) export(typ match.Type) ([]string, []map[string]string) {
	e.t.Helper()
	var b bytes.Buffer
	must(e.t, e.svc.Export(e.ctx, &b, e.district, typ))
	rows, err := csv.NewReader(&b).ReadAll()
	must(e.t, err)
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return rows[0], out
}

// writeCSV writes records as the app's CSV with the given columns (field names; app_id first).
func writeCSV(records []match.Record, fields []match.Field) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	head := []string{"app_id"}
	for _, f := range fields {
		head = append(head, string(f))
	}
	w.Write(head)
	for _, r := range records {
		row := []string{r.ID}
		for _, f := range fields {
			row = append(row, r.Values[f])
		}
		w.Write(row)
	}
	w.Flush()
	return b.String()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// openString opens text as a file.
func openString(text string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
}

// recsInput is an import of text as the app's records of typ, its id in idColumn.
func recsInput(e *env, typ match.Type, text, idColumn string) recs.ImportInput {
	return recs.ImportInput{DistrictID: e.district, Type: typ, Open: openString(text), Options: match.CSVOptions{IDColumn: idColumn}}
}
