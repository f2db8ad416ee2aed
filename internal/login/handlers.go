package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/loginstate"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// maxCodeLen bounds the Clever code a callback accepts.
const maxCodeLen = 512

// LoginHandler serves GET /auth/clever/login: with ?invite=S it checks the invite (a page says why when
// it cannot be used) and sends the browser to Clever with state=S; without, it issues a LOGIN state bound
// to the browser by the sign-in cookie and does the same. ?district_id= is passed on to Clever.
func (s *Service) LoginHandler() http.Handler { return http.HandlerFunc(s.login) }

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	districtID, appState := q.Get("district_id"), q.Get("app_state")
	if districtID != "" && !validID(districtID) {
		render(w, s.startAgain(page{Status: http.StatusBadRequest, Title: "This sign-in link is not valid",
			Paragraphs: []string{"Its district_id is not a Clever id."}}))
		return
	}
	if !validAppState(appState) {
		render(w, s.startAgain(page{Status: http.StatusBadRequest, Title: "This sign-in link is not valid",
			Paragraphs: []string{"Its app_state is longer than 128 characters, or has characters other than letters, digits, '-', '_', '.' and '~'."}}))
		return
	}
	if !q.Has("invite") {
		st, signed := s.startLogin(w, newState(loginstate.PurposeLOGIN, "", s.loginRedirect, s.now().Add(s.cfg.StateTTL)), appState)
		redirect(w, r, s.authorizeURL(st, signed, districtID))
		return
	}
	inv, err := s.verify(q.Get("invite"))
	if err == nil && (inv.purpose != loginstate.PurposeINVITE || inv.invite != "") {
		err = errStateForged
	}
	if err == nil {
		err = s.check(ctx, inv)
	}
	if err != nil {
		s.refuseState(w, r, err, loginstate.PurposeINVITE, "invite refused")
		return
	}
	// The invite link is not bound to a browser (it is sent to someone); its Clever leg is, like a
	// login's, and names the invite, which is used up once Clever accepts the leg's code.
	expires := s.now().Add(s.cfg.StateTTL)
	if inv.expires.Before(expires) {
		expires = inv.expires
	}
	leg := newState(loginstate.PurposeINVITE, inv.orgID, inv.redirect, expires)
	leg.invite = inv.id()
	st, signed := s.startLogin(w, leg, appState)
	redirect(w, r, s.authorizeURL(st, signed, districtID))
}

// validAppState accepts an app's state: at most 128 URL-safe characters (or none).
func validAppState(v string) bool {
	if len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-_.~", c)) {
			return false
		}
	}
	return true
}

// startLogin binds st (a LOGIN state, or an invite's Clever leg) to the browser: it sets the sign-in
// cookie (the browser's secret) on w and returns the state, with the app's state, and the state signed.
// Nothing is stored (see state).
func (s *Service) startLogin(w http.ResponseWriter, st state, appState string) (state, string) {
	st.appState = appState
	st, secret := newBoundState(st)
	http.SetCookie(w, s.signInCookie(secret, max(1, int((st.expires.Sub(s.now())+time.Second-1)/time.Second))))
	return st, s.sign(st)
}

// signInCookie is the sign-in cookie with value, living maxAge seconds (negative: delete it). HttpOnly
// (scripts never see it), SameSite=Lax (sent on Clever's top-level redirect to the callback, not on
// cross-site subrequests), Secure when PublicURL is https, and only for the sign-in paths.
func (s *Service) signInCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName, Value: value, Path: s.cookiePath, MaxAge: maxAge, HttpOnly: true,
		Secure: s.cookieSecure, SameSite: http.SameSiteLaxMode}
}

// authorizeURL is Clever's authorize URL for a state (and district_id, when not "").
func (s *Service) authorizeURL(st state, signed, districtID string) string {
	v := url.Values{"response_type": {"code"}, "client_id": {s.cfg.ClientID}, "redirect_uri": {st.redirect}, "state": {signed}}
	if districtID != "" {
		v.Set("district_id", districtID)
	}
	return s.cfg.OAuthURL + "/oauth/authorize?" + v.Encode()
}

// redirect sends a 302 that no cache keeps and that sends no Referer on (the URL it answers may carry
// a state or a code).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, http.StatusFound)
}

// validID accepts what a Clever id can be: 1 to 64 letters, digits, '-' and '_'.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// refuseState answers a state that cannot be used: its page (400), or 500 when the database failed.
func (s *Service) refuseState(w http.ResponseWriter, r *http.Request, err error, purpose loginstate.Purpose, msg string) {
	if !isStateError(err) {
		s.internal(w, r, msg, err)
		return
	}
	s.log.InfoContext(r.Context(), msg, slog.String(logPurpose, string(purpose)), slog.String(logReason, err.Error()))
	render(w, s.statePage(err, purpose))
}

