package cleverspec

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// Deviation names one rule by which the validator departs from Clever's published spec, and why.
type Deviation struct {
	// Name identifies the rule, e.g. "term-dates-date-or-datetime".
	Name string
	// Why gives the evidence, with its API-NOTES.md section or recording.
	Why string
}

// rule is a named patch applied to the loaded specs.
type rule struct {
	Deviation
	tightening bool // stricter than the spec, rather than more lenient
	apply      func(*spec) error
}

// Deviations lists, by name, every place where the live API is known to differ from the spec and the
// validator therefore tolerates the difference. Each is applied by patching the loaded spec, and each
// is narrow: one schema property, one route or one body shape.
func Deviations() []Deviation { return pick(false) }

// Tightenings lists the rules by which the validator is stricter than the spec, where the spec is
// silent (it declares no required fields and leaves objects open) but Clever's docs and every
// recording agree.
func Tightenings() []Deviation { return pick(true) }

// pick returns the deviations (tightening false) or tightenings (true) of allRules.
func pick(tightening bool) []Deviation {
	var out []Deviation
	for _, r := range allRules() {
		if r.tightening == tightening {
			out = append(out, r.Deviation)
		}
	}
	return out
}

// Rule names, shared with the tests.
const (
	ruleDatetimeFormat   = "datetime-format"
	ruleClosedObjects    = "closed-objects"
	ruleGuaranteed       = "guaranteed-fields"
	ruleEnvelope         = "envelope-required"
	ruleRateLimit        = "rate-limit-headers"
	ruleEnvelopeURILinks = "envelope-uri-and-links"
	ruleLinkRels         = "link-rels"
	ruleCamelCaseMy      = "users-my-camelcase-paths"
	ruleTermDates        = "term-dates-date-or-datetime"
	ruleStudentEmail     = "student-role-email"
	ruleStudentSensitive = "student-sensitive-fields"
	ruleContactV2Keys    = "contact-v2-keys-in-events"
	ruleResourcesBare    = "resources-unenveloped-empty"
	rulePreviousAttrs    = "event-previous-attributes-in-data"
)

