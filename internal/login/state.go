package login

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/loginstate"
)

// A state is what rostermirror sends to Clever as the OAuth `state` (and in an invite link):
//
//	base64url(payload JSON) "." base64url(HMAC-SHA256(key, stateMACPrefix + base64url(payload JSON)))
//
// The payload names the purpose (LOGIN or INVITE), the inviting organization (INVITE), a random nonce,
// the expiry (unix seconds), the redirect URI of the sign-in and, for LOGIN, the browser binding: the
// SHA-256 of a random secret that only the browser that started the sign-in holds, in an HttpOnly
// cookie (bindingCookie). The MAC makes it unforgeable; the expiry is checked from the signed payload, so
// a state is refused when it expired whether or not its row is still there.
//
// Single use rests on a login_states row whose id is the SHA-256 of the nonce:
//
//   - INVITE: the row is written when an admin makes the invite (CreateInvite) and used up at the
//     callback by one atomic UPDATE (consume) before anything else happens.
//   - LOGIN: nothing is written when a sign-in starts, so GET /auth/clever/login costs no storage. The
//     callback refuses a state whose row exists (checkUnused, a read), and once Clever has accepted the
//     code it inserts the row, already used (claim): the primary key makes a second insert fail, so of
//     two callbacks racing with one state only one goes on. A row is thus written only for a sign-in
//     Clever vouched for, and deleted a day after the state expires (Cleanup).

// stateVersion is the payload format.
const stateVersion = 1

// stateMACPrefix separates the state MAC from any other use of the key.
const stateMACPrefix = "rostermirror login state v1\x00"

// maxStateLen bounds a state presented to the server (an issued one is about 300 characters).
const maxStateLen = 2048

// nonceLen is the state nonce's length in bytes.
const nonceLen = 16

// bindingLen is the length of a LOGIN state's browser secret in bytes (its cookie value is base64url,
// 43 characters); the state carries its SHA-256.
const bindingLen = 32

// Why a state is refused. Each has its own page.
var (
	errStateForged  = errors.New("state is not one this server issued: forged, altered or malformed")
	errStateExpired = errors.New("state expired")
	errStateUsed    = errors.New("state was already used")
	errStateUnknown = errors.New("state is not on record")
	errStateBrowser = errors.New("state was issued to another browser: its sign-in cookie is missing or does not match")
)

// state is a verified (or new) state.
type state struct {
	purpose  loginstate.Purpose
	orgID    string // INVITE: the inviting organization
	nonce    []byte
	expires  time.Time
	redirect string // the redirect URI of the sign-in
	binding  []byte // SHA-256 of the browser's secret (the sign-in cookie's value); none in an invite link
	invite   string // the Clever leg of an invite: the invite's row id (the invite link's state id)
	appState string // the app's own state (/auth/clever/login?app_state=), handed back with the code
}

// statePayload is the signed JSON of a state.
type statePayload struct {
	V int    `json:"v"`
	P string `json:"p"`
	O string `json:"o,omitempty"`
	N string `json:"n"`
	E int64  `json:"e"`
	R string `json:"r"`
	B string `json:"b,omitempty"` // base64url of state.binding
	I string `json:"i,omitempty"` // state.invite
	A string `json:"a,omitempty"` // state.appState
}

// id is the state's row id: the SHA-256 of its nonce, hex.
func (st state) id() string {
	sum := sha256.Sum256(st.nonce)
	return hex.EncodeToString(sum[:])
}

// newState makes a state with a fresh nonce.
func newState(purpose loginstate.Purpose, orgID, redirect string, expires time.Time) state {
	nonce := make([]byte, nonceLen)
	rand.Read(nonce) // never fails (crypto/rand)
	return state{purpose: purpose, orgID: orgID, nonce: nonce, expires: expires.Truncate(time.Second), redirect: redirect}
}

// newLoginState makes a LOGIN state bound to a fresh browser secret, and returns the secret: the value of
// the sign-in cookie that must come back with the state.
func newLoginState(redirect string, expires time.Time) (state, string) {
	return newBoundState(newState(loginstate.PurposeLOGIN, "", redirect, expires))
}

// newBoundState binds st to a fresh browser secret and returns the secret.
func newBoundState(st state) (state, string) {
	b := make([]byte, bindingLen)
	rand.Read(b) // never fails (crypto/rand)
	secret := base64.RawURLEncoding.EncodeToString(b)
	st.binding = hashBinding(secret)
	return st, secret
}

// hashBinding is what a state carries of its browser secret.
func hashBinding(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// sign encodes st and signs it.
func (s *Service) sign(st state) string {
	payload, _ := json.Marshal(statePayload{V: stateVersion, P: string(st.purpose), O: st.orgID, // strings only: cannot fail
		N: base64.RawURLEncoding.EncodeToString(st.nonce), E: st.expires.Unix(), R: st.redirect,
		B: base64.RawURLEncoding.EncodeToString(st.binding), I: st.invite, A: st.appState})
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
}

func (s *Service) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(stateMACPrefix))
	m.Write([]byte(body))
	return m.Sum(nil)
}

