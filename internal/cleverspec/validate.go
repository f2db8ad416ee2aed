package cleverspec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Violation is one way a response breaks the (patched) spec.
type Violation struct {
	// Path locates the problem: a JSON pointer into the body ("/data/0/data/id"; "/" for the body as a
	// whole) or "header <Name>" for a response header.
	Path string
	// Message says what is wrong.
	Message string
}

// String returns "path: message".
func (v Violation) String() string { return v.Path + ": " + v.Message }

// ValidationError lists every violation found in one response.
type ValidationError struct {
	Method, URI string
	Status      int
	Violations  []Violation
}

// Error lists the violations on one line, separated by "; ".
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return fmt.Sprintf("validate response %s %s (%d): %d violation(s): %s",
		e.Method, e.URI, e.Status, len(e.Violations), strings.Join(parts, "; "))
}

// ValidateResponse validates one exchange: the request's method and URI (path and query, relative or
// absolute on any host), and the response's status, headers and body. It returns nil when the response
// conforms; a *ValidationError listing every violation with its JSON path; or, when nothing checkable
// was wrong but the specs do not describe the response (see ErrNotCovered), an error wrapping
// ErrNotCovered.
func (v *Validator) ValidateResponse(method, uri string, status int, header http.Header, body []byte) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("parse request uri: %w", err)
	}
	target := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).RequestURI()
	verr := &ValidationError{Method: method, URI: target, Status: status}
	if header == nil {
		header = http.Header{}
	}

	if v.checkRateLimit && !strings.HasPrefix(u.Path, "/oauth/") {
		verr.Violations = append(verr.Violations, rateLimitViolations(header)...)
	}

	req, err := http.NewRequestWithContext(context.Background(), method, target, http.NoBody)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	route, params, notCovered := v.findRoute(req)
	if notCovered == "" {
		op := route.Operation
		if alt, ok := v.alternates[op.OperationID]; ok && hasTopLevelKey(body, alt.key) {
			r := *route
			r.Operation = alt.op
			route, op = &r, alt.op
		}
		if op.Responses.Status(status) == nil && op.Responses.Default() == nil {
			notCovered = fmt.Sprintf("status %d not described for %s %s", status, method, route.Path)
		} else {
			verr.Violations = append(verr.Violations, v.bodyViolations(req, route, params, status, header, body)...)
		}
	}

	switch {
	case len(verr.Violations) > 0:
		return verr
	case notCovered != "":
		return fmt.Errorf("validate response %s %s (%d): %s: %w", method, target, status, notCovered, ErrNotCovered)
	default:
		return nil
	}
}

// findRoute finds the spec operation for req, or says why there is none.
func (v *Validator) findRoute(req *http.Request) (*routers.Route, map[string]string, string) {
	for _, r := range v.routers {
		route, params, err := r.FindRoute(req)
		if err == nil {
			return route, params, ""
		}
	}
	return nil, nil, fmt.Sprintf("no operation for %s %s in the spec", req.Method, req.URL.Path)
}

// bodyViolations validates status, content type and body with openapi3filter.
func (v *Validator) bodyViolations(req *http.Request, route *routers.Route, params map[string]string,
	status int, header http.Header, body []byte) []Violation {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			MultiError:              true,
			IncludeResponseStatus:   true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(v.formats)},
		},
	}
	in.SetBodyBytes(body)
	err := openapi3filter.ValidateResponse(context.Background(), in)
	if err == nil {
		return nil
	}
	var re *openapi3filter.ResponseError
	if !errors.As(err, &re) {
		return []Violation{{Path: "/", Message: err.Error()}}
	}
	var schemaErr openapi3.MultiError
	var single *openapi3.SchemaError
	switch {
	case re.Err == nil:
		return []Violation{{Path: "/", Message: re.Reason}}
	case errors.As(re.Err, &schemaErr), errors.As(re.Err, &single):
		var out []Violation
		collectSchemaErrors(re.Err, &out)
		return out
	default:
		return []Violation{{Path: "/", Message: re.Reason + ": " + re.Err.Error()}}
	}
}

// unsupportedReason matches kin-openapi's reason for an unknown property, which it reports at the
// enclosing object.
var unsupportedReason = regexp.MustCompile(`^property "(.*)" is unsupported$`)

// collectSchemaErrors flattens kin-openapi's schema errors (multi-errors, and the errors nested in a
// oneOf such as the event-type dispatch) into violations with JSON pointers.
func collectSchemaErrors(err error, out *[]Violation) {
	var me openapi3.MultiError
	if errors.As(err, &me) && !isSchemaError(err) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		*out = append(*out, Violation{Path: "/", Message: err.Error()})
		return
	}
	if combinators[se.SchemaField] && se.Origin != nil && errors.As(se.Origin, &me) {
		collectSchemaErrors(me, out)
		return
	}
	path := se.JSONPointer()
	reason := se.Reason
	switch m := unsupportedReason.FindStringSubmatch(reason); {
	case m != nil: // reported at the enclosing object
		path, reason = append(path, m[1]), "property is not in the spec"
	case se.SchemaField == "required": // already reported at the property
		reason = "property is missing"
	}
	*out = append(*out, Violation{Path: pointer(path), Message: reason})
}

// combinators are the schema keywords whose errors carry the errors of their sub-schemas, already
// marked with the full path.
var combinators = map[string]bool{"oneOf": true, "anyOf": true, "allOf": true}

// isSchemaError reports whether err itself is a *openapi3.SchemaError.
func isSchemaError(err error) bool {
	_, ok := err.(*openapi3.SchemaError)
	return ok
}

// pointer renders path segments as a JSON pointer (RFC 6901).
func pointer(path []string) string {
	if len(path) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

// hasTopLevelKey reports whether body is a JSON object with the given key.
func hasTopLevelKey(body []byte, key string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return false
	}
	_, ok := obj[key]
	return ok
}

// rateLimitHeaders are the headers every api.clever.com response carries (API-NOTES §6), with the
// smallest value each may take.
var rateLimitHeaders = []struct {
	name string
	min  int64 // -1: any non-empty text
}{
	{"X-RateLimit-Bucket", -1},
	{"X-RateLimit-Limit", 1},
	{"X-RateLimit-Remaining", 0},
	{"X-RateLimit-Reset", 1}, // unix seconds
}

// rateLimitViolations checks the X-RateLimit-* headers.
func rateLimitViolations(h http.Header) []Violation {
	var out []Violation
	for _, rh := range rateLimitHeaders {
		val := h.Get(rh.name)
		where := "header " + rh.name
		switch {
		case val == "":
			out = append(out, Violation{Path: where, Message: "missing"})
		case rh.min >= 0:
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < rh.min {
				out = append(out, Violation{Path: where, Message: fmt.Sprintf("%q is not an integer >= %d", val, rh.min)})
			}
		}
	}
	return out
}