// allRules returns every rule in the order it is applied: tightenings first, then deviations, with
// event-previous-attributes-in-data last because it copies the record schemas the others patch.
func allRules() []rule {
	return []rule{
		{Deviation{ruleDatetimeFormat, "The spec writes format \"datetime\", which is not a Swagger/OpenAPI format " +
			"and so would go unchecked; it is validated as RFC 3339 date-time, which every created, " +
			"last_modified, last_sync and event created value in the recordings is (API-NOTES §3: " +
			"\"2023-04-12T23:05:01.315Z\")."}, true, applyDatetimeFormat},
		{Deviation{ruleClosedObjects, "Every object with declared properties rejects unknown keys (the spec " +
			"leaves them open). Only ext and previous_attributes stay free-form. See the package comment."},
			true, applyClosedObjects},
		{Deviation{ruleGuaranteed, "Fields Clever documents as guaranteed (API-NOTES §3, \"G\") and present in " +
			"every recording are required: District id, name, sis_type, launch_date, portal_url, " +
			"login_methods; School id, district, name, created, last_modified, sis_id, school_number; " +
			"Section id, district, school, created, last_modified, name, sis_id, subject, students, " +
			"teacher, teachers; Term and Course id, district; User id, district, name, created, " +
			"last_modified; Name.last (contacts keep the full name there and have no first); " +
			"roles.student school, schools, enrollments, sis_id; Event id, type, created, data and " +
			"data.object."}, true, applyGuaranteed},
		{Deviation{ruleEnvelope, "Envelope (API-NOTES §1): a list response has data and links, a " +
			"single-record response has data (links are absent on records read with an SSO user " +
			"token, authentication__sso.json), and a link has rel and uri."}, true, applyEnvelope},
		{Deviation{ruleRateLimit, "Every api.clever.com response, HTML 404s included, carries " +
			"X-RateLimit-Bucket, X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset " +
			"(API-NOTES §6: 140/140 recorded responses); clever.com/oauth/* responses do not and are " +
			"exempt."}, true, applyRateLimit},

		{Deviation{ruleEnvelopeURILinks, "The spec's <Type>Response declares only data, but a list item also " +
			"carries uri (\"/v3.0/users/<id>\") and a single-record response carries links " +
			"(API-NOTES §1; every recording). List items get a required uri, single records optional links."},
			false, applyEnvelopeURILinks},
		{Deviation{ruleLinkRels, "Link.rel is enum [next, prev, self] in the spec, but single records link " +
			"their relations (API-NOTES §1): district, school, schools, sections, users, term, terms, " +
			"course, courses, myContacts, myTeachers, myStudents, all seen in the recordings (e.g. " +
			"client__user.json). Only those observed names are added."}, false, applyLinkRels},
		{Deviation{ruleCamelCaseMy, "User records link /v3.0/users/{id}/myContacts, /myTeachers and " +
			"/myStudents (API-NOTES §1, client__user.json) while the spec's paths are lower-case " +
			"/mycontacts, /myteachers, /mystudents; the camel-case paths are routed to the same " +
			"operations, so a client following the links is validated."}, false, applyCamelCaseMy},
		{Deviation{ruleTermDates, "Term start_date and end_date are format datetime in the spec, but the " +
			"live API returns dates, and not consistently: /v3.0/terms gave \"2012-12-02\" " +
			"(client__terms.json) where /v3.0/schools/{id}/terms gave the same term as " +
			"\"2012-12-02T00:00:00.000Z\" (client__school_terms.json) (API-NOTES §3 Term). Both forms " +
			"are accepted, nothing else."}, false, applyTermDates},
		{Deviation{ruleStudentEmail, "roles.student carries an undocumented email key (API-NOTES §3 " +
			"roles.student; every student record in client__users.json). It is allowed as a nullable " +
			"string, like User.email."}, false, applyStudentEmail},
		{Deviation{ruleStudentSensitive, "frl_status, iep_status and home_language exist in the live v3.0 " +
			"API for apps with the extra scopes but are hidden from the published v3.0.yml (API-NOTES §3 " +
			"\"Sensitive fields\"). They are allowed on roles.student with the types of v3.0-client.yml " +
			"(iep_status, home_language) and frl_status as enum [Free, Reduced, Paid, \"\"]."},
			false, applyStudentSensitive},
		{Deviation{ruleContactV2Keys, "Older contact events still carry the v2-style relationship, type " +
			"and students keys inside roles.contact (API-NOTES §3 roles.contact; the users.created " +
			"events of contacts in client__events.json). Allowed in the Events API only, with the enums of " +
			"StudentRelationship."}, false, applyContactV2Keys},
		{Deviation{ruleResourcesBare, "/resources and the {id}/resources lists answered 200 " +
			"{\"resources\": []} with no data/links envelope (API-NOTES §2; api__resources_app.json, " +
			"client__section_resources.json, …). On those routes a body with a top-level resources key " +
			"is checked against {resources: [] (empty only)}, closed."}, false, applyResourcesBare},
		{Deviation{rulePreviousAttrs, "previous_attributes sits inside the event's inner data, beside " +
			"object, as a nested partial of the record (API-NOTES §4; client__events.json), not beside " +
			"data as the spec puts it. On *.updated events data.previous_attributes is allowed and " +
			"checked against the record's schema with nothing required."}, false, applyPreviousAttrs},
	}
}

// dateOrDateTime is the custom format the term-dates deviation gives Term.start_date/end_date.
const dateOrDateTime = "date-or-date-time"

// applyDatetimeFormat registers an RFC 3339 date-time validator for Clever's "datetime" format.
func applyDatetimeFormat(s *spec) error {
	s.v.formats["datetime"] = openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringDateTime)
	return nil
}

// applyClosedObjects closes every object schema of both documents (see closeObjects).
func applyClosedObjects(s *spec) error {
	seen := map[*openapi3.Schema]bool{}
	for _, doc := range s.docs() {
		for _, name := range sortedKeys(doc.Components.Schemas) {
			closeObjects(doc.Components.Schemas[name], seen)
		}
		for _, path := range doc.Paths.InMatchingOrder() {
			for _, op := range doc.Paths.Value(path).Operations() {
				for _, resp := range op.Responses.Map() {
					if resp.Value == nil {
						continue
					}
					for _, mt := range resp.Value.Content {
						closeObjects(mt.Schema, seen)
					}
				}
			}
		}
	}
	return nil
}

// closeObjects sets additionalProperties: false on every object schema below sr that declares
// properties and says nothing about additional ones.
func closeObjects(sr *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if sr == nil || sr.Value == nil || seen[sr.Value] {
		return
	}
	s := sr.Value
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: new(false)}
	}
	for _, name := range sortedKeys(s.Properties) {
		closeObjects(s.Properties[name], seen)
	}
	closeObjects(s.Items, seen)
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, p := range list {
			closeObjects(p, seen)
		}
	}
}

