package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rostermirror/rostermirror/sync/clever"
)

// CleverClient adapts c to Clever. c must carry the app's client id and secret (the code exchange sends
// them).
func CleverClient(c *clever.Client) Clever { return cleverClient{c} }

type cleverClient struct{ c *clever.Client }

func (a cleverClient) ExchangeCode(ctx context.Context, code, redirectURI string) (clever.Token, error) {
	return a.c.ExchangeCode(ctx, code, redirectURI)
}

func (a cleverClient) Me(ctx context.Context, tok clever.Token) (clever.Me, error) {
	return a.c.WithToken(tok).Me(ctx)
}

func (a cleverClient) User(ctx context.Context, tok clever.Token, id string) (clever.User, error) {
	return a.c.WithToken(tok).User(ctx, id)
}

// readUser reads the signed-in user's record: with the district's token when Tokens has one (the full
// record a sync would read), else with the user's own token (which may read its own record). ok is false
// when neither could; the failures are logged.
func (s *Service) readUser(ctx context.Context, districtID, userID string, userToken clever.Token) (clever.User, bool) {
	if s.cfg.Tokens != nil {
		tok, err := s.districtToken(ctx, districtID)
		if err == nil {
			var u clever.User
			u, err = s.cfg.Clever.User(ctx, tok, userID)
			if err == nil && u.District == districtID {
				return u, true
			}
			if errors.Is(err, clever.ErrUnauthorized) {
				s.forgetToken(districtID) // rotated or revoked: ask Tokens again next time
			}
			if err == nil {
				err = fmt.Errorf("%w: the user belongs to district %q", clever.ErrMalformed, u.District)
			}
		}
		if ctx.Err() != nil {
			return clever.User{}, false
		}
		s.log.InfoContext(ctx, "read signed-in user with the district's token: trying the user's own",
			slog.String(logDistrict, districtID), slog.String(logUser, userID), slog.String(logError, err.Error()))
	}
	u, err := s.cfg.Clever.User(ctx, userToken, userID)
	if err == nil && u.District != districtID {
		err = fmt.Errorf("%w: the user belongs to district %q", clever.ErrMalformed, u.District)
	}
	if err != nil {
		s.log.WarnContext(ctx, "read signed-in user", slog.String(logDistrict, districtID), slog.String(logUser, userID),
			slog.String(logError, err.Error()))
		return clever.User{}, false
	}
	return u, true
}

// districtToken is the district's token, from the cache while it is fresh.
func (s *Service) districtToken(ctx context.Context, districtID string) (clever.Token, error) {
	now := s.now()
	s.tokensMu.Lock()
	c, ok := s.tokens[districtID]
	s.tokensMu.Unlock()
	if ok && now.Sub(c.fetched) < s.cfg.TokenCacheTTL {
		return c.tok, nil
	}
	tok, err := s.cfg.Tokens.Token(ctx, districtID)
	if err != nil {
		return "", err
	}
	if s.cfg.TokenCacheTTL > 0 {
		s.tokensMu.Lock()
		s.tokens[districtID] = cachedToken{tok: tok, fetched: now}
		s.tokensMu.Unlock()
	}
	return tok, nil
}

func (s *Service) forgetToken(districtID string) {
	s.tokensMu.Lock()
	delete(s.tokens, districtID)
	s.tokensMu.Unlock()
}
