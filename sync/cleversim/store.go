package cleversim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Kind names a Clever record type as it appears in /v3.0 paths and event types.
type Kind string

// The record kinds the simulator serves.
const (
	KindDistricts Kind = "districts"
	KindSchools   Kind = "schools"
	KindUsers     Kind = "users"
	KindSections  Kind = "sections"
	KindTerms     Kind = "terms"
	KindCourses   Kind = "courses"
)

// rosterKinds returns the kinds stored in a district's tables (every kind but districts), in the order
// AddDistrict emits their created events.
func rosterKinds() [5]Kind {
	return [...]Kind{KindSchools, KindTerms, KindCourses, KindUsers, KindSections}
}

func (k Kind) valid() bool {
	kinds := rosterKinds()
	return k == KindDistricts || slices.Contains(kinds[:], k)
}

// ErrNotFound is returned by the change API when no shared (or, for Reshare, unshared) record has the id.
var ErrNotFound = errors.New("record not found")

// record is one Clever object: its compact raw JSON, served byte for byte, plus the references the
// simulator needs to answer sub-resource lists, parsed once when the record is stored.
type record struct {
	id       string
	district string
	raw      []byte

	// sections
	school, term, course, teacher string
	teachers, students            []string

	// users: role name → references
	roles map[string]roleRef
}

type roleRef struct {
	school   string
	schools  []string
	students []string // contact: student_relationships[].student
}

// hasSchool reports whether the role lists school as its primary or one of its schools.
func (r roleRef) hasSchool(school string) bool {
	return r.school == school || slices.Contains(r.schools, school)
}

