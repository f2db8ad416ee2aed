package cleversim

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// codeTTL is how long an authorization code can be exchanged (UNCONFIRMED: Clever documents only that
// expired codes fail).
const codeTTL = 10 * time.Minute

// sessionTTL is how long a simulator session (a user signed in at the simulator) lasts (UNCONFIRMED:
// how long Clever keeps a user signed in is not documented).
const sessionTTL = 8 * time.Hour

// sessionCookie is the simulator's session cookie, on the simulator's origin.
const sessionCookie = "cleversim_session"

// pickerLimit caps the users the login picker lists per district.
const pickerLimit = 200

// Scopes reported for the two token types. District tokens get the Secure Sync scopes of Clever's own
// mock token list; user tokens the scopes recorded for the demo teacher token.
func districtScopes() []string {
	return []string{"read:district_admins", "read:districts", "read:resources", "read:school_admins", "read:schools",
		"read:sections", "read:student_contacts", "read:students", "read:teachers", "read:user_id"}
}

func userScopes() []string {
	return []string{"read:district_admins_limited", "read:ell_status", "read:iep_status", "read:school_admins_limited",
		"read:sections_limited", "read:student_contacts", "read:students_launchpad", "read:students_limited",
		"read:teachers_limited", "read:user_id"}
}

// authCode is an issued, not yet exchanged authorization code.
type authCode struct {
	district, user, role, authorizedBy string
	redirectURI                        string
	expires                            time.Time
}

// session is a user signed in at the simulator, as Clever remembers a user signed in at clever.com.
type session struct {
	district, user, authorizedBy string
	expires                      time.Time
}

// serveOAuth answers clever.com/oauth/...: token listing and code exchange (/oauth/tokens), the login
// pages (/oauth/authorize, /oauth/instant-login) and /oauth/tokeninfo. No rate-limit headers, as
// recorded for clever.com.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth/tokens" && r.Method == http.MethodGet:
		s.listTokens(w, r)
	case r.URL.Path == "/oauth/tokens" && r.Method == http.MethodPost:
		s.exchangeCode(w, r)
	case r.URL.Path == "/oauth/authorize" && r.Method == http.MethodGet:
		s.authorize(w, r, false)
	case r.URL.Path == "/oauth/instant-login" && r.Method == http.MethodGet:
		s.authorize(w, r, true)
	case r.URL.Path == "/oauth/tokeninfo" && r.Method == http.MethodGet:
		s.tokenInfo(w, r)
	default:
		writeCannot(w, r)
	}
}

// oauthError is the OAuth endpoints' error body, {"error","error_description"}.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeOAuthJSON(w, status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, desc})
}

func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		writeResponse(w, messageResponse(http.StatusInternalServerError, "Internal Server Error"))
		return
	}
	writeResponse(w, jsonResponse(status, b))
}

func (s *Server) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.clientSecret)) == 1
}

// listTokens answers GET /oauth/tokens?owner_type=district[&district=ID]: one district-app token per
// connected district, in connection order. owner_type may be left out; any other value is a 400.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	if !s.clientOK(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client credentials")
		return
	}
	q := r.URL.Query()
	if ot := q.Get("owner_type"); ot != "" && ot != "district" {
		oauthError(w, http.StatusBadRequest, "invalid_request", `owner_type must be "district"`)
		return
	}
	district, byDistrict := q.Get("district"), q.Has("district")
	type owner struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	type token struct {
		ID          string   `json:"id"`
		Created     string   `json:"created"`
		Owner       owner    `json:"owner"`
		AccessToken string   `json:"access_token"`
		Scopes      []string `json:"scopes"`
	}
	type jsonLink struct {
		Rel string `json:"rel"`
		URI string `json:"uri"`
	}
	out := struct {
		Data  []token    `json:"data"`
		Links []jsonLink `json:"links"`
	}{Data: []token{}}
	s.mu.RLock()
	for _, ds := range s.districts {
		if byDistrict && ds.id() != district {
			continue
		}
		out.Data = append(out.Data, token{ds.tokenID, ds.tokenCreated, owner{"district", ds.id()}, ds.token, districtScopes()})
	}
	s.mu.RUnlock()
	self := "/oauth/tokens?owner_type=district" // owner_type first, as recorded whatever the request order
	if byDistrict {
		self += "&district=" + url.QueryEscape(district)
	}
	out.Links = []jsonLink{{"self", self}}
	writeOAuthJSON(w, http.StatusOK, out)
}

