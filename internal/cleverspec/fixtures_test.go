package cleverspec

import (
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// name identifies the recording in test output: "file METHOD /path?query".
func (e Recording) name() string {
	u, _ := url.Parse(e.Request.URI)
	return e.File + " " + e.Request.Method + " " + u.RequestURI()
}

// validate runs v on the recorded response.
func (e Recording) validate(v *Validator) error {
	return v.ValidateResponse(e.Request.Method, e.Request.URI, e.Response.Status, e.Response.Header(), e.Response.WireBody)
}

// testdata is what every test shares: the shared directory, the validator and the recordings, loaded
// once per test binary.
type testdata struct {
	dir        string
	v          *Validator
	recordings []Recording
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
	recs, err := Recordings(dir)
	if err != nil {
		return nil, err
	}
	return &testdata{dir: dir, v: v, recordings: recs}, nil
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

// find returns the first recording of file whose request path+query is requestURI.
func (td *testdata) find(t *testing.T, file, requestURI string) Recording {
	t.Helper()
	for _, e := range td.recordings {
		u, _ := url.Parse(e.Request.URI)
		if e.File == file && u.RequestURI() == requestURI {
			return e
		}
	}
	t.Fatalf("find recording %s %s: missing", file, requestURI)
	return Recording{}
}

// withBody returns a copy of e whose response body is fn applied to the decoded body.
func (e Recording) withBody(t *testing.T, fn func(body map[string]any)) Recording {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(e.Response.WireBody, &body); err != nil {
		t.Fatalf("decode body of %s: %v", e.name(), err)
	}
	fn(body)
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode body: %v", err)
	}
	e.Response.Body, e.Response.WireBody = out, out
	e.Response.Headers = maps.Clone(e.Response.Headers)
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
