package cleverspec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/oasdiff/yaml"
)

// The spec files Load reads, as named in Clever/swagger-api.
const (
	dataSpecFile   = "v3.0.yml"
	eventsSpecFile = "v3.0-events.yml"
	clientSpecFile = "v3.0-client.yml"
)

// basePath is the API prefix of every v3.0 route (the specs' basePath).
const basePath = "/v3.0"

// Validator checks responses against the patched Data and Events API specs. It is safe for concurrent
// use once loaded.
type Validator struct {
	routers []routers.Router // data API first, then events API
	// alternates holds, by operationId, a variant of the operation whose body schema is used instead
	// when the response body has the given top-level key (see the resources-unenveloped-empty deviation).
	alternates map[string]alternate
	// formats are the string format validators rules register, passed to every schema validation.
	formats map[string]openapi3.StringFormatValidator
	// checkRateLimit enables the rate-limit-headers tightening.
	checkRateLimit bool
}

// alternate is an operation variant selected by a top-level body key.
type alternate struct {
	key string
	op  *openapi3.Operation
}

// spec is the mutable state rules patch while a Validator is being loaded.
type spec struct {
	data, events *openapi3.T
	// client is Clever's combined SDK spec (v3.0-client.yml), read only for the definitions of fields
	// v3.0.yml hides.
	client *openapi2.T
	v      *Validator
}

// docs returns the loaded documents, data API first.
func (s *spec) docs() []*openapi3.T { return []*openapi3.T{s.data, s.events} }

// Load reads v3.0.yml and v3.0-events.yml (Swagger 2.0) from dir, as returned by Dir (the spec files
// may sit in dir/spec or in dir itself), converts them to OpenAPI 3 with openapi2conv, applies the
// rules of Tightenings and Deviations, and prepares one router per document. It also reads
// v3.0-client.yml beside them, for the types of the student fields v3.0.yml hides.
//
// Routing uses the path only: the specs' host is dropped and their basePath (/v3.0) kept, so relative
// request URIs such as /v3.0/users?limit=5 and absolute ones on any host (a local simulator) route
// alike.
//
// Besides the rules listed by Deviations and Tightenings, Load fixes three things the conversion
// would otherwise lose from the Swagger 2.0 specs:
//   - x-nullable beside a $ref (roles.student, School.location, …) is dropped by openapi2conv; such a
//     property becomes {nullable: true, allOf: [$ref]}. Inline x-nullable is converted by openapi2conv.
//   - Each event type (users.updated, …) is written as allOf [Event, {data, previous_attributes}] with a
//     Swagger 2.0 discriminator on Event.type, which OpenAPI 3 validators do not follow. The allOf is
//     flattened into one object per type, with type fixed to the type's name, and an event's schema is
//     chosen by its type through an OpenAPI 3 oneOf + discriminator mapping; unknown types fail.
//   - Clever writes format "datetime", which is no standard format and would go unchecked; it is
//     validated as RFC 3339 date-time (see the datetime-format tightening).
func Load(dir string) (*Validator, error) {
	return load(dir, nil, readYAMLAsJSON)
}

// specReader returns the spec file at path as JSON.
type specReader func(path string) ([]byte, error)

// readYAMLAsJSON reads a YAML file and converts it to JSON.
func readYAMLAsJSON(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parse spec %s: %w", filepath.Base(path), err)
	}
	return js, nil
}

// load is Load with the named rules left out, so that tests can show each rule is needed, and with the
// spec files read by read, so that tests can parse the YAML once.
func load(dir string, without map[string]bool, read specReader) (*Validator, error) {
	sd := specDir(dir)
	s := &spec{v: &Validator{
		alternates: map[string]alternate{},
		formats:    map[string]openapi3.StringFormatValidator{},
	}}
	var err error
	if s.data, err = readSpec(read, filepath.Join(sd, dataSpecFile)); err != nil {
		return nil, err
	}
	if s.events, err = readSpec(read, filepath.Join(sd, eventsSpecFile)); err != nil {
		return nil, err
	}
	if s.client, err = readSwagger(read, filepath.Join(sd, clientSpecFile)); err != nil {
		return nil, err
	}
	if err := flattenEvents(s.events); err != nil {
		return nil, fmt.Errorf("flatten events spec: %w", err)
	}
	for _, r := range allRules() {
		if without[r.Name] {
			continue
		}
		if err := r.apply(s); err != nil {
			return nil, fmt.Errorf("apply rule %s: %w", r.Name, err)
		}
	}
	v := s.v
	for _, doc := range s.docs() {
		doc.Servers = openapi3.Servers{{URL: basePath}}
		if err := doc.Validate(context.Background(), openapi3.DisableSchemaFormatValidation()); err != nil {
			return nil, fmt.Errorf("validate patched spec %s: %w", doc.Info.Title, err)
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("build router for %s: %w", doc.Info.Title, err)
		}
		v.routers = append(v.routers, r)
	}
	return v, nil
}

// readSwagger parses one Swagger 2.0 file and makes x-nullable beside $ref survive conversion.
func readSwagger(read specReader, path string) (*openapi2.T, error) {
	js, err := read(path)
	if err != nil {
		return nil, err
	}
	var doc openapi2.T
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, fmt.Errorf("decode spec %s: %w", filepath.Base(path), err)
	}
	for _, name := range sortedKeys(doc.Definitions) {
		doc.Definitions[name] = wrapNullableRefs(doc.Definitions[name])
	}
	return &doc, nil
}

// readSpec reads one Swagger 2.0 spec and converts it to OpenAPI 3.
func readSpec(read specReader, path string) (*openapi3.T, error) {
	doc2, err := readSwagger(read, path)
	if err != nil {
		return nil, err
	}
	doc3, err := openapi2conv.ToV3(doc2)
	if err != nil {
		return nil, fmt.Errorf("convert spec %s: %w", filepath.Base(path), err)
	}
	return doc3, nil
}