// authorize answers /oauth/authorize (response_type=code, client_id, redirect_uri, optional state and
// district_id) and /oauth/instant-login (client_id, district_id, optional redirect_uri). Clever shows a
// login page; the simulator shows a picker of the district's users, and the simulator-only user_id=
// parameter (plus authorized_by=teacher for a Library, teacher-authorized login) logs that user in at
// once: 302 to redirect_uri with code (and state when one was given).
//
// Like clever.com, the simulator remembers who signed in: a login by user_id= (the picker's links, or
// Instant Login) sets a session cookie on the simulator's origin, and a later request without user_id=
// from that browser logs the same user in at once, without a page — as Clever answers a signed-in user
// — when its district_id, if any, is the user's district. A user_id= always wins, and replaces the
// session; authorized_by= overrides the remembered one.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, instant bool) {
	q := r.URL.Query()
	if q.Get("client_id") != s.clientID {
		oauthError(w, http.StatusBadRequest, "invalid_client", "Unknown client_id")
		return
	}
	if !instant && q.Get("response_type") != "code" {
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", `response_type must be "code"`)
		return
	}
	redirect := q.Get("redirect_uri")
	if instant && redirect == "" && len(s.redirectURIs) > 0 {
		redirect = s.redirectURIs[0]
	}
	ru, err := url.Parse(redirect)
	if redirect == "" || err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute http(s) URL")
		return
	}
	if len(s.redirectURIs) > 0 && !slices.Contains(s.redirectURIs, redirect) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for this client")
		return
	}
	authorizedBy := "district"
	switch q.Get("authorized_by") {
	case "", "district":
	case "teacher":
		authorizedBy = "teacher"
	default:
		oauthError(w, http.StatusBadRequest, "invalid_request", `authorized_by must be "district" or "teacher"`)
		return
	}
	districtID, userID := q.Get("district_id"), q.Get("user_id")
	if instant && districtID == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "district_id is required")
		return
	}
	state := ""
	if !instant {
		state = q.Get("state") // portal and Instant Login logins arrive without state
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if districtID != "" && s.byID[districtID] == nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Unknown district_id")
		return
	}
	now := s.now()
	picked := userID != "" // a login by user_id=: it starts a session
	if !picked {
		sess := s.sessionOf(r, now)
		if sess == nil || (districtID != "" && sess.district != districtID) {
			s.renderPicker(w, r, districtID)
			return
		}
		userID = sess.user
		if !q.Has("authorized_by") {
			authorizedBy = sess.authorizedBy
		}
	}
	ds := s.owner[recordKey{KindUsers, userID}]
	if ds == nil || ds.get(KindUsers, userID) == nil || (districtID != "" && ds.id() != districtID) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Unknown user_id")
		return
	}
	for c, ac := range s.codes {
		if !now.Before(ac.expires) {
			delete(s.codes, c)
		}
	}
	code := randomHex(20)
	s.codes[code] = &authCode{
		district: ds.id(), user: userID, role: userType(ds.get(KindUsers, userID)), authorizedBy: authorizedBy,
		redirectURI: redirect, expires: now.Add(codeTTL),
	}
	if picked {
		s.startSession(w, r, now, ds.id(), userID, authorizedBy)
	}
	rq := ru.Query()
	rq.Set("code", code)
	if state != "" {
		rq.Set("state", state)
	}
	ru.RawQuery = rq.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// sessionOf is the live session of the request's session cookie, or nil. A session whose user is no
// longer shared (or whose district left) has ended. Callers hold s.mu.
func (s *Server) sessionOf(r *http.Request, now time.Time) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	sess := s.sessions[c.Value]
	if sess == nil {
		return nil
	}
	if ds := s.owner[recordKey{KindUsers, sess.user}]; !now.Before(sess.expires) || ds == nil || ds.id() != sess.district ||
		ds.get(KindUsers, sess.user) == nil {
		delete(s.sessions, c.Value)
		return nil
	}
	return sess
}

// startSession signs the user in at the simulator: a new session, its cookie on the response (HttpOnly,
// SameSite=Lax so that it is sent when an app redirects the browser here, Secure over TLS), and the
// request's former session and expired ones forgotten. Callers hold s.mu.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, now time.Time, district, user, authorizedBy string) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		delete(s.sessions, c.Value)
	}
	for id, sess := range s.sessions {
		if !now.Before(sess.expires) {
			delete(s.sessions, id)
		}
	}
	id := randomHex(20)
	s.sessions[id] = &session{district: district, user: user, authorizedBy: authorizedBy, expires: now.Add(sessionTTL)}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// logout ends the request's simulator session (GET /sim/logout), so that the picker shows again.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// userType is the user's type in /me: the role it logs in with. Students and contacts are never merged
// with other roles; a merged staff/teacher/district-admin user logs in as teacher, then district admin,
// then staff (UNCONFIRMED).
func userType(u *record) string {
	for _, role := range []string{"teacher", "student", "district_admin", "staff", "contact"} {
		if _, ok := u.roles[role]; ok {
			return role
		}
	}
	return "user"
}

type pickerUser struct {
	Name, Role, Link, LibraryLink string
}

type pickerDistrict struct {
	ID, Name string
	Users    []pickerUser
	More     int
}

// renderPicker shows the simulator's login page: the first users of each district (or of district_id)
// as links that log them in. Callers hold s.mu.
func (s *Server) renderPicker(w http.ResponseWriter, r *http.Request, districtID string) {
	var data []pickerDistrict
	for _, ds := range s.districts {
		if districtID != "" && ds.id() != districtID {
			continue
		}
		pd := pickerDistrict{ID: ds.id(), Name: recordName(ds.rec.raw)}
		users := ds.all(KindUsers)
		pd.More = max(0, len(users)-pickerLimit)
		for _, u := range users[:min(len(users), pickerLimit)] {
			q := r.URL.Query()
			q.Set("district_id", ds.id())
			q.Set("user_id", u.id)
			pu := pickerUser{Name: recordName(u.raw), Role: userType(u), Link: r.URL.Path + "?" + q.Encode()}
			if pu.Role == "teacher" || pu.Role == "student" {
				q.Set("authorized_by", "teacher")
				pu.LibraryLink = r.URL.Path + "?" + q.Encode()
			}
			pd.Users = append(pd.Users, pu)
		}
		data = append(data, pd)
	}
	var buf bytes.Buffer
	if err := pickerTemplate().Execute(&buf, data); err != nil {
		writeResponse(w, messageResponse(http.StatusInternalServerError, "Internal Server Error"))
		return
	}
	writeResponse(w, response{status: http.StatusOK, contentType: contentHTML, body: buf.Bytes()})
}

func pickerTemplate() *template.Template {
	return template.Must(template.New("picker").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in with Clever (simulator)</title></head>
<body>
<h1>Log in with Clever — simulator</h1>
<p>Pick the user to log in as. "Library" logs in as a teacher-authorized (Clever Library) user.</p>
{{range .}}<h2>{{.Name}} <small>({{.ID}})</small></h2>
<ul>
{{range .Users}}<li><a href="{{.Link}}">{{.Name}}</a> — {{.Role}}{{if .LibraryLink}} (<a href="{{.LibraryLink}}">Library</a>){{end}}</li>
{{end}}</ul>
{{if .More}}<p>… and {{.More}} more; pass user_id= to log in as any of them.</p>{{end}}
{{else}}<p>No districts.</p>
{{end}}</body>
</html>
`))
}

// recordName renders a user's or district's name for the picker.
func recordName(raw []byte) string {
	var v struct {
		Name json.RawMessage `json:"name"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if s := jsonString(v.Name); s != "" {
		return s
	}
	var n struct{ First, Middle, Last string }
	if json.Unmarshal(v.Name, &n) != nil {
		return ""
	}
	return strings.TrimSpace(n.First + " " + n.Last)
}

// exchangeCode answers POST /oauth/tokens: Basic client auth and a JSON or form body with code,
// grant_type=authorization_code and redirect_uri. A code works once, within codeTTL, with the
// redirect_uri it was issued for.
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	if !s.clientOK(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client credentials")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Unreadable body")
		return
	}
	params := map[string]string{}
	if trimmed := bytes.TrimSpace(body); strings.Contains(r.Header.Get("Content-Type"), "json") || bytes.HasPrefix(trimmed, []byte("{")) {
		var m map[string]any
		if json.Unmarshal(trimmed, &m) != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Body is not a JSON object")
			return
		}
		for k, v := range m {
			if sv, ok := v.(string); ok {
				params[k] = sv
			}
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Body is not form-encoded")
			return
		}
		for k := range form {
			params[k] = form.Get(k)
		}
	}
	if params["grant_type"] != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", `grant_type must be "authorization_code"`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[params["code"]]
	if ac == nil || !s.now().Before(ac.expires) {
		delete(s.codes, params["code"])
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: invalid code")
		return
	}
	if params["redirect_uri"] != ac.redirectURI {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: redirect_uri does not match the authorization request")
		return
	}
	delete(s.codes, params["code"])
	tok := "il" + randomHex(19)
	s.tokens[tok] = &bearer{district: ac.district, user: ac.user, role: ac.role, authorizedBy: ac.authorizedBy}
	writeOAuthJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}{tok, "bearer"})
}

// tokenInfo answers GET /oauth/tokeninfo for a bearer token: {"client_id","scopes"}.
func (s *Server) tokenInfo(w http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	s.mu.RLock()
	b := s.tokens[token]
	s.mu.RUnlock()
	if token == "" || b == nil {
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Invalid or revoked bearer token")
		return
	}
	scopes := districtScopes()
	if b.user != "" {
		scopes = userScopes()
	}
	writeOAuthJSON(w, http.StatusOK, struct {
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	}{s.clientID, scopes})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
