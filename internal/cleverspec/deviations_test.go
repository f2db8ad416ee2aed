package cleverspec

import (
	"errors"
	"strings"
	"testing"
)

// TestDeviationsAreNecessary shows, for every deviation, that a real recorded response (or one crafted
// from a real one) fails without the rule and validates with it, so no rule is dead. Where a rule is
// narrow, it also shows what the rule still rejects.
func TestDeviationsAreNecessary(t *testing.T) {
	t.Parallel()
	td := setup(t)
	user := td.find(t, "client__user.json", "/v3.0/users/58da8c63d7dc0ca068000478")
	users := td.find(t, "client__users_with_limit.json", "/v3.0/users?limit=25")
	contacts := td.find(t, "client__user_mycontacts.json", "/v3.0/users/58da8c63d7dc0ca0680003ed/mycontacts")
	student := td.find(t, "client__user_refs_mycontacts.json", "/v3.0/users/58da8c63d7dc0ca0680003ed")
	terms := td.find(t, "client__terms.json", "/v3.0/terms")
	events := td.find(t, "client__events.json", "/v3.0/events")
	resources := td.find(t, "api__resources_app.json", "/v3.0/resources")
	sectionResources := td.find(t, "client__section_resources.json", "/v3.0/sections/58da8c6a894273be68000182/resources")

	// The camel-case path a client gets from the student's own links.
	var myContacts string
	for _, l := range at(t, decode(t, student.Response.WireBody), "links").([]any) {
		if l.(map[string]any)["rel"] == "myContacts" {
			myContacts = l.(map[string]any)["uri"].(string)
		}
	}
	if myContacts != "/v3.0/users/58da8c63d7dc0ca0680003ed/myContacts" {
		t.Fatalf("myContacts link of the recorded student: got %q", myContacts)
	}
	contactsViaLink := contacts
	contactsViaLink.Request.URI = myContacts

	sensitive := user.withBody(t, func(b map[string]any) {
		s := obj(t, b, "data", "roles", "student")
		s["frl_status"], s["iep_status"], s["home_language"] = "Reduced", "Y", "Spanish"
	})

	tests := []struct {
		rule string
		ex   Recording
		// path and contains describe the violation expected without the rule; path "" means the
		// response is expected to be not covered.
		path, contains string
		// still lists responses the rule must go on rejecting, with the violation's path.
		still map[string]Recording
	}{
		{
			rule: ruleEnvelopeURILinks, ex: users, path: "/data/0/uri", contains: "not in the spec",
		},
		{
			rule: ruleEnvelopeURILinks, ex: user, path: "/links", contains: "not in the spec",
			still: map[string]Recording{
				"/data/0/uri": users.withBody(t, func(b map[string]any) { obj(t, b, "data", 0)["uri"] = "users/1" }),
			},
		},
		{
			rule: ruleLinkRels, ex: user, path: "/links/1/rel", contains: "allowed values",
			still: map[string]Recording{
				"/links/0/rel": user.withBody(t, func(b map[string]any) { obj(t, b, "links", 0)["rel"] = "resources" }),
			},
		},
		{
			rule: ruleCamelCaseMy, ex: contactsViaLink, path: "",
		},
		{
			rule: ruleTermDates, ex: terms, path: "/data/0/data/start_date", contains: `format "datetime"`,
			still: map[string]Recording{
				"/data/0/data/end_date": terms.withBody(t, func(b map[string]any) { obj(t, b, "data", 0, "data")["end_date"] = "6/1/2013" }),
			},
		},
		{
			rule: ruleStudentEmail, ex: user, path: "/data/roles/student/email", contains: "not in the spec",
			still: map[string]Recording{
				"/data/roles/student/email": user.withBody(t, func(b map[string]any) { obj(t, b, "data", "roles", "student")["email"] = 7 }),
			},
		},
		{
			rule: ruleStudentSensitive, ex: sensitive, path: "/data/roles/student/frl_status", contains: "not in the spec",
			still: map[string]Recording{
				"/data/roles/student/frl_status": user.withBody(t, func(b map[string]any) {
					obj(t, b, "data", "roles", "student")["frl_status"] = "Other" // v3.1 only
				}),
				"/data/roles/student/home_language": user.withBody(t, func(b map[string]any) {
					obj(t, b, "data", "roles", "student")["home_language"] = "spa" // v3.1 uses codes
				}),
			},
		},
		{
			rule: ruleContactV2Keys, ex: events, path: "/data/9/data/data/object/roles/contact/relationship", contains: "not in the spec",
			still: map[string]Recording{ // the Data API does not send the v2 keys
				"/data/0/data/roles/contact/students": contacts.withBody(t, func(b map[string]any) {
					obj(t, b, "data", 0, "data", "roles", "contact")["students"] = []any{"58da8c63d7dc0ca0680003ed"}
				}),
			},
		},
		{
			rule: ruleResourcesBare, ex: resources, path: "/resources", contains: "not in the spec",
			still: map[string]Recording{
				"/resources": resources.withBody(t, func(b map[string]any) { b["resources"] = []any{map[string]any{}} }),
				"/links":     resources.withBody(t, func(b map[string]any) { b["links"] = []any{} }),
			},
		},
		{
			rule: ruleResourcesBare, ex: sectionResources, path: "/data", contains: "missing",
		},
		{
			rule: rulePreviousAttrs, ex: events, path: "/data/0/data/data/previous_attributes", contains: "not in the spec",
			still: map[string]Recording{
				"/data/5/data/data/previous_attributes": events.withBody(t, func(b map[string]any) {
					obj(t, b, "data", 5, "data", "data")["previous_attributes"] = map[string]any{} // a users.created event
				}),
				"/data/1/data/data/previous_attributes/low_grade": events.withBody(t, func(b map[string]any) {
					obj(t, b, "data", 1, "data", "data", "previous_attributes")["low_grade"] = "Year 1"
				}),
			},
		},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.rule] = true
		t.Run(tt.rule+" "+tt.ex.name(), func(t *testing.T) {
			t.Parallel()
			if err := tt.ex.validate(td.v); err != nil {
				t.Fatalf("with the rule: %v", err)
			}
			err := tt.ex.validate(loadWithout(t, td, tt.rule))
			if tt.path == "" {
				if !errors.Is(err, ErrNotCovered) {
					t.Fatalf("without the rule: want ErrNotCovered, got %v", err)
				}
			} else {
				wantViolation(t, err, tt.path, tt.contains)
			}
			for path, ex := range tt.still {
				if err := ex.validate(td.v); err == nil {
					t.Errorf("with the rule: want a violation at %s, got none", path)
				} else {
					wantViolation(t, err, path, "")
				}
			}
		})
	}
	for _, d := range Deviations() {
		if !tested[d.Name] {
			t.Errorf("deviation %s has no test showing it is necessary", d.Name)
		}
		if !strings.Contains(d.Why, "API-NOTES") {
			t.Errorf("deviation %s: Why does not cite API-NOTES: %s", d.Name, d.Why)
		}
	}
}

