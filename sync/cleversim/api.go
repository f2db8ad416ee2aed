package cleversim

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Paging limits of the real API.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

// Content types as recorded: JSON bodies carry a charset, except the {"resources": []} quirk.
const (
	contentJSON      = "application/json; charset=utf-8"
	contentJSONPlain = "application/json"
	contentHTML      = "text/html; charset=utf-8"
)

// response is a fully built answer; it is written after the state lock is released so that a slow
// client never holds up changes.
type response struct {
	status      int
	contentType string
	body        []byte
}

func jsonResponse(status int, body []byte) response {
	return response{status: status, contentType: contentJSON, body: body}
}

// messageResponse is the Data API error body, {"message": …} as in Clever's Swagger spec.
// UNCONFIRMED: no live JSON data-API error was recorded.
func messageResponse(status int, msg string) response {
	b := append([]byte(`{"message":`), appendJSONString(nil, msg)...)
	return jsonResponse(status, append(b, '}'))
}

// cannotResponse is Express's default 404, which Clever returns for unknown routes and for routes a
// token type may not use (recorded for SSO user tokens on /v3.0/resources).
func cannotResponse(method, escapedPath string) response {
	body := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot " +
		html.EscapeString(method) + " " + html.EscapeString(escapedPath) + "</pre>\n</body>\n</html>\n"
	return response{status: http.StatusNotFound, contentType: contentHTML, body: []byte(body)}
}

