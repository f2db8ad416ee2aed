package tokens_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// TestNoTokenInLogsOrErrors runs the store through fetching, rotation, static tokens, an outage,
// revocation and disconnection with every log line captured (the store's and the Clever client's), and
// checks that no token value appears in a log line or an error message.
func TestNoTokenInLogsOrErrors(t *testing.T) {
	t.Parallel()
	static := map[string]clever.Token{"d-static": "STATICTOKEN0000000000000000000000000001"}
	s, b := setup(t, tokens.Config{Static: static})
	ctx := context.Background()
	var secrets, messages []string
	secrets = append(secrets, static["d-static"].Reveal())
	note := func(err error) {
		if err != nil {
			messages = append(messages, err.Error())
		}
	}

	secrets = append(secrets, b.sim.DistrictToken(b.demo), b.sim.DistrictToken(secondDistrictID))
	_, err := s.Connected(ctx)
	note(err)
	_, err = s.Token(ctx, b.demo)
	note(err)
	_, err = s.Token(ctx, "d-static")
	note(err)
	note(s.Used(ctx, b.demo))

	rotated, err := b.sim.RotateToken(b.demo)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, rotated)
	_, err = s.Token(ctx, b.demo)
	note(err)
	note(s.Revoked(ctx, b.demo, errors.New("clever: GET /v3.0/sections: 401 Unauthorized")))

	down := clever.New(clever.Config{OAuthURL: failing(t), MaxAttempts: 1, Logger: nil})
	outage := b.another(t, tokens.Config{OAuth: down, Static: static})
	_, err = outage.Token(ctx, secondDistrictID)
	note(err)
	_, err = outage.Connected(ctx)
	note(err)

	if err := b.sim.RemoveDistrict(secondDistrictID); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	_, err = s.Token(ctx, secondDistrictID)
	note(err)
	_, err = s.Connected(ctx)
	note(err)
	for _, id := range []string{b.demo, secondDistrictID, "d-static"} {
		h, err := s.Health(ctx, id)
		note(err)
		messages = append(messages, h.LastError)
	}

	logs := b.logs.String()
	for _, want := range []string{"district token revoked", "district token error", "connected districts listed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q; the scenario did not run as intended:\n%s", want, logs)
		}
	}
	if len(messages) < 5 {
		t.Errorf("only %d error messages captured", len(messages))
	}
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("empty token in the scenario")
		}
		if strings.Contains(logs, secret) {
			t.Errorf("a token appears in the logs:\n%s", logs)
		}
		for _, m := range messages {
			if strings.Contains(m, secret) {
				t.Errorf("a token appears in an error message: %s", m)
			}
		}
	}
}
