package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/admin"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

type simTokens struct{ sim *cleversim.Server }

func (s simTokens) Token(_ context.Context, id string) (clever.Token, error) {
	return clever.Token(s.sim.DistrictToken(id)), nil
}
func (simTokens) Used(context.Context, string) error           { return nil }
func (simTokens) Revoked(context.Context, string, error) error { return nil }

// api is the GraphQL endpoint over a database synced from the demo district, behind the real API-key
// middleware, with keys of each scope.
type api struct {
	t      testing.TB
	url    string
	db     *store.DB
	sim    *cleversim.Server
	engine *mirror.Engine
	keys   map[string]string // "read", "admin", "sensitive" → key
	data   *cleversim.Dataset
}

func newAPI(t testing.TB) *api {
	t.Helper()
	data := synth.Demo()
	sim, err := cleversim.New(cleversim.Config{Dataset: data})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	c := clever.New(clever.Config{APIURL: simSrv.URL})
	db := dbtest.New(t)
	engine, err := mirror.New(mirror.Config{DB: db, Reader: func(tok clever.Token) mirror.Reader { return c.WithToken(tok) }, Tokens: simTokens{sim}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := engine.SyncDistrict(context.Background(), districtOf(data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %v", err, res.Errors)
	}
	keys := auth.NewStore(db, nil)
	a := &api{t: t, db: db, sim: sim, engine: engine, keys: map[string]string{}, data: data}
	for name, scopes := range map[string][]auth.Scope{"read": {auth.ScopeRead}, "admin": {auth.ScopeAdmin}, "sensitive": {auth.ScopeRead, auth.ScopeSensitive}, "sensitiveOnly": {auth.ScopeSensitive}} {
		key, _, err := keys.Create(context.Background(), name, scopes, "test")
		if err != nil {
			t.Fatal(err)
		}
		a.keys[name] = key
	}
	svc := admin.New(db, engine, nil, 0)
	t.Cleanup(func() { svc.Close(context.Background()) })
	h := auth.Middleware(keys, nil)(graph.NewHandler(graph.HandlerConfig{DB: db, Admin: svc}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func districtOf(d *cleversim.Dataset) string {
	var head struct{ ID string }
	json.Unmarshal(d.Districts[0], &head)
	return head.ID
}

// response is a GraphQL answer.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	status int
}

func (a *api) do(key, query string, vars map[string]any) response {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		a.t.Fatalf("decode: %v", err)
	}
	r.status = res.StatusCode
	return r
}

// query runs a query that must succeed and decodes its data into v.
func (a *api) query(key, query string, vars map[string]any, v any) {
	a.t.Helper()
	r := a.do(key, query, vars)
	if r.status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("query failed: %d %+v", r.status, r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		a.t.Fatal(err)
	}
}

func TestRootConnections(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var got map[string]struct {
		TotalCount int
	}
	a.query(a.keys["read"], `{ districts { totalCount } schools { totalCount } users { totalCount } sections { totalCount } terms { totalCount } courses { totalCount } syncRuns { totalCount } }`, nil, &got)
	want := map[string]int{"districts": 1, "schools": 4, "users": 360, "sections": 60, "terms": 5, "courses": 40, "syncRuns": 1}
	for k, n := range want {
		if got[k].TotalCount != n {
			t.Errorf("%s totalCount = %d, want %d", k, got[k].TotalCount, n)
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	if r := a.do("", `{ districts { totalCount } }`, nil); r.status != http.StatusUnauthorized || len(r.Errors) == 0 {
		t.Errorf("no key: %d %+v", r.status, r.Errors)
	}
	if r := a.do("rmk_not-a-key", `{ districts { totalCount } }`, nil); r.status != http.StatusUnauthorized {
		t.Errorf("bad key: %d", r.status)
	}
}

func TestArchivedHiddenAndShown(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	student := ""
	for _, raw := range a.data.Users {
		if strings.Contains(string(raw), `"student"`) {
			var head struct{ ID string }
			json.Unmarshal(raw, &head)
			student = head.ID
			break
		}
	}
	if err := a.sim.Unshare(cleversim.KindUsers, student); err != nil {
		t.Fatal(err)
	}
	if res, err := a.engine.SyncDistrict(context.Background(), districtOf(a.data), mirror.Options{}); err != nil || res.Status != mirror.StatusSucceeded {
		t.Fatalf("sync: %v %v", err, res.Errors)
	}
	q := `query($all: Boolean) { users(includeArchived: $all, where: {id: "` + student + `"}) { totalCount edges { node { cleverId archivedAt } } }
	  districts(includeArchived: $all) { edges { node { users { totalCount } } } } }`
	var hidden, shown struct {
		Users struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					CleverID   string
					ArchivedAt *string
				}
			}
		}
		Districts struct {
			Edges []struct {
				Node struct{ Users struct{ TotalCount int } }
			}
		}
	}
	a.query(a.keys["read"], q, map[string]any{"all": false}, &hidden)
	a.query(a.keys["read"], q, map[string]any{"all": true}, &shown)
	if hidden.Users.TotalCount != 0 || shown.Users.TotalCount != 1 || shown.Users.Edges[0].Node.ArchivedAt == nil {
		t.Errorf("archived student: hidden %+v, shown %+v", hidden.Users, shown.Users)
	}
	// The same for an edge below the root field.
	if h, s := hidden.Districts.Edges[0].Node.Users.TotalCount, shown.Districts.Edges[0].Node.Users.TotalCount; h != 359 || s != 360 {
		t.Errorf("district.users: %d hidden view, %d with archived; want 359 and 360", h, s)
	}
}

func sleepBriefly() { time.Sleep(10 * time.Millisecond) }