// require adds names to the required list of the named schema in every document that defines it.
func require(s *spec, schemaName string, names ...string) error {
	found := false
	for _, doc := range s.docs() {
		if _, ok := doc.Components.Schemas[schemaName]; !ok {
			continue
		}
		sc, err := schema(doc, schemaName)
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, err := property(sc, schemaName, n); err != nil {
				return err
			}
			if !slices.Contains(sc.Required, n) {
				sc.Required = append(sc.Required, n)
			}
		}
		found = true
	}
	if !found {
		return fmt.Errorf("find schema %s: missing", schemaName)
	}
	return nil
}

// applyGuaranteed requires the fields Clever guarantees (see the guaranteed-fields rule).
func applyGuaranteed(s *spec) error {
	reqs := []struct {
		schema string
		names  []string
	}{
		{"District", []string{"id", "name", "sis_type", "launch_date", "portal_url", "login_methods"}},
		{"School", []string{"id", "district", "name", "created", "last_modified", "sis_id", "school_number"}},
		{"Section", []string{"id", "district", "school", "created", "last_modified", "name", "sis_id",
			"subject", "students", "teacher", "teachers"}},
		{"Term", []string{"id", "district"}},
		{"Course", []string{"id", "district"}},
		{"User", []string{"id", "district", "name", "created", "last_modified"}},
		{"Name", []string{"last"}},
		{"Student", []string{"school", "schools", "enrollments", "sis_id"}},
		{"Event", []string{"id", "type", "created"}},
	}
	for _, r := range reqs {
		if err := require(s, r.schema, r.names...); err != nil {
			return err
		}
	}
	for _, name := range eventTypes(s.events) {
		ev, err := schema(s.events, name)
		if err != nil {
			return err
		}
		for _, n := range []string{"id", "type", "created", "data"} {
			if !slices.Contains(ev.Required, n) {
				ev.Required = append(ev.Required, n)
			}
		}
		data, err := property(ev, name, "data")
		if err != nil {
			return err
		}
		data.Required = append(data.Required, "object")
	}
	return nil
}

// applyEnvelope requires data and links on list responses, data on single-record responses, and rel and uri
// on links.
func applyEnvelope(s *spec) error {
	if err := require(s, "Link", "rel", "uri"); err != nil {
		return err
	}
	for _, doc := range s.docs() {
		for _, name := range sortedKeys(doc.Components.Schemas) {
			sc := doc.Components.Schemas[name].Value
			switch {
			case sc == nil:
			case isListEnvelope(name, sc):
				sc.Required = append(sc.Required, "data", "links")
			case isSingleEnvelope(name, sc):
				sc.Required = append(sc.Required, "data")
			}
		}
	}
	return nil
}

// applyRateLimit turns on the X-RateLimit-* header check.
func applyRateLimit(s *spec) error {
	s.v.checkRateLimit = true
	return nil
}

// listItemURI is the form of a list item's uri: the record's canonical path.
const listItemURI = `^/v3\.0/[a-z]+/[0-9a-f]{24}$`

// applyEnvelopeURILinks gives list items their own schema with a required uri, and single-record responses
// an optional links array.
func applyEnvelopeURILinks(s *spec) error {
	for _, doc := range s.docs() {
		link, ok := doc.Components.Schemas["Link"]
		if !ok {
			return fmt.Errorf("find schema Link in %s: missing", doc.Info.Title)
		}
		links := openapi3.NewSchemaRef("", openapi3.NewArraySchema())
		links.Value.Items = openapi3.NewSchemaRef("#/components/schemas/Link", link.Value)
		for _, name := range sortedKeys(doc.Components.Schemas) {
			sc := doc.Components.Schemas[name].Value
			if sc == nil || !isListEnvelope(name, sc) {
				continue
			}
			items := sc.Properties["data"].Value.Items
			if items == nil || items.Value == nil {
				return fmt.Errorf("find items of %s.data: missing", name)
			}
			single := items.Value
			// The list item: a copy of the single-record schema (before links are added to it) plus uri.
			item := *single
			item.Properties = maps.Clone(single.Properties)
			item.Properties["uri"] = openapi3.NewSchemaRef("", openapi3.NewStringSchema().WithPattern(listItemURI))
			item.Required = append(slices.Clone(single.Required), "uri")
			sc.Properties["data"].Value.Items = openapi3.NewSchemaRef("", &item)
		}
		for _, name := range sortedKeys(doc.Components.Schemas) {
			sc := doc.Components.Schemas[name].Value
			if sc != nil && isSingleEnvelope(name, sc) {
				sc.Properties["links"] = links
			}
		}
	}
	return nil
}

