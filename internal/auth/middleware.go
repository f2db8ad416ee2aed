package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Error codes of the middleware's responses, in the GraphQL error's extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeInternal        = "INTERNAL" // as the GraphQL handler's errors (graph.CodeInternal)
)

// Messages of the middleware's responses.
const (
	msgMissing     = `missing API key: send "Authorization: Bearer <key>"`
	msgInvalid     = "invalid API key"
	msgUnavailable = "could not check the API key; try again"
)

// WWW-Authenticate challenges of a 401 (RFC 6750).
const (
	challengeMissing = `Bearer realm="rostermirror"`
	challengeInvalid = `Bearer realm="rostermirror", error="invalid_token"`
)

// Middleware admits only requests with a valid API key in "Authorization: Bearer <key>" and puts the
// key in the request's context (see FromContext). A request without one gets 401 with a
// WWW-Authenticate: Bearer challenge and a GraphQL-shaped JSON body:
//
//	{"errors":[{"message":"invalid API key","extensions":{"code":"UNAUTHENTICATED"}}]}
//
// A database failure while checking the key gives 500 with code INTERNAL. Rejections are
// logged at info level without anything of the credential presented; a failure at error level.
func Middleware(s *Store, logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			token, present := bearerToken(r.Header.Get("Authorization"))
			if !present {
				logger.InfoContext(ctx, "API request rejected", slog.String(logReason, "no bearer API key"))
				writeError(w, http.StatusUnauthorized, challengeMissing, msgMissing, CodeUnauthenticated)
				return
			}
			k, err := s.Authenticate(ctx, token)
			switch {
			case errors.Is(err, ErrInvalidKey):
				logger.InfoContext(ctx, "API request rejected", slog.String(logReason, "invalid API key"))
				writeError(w, http.StatusUnauthorized, challengeInvalid, msgInvalid, CodeUnauthenticated)
				return
			case err != nil:
				if !errors.Is(err, context.Canceled) {
					logger.ErrorContext(ctx, "check API key", slog.String(logError, err.Error()))
				}
				writeError(w, http.StatusInternalServerError, "", msgUnavailable, CodeInternal)
				return
			}
			logger.DebugContext(ctx, "API key authenticated", slog.String(logKeyID, k.ID), slog.String(logPrefix, k.Prefix))
			next.ServeHTTP(w, r.WithContext(WithKey(ctx, k)))
		})
	}
}

// RequireScope serves next only to requests whose API key (put in the context by Middleware) grants
// scope; others get 403 with code FORBIDDEN.
func RequireScope(scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Require(r.Context(), scope); err != nil {
			writeError(w, http.StatusForbidden, "", (&ScopeError{Missing: scope}).Error(), CodeForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the credential of an Authorization header value "Bearer <token>" (the scheme is
// case-insensitive). present is false when the header is empty; another scheme (Basic, …) is a
// credential present but invalid, and gives an empty token.
func bearerToken(header string) (token string, present bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", false
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// graphQLErrors is the body of an error response, shaped like a GraphQL response with errors only.
type graphQLErrors struct {
	Errors []graphQLError `json:"errors"`
}

type graphQLError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// writeError writes a GraphQL-shaped error response with the given status, WWW-Authenticate challenge
// (none when empty), message and code.
func writeError(w http.ResponseWriter, status int, challenge, message, code string) {
	body, _ := json.Marshal(graphQLErrors{Errors: []graphQLError{{
		Message:    message,
		Extensions: map[string]any{"code": code},
	}}}) // cannot fail: strings only
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
