// Package logging builds rostermirror's structured logger: log/slog with a handler that redacts
// secrets and student personal data before any record reaches the output.
//
// Redaction works on two levels:
//
//   - By key. An attribute whose key names a secret or a piece of personal data (see SensitiveKeys;
//     keys compare case-insensitively and ignoring '_', '-', '.' and ' ', so "access_token",
//     "Access-Token" and "accessToken" are the same key) has its whole value replaced by Redacted,
//     whatever the value is (a string, a group, a LogValuer) and however deeply it is nested in groups.
//     A key ending in "token", "secret", "password" or "passwd" is a secret too. The key "name" is
//     personal data when it sits directly in a group named for a person (see PersonGroups).
//   - By value. Every string that is logged — the message, string attributes, error messages, string
//     slices, URLs — is scrubbed of credentials: the token after "Bearer", the password of a URL
//     (postgres://user:pass@host becomes postgres://user:[REDACTED]@host), and the value of
//     secret-named key=value and "key":"value" pairs (password=…, access_token=…, "client_secret":"…").
//     []byte and json.RawMessage values (raw API payloads) are replaced by their length.
//
// What cannot be recognised is not redacted: free text that happens to contain a student's name, or a
// struct logged with slog.Any and marshalled by the output handler. Log identifiers (Clever ids), not
// records; give types that hold secrets a LogValue method.
package logging

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Redacted replaces a redacted value or the secret part of a string.
const Redacted = "[REDACTED]"

// SensitiveKeys are the attribute keys whose values are always redacted, in normalised form (lower case,
// without '_', '-', '.' and ' '): secrets first, then personal data of students and other users (the
// Clever user fields).
var SensitiveKeys = []string{
	// Secrets.
	"token", "accesstoken", "refreshtoken", "idtoken", "authorization", "proxyauthorization",
	"password", "passwd", "pwd", "secret", "clientsecret", "apikey", "key", "secretkey", "privatekey",
	"cookie", "setcookie", "credentials",
	// Personal data.
	"email", "dob", "birthdate", "birthday", "firstname", "middlename", "lastname", "fullname",
	"username", "districtusername", "phone", "phonenumber", "address", "location",
	"gender", "race", "hispanicethnicity", "ellstatus", "frlstatus", "iepstatus", "homelanguage",
	"studentnumber", "stateid", "unweightedgpa", "weightedgpa",
}

// secretSuffixes mark a normalised key as a secret: "cleveraccesstoken", "dbpassword", ...
var secretSuffixes = []string{"token", "secret", "password", "passwd"}

// PersonGroups are the group names (normalised) in which the key "name" holds a person's name.
var PersonGroups = []string{
	"user", "users", "student", "students", "teacher", "teachers", "contact", "contacts", "staff",
	"guardian", "guardians", "parent", "parents",
}

var (
	sensitiveKeys = setOf(SensitiveKeys)
	personGroups  = setOf(PersonGroups)
)

func setOf(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// New returns a logger that writes JSON lines at level and above to w, redacting as the package
// describes.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// NewHandler returns a handler that redacts secrets and personal data (see the package comment) from
// records and attributes and passes the result to h.
func NewHandler(h slog.Handler) slog.Handler {
	return &handler{inner: h}
}

// handler is the redacting slog.Handler.
type handler struct {
	inner slog.Handler
	group string // innermost group opened with WithGroup, for the "name" rule
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	attrs, _ = redactAttrs(attrs, h.group)
	return &handler{inner: h.inner.WithAttrs(attrs), group: h.group}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h // slog: WithGroup("") is the handler itself
	}
	return &handler{inner: h.inner.WithGroup(name), group: name}
}

