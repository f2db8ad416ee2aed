package login

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/rostermirror/rostermirror/ent/logincode"
)

// codeLen is the length of a login code in bytes (its text is base64url, 43 characters).
const codeLen = 32

// maxExchangeBody bounds the body of POST /auth/exchange.
const maxExchangeBody = 4 << 10

// issueCode records a one-time login code for a completed sign-in and returns it.
func (s *Service) issueCode(ctx context.Context, in signIn) (string, error) {
	b := make([]byte, codeLen)
	rand.Read(b) // never fails (crypto/rand)
	code := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	if err := s.cfg.DB.Client.LoginCode.Create().SetID(hashCode(code)).SetUserID(in.userID).SetDistrictID(in.districtID).
		SetRoles(in.roles).SetAuthorizedBy(in.authorizedBy).SetOrganizationID(in.outcome.OrganizationID).
		SetCreatedAt(now).SetExpiresAt(now.Add(s.cfg.CodeTTL)).Exec(ctx); err != nil {
		return "", fmt.Errorf("record login code: %w", err)
	}
	return code, nil
}

// hashCode is a code's row id: its SHA-256, hex.
func hashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// Exchanged is the answer of POST /auth/exchange: who signed in.
type Exchanged struct {
	// CleverID is the user's Clever id.
	CleverID string `json:"cleverId"`
	// DistrictID is the user's Clever district.
	DistrictID string `json:"districtId"`
	// Roles are the user's roles as Clever names them: student, teacher, staff, district_admin, contact.
	Roles []string `json:"roles"`
	// AuthorizedBy is "district" (district SSO) or "teacher" (a teacher-authorized Library login); empty
	// when Clever did not say.
	AuthorizedBy string `json:"authorizedBy"`
	// OrganizationID is the district's organization at the sign-in; null while it is not linked.
	OrganizationID *string `json:"organizationId"`
	// SessionToken and SessionExpiresAt are a session on /graphql for the user. Sessions are not issued
	// yet: both are always null.
	SessionToken     *string    `json:"sessionToken"`
	SessionExpiresAt *time.Time `json:"sessionExpiresAt"`
}

// Exchange uses up a login code and returns who signed in. The error matches ErrInvalidCode for a code
// that is unknown, expired or already used.
func (s *Service) Exchange(ctx context.Context, code string) (*Exchanged, error) {
	if b, err := base64.RawURLEncoding.DecodeString(code); err != nil || len(b) != codeLen {
		return nil, ErrInvalidCode
	}
	id, now := hashCode(code), s.now()
	tx, err := s.cfg.DB.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("exchange login code: %w", err)
	}
	defer tx.Rollback()
	n, err := tx.LoginCode.Update().Where(logincode.ID(id), logincode.UsedAtIsNil(), logincode.ExpiresAtGT(now)).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("exchange login code: %w", err)
	}
	if n != 1 {
		return nil, ErrInvalidCode
	}
	lc, err := tx.LoginCode.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("exchange login code: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("exchange login code: %w", err)
	}
	out := &Exchanged{CleverID: lc.UserID, DistrictID: lc.DistrictID, Roles: lc.Roles, AuthorizedBy: lc.AuthorizedBy}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if lc.OrganizationID != "" {
		out.OrganizationID = &lc.OrganizationID
	}
	return out, nil
}

// ErrInvalidCode: the login code is unknown, expired or already used.
var ErrInvalidCode = errors.New("the login code is unknown, expired or already used")

// ExchangeHandler serves POST /auth/exchange: a JSON body {"code":"…"} → 200 and the JSON of Exchanged.
// It does not check the API key: mount it behind auth.Middleware and auth.RequireScope(auth.ScopeAdmin)
// (Routes does). Errors are OAuth-style JSON, {"error","error_description"}: invalid_code (400) for a
// code that is unknown, expired or used; invalid_request (400, or 413 for a body over 4 KB) for a body
// that is not that JSON.
func (s *Service) ExchangeHandler() http.Handler { return http.HandlerFunc(s.exchange) }

func (s *Service) exchange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", `send the code as JSON: Content-Type: application/json and {"code":"…"}`)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxExchangeBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 4 KB")
			return
		}
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body could not be read")
		return
	}
	var req struct {
		Code *string `json:"code"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil || req.Code == nil || *req.Code == "" || dec.Decode(&struct{}{}) != io.EOF {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", `the body must be one JSON object {"code":"…"} with the code from the login redirect`)
		return
	}
	out, err := s.Exchange(ctx, *req.Code)
	switch {
	case errors.Is(err, ErrInvalidCode):
		s.log.InfoContext(ctx, "login code refused", slog.String(logReason, "unknown, expired or used"))
		writeJSONError(w, http.StatusBadRequest, "invalid_code", "the code is unknown, expired or already used: codes work once, within "+human(s.cfg.CodeTTL)+" of the sign-in")
		return
	case err != nil:
		if !errors.Is(err, context.Canceled) {
			s.log.ErrorContext(ctx, "exchange login code", slog.String(logError, err.Error()))
		}
		writeJSONError(w, http.StatusInternalServerError, "server_error", "the code could not be exchanged; try again")
		return
	}
	s.log.InfoContext(ctx, "login code exchanged", slog.String(logUser, out.CleverID), slog.String(logDistrict, out.DistrictID))
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
}