// wrapNullableRefs rewrites, below sr, every {$ref, x-nullable: true} as
// {allOf: [$ref], x-nullable: true}, which openapi2conv converts to a nullable schema instead of
// dropping the x-nullable.
func wrapNullableRefs(sr *openapi2.SchemaRef) *openapi2.SchemaRef {
	if sr == nil {
		return nil
	}
	if sr.Ref != "" {
		if nullable, _ := sr.Extensions["x-nullable"].(bool); nullable {
			return &openapi2.SchemaRef{Value: &openapi2.Schema{
				AllOf:      openapi2.SchemaRefs{{Ref: sr.Ref}},
				Extensions: map[string]any{"x-nullable": true},
			}}
		}
		return sr
	}
	if s := sr.Value; s != nil {
		for k, p := range s.Properties {
			s.Properties[k] = wrapNullableRefs(p)
		}
		s.Items = wrapNullableRefs(s.Items)
		for i, p := range s.AllOf {
			s.AllOf[i] = wrapNullableRefs(p)
		}
	}
	return sr
}

// eventTypeName matches the names of the per-type event definitions, e.g. "users.updated".
var eventTypeName = regexp.MustCompile(`^[a-z]+\.(created|updated|deleted)$`)

// flattenEvents replaces each event type's allOf [Event, {…}] with one flat object schema whose type
// property is fixed to the type's name and whose data is a per-type copy of the spec's <Type>Object,
// and makes EventResponse.data a oneOf of the event types, chosen by the type property.
func flattenEvents(doc *openapi3.T) error {
	schemas := doc.Components.Schemas
	base, ok := schemas["Event"]
	if !ok || base.Value == nil {
		return fmt.Errorf("find schema Event: missing")
	}
	base.Value.Discriminator = nil // Swagger 2.0 subtype dispatch; replaced by the oneOf below
	var (
		types   openapi3.SchemaRefs
		mapping = openapi3.StringMap[openapi3.MappingRef]{}
	)
	for _, name := range sortedKeys(schemas) {
		if !eventTypeName.MatchString(name) {
			continue
		}
		sr := schemas[name]
		if sr.Value == nil || len(sr.Value.AllOf) != 2 || sr.Value.AllOf[0].Ref != "#/components/schemas/Event" {
			return fmt.Errorf("flatten event type %s: not allOf [Event, {…}]", name)
		}
		part := sr.Value.AllOf[1].Value
		flat := openapi3.NewObjectSchema()
		flat.Required = slices.Clone(base.Value.Required)
		for k, p := range base.Value.Properties {
			flat.Properties[k] = p
		}
		flat.Properties["type"] = openapi3.NewSchemaRef("", openapi3.NewStringSchema().WithEnum(name))
		for k, p := range part.Properties {
			flat.Properties[k] = p
		}
		obj := part.Properties["data"]
		if obj == nil || obj.Value == nil {
			return fmt.Errorf("flatten event type %s: no data", name)
		}
		data := openapi3.NewObjectSchema()
		for k, p := range obj.Value.Properties {
			data.Properties[k] = p
		}
		flat.Properties["data"] = openapi3.NewSchemaRef("", data)
		sr.Value = flat
		ref := "#/components/schemas/" + name
		types = append(types, openapi3.NewSchemaRef(ref, flat))
		mapping[name] = openapi3.MappingRef{Ref: ref}
	}
	if len(types) == 0 {
		return fmt.Errorf("find event types: none")
	}
	resp, ok := schemas["EventResponse"]
	if !ok || resp.Value == nil {
		return fmt.Errorf("find schema EventResponse: missing")
	}
	resp.Value.Properties["data"] = openapi3.NewSchemaRef("", &openapi3.Schema{
		OneOf:         types,
		Discriminator: &openapi3.Discriminator{PropertyName: "type", Mapping: mapping},
	})
	return nil
}

// eventTypes returns the names of the event types in the flattened events document, sorted.
func eventTypes(doc *openapi3.T) []string {
	var names []string
	for _, name := range sortedKeys(doc.Components.Schemas) {
		if eventTypeName.MatchString(name) {
			names = append(names, name)
		}
	}
	return names
}

// sortedKeys returns the keys of m in order, so that loading is deterministic.
func sortedKeys[V any, M ~map[string]V](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// schema returns the named component schema of doc, or an error naming it.
func schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	sr, ok := doc.Components.Schemas[name]
	if !ok || sr.Value == nil {
		return nil, fmt.Errorf("find schema %s in %s: missing", name, doc.Info.Title)
	}
	return sr.Value, nil
}

// property returns the named property of s, or an error naming it.
func property(s *openapi3.Schema, owner, name string) (*openapi3.Schema, error) {
	p, ok := s.Properties[name]
	if !ok || p.Value == nil {
		return nil, fmt.Errorf("find property %s.%s: missing", owner, name)
	}
	return p.Value, nil
}

// isListEnvelope reports whether name is a list response schema (CoursesResponse, …).
func isListEnvelope(name string, s *openapi3.Schema) bool {
	d, ok := s.Properties["data"]
	return strings.HasSuffix(name, "Response") && ok && d.Value != nil && d.Value.Type.Is("array")
}

// isSingleEnvelope reports whether name is a single-record response schema (CourseResponse, …).
func isSingleEnvelope(name string, s *openapi3.Schema) bool {
	d, ok := s.Properties["data"]
	return strings.HasSuffix(name, "Response") && ok && d.Value != nil && !d.Value.Type.Is("array")
}