// TestTighteningsBite shows each tightening rejects something the spec alone accepts.
func TestTighteningsBite(t *testing.T) {
	t.Parallel()
	td := setup(t)
	user := td.find(t, "client__user.json", "/v3.0/users/58da8c63d7dc0ca068000478")
	users := td.find(t, "client__users_with_limit.json", "/v3.0/users?limit=25")
	tests := []struct {
		rule, path string
		ex         Recording
	}{
		{ruleDatetimeFormat, "/data/created", user.withBody(t, func(b map[string]any) { obj(t, b, "data")["created"] = "2023-04-12" })},
		{ruleClosedObjects, "/data/nickname", user.withBody(t, func(b map[string]any) { obj(t, b, "data")["nickname"] = "Jim" })},
		{ruleGuaranteed, "/data/id", user.withBody(t, func(b map[string]any) { delete(obj(t, b, "data"), "id") })},
		{ruleEnvelope, "/links", users.withBody(t, func(b map[string]any) { delete(b, "links") })},
		{ruleRateLimit, "header X-RateLimit-Bucket", withoutHeader(user, "X-RateLimit-Bucket")},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.rule] = true
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			wantViolation(t, tt.ex.validate(td.v), tt.path, "")
			if err := tt.ex.validate(loadWithout(t, td, tt.rule)); err != nil {
				t.Errorf("without the rule: want no violation, got %v", err)
			}
		})
	}
	for _, d := range Tightenings() {
		if !tested[d.Name] {
			t.Errorf("tightening %s has no test", d.Name)
		}
	}
}

// TestLoadErrors shows Load reports a missing spec.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "read spec") {
		t.Fatalf("want a read spec error, got %v", err)
	}
}