func isStateError(err error) bool {
	return errors.Is(err, errStateForged) || errors.Is(err, errStateExpired) || errors.Is(err, errStateUsed) ||
		errors.Is(err, errStateUnknown) || errors.Is(err, errStateBrowser)
}

// internal answers a failure of our own: logged, and a page that says to try again.
func (s *Service) internal(w http.ResponseWriter, r *http.Request, msg string, err error) {
	if !errors.Is(err, context.Canceled) {
		s.log.ErrorContext(r.Context(), msg, slog.String(logError, err.Error()))
	}
	render(w, s.startAgain(page{Status: http.StatusInternalServerError, Title: "Something went wrong on our side",
		Paragraphs: []string{"Signing in could not be finished. Try again in a moment."}}))
}

// CallbackHandler serves Clever's redirect (GET /auth/clever/callback, and the link redirect URI's path):
// see the package comment.
func (s *Service) CallbackHandler() http.Handler { return http.HandlerFunc(s.callback) }

func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.log.InfoContext(ctx, "sign-in refused at Clever", slog.String(logReason, clip(e, 64)))
		// Clever's error codes get fixed words: the description in the URL could be anyone's.
		said := "Clever could not sign you in."
		if e == "access_denied" {
			said = "Signing in was cancelled, or Clever refused it."
		}
		render(w, s.startAgain(page{Status: http.StatusBadRequest, Title: "Clever did not sign you in",
			Paragraphs: []string{said, "Nothing was changed."}}))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > maxCodeLen {
		s.log.InfoContext(ctx, "sign-in refused", slog.String(logReason, "callback without a code"))
		render(w, s.startAgain(page{Status: http.StatusBadRequest, Title: "This is not a sign-in from Clever",
			Paragraphs: []string{"Clever sends you here with a one-time code, and this address has none.", "Nothing was changed."}}))
		return
	}
	raw := q.Get("state")
	if raw == "" {
		s.reauthorize(w, r)
		return
	}
	st, err := s.verify(raw)
	if err == nil {
		err = s.use(r, st)
	}
	if err != nil {
		s.refuseState(w, r, err, st.purpose, "sign-in refused")
		return
	}
	http.SetCookie(w, s.signInCookie("", -1)) // its sign-in is being finished: the cookie has served
	in, err := s.complete(ctx, code, st)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.maybeCleanup(ctx)
	if s.appURL == nil {
		render(w, s.signedInPage(ctx, in))
		return
	}
	loginCode, err := s.issueCode(ctx, in)
	if err != nil {
		s.internal(w, r, "issue login code", err)
		return
	}
	to := *s.appURL
	aq := to.Query()
	aq.Set("code", loginCode)
	if st.appState != "" { // the app checks it against its own cookie before it trades the code
		aq.Set("state", st.appState)
	}
	to.RawQuery = aq.Encode()
	redirect(w, r, to.String())
}

// use checks that a verified state may be used by this request, before its code is exchanged: it must
// come back to the browser it was issued to (its sign-in cookie) and be unused — a LOGIN state never
// used, an invite's Clever leg naming an invite still unused. It is used up once Clever accepts the code
// (complete: claim, consume). An invite link itself is never a callback's state.
func (s *Service) use(r *http.Request, st state) error {
	if len(st.binding) == 0 {
		return errStateForged // an invite link sent straight to the callback
	}
	check := s.checkUnused
	if st.purpose == loginstate.PurposeINVITE {
		check = s.checkInvite
	}
	if err := check(r.Context(), st); err != nil {
		return err // first, so that reloading a finished sign-in (its cookie gone) says it was finished
	}
	return s.checkBrowser(r, st)
}

// reauthorize answers a callback without state — a sign-in from the Clever Portal or an Instant Login
// link, for which Clever sends no state. Its code is not exchanged: nothing shows that this browser is
// the one that signed in at Clever (an attacker could have sent it their own callback URL). Instead the
// browser goes back to Clever's authorize with a fresh LOGIN state bound to it, as from
// /auth/clever/login (district_id passed on when the callback had one). Clever answers at once for a
// user signed in there, who comes back with a code and that state: an ordinary sign-in without an
// invite. A callback with a state never comes here, so this cannot loop.
func (s *Service) reauthorize(w http.ResponseWriter, r *http.Request) {
	districtID := r.URL.Query().Get("district_id")
	if !validID(districtID) {
		districtID = ""
	}
	if s.cfg.AppStartURL != "" { // the app starts a sign-in bound to its own cookie
		s.log.InfoContext(r.Context(), "sign-in without state: sent to the app to start one", slog.String(logDistrict, districtID))
		redirect(w, r, s.cfg.AppStartURL)
		return
	}
	s.log.InfoContext(r.Context(), "sign-in without state: sent back to Clever with a state", slog.String(logDistrict, districtID))
	st, signed := s.startLogin(w, newState(loginstate.PurposeLOGIN, "", s.loginRedirect, s.now().Add(s.cfg.StateTTL)), "")
	redirect(w, r, s.authorizeURL(st, signed, districtID))
}

