package cleversim

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// SetEventsEnabled turns the district app's Events API on or off (Config.EventsDisabled). Changes made
// while it is off emit no events, as Clever generates none.
func (s *Server) SetEventsEnabled(enabled bool) { s.eventsOff.Store(!enabled) }

// eventsDisabled is the answer of /v3.0/events while the Events API is off. UNCONFIRMED: what Clever
// answers an app that has not enabled events is not recorded; a 403 with a message is assumed.
func eventsDisabled() response {
	return messageResponse(http.StatusForbidden, "The Events API is not enabled for this application")
}

// listEvents answers /v3.0/events: the district's retained events (retained) in id order, filtered by "school"
// (one id) and "record_type" (repeatable; each value may also be a comma-separated list, and "user"
// is accepted for "users" — UNCONFIRMED which forms Clever takes).
func (s *Server) listEvents(q *apiReq) response {
	if s.eventsOff.Load() {
		return eventsDisabled()
	}
	lp, errResp := parseListParams(q.q)
	if errResp != nil {
		return *errResp
	}
	schools := queryValues(q.q, "school")
	if len(schools) > 1 {
		return messageResponse(http.StatusBadRequest, "school must be given once")
	}
	types := map[Kind]bool{}
	for _, v := range queryValues(q.q, "record_type") {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types[Kind(strings.TrimSuffix(t, "s")+"s")] = true
			}
		}
	}
	evs := make([]*event, 0, len(q.ds.events))
	newest := newestEvent(q.ds)
	for _, e := range q.ds.events {
		if !s.retained(e, newest) {
			continue
		}
		if len(schools) == 1 && !e.touchesSchool(schools[0]) {
			continue
		}
		if len(types) > 0 && !types[e.kind] {
			continue
		}
		evs = append(evs, e)
	}
	idAt := func(i int) string { return evs[i].id }
	pg := paginate(len(evs), idAt, lp)
	links := q.pageLinks(lp, pg, idAt, true)
	body := appendList(nil, "events", evs[pg.start:pg.end], func(e *event) ([]byte, string) { return e.raw, e.id }, links)
	return jsonResponse(http.StatusOK, body)
}

// getEvent answers /v3.0/events/{id}; an event past retention is gone (404).
func (s *Server) getEvent(q *apiReq, id string) response {
	if s.eventsOff.Load() {
		return eventsDisabled()
	}
	evs := q.ds.events
	i := searchIDs(len(evs), func(i int) string { return evs[i].id }, func(v string) bool { return v >= id })
	if i == len(evs) || evs[i].id != id || !s.retained(evs[i], newestEvent(q.ds)) {
		return notFound()
	}
	return jsonResponse(http.StatusOK, appendOne(nil, evs[i].raw, []link{{"self", recordURI("events", id)}}))
}

// retained reports whether e is within the retention window of its district's events: Clever's 30 days
// counted back from the district's newest event, not from the clock, so that a recording of any age
// serves its events (the window moves on as the change API adds events).
func (s *Server) retained(e *event, newest time.Time) bool {
	return s.retention < 0 || e.created.IsZero() || !e.created.Before(newest.Add(-s.retention))
}

// newestEvent is when the newest of the district's events was created (zero without any).
func newestEvent(ds *districtState) time.Time {
	var t time.Time
	for i := len(ds.events) - 1; i >= 0 && i >= len(ds.events)-64; i-- { // ids follow the clock: the newest is near the end
		if c := ds.events[i].created; c.After(t) {
			t = c
		}
	}
	return t
}

// emit appends a "<kind>.<verb>" event for rec to ds, with previous_attributes (nil for none) inside
// the inner data as Clever sends it. Event ids follow the clock and sort after every existing event.
// Callers hold s.mu for writing.
func (s *Server) emit(ds *districtState, k Kind, verb string, rec *record, prev map[string]any) {
	if s.eventsOff.Load() {
		return
	}
	now := s.now()
	if sec := now.Unix() - 1; sec > 0 && sec < 1<<32 {
		var b [12]byte
		binary.BigEndian.PutUint32(b[:4], uint32(sec))
		s.ids.Advance(hex.EncodeToString(b[:]))
	}
	id := s.ids.Next()
	b := append([]byte(`{"id":`), appendJSONString(nil, id)...)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, string(k)+"."+verb)
	b = append(b, `,"created":`...)
	b = appendJSONString(b, formatTime(now))
	b = append(b, `,"data":{"object":`...)
	b = append(b, rec.raw...)
	if prev != nil {
		pb, err := encodeJSON(prev)
		if err == nil {
			b = append(b, `,"previous_attributes":`...)
			b = append(b, pb...)
		}
	}
	b = append(b, "}}"...)
	ds.events = append(ds.events, &event{id: id, raw: b, created: now, kind: k, obj: rec})
}

// decodeObject decodes a record for modification, keeping numbers as written.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode object: not a JSON object")
	}
	return m, nil
}

// encodeJSON encodes v compactly without HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mergePatch applies an RFC 7396 JSON merge patch to target and returns the result; target's nested
// objects may be modified in place.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = mergePatch(tm[k], v)
		}
	}
	return tm
}

// previousAttributes is Clever's nested partial of what changed from old to cur: for every changed key
// its old value, recursing into objects present on both sides; arrays and scalars are compared whole.
// A key that did not exist before is given as null (UNCONFIRMED). last_modified is left out at the top
// level, as the recorded users.updated events leave it out although it changed.
func previousAttributes(old, cur map[string]any, top bool) map[string]any {
	out := map[string]any{}
	for k, ov := range old {
		if top && k == "last_modified" {
			continue
		}
		nv, ok := cur[k]
		if !ok {
			out[k] = ov
			continue
		}
		om, ok1 := ov.(map[string]any)
		nm, ok2 := nv.(map[string]any)
		if ok1 && ok2 {
			if d := previousAttributes(om, nm, false); len(d) > 0 {
				out[k] = d
			}
			continue
		}
		if !reflect.DeepEqual(ov, nv) {
			out[k] = ov
		}
	}
	for k := range cur {
		if top && k == "last_modified" {
			continue
		}
		if _, ok := old[k]; !ok {
			out[k] = nil
		}
	}
	return out
}
