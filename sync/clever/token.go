package clever

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Token is a Clever bearer token (a district-app token or a user's login token). It is a secret: every way
// of printing it — fmt verbs, slog, JSON — yields "[REDACTED]", so a token cannot reach a log line or an
// error string by accident. Use Reveal only where the token must leave the process (an HTTP header, the
// encrypted store).
type Token string

const redacted = "[REDACTED]"

// Reveal returns the token's value.
func (t Token) Reveal() string { return string(t) }

// String implements fmt.Stringer without revealing the token.
func (t Token) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the token.
func (t Token) GoString() string { return redacted }

// Format implements fmt.Formatter so that no verb (%s %v %q %x %d …) reveals the token.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// LogValue implements slog.LogValuer.
func (t Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler without revealing the token.
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// UnmarshalJSON reads a token from a JSON string (as /oauth/tokens returns it).
func (t *Token) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode token: %w", err)
	}
	*t = Token(s)
	return nil
}
