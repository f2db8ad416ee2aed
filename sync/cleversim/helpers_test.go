package cleversim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/cleverspec"
)

// sharedDir locates the shared Clever research folder (recordings, fixture dataset) with
// cleverspec.Dir, so CLEVER_SHARED_DIR is honoured. ok is false when the folder or its fixtures are
// absent; dir is then where it looked.
func sharedDir() (dir string, ok bool) {
	dir, ok = cleverspec.Dir()
	if ok {
		_, err := os.Stat(filepath.Join(dir, "fixtures"))
		ok = err == nil
	}
	return dir, ok
}

// needShared skips the test when the shared research folder (recordings, fixture dataset) is absent.
func needShared(t *testing.T) string {
	t.Helper()
	dir, ok := sharedDir()
	if !ok {
		t.Skipf("skipping: %s/fixtures not found (the shared Clever recordings live outside the repository; set %s)", dir, cleverspec.EnvSharedDir)
	}
	return dir
}

func fixtureDataset(t *testing.T) *Dataset {
	t.Helper()
	d, err := LoadDataset(filepath.Join(needShared(t), "fixtures", "certification-isd-events-dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadRecordings returns Clever's recorded exchanges, skipping the test when they are absent.
func loadRecordings(t *testing.T) []cleverspec.Recording {
	t.Helper()
	recs, err := cleverspec.Recordings(needShared(t))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixtureNow is when most recordings were made (events of 2023-03-26 are within retention).
var fixtureNow = time.Date(2023, 4, 24, 22, 43, 38, 0, time.UTC)

// bundle is what setup returns: the server under test and its surroundings.
type bundle struct {
	srv   *Server
	ts    *httptest.Server
	clock *clock
}

// setup starts a simulator over cfg (its clock replaced by a test clock at fixtureNow) behind httptest.
func setup(t *testing.T, cfg Config) *bundle {
	t.Helper()
	c := newClock(fixtureNow)
	cfg.Now = c.Now
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &bundle{srv: srv, ts: ts, clock: c}
}

// get does a GET with a bearer token and returns the response with its body read.
func (b *bundle) get(t *testing.T, token, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, b.ts.Client(), req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// getJSON GETs path and decodes a 200 JSON body.
func (b *bundle) getJSON(t *testing.T, token, path string) map[string]any {
	t.Helper()
	resp, body := b.get(t, token, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return m
}

// ids returns the ids of a list envelope's records.
func ids(t *testing.T, m map[string]any) []string {
	t.Helper()
	items, ok := m["data"].([]any)
	if !ok {
		t.Fatalf("no data list in %v", m)
	}
	out := []string{}
	for _, it := range items {
		out = append(out, it.(map[string]any)["data"].(map[string]any)["id"].(string))
	}
	return out
}

// links returns a list envelope's links as rel → uri, plus the rel order.
func links(t *testing.T, m map[string]any) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	var order []string
	ls, _ := m["links"].([]any)
	for _, l := range ls {
		lm := l.(map[string]any)
		out[lm["rel"].(string)] = lm["uri"].(string)
		order = append(order, lm["rel"].(string))
	}
	return out, order
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// pathOf returns the path and query of a recorded absolute URI.
func pathOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// events returns the events a server holds after the given event id, decoded.
func eventsAfter(t *testing.T, b *bundle, token, after string) []map[string]any {
	t.Helper()
	path := "/v3.0/events?limit=10000"
	if after != "" {
		path += "&starting_after=" + after
	}
	m := b.getJSON(t, token, path)
	var out []map[string]any
	for _, it := range m["data"].([]any) {
		out = append(out, it.(map[string]any)["data"].(map[string]any))
	}
	return out
}

func lastEventID(t *testing.T, b *bundle, token string) string {
	t.Helper()
	m := b.getJSON(t, token, "/v3.0/events?ending_before=last&limit=1")
	got := ids(t, m)
	if len(got) == 0 {
		return ""
	}
	return got[0]
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }
