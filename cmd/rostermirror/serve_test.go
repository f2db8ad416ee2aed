package main

import (
	"context"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/metrics"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getWithKey(t, url, "")
}

// getWithKey GETs url with "Authorization: Bearer key" (none when key is empty).
func getWithKey(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestServe(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	e := simEnv(t).with(envAddr, ":1") // --addr wins
	// A run a killed process left RUNNING: serve closes it as interrupted when it starts.
	db, err := store.Open(t.Context(), e[envDatabaseURL])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stale := db.Client.SyncRun.Create().SetDistrictID("5b2ad81a709e300001e2cd7a").SetTrigger("schedule").
		SetStartedAt(time.Now().Add(-time.Hour)).SaveX(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan result, 1)
	var stdout, stderr testlog.Buffer
	go func() {
		code := run(ctx, []string{"serve", "--addr", addr}, strings.NewReader(""), &stdout, &stderr, e.get)
		done <- result{code, stdout.String(), stderr.String()}
	}()

	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case r := <-done:
			t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 \"ok\"", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/readyz: %d %q, want 200 \"ok\"", code, body)
	}
	if run := db.Client.SyncRun.GetX(t.Context(), stale.ID); run.Status != syncrun.StatusFailed || run.FinishedAt == nil ||
		len(run.Errors) != 1 || !strings.Contains(run.Errors[0], "interrupted") {
		t.Errorf("the run left RUNNING before serve started: %s %v %q", run.Status, run.FinishedAt, run.Errors)
	}

	// The scheduler starts after the HTTP server (which serves while Clever is read): wait for it.
	for !strings.Contains(stderr.String(), "sync schedule started") {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case r := <-done:
		t.Logf("stderr:\n%s", r.stderr)
		if !strings.Contains(r.stderr, `"districts":1`) {
			t.Errorf("the scheduler did not schedule the simulator's district:\n%s", r.stderr)
		}
		if r.code != exitOK {
			t.Errorf("serve exited %d after cancel, want 0; stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, `"msg":"stopped"`) {
			t.Errorf("serve did not log a graceful stop:\n%s", r.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("serve still answers after it stopped")
	}
}

func TestServeAddrInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e := env{envDatabaseURL: dbtest.URL(t), envSecretKey: testSecretKey, envAddr: ln.Addr().String()}
	r := runCLI(t, t.Context(), e, "serve")
	if r.code != exitFailure || !strings.Contains(r.stderr, "listen on "+ln.Addr().String()) {
		t.Errorf("exit %d, stderr %q; want 1 and a listen error", r.code, r.stderr)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, url string) *store.DB {
		db, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	tests := []struct {
		name     string
		db       func(t *testing.T) *store.DB
		wantCode int
		wantBody string
	}{
		{"migrated", func(t *testing.T) *store.DB {
			db := open(t, dbtest.URL(t))
			t.Cleanup(func() { db.Close() })
			return db
		}, http.StatusOK, "ok"},
		{"not migrated", func(t *testing.T) *store.DB {
			db := open(t, dbtest.EmptyURL(t))
			t.Cleanup(func() { db.Close() })
			return db
		}, http.StatusServiceUnavailable, "run `rostermirror migrate`"},
		{"unreachable", func(t *testing.T) *store.DB {
			db := open(t, dbtest.URL(t))
			db.Close()
			return db
		}, http.StatusServiceUnavailable, "database unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := tt.db(t)
			h := newHTTPHandler(handlerDeps{DB: db, Logger: discardLogger(), Metrics: metrics.New(), Keys: auth.NewStore(db, nil)})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("/readyz: %d %q, want %d and %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("/healthz: %d, want 200 whatever the database", rec.Code)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestCompiledQueriesOff: with ROSTERMIRROR_COMPILED_QUERIES=off (graphqlOptions.ResolveAll) every query
// is resolved; by default a query over the mirror's tables is compiled on Postgres (never on SQLite).
// The answer is the same either way.
func TestCompiledQueriesOff(t *testing.T) {
	t.Parallel()
	db, err := store.Open(t.Context(), dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys := auth.NewStore(db, nil)
	key, _, err := keys.Create(t.Context(), "test", []auth.Scope{auth.ScopeRead}, "test")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _, err := keys.Create(t.Context(), "prometheus", []auth.Scope{auth.ScopeMetrics}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []bool{false, true} {
		m := metrics.New()
		h := newHTTPHandler(handlerDeps{DB: db, Logger: discardLogger(), Metrics: m, Keys: keys, GraphQL: graphqlOptions{ResolveAll: off}})
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"query Count { districts { totalCount } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != `{"data":{"districts":{"totalCount":0}}}` {
			t.Errorf("off=%v: %d %s", off, rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		req = httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+scrape)
		h.ServeHTTP(rec, req)
		compiled := strings.Contains(rec.Body.String(), `rostermirror_graphql_compiled_total{operation="Count"} 1`)
		if want := !off && dbtest.Postgres(); compiled != want {
			t.Errorf("off=%v on %s: compiled %v, want %v", off, db.Dialect, compiled, want)
		}
	}
}
