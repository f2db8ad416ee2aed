package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/rostermirror/rostermirror/internal/logging"
)

// logJSON runs log against a redacting logger over a JSON handler and returns the decoded line without
// its time and level.
func logJSON(t *testing.T, log func(*slog.Logger)) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	inner := slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	log(slog.New(logging.NewHandler(inner)))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v", buf.String(), err)
	}
	return got, buf.String()
}

// valuer is a slog.LogValuer that counts its calls.
type valuer struct {
	v     slog.Value
	calls *int
}

func (v valuer) LogValue() slog.Value {
	*v.calls++
	return v.v
}

// The secrets and personal data used in the cases; none may appear in any output.
const (
	token    = "f3a9c1d2e4b5a6978899aabbccddeeff00112233"
	dbPass   = "hunter2hunter2"
	email    = "ada.student@example.org"
	dob      = "2014-03-09"
	lastName = "Lovelace"
)

func TestRedaction(t *testing.T) {
	t.Parallel()
	var calls int
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // the JSON line without time and level
	}{
		{
			name: "secret keys at top level, any case and separator",
			log: func(l *slog.Logger) {
				l.Info("m", "token", token, "Access_Token", token, "authorization", "Bearer "+token,
					"password", dbPass, "secret", dbPass, "api_key", token, "apiKey", token, "key", token,
					"clever-access-token", token, "DB.Password", dbPass, "client_secret", dbPass)
			},
			want: `{"msg":"m","token":"[REDACTED]","Access_Token":"[REDACTED]","authorization":"[REDACTED]",
				"password":"[REDACTED]","secret":"[REDACTED]","api_key":"[REDACTED]","apiKey":"[REDACTED]","key":"[REDACTED]",
				"clever-access-token":"[REDACTED]","DB.Password":"[REDACTED]","client_secret":"[REDACTED]"}`,
		},
		{
			name: "personal data keys",
			log: func(l *slog.Logger) {
				l.Info("m", "email", email, "dob", dob, "first_name", "Ada", "last_name", lastName, "phone", "555-0100",
					"address", "1 Main St", "ell_status", "Y", "frl_status", "Free", "iep_status", "Y",
					"home_language", "English", "FirstName", "Ada")
			},
			want: `{"msg":"m","email":"[REDACTED]","dob":"[REDACTED]","first_name":"[REDACTED]","last_name":"[REDACTED]",
				"phone":"[REDACTED]","address":"[REDACTED]","ell_status":"[REDACTED]","frl_status":"[REDACTED]",
				"iep_status":"[REDACTED]","home_language":"[REDACTED]","FirstName":"[REDACTED]"}`,
		},
		{
			name: "redacted whatever the value's kind",
			log: func(l *slog.Logger) {
				l.Info("m", "token", 12345, slog.Group("address", "street", "1 Main St", "zip", "12345"),
					"email", valuer{slog.StringValue(email), &calls})
			},
			want: `{"msg":"m","token":"[REDACTED]","address":"[REDACTED]","email":"[REDACTED]"}`,
		},
		{
			name: "ordinary keys kept",
			log: func(l *slog.Logger) {
				l.Info("m", "district", "5327a245c79f90670e001b78", "name", "Springfield ISD", "tokens", 3,
					"code", 500, "status", "succeeded", "url", "https://api.clever.com/v3.0/users?limit=100",
					"note", "token_type=bearer")
			},
			want: `{"msg":"m","district":"5327a245c79f90670e001b78","name":"Springfield ISD","tokens":3,"code":500,
				"status":"succeeded","url":"https://api.clever.com/v3.0/users?limit=100","note":"token_type=bearer"}`,
		},
		{
			name: "name inside person groups, at any depth",
			log: func(l *slog.Logger) {
				l.Info("m",
					slog.Group("user", "id", "u1", slog.Group("name", "first", "Ada", "last", lastName)),
					slog.Group("school", "name", "Springfield Elementary"),
					slog.Group("run", slog.Group("students", slog.Group("", "name", "Ada "+lastName, "grade", "3"))),
					slog.Group("sync", slog.Group("detail", slog.Group("teacher", "email", email, "id", "t1"))))
			},
			want: `{"msg":"m","user":{"id":"u1","name":"[REDACTED]"},"school":{"name":"Springfield Elementary"},
				"run":{"students":{"name":"[REDACTED]","grade":"3"}},
				"sync":{"detail":{"teacher":{"email":"[REDACTED]","id":"t1"}}}}`,
		},
		{
			name: "WithGroup and With",
			log: func(l *slog.Logger) {
				l.With("token", token, "district", "d1").WithGroup("Student").With("name", "Ada").
					Info("m", "name", lastName, "id", "s1", slog.Group("contact", "phone", "555"))
			},
			want: `{"msg":"m","token":"[REDACTED]","district":"d1",
				"Student":{"name":"[REDACTED]","id":"s1","contact":{"phone":"[REDACTED]"}}}`,
		},
		{
			name: "LogValuer resolving to a group",
			log: func(l *slog.Logger) {
				l.Info("m", "tok", valuer{slog.GroupValue(slog.String("district", "d1"), slog.String("access_token", token)), &calls},
					"user", valuer{slog.GroupValue(slog.String("id", "u1"), slog.String("name", lastName), slog.String("dob", dob)), &calls})
			},
			want: `{"msg":"m","tok":{"district":"d1","access_token":"[REDACTED]"},"user":{"id":"u1","name":"[REDACTED]","dob":"[REDACTED]"}}`,
		},
		{
			name: "errors with a bearer token or a database password",
			log: func(l *slog.Logger) {
				l.Error("m",
					"error", fmt.Errorf("list users: %w", errors.New("GET /v3.0/users: sent Authorization: Bearer "+token+", got 401")),
					"db", fmt.Errorf("open database: dial postgres://rostermirror:"+dbPass+"@postgres:5432/rostermirror?sslmode=disable: refused"),
					"plain", errors.New("sync district d1: context canceled"))
			},
			want: `{"msg":"m","error":"list users: GET /v3.0/users: sent Authorization: Bearer [REDACTED], got 401",
				"db":"open database: dial postgres://rostermirror:[REDACTED]@postgres:5432/rostermirror?sslmode=disable: refused",
				"plain":"sync district d1: context canceled"}`,
		},
		{
			name: "credentials in strings and the message",
			log: func(l *slog.Logger) {
				l.Warn("token exchange answered {\"access_token\":\""+token+"\",\"token_type\":\"bearer\"}",
					"dsn", "host=db user=rm password="+dbPass+" sslmode=disable",
					"quoted", "password='"+dbPass+" x' host=db",
					"query", "https://clever.com/oauth/tokens?owner_type=district&access_token="+token+"&x=1",
					"header", "bearer "+token,
					"redis", "redis://:"+dbPass+"@cache:6379/0")
			},
			want: `{"msg":"token exchange answered {\"access_token\":\"[REDACTED]\",\"token_type\":\"bearer\"}",
				"dsn":"host=db user=rm password=[REDACTED] sslmode=disable",
				"quoted":"password=[REDACTED] host=db",
				"query":"https://clever.com/oauth/tokens?owner_type=district&access_token=[REDACTED]&x=1",
				"header":"bearer [REDACTED]",
				"redis":"redis://:[REDACTED]@cache:6379/0"}`,
		},
		{
			name: "only the message needs scrubbing",
			log: func(l *slog.Logger) {
				l.Info("retrying with Bearer "+token, "attempt", 2, slog.Group("g", "a", "b"))
			},
			want: `{"msg":"retrying with Bearer [REDACTED]","attempt":2,"g":{"a":"b"}}`,
		},
		{
			name: "slices, raw payloads, URLs and headers",
			log: func(l *slog.Logger) {
				u, _ := url.Parse("postgres://rm:" + dbPass + "@db/rm")
				l.Info("m",
					"errors", []string{"fetch schools: 502", "fetch users: Bearer " + token + " revoked"},
					"payload", json.RawMessage(`{"email":"`+email+`"}`),
					"body", []byte(email),
					"dsn", u,
					"headers", http.Header{"Authorization": {"Bearer " + token}, "Accept": {"application/json"}})
			},
			want: `{"msg":"m","errors":["fetch schools: 502","fetch users: Bearer [REDACTED] revoked"],
				"payload":"[REDACTED] 35 bytes","body":"[REDACTED] 23 bytes",
				"dsn":"postgres://rm:[REDACTED]@db/rm",
				"headers":{"Accept":["application/json"],"Authorization":["[REDACTED]"]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, line := logJSON(t, tt.log)
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("logged\n%s\nwant\n%s", line, tt.want)
			}
			for _, s := range []string{token, dbPass, email, dob, lastName} {
				if strings.Contains(line, s) {
					t.Errorf("output contains %q: %s", s, line)
				}
			}
		})
	}
	// The email LogValuer under a redacted key was never called; the two resolved ones were, once each.
	if calls != 2 {
		t.Errorf("LogValue called %d times, want 2", calls)
	}
}

func TestSensitiveKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, parent string
		want        bool
	}{
		{"token", "", true},
		{"TOKEN", "", true},
		{"refresh-token", "", true},
		{"x_" + strings.Repeat("very_long_", 10) + "token", "", true},
		{strings.Repeat("very_long_", 10) + "email", "", false}, // a long key matches only suffixes
		{"tokens", "", false},
		{"name", "", false},
		{"name", "district", false},
		{"name", "user", true},
		{"Name", "STUDENTS", true},
		{"name", "name", false},
		{"", "", false},
		{"_", "", false},
		{"district_id", "", false},
		{"sis_id", "user", false},
	}
	for _, tt := range tests {
		if got := logging.SensitiveKey(tt.key, tt.parent); got != tt.want {
			t.Errorf("SensitiveKey(%q, %q) = %v, want %v", tt.key, tt.parent, got, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"sync district d1 finished", "sync district d1 finished"},
		{"Authorization: Bearer abc.def-ghi_jkl~+/==", "Authorization: Bearer [REDACTED]"},
		{"BEARER\tabc", "BEARER\t[REDACTED]"},
		{"postgres://u:p%40ss@h/db", "postgres://u:[REDACTED]@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},       // no password
		{"postgres://h:5432/db", "postgres://h:5432/db"}, // a port is not a password
		{"mailto a@b and http://x/y", "mailto a@b and http://x/y"},
		{"api_key=abc123;next", "api_key=[REDACTED];next"},
		{`"client_secret" : "s\"x"`, `"client_secret" : "[REDACTED]"`},
		{"Bearer [REDACTED]", "Bearer [REDACTED]"}, // idempotent
	}
	for _, tt := range tests {
		got, changed := logging.Scrub(tt.in)
		if got != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("Scrub(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.in != tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelInfo)
	l.Debug("hidden", "token", token)
	l.Info("shown", "token", token, "n", 1)
	out := buf.String()
	if strings.Contains(out, "hidden") || strings.Contains(out, token) || strings.Count(out, "\n") != 1 {
		t.Fatalf("output %q", out)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m["msg"] != "shown" || m["token"] != logging.Redacted || m["level"] != "INFO" || m["time"] == nil {
		t.Errorf("decoded %v", m)
	}
}

// TestSlogContract runs the standard library's handler conformance tests through the redacting handler.
func TestSlogContract(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return logging.NewHandler(slog.NewJSONHandler(&buf, nil))
	}
	result := func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	slogtest.Run(t, newHandler, result)
}

// cleanRecord logs a typical line with nothing to redact.
func cleanRecord(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelInfo, "sync run finished",
		slog.String("district", "5327a245c79f90670e001b78"), slog.String("run", "0193a6c2-7c1e-7000-8000-000000000001"),
		slog.String("status", "succeeded"), slog.Int("users", 1200), slog.Bool("dry_run", false))
}

// dirtyRecord logs a line with a secret key and an error holding a bearer token.
func dirtyRecord(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelWarn, "fetch failed",
		slog.String("district", "5327a245c79f90670e001b78"), slog.String("access_token", token),
		slog.Any("error", errors.New("GET /v3.0/users: Authorization: Bearer "+token)),
		slog.Group("user", slog.String("id", "u1"), slog.String("name", lastName)))
}

// TestAllocations guards against an allocation blow-up: a record with nothing to redact costs no more
// allocations than the plain JSON handler, and one that needs redacting only a few more.
func TestAllocations(t *testing.T) {
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil))
	redacting := logging.New(io.Discard, slog.LevelInfo)
	for _, tt := range []struct {
		name  string
		log   func(*slog.Logger)
		extra float64
	}{
		{"clean", cleanRecord, 0},
		{"dirty", dirtyRecord, 12},
	} {
		base := testing.AllocsPerRun(100, func() { tt.log(plain) })
		got := testing.AllocsPerRun(100, func() { tt.log(redacting) })
		if got > base+tt.extra {
			t.Errorf("%s record: %v allocations, plain handler %v (allowed +%v)", tt.name, got, base, tt.extra)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	for _, bb := range []struct {
		name string
		l    *slog.Logger
		log  func(*slog.Logger)
	}{
		{"plain/clean", slog.New(slog.NewJSONHandler(io.Discard, nil)), cleanRecord},
		{"redacting/clean", logging.New(io.Discard, slog.LevelInfo), cleanRecord},
		{"plain/dirty", slog.New(slog.NewJSONHandler(io.Discard, nil)), dirtyRecord},
		{"redacting/dirty", logging.New(io.Discard, slog.LevelInfo), dirtyRecord},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bb.log(bb.l)
			}
		})
	}
}
