package cleverspec

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestCatchesBreakage shows the validator rejects real breakage of a recorded response, naming the path.
func TestCatchesBreakage(t *testing.T) {
	t.Parallel()
	td := setup(t)
	user := td.find(t, "client__user.json", "/v3.0/users/58da8c63d7dc0ca068000478")
	users := td.find(t, "client__users_with_limit.json", "/v3.0/users?limit=25")
	section := td.find(t, "client__section.json", "/v3.0/sections/58da8c6a894273be68000182")
	events := td.find(t, "client__events_with_limit.json", "/v3.0/events?limit=25")
	terms := td.find(t, "client__terms.json", "/v3.0/terms")

	tests := []struct {
		name     string
		ex       Recording
		path     string
		contains string
	}{
		{
			name:     "user id removed",
			ex:       user.withBody(t, func(b map[string]any) { delete(obj(t, b, "data"), "id") }),
			path:     "/data/id",
			contains: "missing",
		},
		{
			name:     "user id removed in a list",
			ex:       users.withBody(t, func(b map[string]any) { delete(obj(t, b, "data", 3, "data"), "id") }),
			path:     "/data/3/data/id",
			contains: "missing",
		},
		{
			name:     "section students as a string",
			ex:       section.withBody(t, func(b map[string]any) { obj(t, b, "data")["students"] = "58da8c63d7dc0ca068000478" }),
			path:     "/data/students",
			contains: "must be an array",
		},
		{
			name:     "envelope without data",
			ex:       users.withBody(t, func(b map[string]any) { delete(b, "data") }),
			path:     "/data",
			contains: "missing",
		},
		{
			name:     "list item without uri",
			ex:       users.withBody(t, func(b map[string]any) { delete(obj(t, b, "data", 0), "uri") }),
			path:     "/data/0/uri",
			contains: "missing",
		},
		{
			name: "student gender outside its enum",
			ex: user.withBody(t, func(b map[string]any) {
				obj(t, b, "data", "roles", "student")["gender"] = "Male"
			}),
			path:     "/data/roles/student/gender",
			contains: "one of the allowed values",
		},
		{
			name:     "section subject outside its enum",
			ex:       section.withBody(t, func(b map[string]any) { obj(t, b, "data")["subject"] = "Math" }),
			path:     "/data/subject",
			contains: "one of the allowed values",
		},
		{
			name:     "unknown key on a record",
			ex:       user.withBody(t, func(b map[string]any) { obj(t, b, "data", "roles")["districtadmin"] = map[string]any{} }),
			path:     "/data/roles/districtadmin",
			contains: "not in the spec",
		},
		{
			name:     "created not a date-time",
			ex:       user.withBody(t, func(b map[string]any) { obj(t, b, "data")["created"] = "yesterday" }),
			path:     "/data/created",
			contains: "datetime",
		},
		{
			name:     "term date neither date nor date-time",
			ex:       terms.withBody(t, func(b map[string]any) { obj(t, b, "data", 0, "data")["start_date"] = "12/1/2012" }),
			path:     "/data/0/data/start_date",
			contains: "date",
		},
		{
			name:     "event object missing its id",
			ex:       events.withBody(t, func(b map[string]any) { delete(obj(t, b, "data", 2, "data", "data", "object"), "id") }),
			path:     "/data/2/data/data/object/id",
			contains: "missing",
		},
		{
			name:     "event of an unknown type",
			ex:       events.withBody(t, func(b map[string]any) { obj(t, b, "data", 0, "data")["type"] = "users.merged" }),
			path:     "/data/0/data",
			contains: "discriminator",
		},
		{
			name: "previous_attributes with a wrong type",
			ex: events.withBody(t, func(b map[string]any) {
				obj(t, b, "data", 1, "data", "data")["previous_attributes"] = map[string]any{"location": "Brooklyn"}
			}),
			path:     "/data/1/data/data/previous_attributes/location",
			contains: "must be an object",
		},
		{
			name:     "rate-limit header missing",
			ex:       withoutHeader(users, "X-RateLimit-Remaining"),
			path:     "header X-RateLimit-Remaining",
			contains: "missing",
		},
		{
			name:     "rate-limit header not a number",
			ex:       withHeader(users, "X-RateLimit-Limit", "lots"),
			path:     "header X-RateLimit-Limit",
			contains: "integer",
		},
		{
			name:     "HTML where the spec says JSON",
			ex:       withHeader(users, "Content-Type", "text/html; charset=utf-8"),
			path:     "/",
			contains: "Content-Type",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantViolation(t, tt.ex.validate(td.v), tt.path, tt.contains)
		})
	}
}