func writeResponse(w http.ResponseWriter, resp response) {
	h := w.Header()
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

func writeCannot(w http.ResponseWriter, r *http.Request) {
	writeResponse(w, cannotResponse(r.Method, r.URL.EscapedPath()))
}

func notFound() response { return messageResponse(http.StatusNotFound, "Resource not found") }

// serveAPI answers /v3.0/... and /me: rate limit, injected faults, then the request itself.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	now := s.now()
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	st := s.limiter.take(token, now, s.rateLimit)
	st.setHeaders(h)
	if !st.ok {
		writeResponse(w, messageResponse(http.StatusTooManyRequests, "Too Many Requests"))
		return
	}
	var f fault
	if strings.HasPrefix(r.URL.Path, "/v3.0") {
		f = s.faults.draw(token)
		if f.latency > 0 && !sleepCtx(r.Context(), f.latency) {
			return
		}
		switch f.kind {
		case faultServerError:
			s.log.Info("inject fault", slog.String(logFault, "server error"), slog.Int(logStatus, f.status), slog.String(logPath, r.URL.Path))
			writeResponse(w, serverErrorResponse(f.status, f.html))
			return
		case faultRateLimit:
			s.log.Info("inject fault", slog.String(logFault, "rate limit storm"), slog.String(logPath, r.URL.Path))
			st.remaining = 0
			st.setHeaders(h)
			writeResponse(w, messageResponse(http.StatusTooManyRequests, "Too Many Requests"))
			return
		}
	}
	resp := s.answer(r, token)
	if f.kind == faultCut && resp.status == http.StatusOK && len(resp.body) > 1 {
		s.log.Info("inject fault", slog.String(logFault, "connection cut"), slog.String(logPath, r.URL.Path))
		cutResponse(w, resp, f.cutAt)
		return
	}
	writeResponse(w, resp)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// bearerToken returns the token of an "Authorization: Bearer …" header, "" when there is none.
func bearerToken(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// apiReq is one Data API request being answered under the read lock.
type apiReq struct {
	r      *http.Request
	path   string // escaped request path, as echoed in links
	q      []qparam
	ds     *districtState
	bearer *bearer
	now    time.Time
}

// answer builds the response to a Data API request.
func (s *Server) answer(r *http.Request, token string) response {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return cannotResponse(r.Method, r.URL.EscapedPath())
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.tokens[token]
	if token == "" || b == nil || s.byID[b.district] == nil {
		return messageResponse(http.StatusUnauthorized, "Unauthorized: invalid or revoked bearer token")
	}
	req := &apiReq{r: r, path: r.URL.EscapedPath(), q: parseQuery(r.URL.RawQuery), ds: s.byID[b.district], bearer: b, now: s.now()}
	segs := apiSegments(r.URL.Path)
	if segs == nil {
		return req.cannot()
	}
	if b.user != "" {
		return s.answerUser(req, segs)
	}
	return s.answerDistrict(req, segs)
}

// apiSegments splits a Data API path into its segments after /v3.0 (["me"] for /me), lower-casing the
// route words (Express routes are case-insensitive) but not the ids. It returns nil for paths no route
// can match.
func apiSegments(p string) []string {
	if p == "/me" || p == "/me/" {
		return []string{"me"}
	}
	rest, ok := strings.CutPrefix(p, "/v3.0/")
	if !ok {
		return nil
	}
	rest = strings.TrimSuffix(rest, "/")
	segs := strings.Split(rest, "/")
	if len(segs) > 3 || slices.Contains(segs, "") {
		return nil
	}
	segs[0] = strings.ToLower(segs[0])
	if len(segs) == 3 {
		segs[2] = strings.ToLower(segs[2])
	}
	return segs
}

func (q *apiReq) cannot() response { return cannotResponse(q.r.Method, q.path) }

// answerUser serves SSO user tokens, which may read only /me, their own district and their own user
// record [DOC:oauth-implementation]. Other routes answer the HTML 404 recorded for user tokens.
// Records come back without links, as recorded for a user read with a user token; the district read is
// given the same treatment (UNCONFIRMED).
func (s *Server) answerUser(q *apiReq, segs []string) response {
	switch {
	case len(segs) == 1 && segs[0] == "me":
		return q.me()
	case len(segs) == 2 && segs[0] == "districts" && segs[1] == q.ds.id():
		return jsonResponse(http.StatusOK, appendOne(nil, q.ds.rec.raw, nil))
	case len(segs) == 2 && segs[0] == "users" && segs[1] == q.bearer.user:
		u := q.ds.get(KindUsers, q.bearer.user)
		if u == nil {
			return notFound()
		}
		return jsonResponse(http.StatusOK, appendOne(nil, u.raw, nil))
	}
	return q.cannot()
}

func (s *Server) answerDistrict(q *apiReq, segs []string) response {
	head := segs[0]
	switch head {
	case "me":
		if len(segs) == 1 {
			return q.me()
		}
	case "events":
		switch len(segs) {
		case 1:
			return s.listEvents(q)
		case 2:
			return s.getEvent(q, segs[1])
		}
	case "resources":
		// No resources are simulated. The recorded answer for a district token is the un-enveloped
		// {"resources": []}; a resource id can therefore never be found.
		switch len(segs) {
		case 1:
			return resourcesQuirk()
		case 2:
			return notFound()
		case 3:
			if segs[2] == "courses" || segs[2] == "sections" || segs[2] == "users" {
				return notFound()
			}
		}
	case "districts", "schools", "users", "sections", "terms", "courses":
		k := Kind(head)
		switch len(segs) {
		case 1:
			return q.topList(k)
		case 2:
			rec := q.ds.get(k, segs[1])
			if rec == nil {
				return notFound()
			}
			return jsonResponse(http.StatusOK, appendOne(nil, rec.raw, recordLinks(k, rec)))
		case 3:
			return q.sub(k, segs[1], segs[2])
		}
	}
	return q.cannot()
}

// me answers /me and /v3.0/me. For a user token the recorded shape; for a district token the same
// envelope with type "district" and the district as canonical (UNCONFIRMED: not recorded).
func (q *apiReq) me() response {
	d := q.ds.id()
	var b []byte
	if q.bearer.user == "" {
		b = append(b, `{"type":"district","data":{"id":`...)
		b = appendJSONString(b, d)
		b = append(b, `},"links":`...)
		b = appendLinks(b, []link{{"self", "/me"}, {"canonical", "/v3.0/districts/" + url.PathEscape(d)}, {"district", "/v3.0/districts/" + url.PathEscape(d)}})
		return jsonResponse(http.StatusOK, append(b, '}'))
	}
	u := q.bearer.user
	b = append(b, `{"type":"user","data":{"id":`...)
	b = appendJSONString(b, u)
	b = append(b, `,"district":`...)
	b = appendJSONString(b, d)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, q.bearer.role)
	b = append(b, `,"authorized_by":`...)
	b = appendJSONString(b, q.bearer.authorizedBy)
	b = append(b, `},"links":`...)
	b = appendLinks(b, []link{{"self", "/me"}, {"canonical", "/v3.0/users/" + url.PathEscape(u)}, {"district", "/v3.0/districts/" + url.PathEscape(d)}})
	return jsonResponse(http.StatusOK, append(b, '}'))
}

func resourcesQuirk() response {
	return response{status: http.StatusOK, contentType: contentJSONPlain, body: []byte(`{"resources": []}`)}
}

// topList answers /v3.0/<kind>; /districts lists the token's district only.
func (q *apiReq) topList(k Kind) response {
	lp, errResp := parseListParams(q.q)
	if errResp != nil {
		return *errResp
	}
	recs := q.ds.all(k)
	if k == KindUsers {
		role, errResp := q.role("contact", "district_admin", "staff", "student", "teacher")
		if errResp != nil {
			return *errResp
		}
		if role != "" {
			recs = filter(recs, func(u *record) bool { _, ok := u.roles[role]; return ok })
		}
	}
	return q.page(string(k), recs, lp)
}

// sub answers /v3.0/<kind>/{id}/<sub>.
func (q *apiReq) sub(k Kind, id, sub string) response {
	type route struct {
		one  func(ds *districtState, rec *record) *record
		list func(q *apiReq, rec *record) ([]*record, *response)
		kind Kind // kind of the listed or returned records
	}
	district := func(ds *districtState, _ *record) *record { return ds.rec }
	byRef := func(k Kind, ref func(*record) string) func(*districtState, *record) *record {
		return func(ds *districtState, rec *record) *record { return ds.get(k, ref(rec)) }
	}
	var rt route
	switch k + "/" + Kind(sub) {
	case "schools/district", "sections/district", "terms/district", "courses/district", "users/district":
		rt = route{one: district, kind: KindDistricts}
	case "sections/course":
		rt = route{one: byRef(KindCourses, func(r *record) string { return r.course }), kind: KindCourses}
	case "sections/school":
		rt = route{one: byRef(KindSchools, func(r *record) string { return r.school }), kind: KindSchools}
	case "sections/term":
		rt = route{one: byRef(KindTerms, func(r *record) string { return r.term }), kind: KindTerms}
	case "sections/resources", "courses/resources", "users/resources":
		rt = route{kind: "resources"}
	case "schools/courses":
		rt = route{list: (*apiReq).schoolCourses, kind: KindCourses}
	case "schools/sections":
		rt = route{list: (*apiReq).schoolSections, kind: KindSections}
	case "schools/terms":
		rt = route{list: (*apiReq).schoolTerms, kind: KindTerms}
	case "schools/users":
		rt = route{list: (*apiReq).schoolUsers, kind: KindUsers}
	case "sections/users":
		rt = route{list: (*apiReq).sectionUsers, kind: KindUsers}
	case "terms/schools":
		rt = route{list: sectionRefs(func(s *record) string { return s.term }, KindSchools), kind: KindSchools}
	case "terms/sections":
		rt = route{list: sectionsWhere(func(s *record) string { return s.term }), kind: KindSections}
	case "courses/schools":
		rt = route{list: sectionRefs(func(s *record) string { return s.course }, KindSchools), kind: KindSchools}
	case "courses/sections":
		rt = route{list: sectionsWhere(func(s *record) string { return s.course }), kind: KindSections}
	case "users/mycontacts":
		rt = route{list: (*apiReq).myContacts, kind: KindUsers}
	case "users/mystudents":
		rt = route{list: (*apiReq).myStudents, kind: KindUsers}
	case "users/myteachers":
		rt = route{list: (*apiReq).myTeachers, kind: KindUsers}
	case "users/sections":
		rt = route{list: (*apiReq).userSections, kind: KindSections}
	case "users/schools":
		rt = route{list: (*apiReq).userSchools, kind: KindSchools}
	default:
		return q.cannot()
	}
	var lp listParams
	if rt.list != nil {
		var errResp *response
		if lp, errResp = parseListParams(q.q); errResp != nil {
			return *errResp
		}
	}
	rec := q.ds.get(k, id)
	if rec == nil {
		return notFound()
	}
	switch {
	case rt.kind == "resources":
		return resourcesQuirk()
	case rt.one != nil:
		// A to-one sub-resource carries only its canonical self link, as recorded.
		target := rt.one(q.ds, rec)
		if target == nil {
			return notFound()
		}
		return jsonResponse(http.StatusOK, appendOne(nil, target.raw, []link{{"self", recordURI(rt.kind, target.id)}}))
	}
	recs, errResp := rt.list(q, rec)
	if errResp != nil {
		return *errResp
	}
	return q.page(string(rt.kind), recs, lp)
}

// role reads and validates the "role" parameter against the endpoint's values [SPEC]; "" when absent.
// Matching is case-sensitive (UNCONFIRMED).
func (q *apiReq) role(allowed ...string) (string, *response) {
	vals := queryValues(q.q, "role")
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return "", nil
	case len(vals) > 1:
		r := messageResponse(http.StatusBadRequest, "role must be given once")
		return "", &r
	case !slices.Contains(allowed, vals[0]):
		r := messageResponse(http.StatusBadRequest, "role must be one of "+strings.Join(allowed, ", "))
		return "", &r
	}
	return vals[0], nil
}