// observedLinkRels are the link relations seen on single records in the recordings, besides the
// spec's next, prev and self.
var observedLinkRels = []string{
	"district", "school", "schools", "sections", "users", "term", "terms", "course", "courses",
	"myContacts", "myTeachers", "myStudents",
}

// applyLinkRels adds the observed relation names to Link.rel.
func applyLinkRels(s *spec) error {
	for _, doc := range s.docs() {
		link, err := schema(doc, "Link")
		if err != nil {
			return err
		}
		rel, err := property(link, "Link", "rel")
		if err != nil {
			return err
		}
		for _, r := range observedLinkRels {
			rel.Enum = append(rel.Enum, r)
		}
	}
	return nil
}

// applyCamelCaseMy routes /users/{id}/myContacts, /myTeachers and /myStudents to the lower-case
// operations, under their own operation IDs.
func applyCamelCaseMy(s *spec) error {
	for _, rel := range []string{"Contacts", "Teachers", "Students"} {
		lower := "/users/{id}/my" + strings.ToLower(rel)
		item := s.data.Paths.Value(lower)
		if item == nil {
			return fmt.Errorf("find path %s: missing", lower)
		}
		alias := *item
		if item.Get == nil {
			return fmt.Errorf("find GET %s: missing", lower)
		}
		get := *item.Get
		get.OperationID += "CamelCase" // operation IDs must stay unique
		alias.Get = &get
		s.data.Paths.Set("/users/{id}/my"+rel, &alias)
	}
	return nil
}

// applyTermDates lets Term.start_date and end_date be an RFC 3339 date or date-time.
func applyTermDates(s *spec) error {
	dateTime := regexp.MustCompile(openapi3.FormatOfStringDateTime)
	date := regexp.MustCompile(openapi3.FormatOfStringDate)
	s.v.formats[dateOrDateTime] = openapi3.NewCallbackValidator(func(v string) error {
		if date.MatchString(v) || dateTime.MatchString(v) {
			return nil
		}
		return fmt.Errorf("neither an RFC 3339 date nor a date-time")
	})
	for _, doc := range s.docs() {
		term, err := schema(doc, "Term")
		if err != nil {
			return err
		}
		for _, name := range []string{"start_date", "end_date"} {
			p, err := property(term, "Term", name)
			if err != nil {
				return err
			}
			p.Format = dateOrDateTime
		}
	}
	return nil
}

// addProperty adds a property to the named schema in every document that defines it.
func addProperty(s *spec, docs []string, schemaName, prop string, ps *openapi3.Schema) error {
	for _, doc := range s.docs() {
		if !slices.Contains(docs, doc.Info.Title) {
			continue
		}
		sc, err := schema(doc, schemaName)
		if err != nil {
			return err
		}
		if _, ok := sc.Properties[prop]; ok {
			return fmt.Errorf("add property %s.%s: already declared", schemaName, prop)
		}
		sc.Properties[prop] = openapi3.NewSchemaRef("", ps)
	}
	return nil
}

// Document titles, as the specs' info.title.
const (
	dataAPI   = "Data API"
	eventsAPI = "Events API"
)

// bothAPIs selects both documents for addProperty.
var bothAPIs = []string{dataAPI, eventsAPI}

// applyStudentEmail allows roles.student.email.
func applyStudentEmail(s *spec) error {
	return addProperty(s, bothAPIs, "Student", "email", openapi3.NewStringSchema().WithNullable())
}

// applyStudentSensitive allows roles.student frl_status, iep_status and home_language.
func applyStudentSensitive(s *spec) error {
	client, ok := s.client.Definitions["Student"]
	if !ok || client.Value == nil {
		return fmt.Errorf("find schema Student in %s: missing", clientSpecFile)
	}
	for _, name := range []string{"iep_status", "home_language"} {
		p, ok := client.Value.Properties[name]
		if !ok {
			return fmt.Errorf("find property Student.%s in %s: missing", name, clientSpecFile)
		}
		if err := addProperty(s, bothAPIs, "Student", name, openapi2conv.ToV3SchemaRef(p).Value); err != nil {
			return err
		}
	}
	frl := openapi3.NewStringSchema().WithEnum("Free", "Reduced", "Paid", "").WithNullable()
	return addProperty(s, bothAPIs, "Student", "frl_status", frl)
}

