// Package cleverspec validates HTTP responses of the Clever Data API v3.0 (and of anything that imitates
// it, such as the project's simulator) against Clever's own Swagger 2.0 specs, v3.0.yml and
// v3.0-events.yml from Clever/swagger-api, converted to OpenAPI 3 with kin-openapi.
//
// The published specs and the live API disagree in a few places, documented in
// shared/clever/API-NOTES.md and visible in the recorded responses beside it. The validator tolerates
// each known difference through a named, narrow rule that patches the loaded spec (see Deviations); it
// never ignores errors wholesale. Where the specs are silent but Clever's docs and the recordings agree,
// it is stricter than the specs (see Tightenings): objects are closed, guaranteed fields are required,
// the data/links/uri envelope is checked and the X-RateLimit-* headers must be present.
//
// Unknown properties are rejected. Clever says new fields may appear, but this package exists to catch
// drift between what Clever sends, what our recordings hold and what our simulator serves, and an open
// object would let a misspelt key (clever-go's "districtadmin", say) through unnoticed. A field the live
// API starts sending is added here as a deviation, with its evidence. Only the free-form "ext" objects
// and the events' previous_attributes values are open.
//
// The spec files and the recorded exchanges are third-party and are never copied into this repository:
// Dir finds them in the shared folder beside the checkout, and Load and Recordings read them from
// there. Recordings is the one loader of the recordings, for this package's tests and the other
// packages' conformance and replay tests alike.
package cleverspec

import (
	"errors"
	"os"
	"path/filepath"
)

// EnvSharedDir is the environment variable that, when set, names the shared/clever directory Dir returns.
const EnvSharedDir = "CLEVER_SHARED_DIR"

// ErrNotCovered reports that a response could not be checked against the specs because they do not
// describe it: a path outside the Data and Events APIs (/me, /oauth/*), or a status code the operation
// does not document (an HTML 404, a 429). ValidateResponse returns it, wrapped, only when nothing it
// could check was wrong; any violation takes precedence.
var ErrNotCovered = errors.New("response not covered by the Clever spec")

// Dir locates the shared/clever directory that holds Clever's specs and recordings: $CLEVER_SHARED_DIR
// if set, else ../shared/clever beside the directory holding go.mod, found by walking up from the
// working directory. ok is false when the directory or its spec/v3.0.yml is absent; dir is then the
// place that was looked at (empty when no go.mod was found), for the caller's skip message.
func Dir() (dir string, ok bool) {
	if d := os.Getenv(EnvSharedDir); d != "" {
		return d, hasSpecs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(d), "shared", "clever")
			return shared, hasSpecs(shared)
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// hasSpecs reports whether dir holds the Data API spec, either in dir/spec (the shared/clever layout)
// or directly.
func hasSpecs(dir string) bool {
	_, err := os.Stat(filepath.Join(specDir(dir), dataSpecFile))
	return err == nil
}

// specDir returns the directory holding the spec files for dir: dir/spec when it exists, else dir.
func specDir(dir string) string {
	if fi, err := os.Stat(filepath.Join(dir, "spec")); err == nil && fi.IsDir() {
		return filepath.Join(dir, "spec")
	}
	return dir
}