// primary reads the "primary" parameter ("" or "true" per the spec; "false" is accepted as absent).
func (q *apiReq) primary() (bool, *response) {
	vals := queryValues(q.q, "primary")
	switch {
	case len(vals) == 0:
		return false, nil
	case len(vals) == 1 && (vals[0] == "" || vals[0] == "false"):
		return false, nil
	case len(vals) == 1 && vals[0] == "true":
		return true, nil
	}
	r := messageResponse(http.StatusBadRequest, `primary must be "true" or empty`)
	return false, &r
}

func filter(recs []*record, keep func(*record) bool) []*record {
	var out []*record
	for _, r := range recs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// lookup returns the shared records of kind k with the given ids, deduplicated, in id order. Unknown
// (unshared, deleted) ids are skipped, as Clever drops references it cannot serve.
func (ds *districtState) lookup(k Kind, ids []string, keep func(*record) bool) []*record {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]*record, 0, len(ids))
	for _, id := range ids {
		if r := ds.get(k, id); r != nil && (keep == nil || keep(r)) {
			out = append(out, r)
		}
	}
	return out
}

func (q *apiReq) schoolSections(school *record) ([]*record, *response) {
	return filter(q.ds.all(KindSections), func(s *record) bool { return s.school == school.id }), nil
}

