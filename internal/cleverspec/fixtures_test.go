package cleverspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fixturesDir is where the recorded exchanges sit under shared/clever.
const fixturesDir = "fixtures/certification-isd-events"

// exchange is one recorded request/response pair.
type exchange struct {
	File   string
	Method string
	URI    string // as recorded: absolute
	Status int
	Header http.Header
	Body   []byte
}

// Name identifies the exchange in test output: "file METHOD /path?query".
func (e exchange) Name() string {
	u, _ := url.Parse(e.URI)
	return e.File + " " + e.Method + " " + u.RequestURI()
}

// validate runs v on the exchange.
func (e exchange) validate(v *Validator) error {
	return v.ValidateResponse(e.Method, e.URI, e.Status, e.Header, e.Body)
}

// testdata is what every test shares: the shared directory, the validator and the recordings, loaded
// once per test binary.
type testdata struct {
	dir       string
	v         *Validator
	exchanges []exchange
}

var loadTestdata = sync.OnceValues(func() (*testdata, error) {
	dir, ok := Dir()
	if !ok {
		return nil, nil
	}
	v, err := Load(dir)
	if err != nil {
		return nil, err
	}
	ex, err := readExchanges(filepath.Join(dir, fixturesDir))
	if err != nil {
		return nil, err
	}
	return &testdata{dir: dir, v: v, exchanges: ex}, nil
})

// setup returns the shared test data, skipping the test when shared/clever is absent.
func setup(t *testing.T) *testdata {
	t.Helper()
	td, err := loadTestdata()
	if err != nil {
		t.Fatalf("load test data: %v", err)
	}
	if td == nil {
		dir, _ := Dir()
		t.Skipf("Clever specs and recordings not found (looked in %q; set %s or place shared/clever beside the module)", dir, EnvSharedDir)
	}
	return td
}

// specCache holds, by path, each spec file parsed to JSON once per test binary.
var specCache sync.Map // string -> func() ([]byte, error)

// readSpecOnce is readYAMLAsJSON, memoised.
func readSpecOnce(path string) ([]byte, error) {
	f, _ := specCache.LoadOrStore(path, sync.OnceValues(func() ([]byte, error) { return readYAMLAsJSON(path) }))
	return f.(func() ([]byte, error))()
}

// withoutCache holds, by rule name, the validators loaded without that rule, shared between tests.
var withoutCache sync.Map // string -> func() (*Validator, error)

// loadWithout loads (once per test binary) a validator with the named rule left out.
func loadWithout(t *testing.T, td *testdata, rule string) *Validator {
	t.Helper()
	f, _ := withoutCache.LoadOrStore(rule, sync.OnceValues(func() (*Validator, error) {
		return load(td.dir, map[string]bool{rule: true}, readSpecOnce)
	}))
	v, err := f.(func() (*Validator, error))()
	if err != nil {
		t.Fatalf("load without %s: %v", rule, err)
	}
	return v
}

// readExchanges reads every recording file in dir (all but _index.json), in name order.
func readExchanges(dir string) ([]exchange, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	slices.Sort(files)
	var out []exchange
	for _, f := range files {
		if filepath.Base(f) == "_index.json" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read recording: %w", err)
		}
		var recs []struct {
			Request struct {
				Method string `json:"method"`
				URI    string `json:"uri"`
			} `json:"request"`
			Response struct {
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"response"`
		}
		if err := json.Unmarshal(raw, &recs); err != nil {
			return nil, fmt.Errorf("decode recording %s: %w", filepath.Base(f), err)
		}
		for _, r := range recs {
			h := http.Header{}
			for k, v := range r.Response.Headers {
				h.Set(k, v)
			}
			body := []byte(r.Response.Body)
			if bytes.HasPrefix(body, []byte(`"`)) { // a non-JSON body (HTML) is stored as a JSON string
				var s string
				if err := json.Unmarshal(body, &s); err != nil {
					return nil, fmt.Errorf("decode body in %s: %w", filepath.Base(f), err)
				}
				body = []byte(s)
			} else if string(body) == "null" {
				body = nil
			}
			out = append(out, exchange{
				File: filepath.Base(f), Method: r.Request.Method, URI: r.Request.URI,
				Status: r.Response.Status, Header: h, Body: body,
			})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read recordings in %s: none", dir)
	}
	return out, nil
}

// find returns the first recorded exchange of file whose request path+query is requestURI.
func (td *testdata) find(t *testing.T, file, requestURI string) exchange {
	t.Helper()
	for _, e := range td.exchanges {
		u, _ := url.Parse(e.URI)
		if e.File == file && u.RequestURI() == requestURI {
			return e
		}
	}
	t.Fatalf("find recording %s %s: missing", file, requestURI)
	return exchange{}
}

// withBody returns a copy of e whose body is fn applied to the decoded body.
func (e exchange) withBody(t *testing.T, fn func(body map[string]any)) exchange {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatalf("decode body of %s: %v", e.Name(), err)
	}
	fn(body)
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode body: %v", err)
	}
	e.Body = out
	e.Header = e.Header.Clone()
	return e
}

// at walks a decoded JSON value along keys and indexes ("data", 0, "roles").
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("walk %v: %q is not in an object", path, k)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("walk %v: index %d out of range", path, k)
			}
			v = a[k]
		}
	}
	return v
}

// obj is at for a path that ends on an object.
func obj(t *testing.T, v any, path ...any) map[string]any {
	t.Helper()
	m, ok := at(t, v, path...).(map[string]any)
	if !ok {
		t.Fatalf("walk %v: not an object", path)
	}
	return m
}

// violations returns the violations of err, failing the test when err is not a *ValidationError.
func violations(t *testing.T, err error) []Violation {
	t.Helper()
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	return ve.Violations
}

// wantViolation fails unless err reports a violation at path whose message contains msg.
func wantViolation(t *testing.T, err error, path, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a violation at %s, got none", path)
	}
	for _, v := range violations(t, err) {
		if v.Path == path && strings.Contains(v.Message, msg) {
			return
		}
	}
	t.Fatalf("want a violation at %s containing %q, got: %v", path, msg, err)
}

// decode decodes a JSON body.
func decode(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return v
}