// clip shortens s to n bytes (at a rune boundary) for a log line or a page.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// signIn is a completed sign-in.
type signIn struct {
	userID, districtID string
	authorizedBy       string
	roles              []string
	invite             string // the organization of the invite it came through
	purpose            string // LOGIN or INVITE
	outcome            link.SignInOutcome
}

// cleverError is a failure of Clever (or of reaching it) during a sign-in.
type cleverError struct {
	step string
	err  error
}

func (e *cleverError) Error() string { return e.step + ": " + e.err.Error() }
func (e *cleverError) Unwrap() error { return e.err }

// complete finishes a sign-in whose state passed use: code exchange (with the state's redirect URI), the
// LOGIN state used up, /me, the user's record (provisioned), onboarding's signal. The user's token lives
// only in this call. An error matching a state error means the state was used meanwhile.
func (s *Service) complete(ctx context.Context, code string, st state) (signIn, error) {
	in := signIn{purpose: string(st.purpose)}
	if st.purpose == loginstate.PurposeINVITE {
		in.invite = st.orgID
	}
	tok, err := s.cfg.Clever.ExchangeCode(ctx, code, st.redirect)
	if err != nil {
		return in, &cleverError{"exchange code", err}
	}
	use := s.claim
	if st.purpose == loginstate.PurposeINVITE {
		use = s.consume
	}
	if err := use(ctx, st); err != nil {
		return in, err
	}
	me, err := s.cfg.Clever.Me(ctx, tok)
	if err != nil {
		return in, &cleverError{"read /me", err}
	}
	if me.Type == "district" || me.Data.District == "" || !validID(me.Data.ID) || !validID(me.Data.District) {
		return in, &cleverError{"read /me", fmt.Errorf("%w: not a user's token (type %q)", clever.ErrMalformed, me.Type)}
	}
	in.userID, in.districtID, in.authorizedBy = me.Data.ID, me.Data.District, me.Data.AuthorizedBy

	email := ""
	if u, ok := s.readUser(ctx, in.districtID, in.userID, tok); ok {
		s.provision(ctx, in.districtID, u)
		email, in.roles = u.Email, rolesOf(u.Roles)
	} else if email, in.roles, err = s.mirrored(ctx, in.userID); err != nil {
		return in, err
	}
	if r := clever.Role(me.Data.Type); len(in.roles) == 0 && slices.Contains(clever.AllRoles, r) {
		in.roles = []string{string(r)}
	}

	in.outcome, err = s.cfg.Linker.SignedIn(ctx, link.SignIn{DistrictID: in.districtID, UserID: in.userID, Email: email,
		AuthorizedBy: in.authorizedBy, Roles: in.roles, InviteOrganizationID: in.invite, Actor: Actor(in.userID)})
	if err != nil {
		return in, fmt.Errorf("record the sign-in for onboarding: %w", err)
	}
	s.log.InfoContext(ctx, "signed in with Clever", slog.String(logUser, in.userID), slog.String(logDistrict, in.districtID),
		slog.String(logAuthorizedBy, in.authorizedBy), slog.String(logPurpose, in.purpose),
		slog.String(logOrganization, in.outcome.OrganizationID), slog.String(logOutcome, outcomeName(in.outcome)))
	return in, nil
}

// Actor names a signed-in Clever user in the audit log and in proposals' evidence: "clever:<user id>".
func Actor(userID string) string { return "clever:" + userID }

// provision writes the user to the mirror. A failure does not stop the sign-in (the record read from
// Clever is at hand), but is logged; a running sync that will write the user is not a failure.
func (s *Service) provision(ctx context.Context, districtID string, u clever.User) {
	_, err := s.cfg.Provisioner.ProvisionUser(ctx, districtID, u)
	switch {
	case err == nil:
	case errors.Is(err, mirror.ErrBusy):
		s.log.InfoContext(ctx, "signed-in user left to the running sync", slog.String(logDistrict, districtID), slog.String(logUser, u.ID))
	default:
		s.log.WarnContext(ctx, "provision signed-in user", slog.String(logDistrict, districtID), slog.String(logUser, u.ID),
			slog.String(logError, err.Error()))
	}
}