func (q *apiReq) schoolTerms(school *record) ([]*record, *response) {
	return q.schoolRefs(school, KindTerms, func(s *record) string { return s.term }), nil
}

func (q *apiReq) schoolCourses(school *record) ([]*record, *response) {
	return q.schoolRefs(school, KindCourses, func(s *record) string { return s.course }), nil
}

// schoolRefs lists the records of kind k that sections at school reference.
func (q *apiReq) schoolRefs(school *record, k Kind, ref func(*record) string) []*record {
	var ids []string
	for _, s := range q.ds.all(KindSections) {
		if s.school == school.id {
			if id := ref(s); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return q.ds.lookup(k, ids, nil)
}

// sectionRefs lists the schools of the sections whose ref is the parent (terms/courses → schools).
func sectionRefs(ref func(*record) string, k Kind) func(*apiReq, *record) ([]*record, *response) {
	return func(q *apiReq, parent *record) ([]*record, *response) {
		var ids []string
		for _, s := range q.ds.all(KindSections) {
			if ref(s) == parent.id && s.school != "" {
				ids = append(ids, s.school)
			}
		}
		return q.ds.lookup(k, ids, nil), nil
	}
}

// sectionsWhere lists the sections whose ref is the parent (terms/courses → sections).
func sectionsWhere(ref func(*record) string) func(*apiReq, *record) ([]*record, *response) {
	return func(q *apiReq, parent *record) ([]*record, *response) {
		return filter(q.ds.all(KindSections), func(s *record) bool { return ref(s) == parent.id }), nil
	}
}

// schoolUsers lists users with a role at the school. primary=true keeps roles whose "school" is it;
// staff roles have no primary school field, so they never match primary (UNCONFIRMED).
func (q *apiReq) schoolUsers(school *record) ([]*record, *response) {
	role, errResp := q.role("staff", "student", "teacher")
	if errResp != nil {
		return nil, errResp
	}
	primary, errResp := q.primary()
	if errResp != nil {
		return nil, errResp
	}
	match := func(name string, r roleRef) bool {
		if role != "" && name != role {
			return false
		}
		if primary {
			return r.school == school.id
		}
		return r.hasSchool(school.id)
	}
	return filter(q.ds.all(KindUsers), func(u *record) bool {
		for name, r := range u.roles {
			if match(name, r) {
				return true
			}
		}
		return false
	}), nil
}

func (q *apiReq) sectionUsers(sec *record) ([]*record, *response) {
	role, errResp := q.role("student", "teacher")
	if errResp != nil {
		return nil, errResp
	}
	var ids []string
	if role == "" || role == "teacher" {
		ids = append(ids, sec.teachers...)
	}
	if role == "" || role == "student" {
		ids = append(ids, sec.students...)
	}
	return q.ds.lookup(KindUsers, ids, nil), nil
}

func (q *apiReq) userSections(u *record) ([]*record, *response) {
	return filter(q.ds.all(KindSections), func(s *record) bool {
		return slices.Contains(s.teachers, u.id) || slices.Contains(s.students, u.id)
	}), nil
}

func (q *apiReq) userSchools(u *record) ([]*record, *response) {
	primary, errResp := q.primary()
	if errResp != nil {
		return nil, errResp
	}
	var ids []string
	for _, r := range u.roles {
		if r.school != "" {
			ids = append(ids, r.school)
		}
		if !primary {
			ids = append(ids, r.schools...)
		}
	}
	return q.ds.lookup(KindSchools, ids, nil), nil
}

// myContacts lists the contacts whose student_relationships name the user.
func (q *apiReq) myContacts(u *record) ([]*record, *response) {
	return filter(q.ds.all(KindUsers), func(c *record) bool {
		r, ok := c.roles["contact"]
		return ok && slices.Contains(r.students, u.id)
	}), nil
}

// myStudents lists the students of a teacher's sections and of a contact's relationships.
func (q *apiReq) myStudents(u *record) ([]*record, *response) {
	var ids []string
	if _, ok := u.roles["teacher"]; ok {
		for _, s := range q.ds.all(KindSections) {
			if slices.Contains(s.teachers, u.id) {
				ids = append(ids, s.students...)
			}
		}
	}
	if c, ok := u.roles["contact"]; ok {
		ids = append(ids, c.students...)
	}
	return q.ds.lookup(KindUsers, ids, isStudent), nil
}

// myTeachers lists the teachers of a student's sections.
func (q *apiReq) myTeachers(u *record) ([]*record, *response) {
	var ids []string
	if _, ok := u.roles["student"]; ok {
		for _, s := range q.ds.all(KindSections) {
			if slices.Contains(s.students, u.id) {
				ids = append(ids, s.teachers...)
			}
		}
	}
	return q.ds.lookup(KindUsers, ids, nil), nil
}

func isStudent(u *record) bool { _, ok := u.roles["student"]; return ok }

// link is one entry of an envelope's "links".
type link struct{ rel, uri string }

func recordURI(k Kind, id string) string { return "/v3.0/" + string(k) + "/" + url.PathEscape(id) }

// recordLinks are the links of a single-record answer, per type as recorded. The user's relation links
// follow its roles: students get myContacts and myTeachers (recorded), teachers get myStudents
// (recorded); contacts get myStudents too (UNCONFIRMED), staff and district admins none.
func recordLinks(k Kind, rec *record) []link {
	self := recordURI(k, rec.id)
	rel := func(names ...string) []link {
		out := []link{{"self", self}}
		for _, n := range names {
			out = append(out, link{n, self + "/" + n})
		}
		return out
	}
	switch k {
	case KindSchools:
		return rel("district", "sections", "users", "terms", "courses")
	case KindSections:
		return rel("district", "school", "term", "course", "users")
	case KindCourses, KindTerms:
		return rel("district", "sections", "schools")
	case KindUsers:
		names := []string{"district", "sections"}
		if _, ok := rec.roles["student"]; ok {
			names = append(names, "myContacts", "myTeachers")
		}
		_, teacher := rec.roles["teacher"]
		_, contact := rec.roles["contact"]
		if teacher || contact {
			names = append(names, "myStudents")
		}
		return rel(append(names, "schools")...)
	}
	return rel()
}

// page answers a list: one page of recs (sorted by id) in the list envelope.
func (q *apiReq) page(kind string, recs []*record, lp listParams) response {
	pg := paginate(len(recs), func(i int) string { return recs[i].id }, lp)
	links := q.pageLinks(lp, pg, func(i int) string { return recs[i].id }, kind == "events")
	return jsonResponse(http.StatusOK, appendList(nil, kind, recs[pg.start:pg.end], func(r *record) ([]byte, string) { return r.raw, r.id }, links))
}

// pageLinks builds self, prev and next as Clever does: self is the request as sent; next and prev are
// the request's other parameters, in their order, followed by starting_after (last id on the page) or
// ending_before (first id on the page). A link back toward where the request's cursor came from is
// given whenever the page is not empty, even if nothing lies there (documented); a link onward only when
// more records exist. The events list echoes a bare "?" in self when it has no query, as recorded.
func (q *apiReq) pageLinks(lp listParams, pg pageResult, idAt func(int) string, events bool) []link {
	self := q.path
	if q.r.URL.RawQuery != "" || events {
		self += "?" + q.r.URL.RawQuery
	}
	links := []link{{"self", self}}
	if pg.start == pg.end {
		return links
	}
	first, last := idAt(pg.start), idAt(pg.end-1)
	if lp.backward() {
		if pg.more {
			links = append(links, link{"prev", cursorLink(q.path, q.q, "ending_before", first)})
		}
		if !lp.last {
			links = append(links, link{"next", cursorLink(q.path, q.q, "starting_after", last)})
		}
		return links
	}
	if lp.hasAfter {
		links = append(links, link{"prev", cursorLink(q.path, q.q, "ending_before", first)})
	}
	if pg.more {
		links = append(links, link{"next", cursorLink(q.path, q.q, "starting_after", last)})
	}
	return links
}

func cursorLink(path string, q []qparam, key, id string) string {
	var b strings.Builder
	b.WriteString(path)
	b.WriteByte('?')
	for _, p := range q {
		if p.key == "starting_after" || p.key == "ending_before" {
			continue
		}
		b.WriteString(p.raw)
		b.WriteByte('&')
	}
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(url.QueryEscape(id))
	return b.String()
}

// qparam is one query parameter as sent (raw) and decoded.
type qparam struct{ raw, key, val string }

// parseQuery splits a raw query keeping the parameters' order, which links echo. Undecodable
// parameters are dropped.
func parseQuery(raw string) []qparam {
	var out []qparam
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, qparam{raw: part, key: key, val: val})
	}
	return out
}

