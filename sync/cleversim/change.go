package cleversim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// ErrUnshared is returned by Put for a record that is currently unshared: Reshare it first.
var ErrUnshared = errors.New("record is unshared")

// Unshare takes a record away from the app as when a district stops sharing it: it disappears from
// lists and gets (404) and a <kind>.deleted event carries it. Unsharing a user first removes it from
// every section's students and teachers (one sections.updated each, with previous_attributes; a removed
// primary "teacher" is replaced by the next teacher), remembered so that Reshare restores them. Other
// references (a section's term or course, a contact's student_relationships) are left dangling, as
// Clever does not rewrite them either (UNCONFIRMED). Districts cannot be unshared: use RemoveDistrict.
func (s *Server) Unshare(k Kind, id string) error {
	if err := checkRosterKind(k); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.owner[recordKey{k, id}]
	if ds == nil || ds.tables[k].get(id) == nil {
		return fmt.Errorf("unshare %s %s: %w", k, id, ErrNotFound)
	}
	rec := ds.tables[k].get(id)
	u := &unsharedRecord{rec: rec}
	before := len(ds.events)
	if k == KindUsers {
		for _, sec := range slices.Clone(ds.all(KindSections)) {
			if !slices.Contains(sec.teachers, id) && !slices.Contains(sec.students, id) {
				continue
			}
			var ms []membership
			if _, err := s.rewrite(ds, KindSections, sec, func(m map[string]any) error {
				ms = removeMember(m, sec.id, id)
				return nil
			}); err != nil {
				return fmt.Errorf("unshare %s %s: %w", k, id, err)
			}
			u.memberships = append(u.memberships, ms...)
		}
	}
	ds.tables[k].remove(id)
	ds.unshared[k][id] = u
	s.emit(ds, k, "deleted", rec, nil)
	s.logChange("unshare", k, id, ds, before)
	return nil
}

// removeMember takes user out of a decoded section's teachers and students.
func removeMember(m map[string]any, section, user string) []membership {
	var out []membership
	for _, field := range []string{"teachers", "students"} {
		arr, _ := m[field].([]any)
		i := slices.Index(arr, any(user))
		if i < 0 {
			continue
		}
		ms := membership{section: section, field: field, index: i}
		m[field] = slices.Delete(slices.Clone(arr), i, i+1)
		if field == "teachers" && m["teacher"] == user {
			ms.primary = true
			if rest := m[field].([]any); len(rest) > 0 {
				m["teacher"] = rest[0]
			}
		}
		out = append(out, ms)
	}
	return out
}