// Handle passes r on unchanged when nothing in it needs redacting (no copy, no allocation), else a
// copy with the message scrubbed and the attributes redacted.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	msg, msgChanged := Scrub(r.Message)
	var (
		out     slog.Record
		copying bool
		i       int
	)
	start := func(upTo int) { // begin the copy with r's first upTo attributes, which need no change
		copying = true
		out = slog.NewRecord(r.Time, r.Level, msg, r.PC)
		j := 0
		r.Attrs(func(a slog.Attr) bool {
			if j == upTo {
				return false
			}
			out.AddAttrs(a)
			j++
			return true
		})
	}
	r.Attrs(func(a slog.Attr) bool {
		ra, changed := redactAttr(a, h.group)
		if changed && !copying {
			start(i)
		}
		if copying {
			out.AddAttrs(ra)
		}
		i++
		return true
	})
	switch {
	case copying:
		return h.inner.Handle(ctx, out)
	case msgChanged:
		start(i)
		return h.inner.Handle(ctx, out)
	default:
		return h.inner.Handle(ctx, r)
	}
}

// redactAttrs redacts attrs (whose enclosing group is parent), copying the slice only if an attribute
// changes.
func redactAttrs(attrs []slog.Attr, parent string) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range attrs {
		ra, changed := redactAttr(a, parent)
		if changed && out == nil {
			out = make([]slog.Attr, len(attrs))
			copy(out, attrs[:i])
		}
		if out != nil {
			out[i] = ra
		}
	}
	if out == nil {
		return attrs, false
	}
	return out, true
}

// redactAttr redacts one attribute whose enclosing group is parent, reporting whether it changed. A
// LogValuer is resolved (and so reported changed) unless its key is redacted, in which case it is never
// called.
func redactAttr(a slog.Attr, parent string) (slog.Attr, bool) {
	if SensitiveKey(a.Key, parent) {
		return slog.String(a.Key, Redacted), true
	}
	v, changed := a.Value, false
	if v.Kind() == slog.KindLogValuer {
		v, changed = v.Resolve(), true
	}
	switch v.Kind() {
	case slog.KindString:
		if s, ok := Scrub(v.String()); ok {
			v, changed = slog.StringValue(s), true
		}
	case slog.KindGroup:
		group := a.Key
		if group == "" { // an inlined group's attributes belong to the parent
			group = parent
		}
		if attrs, ok := redactAttrs(v.Group(), group); ok {
			v, changed = slog.GroupValue(attrs...), true
		}
	case slog.KindAny:
		if nv, ok := redactAny(v.Any()); ok {
			v, changed = nv, true
		}
	}
	if !changed {
		return a, false
	}
	return slog.Attr{Key: a.Key, Value: v}, true
}

// redactAny scrubs the values of slog.Any that can carry a credential in their text.
func redactAny(x any) (slog.Value, bool) {
	switch x := x.(type) {
	case error:
		// Output handlers print err.Error(); scrubbing it replaces the error by its (clean) text.
		if s, ok := Scrub(x.Error()); ok {
			return slog.StringValue(s), true
		}
	case *url.URL:
		if x != nil {
			return slog.StringValue(scrubAlways(x.Redacted())), true
		}
	case url.URL:
		return slog.StringValue(scrubAlways(x.Redacted())), true
	case http.Header:
		var out http.Header
		for k := range x {
			if !SensitiveKey(k, "") {
				continue
			}
			if out == nil {
				out = x.Clone()
			}
			out[k] = []string{Redacted}
		}
		if out != nil {
			return slog.AnyValue(out), true
		}
	case []string:
		var out []string
		for i, s := range x {
			if s2, ok := Scrub(s); ok {
				if out == nil {
					out = append([]string(nil), x...)
				}
				out[i] = s2
			}
		}
		if out != nil {
			return slog.AnyValue(out), true
		}
	case json.RawMessage:
		return slog.StringValue(Redacted + " " + strconv.Itoa(len(x)) + " bytes"), true
	case []byte:
		return slog.StringValue(Redacted + " " + strconv.Itoa(len(x)) + " bytes"), true
	}
	return slog.Value{}, false
}