// verify checks a state's MAC (in constant time) and form, then its expiry. The error matches
// errStateForged or errStateExpired; an expired state is returned too, so that the page can tell an
// expired invite from an expired login.
func (s *Service) verify(raw string) (state, error) {
	body, sig, ok := strings.Cut(raw, ".")
	if !ok || len(raw) > maxStateLen {
		return state{}, errStateForged
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(body)) {
		return state{}, errStateForged
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return state{}, errStateForged
	}
	var p statePayload
	if err := json.Unmarshal(b, &p); err != nil || p.V != stateVersion {
		return state{}, errStateForged
	}
	st := state{purpose: loginstate.Purpose(p.P), orgID: p.O, expires: time.Unix(p.E, 0).UTC(), redirect: p.R, invite: p.I, appState: p.A}
	if st.nonce, err = base64.RawURLEncoding.DecodeString(p.N); err != nil || len(st.nonce) != nonceLen ||
		loginstate.PurposeValidator(st.purpose) != nil || (st.purpose == loginstate.PurposeINVITE) != (st.orgID != "") || p.R == "" {
		return state{}, errStateForged
	}
	// What goes to Clever is bound to a browser: a LOGIN state, and the Clever leg of an invite (which
	// names its invite). The invite link itself is not (whoever it is sent to opens it).
	if st.binding, err = base64.RawURLEncoding.DecodeString(p.B); err != nil ||
		(len(st.binding) != 0 && len(st.binding) != sha256.Size) || (st.purpose == loginstate.PurposeLOGIN && (len(st.binding) == 0 || st.invite != "")) ||
		(st.purpose == loginstate.PurposeINVITE && (len(st.binding) == 0) != (st.invite == "")) {
		return state{}, errStateForged
	}
	if !s.now().Before(st.expires) {
		return st, errStateExpired
	}
	return st, nil
}

// issue records a new INVITE state and returns it signed.
func (s *Service) issue(ctx context.Context, client *ent.Client, st state, createdBy string) (string, error) {
	if err := client.LoginState.Create().SetID(st.id()).SetPurpose(st.purpose).SetOrganizationID(st.orgID).
		SetCreatedBy(createdBy).SetCreatedAt(s.now()).SetExpiresAt(st.expires).Exec(ctx); err != nil {
		return "", fmt.Errorf("record %s state: %w", st.purpose, err)
	}
	return s.sign(st), nil
}

// check reports whether a verified INVITE state can still be used (its row is there, unused and unexpired),
// without using it up. The error matches one of the errState… sentinels, or is a database failure.
func (s *Service) check(ctx context.Context, st state) error {
	row, err := s.cfg.DB.Client.LoginState.Get(ctx, st.id())
	if err != nil {
		if ent.IsNotFound(err) {
			return errStateUnknown
		}
		return fmt.Errorf("read state: %w", err)
	}
	return s.usable(row, st)
}

// consume uses an invite up once Clever has accepted the code of its Clever leg st: one UPDATE that
// succeeds only for the invite's unused, unexpired row. When no row was updated, the error says why
// (matching one of the errState… sentinels).
func (s *Service) consume(ctx context.Context, st state) error {
	now := s.now()
	n, err := s.cfg.DB.Client.LoginState.Update().
		Where(loginstate.ID(st.invite), loginstate.UsedAtIsNil(), loginstate.ExpiresAtGT(now),
			loginstate.PurposeEQ(st.purpose), loginstate.OrganizationID(st.orgID)).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("use state: %w", err)
	}
	if n == 1 {
		return nil
	}
	if err := s.checkInvite(ctx, st); err != nil {
		return err
	}
	return errStateUsed // used between the UPDATE and the read
}

// checkInvite reports whether the invite that st's Clever leg names can still be used.
func (s *Service) checkInvite(ctx context.Context, st state) error {
	row, err := s.cfg.DB.Client.LoginState.Get(ctx, st.invite)
	if err != nil {
		if ent.IsNotFound(err) {
			return errStateUnknown
		}
		return fmt.Errorf("read invite: %w", err)
	}
	return s.usable(row, st)
}

// usable says why a state's row cannot be used, or nil.
func (s *Service) usable(row *ent.LoginState, st state) error {
	switch {
	case row.Purpose != st.purpose || row.OrganizationID != st.orgID:
		return errStateForged // signed with our key, yet not what was recorded: never issued so
	case row.UsedAt != nil:
		return errStateUsed
	case !s.now().Before(row.ExpiresAt):
		return errStateExpired
	}
	return nil
}

// checkBrowser reports whether the request comes from the browser a LOGIN state was issued to: its
// sign-in cookie hashes to the state's binding (compared in constant time). The error matches
// errStateBrowser.
func (s *Service) checkBrowser(r *http.Request, st state) error {
	c, err := r.Cookie(s.cookieName)
	if err != nil || len(c.Value) > 2*bindingLen || !hmac.Equal(hashBinding(c.Value), st.binding) {
		return errStateBrowser
	}
	return nil
}

// checkUnused refuses a LOGIN state that was already used (its row exists), without writing anything.
func (s *Service) checkUnused(ctx context.Context, st state) error {
	used, err := s.cfg.DB.Client.LoginState.Query().Where(loginstate.ID(st.id())).Exist(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("read state: %w", err)
	case used:
		return errStateUsed
	}
	return nil
}

// claim uses a LOGIN state up once Clever has accepted its code: it inserts the state's row, already
// used. The primary key makes the insert fail when the state was used meanwhile (errStateUsed).
func (s *Service) claim(ctx context.Context, st state) error {
	now := s.now()
	err := s.cfg.DB.Client.LoginState.Create().SetID(st.id()).SetPurpose(st.purpose).SetCreatedAt(now).
		SetExpiresAt(st.expires).SetUsedAt(now).Exec(ctx)
	switch {
	case ent.IsConstraintError(err):
		return errStateUsed
	case err != nil:
		return fmt.Errorf("use state: %w", err)
	}
	return nil
}