func queryValues(q []qparam, key string) []string {
	var out []string
	for _, p := range q {
		if p.key == key {
			out = append(out, p.val)
		}
	}
	return out
}

// listParams are a list request's paging parameters.
type listParams struct {
	limit            int
	after, before    string
	hasAfter, hasBef bool
	last             bool // ending_before=last: the final page
}

func (lp listParams) backward() bool { return lp.hasBef }

// parseListParams validates limit, starting_after and ending_before. Each may be given once.
func parseListParams(q []qparam) (listParams, *response) {
	lp := listParams{limit: defaultLimit}
	bad := func(status int, msg string) (listParams, *response) {
		r := messageResponse(status, msg)
		return listParams{}, &r
	}
	for _, key := range []string{"limit", "starting_after", "ending_before"} {
		vals := queryValues(q, key)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 {
			return bad(http.StatusBadRequest, key+" must be given once")
		}
		v := vals[0]
		switch key {
		case "limit":
			n, err := strconv.Atoi(v)
			switch {
			case err == nil && n > maxLimit, err != nil && isDigits(v):
				return bad(http.StatusRequestEntityTooLarge, "Request entity too large: limit must be at most 10000")
			case err != nil || n < 1:
				return bad(http.StatusBadRequest, "limit must be an integer between 1 and 10000")
			}
			lp.limit = n
		case "starting_after":
			lp.after, lp.hasAfter = v, true
		case "ending_before":
			lp.before, lp.hasBef = v, true
			lp.last = v == "last"
		}
	}
	return lp, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type pageResult struct {
	start, end int
	more       bool // records exist beyond the page in the paging direction
}

// paginate picks a page out of n records sorted by id. starting_after and ending_before are id bounds
// (they need not be existing ids); with ending_before the page is the last limit records before it.
func paginate(n int, idAt func(int) string, lp listParams) pageResult {
	lo, hi := 0, n
	if lp.hasAfter {
		lo = searchIDs(n, idAt, func(id string) bool { return id > lp.after })
	}
	if lp.hasBef && !lp.last {
		hi = searchIDs(n, idAt, func(id string) bool { return id >= lp.before })
	}
	if lo >= hi {
		return pageResult{start: lo, end: lo}
	}
	if lp.backward() {
		start := max(lo, hi-lp.limit)
		return pageResult{start: start, end: hi, more: start > lo}
	}
	end := min(hi, lo+lp.limit)
	return pageResult{start: lo, end: end, more: end < hi}
}

func searchIDs(n int, idAt func(int) string, pred func(string) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pred(idAt(m)) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// appendList appends the list envelope {"data":[{"data":…,"uri":…}],"links":[…]}, copying each item's
// raw JSON as stored.
func appendList[T any](b []byte, kind string, items []T, rawID func(T) ([]byte, string), links []link) []byte {
	b = append(b, `{"data":[`...)
	prefix := "/v3.0/" + kind + "/"
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		raw, id := rawID(it)
		b = append(b, `{"data":`...)
		b = append(b, raw...)
		b = append(b, `,"uri":`...)
		b = appendJSONString(b, prefix+url.PathEscape(id))
		b = append(b, '}')
	}
	b = append(b, `],"links":`...)
	b = appendLinks(b, links)
	return append(b, '}')
}

// appendOne appends the single-record envelope; nil links leaves "links" out.
func appendOne(b, raw []byte, links []link) []byte {
	b = append(b, `{"data":`...)
	b = append(b, raw...)
	if links != nil {
		b = append(b, `,"links":`...)
		b = appendLinks(b, links)
	}
	return append(b, '}')
}

func appendLinks(b []byte, links []link) []byte {
	b = append(b, '[')
	for i, l := range links {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rel":`...)
		b = appendJSONString(b, l.rel)
		b = append(b, `,"uri":`...)
		b = appendJSONString(b, l.uri)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string without HTML escaping (links keep their '&'). Invalid
// UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