// applyContactV2Keys allows the v2-style relationship, type and students on roles.contact in the Events API.
func applyContactV2Keys(s *spec) error {
	rel, err := schema(s.events, "StudentRelationship")
	if err != nil {
		return err
	}
	for _, name := range []string{"relationship", "type"} {
		p, err := property(rel, "StudentRelationship", name)
		if err != nil {
			return err
		}
		cp := *p
		if err := addProperty(s, []string{eventsAPI}, "Contact", name, &cp); err != nil {
			return err
		}
	}
	ids := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())
	return addProperty(s, []string{eventsAPI}, "Contact", "students", ids)
}

// resourcesKey is the top-level key of the unenveloped resources body.
const resourcesKey = "resources"

// applyResourcesBare registers, for each resources list operation, a variant whose 200 body is
// {"resources": []}, selected when the body has a top-level resources key.
func applyResourcesBare(s *spec) error {
	empty := openapi3.NewObjectSchema()
	empty.Properties[resourcesKey] = openapi3.NewSchemaRef("", openapi3.NewArraySchema().WithMaxItems(0))
	empty.Required = []string{resourcesKey}
	empty.AdditionalProperties = openapi3.AdditionalProperties{Has: new(false)}
	n := 0
	for _, path := range s.data.Paths.InMatchingOrder() {
		op := s.data.Paths.Value(path).Get
		if op == nil {
			continue
		}
		ok := op.Responses.Status(200)
		if ok == nil || ok.Value == nil {
			continue
		}
		mt := ok.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/ResourcesResponse" {
			continue
		}
		variant := *op
		variant.Responses = openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{
			Value: openapi3.NewResponse().WithDescription("Unenveloped empty resources list").
				WithJSONSchema(empty),
		}))
		s.v.alternates[op.OperationID] = alternate{key: resourcesKey, op: &variant}
		n++
	}
	if n == 0 {
		return fmt.Errorf("find resources list operations: none")
	}
	return nil
}

// applyPreviousAttrs allows data.previous_attributes on *.updated events as a partial of the record.
func applyPreviousAttrs(s *spec) error {
	for _, name := range eventTypes(s.events) {
		if !strings.HasSuffix(name, ".updated") {
			continue
		}
		ev, err := schema(s.events, name)
		if err != nil {
			return err
		}
		data, err := property(ev, name, "data")
		if err != nil {
			return err
		}
		obj, ok := data.Properties["object"]
		if !ok {
			return fmt.Errorf("find property %s.data.object: missing", name)
		}
		data.Properties["previous_attributes"] = partial(obj, map[*openapi3.Schema]*openapi3.Schema{})
	}
	return nil
}

// partial returns a deep copy of sr in which nothing is required, for validating a nested partial
// record such as an event's previous_attributes.
func partial(sr *openapi3.SchemaRef, done map[*openapi3.Schema]*openapi3.Schema) *openapi3.SchemaRef {
	if sr == nil || sr.Value == nil {
		return sr
	}
	if cp, ok := done[sr.Value]; ok {
		return openapi3.NewSchemaRef("", cp)
	}
	cp := *sr.Value
	done[sr.Value] = &cp
	cp.Required = nil
	if sr.Value.Properties != nil {
		cp.Properties = make(openapi3.Schemas, len(sr.Value.Properties))
		for k, p := range sr.Value.Properties {
			cp.Properties[k] = partial(p, done)
		}
	}
	cp.Items = partial(sr.Value.Items, done)
	cp.AllOf = partialAll(sr.Value.AllOf, done)
	cp.AnyOf = partialAll(sr.Value.AnyOf, done)
	cp.OneOf = partialAll(sr.Value.OneOf, done)
	return openapi3.NewSchemaRef("", &cp)
}

// partialAll applies partial to each schema of list.
func partialAll(list openapi3.SchemaRefs, done map[*openapi3.Schema]*openapi3.Schema) openapi3.SchemaRefs {
	if list == nil {
		return nil
	}
	out := make(openapi3.SchemaRefs, len(list))
	for i, p := range list {
		out[i] = partial(p, done)
	}
	return out
}