// parseRecord compacts raw and extracts the references of a record of kind k. Fields of an unexpected
// JSON type are treated as absent: the simulator must serve odd data, not reject it.
func parseRecord(k Kind, raw []byte) (*record, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("parse %s record: %w", k, err)
	}
	var h struct {
		ID       json.RawMessage `json:"id"`
		District json.RawMessage `json:"district"`
		School   json.RawMessage `json:"school"`
		TermID   json.RawMessage `json:"term_id"`
		Course   json.RawMessage `json:"course"`
		Teacher  json.RawMessage `json:"teacher"`
		Teachers json.RawMessage `json:"teachers"`
		Students json.RawMessage `json:"students"`
		Roles    json.RawMessage `json:"roles"`
	}
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		return nil, fmt.Errorf("parse %s record: %w", k, err)
	}
	r := &record{id: jsonString(h.ID), district: jsonString(h.District), raw: buf.Bytes()}
	if r.id == "" {
		return nil, fmt.Errorf("parse %s record: no \"id\"", k)
	}
	switch k {
	case KindDistricts:
		r.district = r.id
	case KindSections:
		r.school, r.term, r.course, r.teacher = jsonString(h.School), jsonString(h.TermID), jsonString(h.Course), jsonString(h.Teacher)
		r.teachers, r.students = jsonStrings(h.Teachers), jsonStrings(h.Students)
	case KindUsers:
		var roles map[string]json.RawMessage
		if json.Unmarshal(h.Roles, &roles) == nil && len(roles) > 0 {
			r.roles = make(map[string]roleRef, len(roles))
			for name, rr := range roles {
				var role struct {
					School        json.RawMessage `json:"school"`
					Schools       json.RawMessage `json:"schools"`
					Relationships []struct {
						Student json.RawMessage `json:"student"`
					} `json:"student_relationships"`
				}
				_ = json.Unmarshal(rr, &role) // a malformed role keeps its name but no references
				ref := roleRef{school: jsonString(role.School), schools: jsonStrings(role.Schools)}
				for _, rel := range role.Relationships {
					if s := jsonString(rel.Student); s != "" {
						ref.students = append(ref.students, s)
					}
				}
				r.roles[name] = ref
			}
		}
	}
	return r, nil
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func jsonStrings(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s := jsonString(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// table holds one district's shared records of one kind, sorted by id (Clever's list order).
type table struct {
	recs []*record
}

func (t *table) find(id string) (int, bool) {
	return sort.Find(len(t.recs), func(i int) int { return strings.Compare(id, t.recs[i].id) })
}

func (t *table) get(id string) *record {
	if i, ok := t.find(id); ok {
		return t.recs[i]
	}
	return nil
}

// put inserts r or replaces the record with its id, returning the replaced one.
func (t *table) put(r *record) *record {
	i, ok := t.find(r.id)
	if ok {
		old := t.recs[i]
		t.recs[i] = r
		return old
	}
	t.recs = slices.Insert(t.recs, i, r)
	return nil
}

func (t *table) remove(id string) *record {
	i, ok := t.find(id)
	if !ok {
		return nil
	}
	old := t.recs[i]
	t.recs = slices.Delete(t.recs, i, i+1)
	return old
}

// event is one stored event: the inner event object ({"id","type","created","data":{…}}) as raw JSON.
type event struct {
	id      string
	raw     []byte
	created time.Time // zero when the event has no parsable created time: never expires
	kind    Kind      // the type's prefix, e.g. "users"
	obj     *record   // the parsed data.object, nil when absent or unparsable
}

func parseEvent(raw []byte) (*event, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	var h struct {
		ID      json.RawMessage `json:"id"`
		Type    json.RawMessage `json:"type"`
		Created json.RawMessage `json:"created"`
		Data    struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	e := &event{id: jsonString(h.ID), raw: buf.Bytes()}
	if e.id == "" {
		return nil, errors.New("parse event: no \"id\"")
	}
	kind, _, _ := strings.Cut(jsonString(h.Type), ".")
	e.kind = Kind(kind)
	if t, err := time.Parse(time.RFC3339Nano, jsonString(h.Created)); err == nil {
		e.created = t
	}
	if len(h.Data.Object) > 0 {
		if obj, err := parseRecord(e.kind, h.Data.Object); err == nil {
			e.obj = obj
		}
	}
	return e, nil
}

// district returns the district the event belongs to ("" when it cannot tell).
func (e *event) district() string {
	if e.obj == nil {
		return ""
	}
	return e.obj.district
}

// touchesSchool implements the events "school" filter: school events of that school, sections at it
// and users with a role at it.
func (e *event) touchesSchool(school string) bool {
	if e.obj == nil {
		return false
	}
	switch e.kind {
	case KindSchools:
		return e.obj.id == school
	case KindSections:
		return e.obj.school == school
	case KindUsers:
		for _, r := range e.obj.roles {
			if r.hasSchool(school) {
				return true
			}
		}
	}
	return false
}

// membership remembers where an unshared user sat in a section, so that Reshare can put it back.
type membership struct {
	section string
	field   string // "students" or "teachers"
	index   int
	primary bool // the user was the section's "teacher"
}

type unsharedRecord struct {
	rec         *record
	memberships []membership
}

// districtState is everything the simulator holds for one connected district.
type districtState struct {
	rec          *record
	token        string
	tokenID      string
	tokenCreated string
	tokenGen     int
	tables       map[Kind]*table
	unshared     map[Kind]map[string]*unsharedRecord
	events       []*event // ascending id
}

func newDistrictState(rec *record) *districtState {
	ds := &districtState{
		rec:      rec,
		tables:   make(map[Kind]*table, 5),
		unshared: make(map[Kind]map[string]*unsharedRecord, 5),
	}
	for _, k := range rosterKinds() {
		ds.tables[k] = &table{}
		ds.unshared[k] = map[string]*unsharedRecord{}
	}
	return ds
}

func (ds *districtState) id() string { return ds.rec.id }

// get returns the shared record of kind k with id, the district record itself for KindDistricts.
func (ds *districtState) get(k Kind, id string) *record {
	if k == KindDistricts {
		if id == ds.rec.id {
			return ds.rec
		}
		return nil
	}
	if t := ds.tables[k]; t != nil {
		return t.get(id)
	}
	return nil
}

// all returns the shared records of kind k in id order. The slice must not be modified.
func (ds *districtState) all(k Kind) []*record {
	if k == KindDistricts {
		return []*record{ds.rec}
	}
	if t := ds.tables[k]; t != nil {
		return t.recs
	}
	return nil
}

// insertEvent keeps events sorted by id (dataset events may come in any order).
func (ds *districtState) insertEvent(e *event) {
	i, _ := sort.Find(len(ds.events), func(i int) int { return strings.Compare(e.id, ds.events[i].id) })
	ds.events = slices.Insert(ds.events, i, e)
}

// lastEventID is the newest event id of the district, "" when there is none.
func (ds *districtState) lastEventID() string {
	if len(ds.events) == 0 {
		return ""
	}
	return ds.events[len(ds.events)-1].id
}