// rolesOf lists a user's roles as Clever names them, in clever.AllRoles order.
func rolesOf(r clever.Roles) []string {
	var out []string
	for _, role := range r.List() {
		out = append(out, string(role))
	}
	return out
}

// mirrored reads the user's e-mail and current roles from the mirror, for a sign-in whose record could
// not be read from Clever. A user not in the mirror has neither.
func (s *Service) mirrored(ctx context.Context, userID string) (string, []string, error) {
	u, err := s.cfg.DB.Client.User.Query().Where(user.ID(userID), user.ArchivedAtIsNil()).
		WithRoles(func(q *ent.UserRoleQuery) { q.Where(userrole.ArchivedAtIsNil()) }).Only(ctx)
	if ent.IsNotFound(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read signed-in user from the mirror: %w", err)
	}
	var roles []string
	for _, role := range clever.AllRoles {
		for _, r := range u.Edges.Roles {
			if strings.EqualFold(string(r.Role), string(role)) {
				roles = append(roles, string(role))
				break
			}
		}
	}
	return u.Email, roles, nil
}

// outcomeName sums up onboarding's answer for the log.
func outcomeName(o link.SignInOutcome) string {
	switch {
	case o.Conflict:
		return "conflict"
	case o.Linked:
		return "linked"
	case o.Proposed:
		return "proposed"
	case o.OrganizationID != "":
		return "already linked"
	}
	return "unlinked"
}

// failed answers a sign-in that could not be completed.
func (s *Service) failed(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	var ce *cleverError
	switch {
	case isStateError(err):
		s.refuseState(w, r, err, loginstate.PurposeLOGIN, "sign-in refused")
	case errors.Is(err, clever.ErrInvalidGrant):
		s.log.InfoContext(ctx, "sign-in failed", slog.String(logReason, err.Error()))
		render(w, s.startAgain(page{Status: http.StatusBadRequest, Title: "The sign-in could not be finished",
			Paragraphs: []string{"Clever's one-time sign-in code expired or was already used (reloading this page uses it again).",
				"Start again. If you came from an invite link, it has been used: ask whoever sent it for a new one."}}))
	case errors.As(err, &ce) && !errors.Is(err, context.Canceled):
		s.log.WarnContext(ctx, "sign-in failed at Clever", slog.String(logError, err.Error()))
		render(w, s.startAgain(page{Status: http.StatusBadGateway, Title: "Clever could not be reached",
			Paragraphs: []string{"Signing in could not be finished because Clever did not answer as expected. Try again in a moment.",
				"If you came from an invite link, it has been used: ask whoever sent it for a new one."}}))
	default:
		s.internal(w, r, "sign-in failed", err)
	}
}

// signedInPage tells the person who signed in what happened, when there is no app to send them to.
func (s *Service) signedInPage(ctx context.Context, in signIn) page {
	district := "your district"
	if d, err := s.cfg.DB.Client.District.Get(ctx, in.districtID); err == nil && d.Name != "" {
		district = d.Name
	}
	who := "a Clever user"
	if len(in.roles) > 0 {
		who = "a " + strings.ReplaceAll(in.roles[0], "_", " ")
		if in.roles[0] == "district_admin" {
			who = "a district admin"
		}
	}
	p := page{Status: http.StatusOK, Title: "Signed in with Clever",
		Paragraphs: []string{fmt.Sprintf("You signed in as %s of %s (Clever id %s).", who, district, in.userID)}}
	o := in.outcome
	orgName := func(id string) string {
		if org, err := s.cfg.DB.Client.Organization.Get(ctx, id); err == nil {
			return org.Name
		}
		return "organization " + id
	}
	switch {
	case o.Conflict:
		p.Paragraphs = append(p.Paragraphs, district+" has been proposed for more than one organization; an administrator will decide which it belongs to.")
	case o.Linked:
		p.Paragraphs = append(p.Paragraphs, fmt.Sprintf("%s is now linked to %s.", district, orgName(o.OrganizationID)))
	case o.OrganizationID != "":
		p.Paragraphs = append(p.Paragraphs, fmt.Sprintf("%s is linked to %s.", district, orgName(o.OrganizationID)))
	case o.Proposed && in.invite != "":
		p.Paragraphs = append(p.Paragraphs, fmt.Sprintf("Your sign-in through %s's invite was recorded: an administrator will confirm linking %s to it.", orgName(in.invite), district))
	case o.Proposed:
		p.Paragraphs = append(p.Paragraphs, fmt.Sprintf("A link of %s to an organization was proposed; an administrator will confirm it.", district))
	default:
		p.Paragraphs = append(p.Paragraphs, district+" is not linked to an organization yet.")
	}
	return p
}