// TestViolationsTakePrecedence shows an uncovered response still reports what could be checked.
func TestViolationsTakePrecedence(t *testing.T) {
	t.Parallel()
	td := setup(t)
	me := td.find(t, "api__me.json", "/v3.0/me")
	if err := me.validate(td.v); !errors.Is(err, ErrNotCovered) {
		t.Fatalf("/me: want ErrNotCovered, got %v", err)
	}
	err := withoutHeader(me, "X-RateLimit-Reset").validate(td.v)
	if errors.Is(err, ErrNotCovered) {
		t.Fatalf("/me without X-RateLimit-Reset: want a violation, got %v", err)
	}
	wantViolation(t, err, "header X-RateLimit-Reset", "missing")
}

// TestRelativeAndAbsoluteURIs shows routing ignores scheme and host.
func TestRelativeAndAbsoluteURIs(t *testing.T) {
	t.Parallel()
	td := setup(t)
	users := td.find(t, "client__users_with_limit.json", "/v3.0/users?limit=25")
	for _, uri := range []string{"/v3.0/users?limit=25", "http://127.0.0.1:8080/v3.0/users?limit=25", users.Request.URI} {
		if err := td.v.ValidateResponse(users.Request.Method, uri, users.Response.Status, users.Response.Header(), users.Response.WireBody); err != nil {
			t.Errorf("%s: %v", uri, err)
		}
	}
	err := td.v.ValidateResponse(http.MethodGet, "/v3.0/userz", 200, users.Response.Header(), users.Response.WireBody)
	if !errors.Is(err, ErrNotCovered) {
		t.Errorf("/v3.0/userz: want ErrNotCovered, got %v", err)
	}
}

// TestNullable shows x-nullable is honoured, including beside a $ref, and only there.
func TestNullable(t *testing.T) {
	t.Parallel()
	td := setup(t)
	user := td.find(t, "client__user.json", "/v3.0/users/58da8c63d7dc0ca068000478")
	school := td.find(t, "client__school.json", "/v3.0/schools/58da8c58155b940248000007")

	ok := []Recording{
		user.withBody(t, func(b map[string]any) { obj(t, b, "data")["email"] = nil }),                        // inline x-nullable
		user.withBody(t, func(b map[string]any) { obj(t, b, "data", "roles", "student")["location"] = nil }), // x-nullable beside $ref
		school.withBody(t, func(b map[string]any) { obj(t, b, "data")["location"] = nil }),
		school.withBody(t, func(b map[string]any) { obj(t, b, "data")["low_grade"] = nil }),
	}
	for i, e := range ok {
		if err := e.validate(td.v); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	wantViolation(t, user.withBody(t, func(b map[string]any) { obj(t, b, "data")["id"] = nil }).validate(td.v),
		"/data/id", "null")
	wantViolation(t, school.withBody(t, func(b map[string]any) { obj(t, b, "data")["principal"] = nil }).validate(td.v),
		"/data/principal", "null")
}

// TestEmailWithoutAt shows that emails are not format-checked (the spec declares no format), so the
// live API's emails without "@" (API-NOTES §3) need no deviation.
func TestEmailWithoutAt(t *testing.T) {
	t.Parallel()
	td := setup(t)
	user := td.find(t, "client__user.json", "/v3.0/users/58da8c63d7dc0ca068000478")
	e := user.withBody(t, func(b map[string]any) {
		obj(t, b, "data")["email"] = "seth_schoen.example.org"
		obj(t, b, "data", "roles", "student")["email"] = "seth_schoen.example.org"
	})
	if err := e.validate(td.v); err != nil {
		t.Fatal(err)
	}
}

// withHeader returns a copy of e whose response header name (in any case) is set to value.
func withHeader(e Recording, name, value string) Recording {
	e = withoutHeader(e, name)
	e.Response.Headers[name] = value
	return e
}

// withoutHeader returns a copy of e without the response header name, in any case.
func withoutHeader(e Recording, name string) Recording {
	h := make(map[string]string, len(e.Response.Headers))
	for k, v := range e.Response.Headers {
		if !strings.EqualFold(k, name) {
			h[k] = v
		}
	}
	e.Response.Headers = h
	return e
}