// SensitiveKey reports whether an attribute key names a secret or personal data; parent is the name of
// the group that directly encloses the attribute ("" at the top level).
func SensitiveKey(key, parent string) bool {
	var buf [maxKey]byte
	k, long := normalize(&buf, key)
	if len(k) == 0 {
		return false
	}
	if !long && sensitiveKeys[string(k)] { // no allocation: map index by converted bytes
		return true
	}
	for _, suffix := range secretSuffixes {
		if len(k) >= len(suffix) && string(k[len(k)-len(suffix):]) == suffix {
			return true
		}
	}
	if !long && string(k) == "name" && parent != "" {
		var pbuf [maxKey]byte
		p, long := normalize(&pbuf, parent)
		return !long && personGroups[string(p)]
	}
	return false
}

// maxKey is longer than every listed key and suffix.
const maxKey = 64

// normalize writes key to buf in lower case without the separators '_', '-', '.' and ' '. If that is
// longer than buf, it writes the last len(buf) bytes and reports long: such a key can only match a
// suffix.
func normalize(buf *[maxKey]byte, key string) (k []byte, long bool) {
	n := 0
	for i := 0; i < len(key); i++ {
		if !separator(key[i]) {
			n++
		}
	}
	long = n > len(buf)
	i := len(buf)
	if !long {
		i = n
	}
	for j := len(key) - 1; j >= 0 && i > 0; j-- {
		c := key[j]
		if separator(c) {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		i--
		buf[i] = c
	}
	return buf[:min(n, len(buf))], long
}

func separator(c byte) bool { return c == '_' || c == '-' || c == '.' || c == ' ' }

// Credential patterns of Scrub. Each keeps its first submatch and replaces the rest with Redacted.
var (
	// The token68 after "Bearer" (RFC 6750), any case.
	bearerRE = regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*`)
	// The password of a URL's userinfo: scheme://user:password@ (user may be empty).
	urlPasswordRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:]*):[^\s@]*@`)
	// key=value with a secret-named key, as in DSNs (password=…) and query strings (access_token=…).
	kvRE = regexp.MustCompile(`(?i)(\b[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api_?key)\s*=\s*)(?:'[^']*'|"[^"]*"|[^\s&;,'"]+)`)
	// "key":"value" with a secret-named key, as in a JSON body quoted in an error.
	jsonRE = regexp.MustCompile(`(?i)("[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api_?key)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
)

// Scrub removes credentials from s (see the package comment) and reports whether it changed anything.
// Strings with nothing that looks like a credential are returned as they are without allocating.
func Scrub(s string) (string, bool) {
	if !mightHoldCredential(s) {
		return s, false
	}
	out := scrubAlways(s)
	return out, out != s
}

func scrubAlways(s string) string {
	if indexFold(s, "bearer") >= 0 {
		s = bearerRE.ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.Contains(s, "://") && strings.IndexByte(s, '@') >= 0 {
		s = urlPasswordRE.ReplaceAllString(s, "${1}:"+Redacted+"@")
	}
	if strings.IndexByte(s, '=') >= 0 {
		s = kvRE.ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.IndexByte(s, '"') >= 0 {
		s = jsonRE.ReplaceAllString(s, `${1}"`+Redacted+`"`)
	}
	return s
}

// mightHoldCredential is Scrub's cheap test: false means no pattern can match.
func mightHoldCredential(s string) bool {
	if strings.Contains(s, "://") || indexFold(s, "bearer") >= 0 {
		return true
	}
	if strings.IndexByte(s, '=') < 0 && strings.IndexByte(s, '"') < 0 {
		return false
	}
	for _, word := range [...]string{"pass", "pwd", "secret", "token", "key"} {
		if indexFold(s, word) >= 0 {
			return true
		}
	}
	return false
}

// indexFold is strings.Index for an ASCII lower-case word, ignoring the case of s, without allocating.
func indexFold(s, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return i
		}
	}
	return -1
}
