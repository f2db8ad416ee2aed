package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/graph/playground/playgroundtest"
	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/internal/testlog"
)

// TestServeEndToEnd is the README's path through the real binary's code: sync a district from the
// simulator, create an API key with the CLI, then serve — GraphQL with the key (401 without), Prometheus
// metrics with a metrics key (401 without a key, 403 with a read key), and the offline playground driven
// in Chromium running a query and showing the result.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	e := simEnv(t)
	if r := runCLI(t, t.Context(), e, "sync"); r.code != exitOK {
		t.Fatalf("sync: %d\n%s", r.code, r.stderr)
	}
	created := runCLI(t, t.Context(), e, "apikey", "create", "--name", "e2e", "--scope", "read")
	key := strings.TrimSpace(created.stdout)
	if created.code != exitOK || !strings.HasPrefix(key, "rmk_") {
		t.Fatalf("apikey create: %d %q\n%s", created.code, created.stdout, created.stderr)
	}

	addr := freeAddr(t)
	e[envConcurrency] = "3"
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() { done <- runCLI(t, ctx, e, "serve", "--addr", addr) }()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			t.Errorf("serve exited %d:\n%s", r.code, r.stderr)
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not become ready")
		}
	}

	post := func(key string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ districts { totalCount } users { totalCount } }"}`))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", code)
	}
	code, body := post(key)
	var answer struct {
		Data struct{ Districts, Users struct{ TotalCount int } }
	}
	json.Unmarshal([]byte(body), &answer)
	if code != http.StatusOK || answer.Data.Districts.TotalCount != 1 || answer.Data.Users.TotalCount != 360 {
		t.Errorf("graphql: %d %s", code, body)
	}
	// /metrics tells roster sizes: it needs a key with the metrics scope (or admin).
	if code, _ := get(t, base+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a key: %d, want 401", code)
	}
	if code, body := getWithKey(t, base+"/metrics", key); code != http.StatusForbidden || !strings.Contains(body, "FORBIDDEN") {
		t.Errorf("/metrics with a read key: %d %s, want 403", code, body)
	}
	scraper := runCLI(t, t.Context(), e, "apikey", "create", "--name", "prometheus", "--scope", "metrics")
	code, metrics := getWithKey(t, base+"/metrics", strings.TrimSpace(scraper.stdout))
	if code != http.StatusOK {
		t.Fatalf("/metrics with a metrics key: %d", code)
	}
	want := []string{
		`rostermirror_http_requests_total{code="200",path="/graphql"} 1`,
		`rostermirror_graphql_request_duration_seconds_count{operation="anonymous"} 1`,
		"rostermirror_graphql_concurrency_limit 3", // from ROSTERMIRROR_GRAPHQL_CONCURRENCY
		"rostermirror_graphql_operations_running 0",
		"rostermirror_graphql_operations_waiting 0",
		"rostermirror_graphql_queue_wait_seconds_count 1", // the request without a key never queued
	}
	compiled := `rostermirror_graphql_compiled_total{operation="anonymous"} 1`
	if dbtest.Postgres() { // the query reads only the mirror's tables: one compiled statement answers it
		want = append(want, compiled)
	} else if strings.Contains(metrics, "rostermirror_graphql_compiled_total{") {
		t.Error("/metrics counts compiled queries on SQLite")
	}
	for _, line := range want {
		if !strings.Contains(metrics, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	result := playgroundtest.RunInBrowser(t, base+"/", key)
	if !strings.Contains(result, `"totalCount": 1`) {
		t.Errorf("the playground's result pane shows:\n%s", result)
	}
}

// TestDemo: `rostermirror demo` with nothing configured but a database file starts the simulator, syncs
// the demo district, prints an admin key, and serves the district over GraphQL until cancelled.
func TestDemo(t *testing.T) {
	t.Parallel()
	e := env{envDatabaseURL: "file:" + t.TempDir() + "/demo.db"}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	out := &testlog.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", addr}, strings.NewReader(""), out, io.Discard, e.get)
	}()
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
	if !strings.Contains(out.String(), "Playground:  http://"+addr+"/") {
		t.Errorf("no playground URL:\n%s", out.String())
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ districts { edges { node { name } } } users { totalCount } }"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"name":"#DEMO Rostermirror ISD"`) || !strings.Contains(string(b), `"totalCount":653`) {
		t.Errorf("demo GraphQL answer: %s", b)
	}
	// The first query the demo prints answers within the API's limits.
	body, _ := json.Marshal(map[string]string{"query": demoQuery})
	req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), `"errors"`) || !strings.Contains(string(b), `"students":{"totalCount":`) {
		t.Errorf("the demo's first query: %s", b)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("demo exited %d", code)
	}
}