// Reshare makes an unshared record visible again and emits <kind>.created. A reshared user is put back
// into the sections Unshare took it out of (sections that still exist), each with a sections.updated.
func (s *Server) Reshare(k Kind, id string) error {
	if err := checkRosterKind(k); err != nil {
		return fmt.Errorf("reshare: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.owner[recordKey{k, id}]
	if ds == nil || ds.unshared[k][id] == nil {
		return fmt.Errorf("reshare %s %s: %w", k, id, ErrNotFound)
	}
	u := ds.unshared[k][id]
	before := len(ds.events)
	delete(ds.unshared[k], id)
	ds.tables[k].put(u.rec)
	s.emit(ds, k, "created", u.rec, nil)
	bySection := map[string][]membership{}
	var order []string
	for _, m := range u.memberships {
		if bySection[m.section] == nil {
			order = append(order, m.section)
		}
		bySection[m.section] = append(bySection[m.section], m)
	}
	for _, secID := range order {
		sec := ds.tables[KindSections].get(secID)
		if sec == nil {
			continue
		}
		if _, err := s.rewrite(ds, KindSections, sec, func(m map[string]any) error {
			for _, ms := range bySection[secID] {
				arr, _ := m[ms.field].([]any)
				if slices.Contains(arr, any(id)) {
					continue
				}
				m[ms.field] = slices.Insert(slices.Clone(arr), min(ms.index, len(arr)), any(id))
				if ms.primary {
					m["teacher"] = id
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("reshare %s %s: %w", k, id, err)
		}
	}
	s.logChange("reshare", k, id, ds, before)
	return nil
}

// Modify applies an RFC 7396 JSON merge patch (a JSON object) to a shared record and emits
// <kind>.updated whose previous_attributes is Clever's nested partial of the changed keys. Schools,
// sections and users (and any record with a last_modified key) get last_modified set to now unless the
// patch sets it. A patch that changes nothing emits nothing. "id" and "district" cannot change.
func (s *Server) Modify(k Kind, id string, patch json.RawMessage) error {
	if err := checkKind(k); err != nil {
		return fmt.Errorf("modify: %w", err)
	}
	p, err := decodeObject(patch)
	if err != nil {
		return fmt.Errorf("modify %s %s: patch: %w", k, id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.owner[recordKey{k, id}]
	var rec *record
	if ds != nil {
		rec = ds.get(k, id)
	}
	if rec == nil {
		return fmt.Errorf("modify %s %s: %w", k, id, ErrNotFound)
	}
	before := len(ds.events)
	_, setsLastModified := p["last_modified"]
	if _, err := s.rewriteWith(ds, k, rec, !setsLastModified, func(m map[string]any) error {
		mergePatch(m, p)
		return nil
	}); err != nil {
		return fmt.Errorf("modify %s %s: %w", k, id, err)
	}
	s.logChange("modify", k, id, ds, before)
	return nil
}

// rewrite changes a stored record through fn, bumping last_modified; see rewriteWith.
func (s *Server) rewrite(ds *districtState, k Kind, rec *record, fn func(map[string]any) error) (*record, error) {
	return s.rewriteWith(ds, k, rec, true, fn)
}

// rewriteWith decodes rec, lets fn change it, and when anything changed stores the result and emits
// <kind>.updated. It returns the stored record. Callers hold s.mu for writing.
func (s *Server) rewriteWith(ds *districtState, k Kind, rec *record, bump bool, fn func(map[string]any) error) (*record, error) {
	old, err := decodeObject(rec.raw)
	if err != nil {
		return nil, err
	}
	cur, err := decodeObject(rec.raw)
	if err != nil {
		return nil, err
	}
	if err := fn(cur); err != nil {
		return nil, err
	}
	prev := previousAttributes(old, cur, true)
	if len(prev) == 0 {
		return rec, nil
	}
	if _, has := old["last_modified"]; bump && (has || k == KindSchools || k == KindSections || k == KindUsers) {
		cur["last_modified"] = formatTime(s.now())
	}
	raw, err := encodeJSON(cur)
	if err != nil {
		return nil, err
	}
	nrec, err := parseRecord(k, raw)
	if err != nil {
		return nil, err
	}
	if nrec.id != rec.id {
		return nil, errors.New(`"id" cannot change`)
	}
	if k != KindDistricts && nrec.district != rec.district {
		return nil, errors.New(`"district" cannot change`)
	}
	s.store(ds, k, nrec)
	s.emit(ds, k, "updated", nrec, prev)
	return nrec, nil
}

// store puts a shared record in place. Callers hold s.mu for writing.
func (s *Server) store(ds *districtState, k Kind, rec *record) {
	if k == KindDistricts {
		ds.rec = rec
		return
	}
	ds.tables[k].put(rec)
	s.owner[recordKey{k, rec.id}] = ds
}

// Put creates a record (emitting <kind>.created) or replaces a shared one (emitting <kind>.updated with
// previous_attributes; nothing when identical). The record is stored as given: last_modified is not
// bumped. Its "district" must be a connected district; a district record can only be replaced (connect
// new districts with AddDistrict). Putting an unshared id fails with ErrUnshared.
func (s *Server) Put(k Kind, raw json.RawMessage) error {
	if err := checkKind(k); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	rec, err := parseRecord(k, raw)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.byID[rec.district]
	if ds == nil {
		if k == KindDistricts {
			return fmt.Errorf("put districts %s: not connected (use AddDistrict): %w", rec.id, ErrNotFound)
		}
		return fmt.Errorf("put %s %s: district %q: %w", k, rec.id, rec.district, ErrNotFound)
	}
	if owner := s.owner[recordKey{k, rec.id}]; owner != nil && owner != ds {
		return fmt.Errorf("put %s %s: id belongs to district %s", k, rec.id, owner.id())
	}
	if k != KindDistricts && ds.unshared[k][rec.id] != nil {
		return fmt.Errorf("put %s %s: %w", k, rec.id, ErrUnshared)
	}
	before := len(ds.events)
	old := ds.get(k, rec.id)
	if old == nil {
		s.store(ds, k, rec)
		s.ids.Advance(rec.id)
		s.emit(ds, k, "created", rec, nil)
		s.logChange("put", k, rec.id, ds, before)
		return nil
	}
	om, err := decodeObject(old.raw)
	if err != nil {
		return fmt.Errorf("put %s %s: %w", k, rec.id, err)
	}
	nm, err := decodeObject(rec.raw)
	if err != nil {
		return fmt.Errorf("put %s %s: %w", k, rec.id, err)
	}
	if prev := previousAttributes(om, nm, true); len(prev) > 0 {
		s.store(ds, k, rec)
		s.emit(ds, k, "updated", rec, prev)
	}
	s.logChange("put", k, rec.id, ds, before)
	return nil
}

// ReID re-creates a shared record under a new id, as Clever does to terms and courses whose sections
// change and to users whose SIS id changes. Events, in this order so that no event leaves a dangling
// reference: <kind>.created for the new id; <type>.updated for every record whose reference is
// rewritten (sections' school, term_id, course, teacher, teachers and students; users' role school,
// schools and enrollments; contacts' student_relationships); <kind>.deleted for the old id. A "created"
// and "last_modified" in the record are set to now. Districts cannot be re-created.
func (s *Server) ReID(k Kind, id string) (string, error) {
	if err := checkRosterKind(k); err != nil {
		return "", fmt.Errorf("reid: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.owner[recordKey{k, id}]
	var rec *record
	if ds != nil {
		rec = ds.get(k, id)
	}
	if rec == nil {
		return "", fmt.Errorf("reid %s %s: %w", k, id, ErrNotFound)
	}
	before := len(ds.events)
	newID := s.ids.Next()
	m, err := decodeObject(rec.raw)
	if err != nil {
		return "", fmt.Errorf("reid %s %s: %w", k, id, err)
	}
	m["id"] = newID
	now := formatTime(s.now())
	for _, key := range []string{"created", "last_modified"} {
		if _, ok := m[key]; ok {
			m[key] = now
		}
	}
	raw, err := encodeJSON(m)
	if err != nil {
		return "", fmt.Errorf("reid %s %s: %w", k, id, err)
	}
	nrec, err := parseRecord(k, raw)
	if err != nil {
		return "", fmt.Errorf("reid %s %s: %w", k, id, err)
	}
	s.store(ds, k, nrec)
	s.emit(ds, k, "created", nrec, nil)

	swap := func(v any) any {
		if v == id {
			return newID
		}
		return v
	}
	swapAll := func(v any) any {
		arr, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(arr))
		for i, x := range arr {
			out[i] = swap(x)
		}
		return out
	}
	var rewrites []struct {
		kind Kind
		fn   func(map[string]any)
	}
	add := func(kind Kind, fn func(map[string]any)) {
		rewrites = append(rewrites, struct {
			kind Kind
			fn   func(map[string]any)
		}{kind, fn})
	}
	switch k {
	case KindSchools:
		add(KindSections, func(m map[string]any) { m["school"] = swap(m["school"]) })
		add(KindUsers, func(m map[string]any) {
			roles, _ := m["roles"].(map[string]any)
			for _, r := range roles {
				role, ok := r.(map[string]any)
				if !ok {
					continue
				}
				if v, ok := role["school"]; ok {
					role["school"] = swap(v)
				}
				if v, ok := role["schools"]; ok {
					role["schools"] = swapAll(v)
				}
				enr, _ := role["enrollments"].([]any)
				for _, e := range enr {
					if em, ok := e.(map[string]any); ok {
						if v, ok := em["school"]; ok {
							em["school"] = swap(v)
						}
					}
				}
			}
		})
	case KindTerms:
		add(KindSections, func(m map[string]any) { m["term_id"] = swap(m["term_id"]) })
	case KindCourses:
		add(KindSections, func(m map[string]any) { m["course"] = swap(m["course"]) })
	case KindUsers:
		add(KindSections, func(m map[string]any) {
			for _, f := range []string{"teachers", "students"} {
				if v, ok := m[f]; ok {
					m[f] = swapAll(v)
				}
			}
			if v, ok := m["teacher"]; ok {
				m["teacher"] = swap(v)
			}
		})
		add(KindUsers, func(m map[string]any) {
			roles, _ := m["roles"].(map[string]any)
			c, _ := roles["contact"].(map[string]any)
			rels, _ := c["student_relationships"].([]any)
			for _, r := range rels {
				if rm, ok := r.(map[string]any); ok {
					if v, ok := rm["student"]; ok {
						rm["student"] = swap(v)
					}
				}
			}
		})
	}
	for _, rw := range rewrites {
		for _, other := range slices.Clone(ds.all(rw.kind)) {
			if other.id == newID || !references(rw.kind, other, id) {
				continue
			}
			if _, err := s.rewrite(ds, rw.kind, other, func(m map[string]any) error { rw.fn(m); return nil }); err != nil {
				return "", fmt.Errorf("reid %s %s: rewrite %s %s: %w", k, id, rw.kind, other.id, err)
			}
		}
	}
	ds.tables[k].remove(id)
	delete(s.owner, recordKey{k, id})
	s.emit(ds, k, "deleted", rec, nil)
	s.logChange("reid", k, id, ds, before)
	return newID, nil
}

// references reports whether rec (of kind k) may refer to id; it only narrows which records ReID
// decodes, the rewrite itself decides.
func references(k Kind, rec *record, id string) bool {
	switch k {
	case KindSections:
		return rec.school == id || rec.term == id || rec.course == id || rec.teacher == id ||
			slices.Contains(rec.teachers, id) || slices.Contains(rec.students, id)
	case KindUsers:
		for _, r := range rec.roles {
			if r.hasSchool(id) || slices.Contains(r.students, id) {
				return true
			}
		}
		// enrollments are not indexed: decode users whose raw JSON mentions the id
		return bytes.Contains(rec.raw, appendJSONString(nil, id))
	}
	return false
}

// AddDistrict connects a new district, as when a district authorizes the app: d must hold exactly one
// district and records of that district only (d.Events is ignored). It emits districts.created and a
// created event for every record (schools, terms, courses, users, sections, each in id order), and the
// district gets its token.
func (s *Server) AddDistrict(d *Dataset) error {
	if d == nil || len(d.Districts) != 1 {
		return errors.New("add district: the dataset must hold exactly one district")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	states, err := s.buildDistricts(d, false)
	if err != nil {
		return fmt.Errorf("add district: %w", err)
	}
	ds := states[0]
	s.attach(ds)
	for _, k := range rosterKinds() {
		for _, r := range ds.all(k) {
			s.ids.Advance(r.id)
		}
	}
	s.emit(ds, KindDistricts, "created", ds.rec, nil)
	for _, k := range rosterKinds() {
		for _, r := range ds.all(k) {
			s.emit(ds, k, "created", r, nil)
		}
	}
	s.logChange("add district", KindDistricts, ds.id(), ds, 0)
	return nil
}

// RemoveDistrict disconnects a district from the app: its data is dropped, its district-app token and
// the SSO tokens of its users answer 401, and it disappears from /oauth/tokens. No events are emitted:
// nothing could read them.
func (s *Server) RemoveDistrict(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.district(id)
	if err != nil {
		return fmt.Errorf("remove district: %w", err)
	}
	for tok, b := range s.tokens {
		if b.district == id {
			delete(s.tokens, tok)
		}
	}
	for c, ac := range s.codes {
		if ac.district == id {
			delete(s.codes, c)
		}
	}
	for key, owner := range s.owner {
		if owner == ds {
			delete(s.owner, key)
		}
	}
	delete(s.byID, id)
	s.districts = slices.DeleteFunc(s.districts, func(x *districtState) bool { return x == ds })
	s.log.Info("remove district", slog.String(logDistrict, id))
	return nil
}

// RotateToken replaces a district's district-app token, as Clever's token rotation does: the old token
// answers 401 from then on and /oauth/tokens lists the new one, which is returned. (There is no way to
// revoke a token while keeping the district connected; disconnecting is RemoveDistrict.)
func (s *Server) RotateToken(districtID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.district(districtID)
	if err != nil {
		return "", fmt.Errorf("rotate token: %w", err)
	}
	delete(s.tokens, ds.token)
	ds.tokenGen++
	s.issueToken(ds)
	s.log.Info("rotate token", slog.String(logDistrict, districtID))
	return ds.token, nil
}

// Snapshot returns the current shared state as a Dataset: districts in connection order, records in id
// order, and every stored event (including those past retention). Unshared records are left out.
func (s *Server) Snapshot() *Dataset {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := &Dataset{}
	for _, ds := range s.districts {
		d.Districts = append(d.Districts, ds.rec.raw)
		for _, c := range d.collections() {
			k := Kind(c.name)
			if k == KindDistricts || k == "events" {
				continue
			}
			for _, r := range ds.all(k) {
				*c.records = append(*c.records, r.raw)
			}
		}
		for _, e := range ds.events {
			d.Events = append(d.Events, e.raw)
		}
	}
	return d
}

func checkRosterKind(k Kind) error {
	if k == KindDistricts {
		return errors.New("districts cannot be unshared or re-created (use RemoveDistrict / AddDistrict)")
	}
	return checkKind(k)
}

// logChange logs one change with the number of events it emitted. Callers hold s.mu.
func (s *Server) logChange(op string, k Kind, id string, ds *districtState, before int) {
	s.log.Info(op, slog.String(logKind, string(k)), slog.String(logID, id),
		slog.String(logDistrict, ds.id()), slog.Int(logEvents, len(ds.events)-before))
}
