package progress

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/bulk"
	"github.com/rostermirror/rostermirror/internal/csvin"
)

// ErrConcurrent is a write that met records another write stored while it ran: nothing was changed,
// and running it again applies it.
var ErrConcurrent = errors.New("another write recorded some of the same records (student, activity and attempt) while this one ran; nothing was changed: run it again")

// writer writes one write's records — a file's (Import) or a request's (Record) — in its transaction,
// a batch at a time. For each student it first meets it reads, once, what the mirror knows of them
// (their current id through the aliases, district, primary school, grade, enrollment history) and the
// keys and content hashes of their stored records, under their current id and every former one; then,
// in memory, it refuses a record of no student
// or of another district's section and a key given twice, resolves each record's section from the
// enrollment history at its completedAt, and sorts the records into new (appended with COPY, straight
// into progress_records), changed (updated through a staged table) and unchanged (left as they are).
// What the records add to progress_rollups is summed as it goes and written at the end.
//
// Once a problem is found, nothing more is written, and the caller rolls the transaction back; the
// rest of the records are still checked, so that every problem is reported at once.
type writer struct {
	s    *Service
	tx   *txn
	item string // "line" (a file) or "record" (recordProgress): how a problem names another record
	// problem makes the problem of a record's field.
	problem  func(line int, field, msg string) csvin.Problem
	problems csvin.Problems
	now      time.Time

	students map[string]*student      // by the id the records give
	sections map[string]*sectionFacts // sections named by records or enrollments, by id
	pending  []string                 // sections met in this batch, not yet read
	seed     maphash.Seed

	// look reads the mirror: for a pipelined write on Postgres a connection of its own, so that a
	// batch's reads overlap the writing of the batch before; else the transaction.
	look    querier
	release func() error
	// writes are the batches' writes, run in order on the transaction by a goroutine of their own
	// (a pipelined write), or in place (nil); writeErr is the first that failed.
	writes   chan func() error
	written  chan struct{}
	writeErr error
	failed   atomic.Bool // a write failed: the rest is not worth reading
	moved    []moved     // the values changed records had (the writes' goroutine's until flush)
	counts   Counts
	changed  bool // some stored record was changed: a rollup may be left with none

	people map[string]*person // by current Clever id
	// recorded are the Clever ids records are stored under, as given or as found: what the write
	// adds to their rollups, and whether they had records before it.
	recorded map[string]*recordedID
}

// person is a student by their current id: their records, whatever id each was recorded under, are
// one set of keys — a record given under a re-IDed student's new id is the one stored under the old.
type person struct {
	records     keySet       // their records stored, and those of this write
	ids         []string     // the ids their stored records are under (keyed.as)
	enrollments []enrollment // under their current id and every former one
}

// index is id's index in p.ids (-1: none).
func (p *person) index(id string) int {
	for i, x := range p.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// idIndex is id's index in p.ids, added when it is not there.
func (p *person) idIndex(id string) uint16 {
	if i := p.index(id); i >= 0 {
		return uint16(i)
	}
	p.ids = append(p.ids, id)
	return uint16(len(p.ids) - 1)
}

// recordedID is a Clever id records are stored under.
type recordedID struct {
	hadRecords bool     // records were stored under it before this write
	places     []*place // what this write adds to its rollups
}

// querier runs queries: a connection or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// student is what the mirror knows of a student a write names.
type student struct {
	known    bool   // a student of the mirror
	current  string // the current Clever id (the aliases followed)
	district string
	school   string // primary school ("" none)
	grade    string
	person   *person
}

// keySet is a student's records by key (activity and attempt, hashed): a list while it is short, and
// indexed once it is long.
type keySet struct {
	list   []keyed
	index  map[uint64]int
	shared bool // a key is stored under two of the student's ids
}

// keyed is a record of a student: stored before this write (stored, under the id person.ids[as], with
// its content hash's first 8 bytes) and/or given by it (line > 0).
type keyed struct {
	key, hash uint64
	line      int32
	as        uint16
	stored    bool
}

// find is the record of key k — of several (one stored under a former id, one under the current),
// the one stored under the id of index as (-1: the first).
func (s *keySet) find(k uint64, as int) *keyed {
	if s.index != nil && !s.shared {
		if i, ok := s.index[k]; ok {
			return &s.list[i]
		}
		return nil
	}
	var first *keyed
	for i := range s.list {
		if e := &s.list[i]; e.key == k {
			if !e.stored || int(e.as) == as {
				return e
			}
			if first == nil {
				first = e
			}
		}
	}
	return first
}

func (s *keySet) add(e keyed) {
	if e.stored && !s.shared && s.find(e.key, -1) != nil {
		s.shared = true // a key stored under two ids: found by a scan from now on
	}
	s.list = append(s.list, e)
	switch {
	case s.index != nil:
		if _, ok := s.index[e.key]; !ok {
			s.index[e.key] = len(s.list) - 1
		}
	case len(s.list) > 32:
		s.index = make(map[uint64]int, 2*len(s.list))
		for i, x := range s.list {
			if _, ok := s.index[x.key]; !ok {
				s.index[x.key] = i
			}
		}
	}
}

// place is a row of progress_rollups a write adds to.
type place struct {
	district, section, school, term string
	sum                             rollupSum
}

// recordedAs is the Clever id id as records are stored under it.
func (w *writer) recordedAs(id string) *recordedID {
	r := w.recorded[id]
	if r == nil {
		r = &recordedID{}
		w.recorded[id] = r
	}
	return r
}

// at is what the write adds to the rollup of the records stored under id at (district, section,
// school, term).
func (w *writer) at(id, district, section, school, term string) *rollupSum {
	r := w.recordedAs(id)
	for _, p := range r.places {
		if p.section == section && p.school == school && p.term == term && p.district == district {
			return &p.sum
		}
	}
	p := &place{district: district, section: section, school: school, term: term}
	r.places = append(r.places, p)
	return &p.sum
}

// enrollment is one enrollment of a student in a section (times in microseconds since 1970, as
// Postgres keeps them).
type enrollment struct {
	sec            *sectionFacts
	started, ended int64
	hasEnded       bool // has ended
}

// sectionFacts is what the mirror knows of a section a write meets, shared by its enrollments.
type sectionFacts struct {
	id                     string
	known                  bool // in the mirror
	district, school, term string
	created                int64 // when it entered the mirror
	termStart, termEnd     int64 // its term's dates
	hasStart, hasEnd       bool
}

// rollupSum is what records add to (or, negative, take from) a rollup.
type rollupSum struct {
	records, completed, scored, timeSpent int64
	scoreSum                              float64
}

func (s *rollupSum) add(r *row, sign int64) {
	s.records += sign
	if r.kind == progressrecord.KindCOMPLETED {
		s.completed += sign
	}
	if r.score != nil && r.maxScore != nil && *r.maxScore > 0 {
		s.scored += sign
		s.scoreSum += float64(sign) * *r.score / *r.maxScore
	}
	if r.timeSpent != nil {
		s.timeSpent += sign * *r.timeSpent
	}
}

// newWriter starts a write in tx; stop ends it, whatever happened. A pipelined write (an import) on
// Postgres reads the mirror on a connection of its own while its batches are written, when no other
// write does.
func (s *Service) newWriter(ctx context.Context, tx *txn, pipelined bool, item string, problem func(line int, field, msg string) csvin.Problem) (*writer, error) {
	if problem == nil {
		problem = func(line int, field, msg string) csvin.Problem {
			return csvin.Problem{Message: fmt.Sprintf("record %d: %s: %s", line, graphName(field), msg)}
		}
	}
	w := &writer{s: s, tx: tx, item: item, problem: problem, now: s.now().UTC(),
		students: map[string]*student{}, sections: map[string]*sectionFacts{}, seed: maphash.MakeSeed(),
		people: map[string]*person{}, recorded: map[string]*recordedID{},
		look: tx.bulk.Tx, release: func() error { return nil }}
	if !pipelined || !s.pg() {
		return w, nil
	}
	select {
	case s.pipeline <- struct{}{}:
	default:
		return w, nil // another import pipelines: this one reads on its transaction
	}
	conn, err := s.db.SQL.Conn(ctx)
	if err != nil {
		<-s.pipeline
		return nil, fmt.Errorf("write progress: %w", err)
	}
	w.look = conn
	w.release = func() error {
		defer func() { <-s.pipeline }()
		return conn.Close()
	}
	w.writes, w.written = make(chan func() error, 1), make(chan struct{})
	go func() {
		defer close(w.written)
		for write := range w.writes {
			if w.writeErr == nil {
				if w.writeErr = write(); w.writeErr != nil {
					w.failed.Store(true)
				}
			}
		}
	}()
	return w, nil
}

// write runs a batch's write: after the batches' before, on the transaction.
func (w *writer) write(write func() error) error {
	if w.writes == nil {
		return write()
	}
	w.writes <- write
	return nil
}

// flush waits for the batches' writes and returns the first error.
func (w *writer) flush() error {
	if w.writes != nil {
		close(w.writes)
		<-w.written
		w.writes = nil
	}
	return w.writeErr
}

// stop ends the write: its writes are waited for, its connection released.
func (w *writer) stop() error {
	err := w.flush()
	if w.release != nil {
		err = errors.Join(err, w.release())
		w.release = nil
	}
	return err
}

// key is a student's record's key: its activity and attempt, hashed.
func (w *writer) key(activity, attempt string) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	h.WriteString(activity)
	h.WriteByte(0)
	h.WriteString(attempt)
	return h.Sum64()
}

// hashPrefix is the first 8 bytes of a hex content hash.
func hashPrefix(h string) uint64 {
	v, _ := strconv.ParseUint(h[:min(len(h), 16)], 16, 64)
	return v
}

func (w *writer) refuse(line int, field, msg string) { w.problems.Add(w.problem(line, field, msg)) }

// placed is a record ready to be written: where it was done.
type placed struct {
	*row
	recorded                               string // the Clever id it is stored under
	district, section, school, term, grade string
	given                                  bool
}

// add checks, resolves and writes a batch of records (in the order given).
func (w *writer) add(ctx context.Context, rows []row) error {
	if w.failed.Load() {
		return w.flush()
	}
	if err := w.lookUp(ctx, rows); err != nil {
		return err
	}
	var fresh, changed []placed
	for i := range rows {
		r := &rows[i]
		st := w.students[r.student]
		if !st.known {
			w.refuse(r.line, "student_clever_id", fmt.Sprintf("%q is no student of the mirror (not shared with the app yet, or not a student): record it after the sync that brings the student", r.student))
			continue
		}
		k := w.key(r.activity, r.attempt)
		e := st.person.records.find(k, st.person.index(r.student))
		if e != nil && e.line > 0 {
			w.refuse(r.line, "attempt_id", fmt.Sprintf("the same student, activity and attempt as %s %d: give each attempt its own attempt_id", w.item, e.line))
			continue
		}
		if e == nil {
			st.person.records.add(keyed{key: k, line: int32(r.line)})
		} else {
			e.line = int32(r.line)
		}
		p := placed{row: r, recorded: r.student, district: st.district, school: st.school, grade: st.grade}
		if e != nil && e.stored {
			p.recorded = st.person.ids[e.as] // stored under a former (or the current) id: updated there
		}
		if r.section != "" {
			sec := w.sections[r.section]
			if !sec.known || sec.district != st.district {
				w.refuse(r.line, "section_id", fmt.Sprintf("%q is no section of the student's district %s", r.section, st.district))
				continue
			}
			p.section, p.given, p.term = r.section, true, sec.term
			if sec.school != "" {
				p.school = sec.school
			}
		} else if e := st.person.sectionAt(r.completedAt); e != nil {
			p.section, p.term = e.sec.id, e.sec.term
			if e.sec.school != "" {
				p.school = e.sec.school
			}
		}
		switch {
		case e != nil && e.stored && e.hash == hashPrefix(r.hash):
			w.counts.Unchanged++
		case e != nil && e.stored:
			changed = append(changed, p)
		default:
			fresh = append(fresh, p)
		}
	}
	if w.problems.Len() > 0 {
		return nil // refused: nothing more is written, and the transaction is rolled back
	}
	inserts := make([][]any, len(fresh))
	for i, p := range fresh {
		inserts[i] = w.values(p, newID())
		w.rollup(p).add(p.row, 1)
	}
	updates := make([][]any, len(changed))
	for i, p := range changed {
		updates[i] = w.values(p, "")
		w.rollup(p).add(p.row, 1)
	}
	w.counts.Created += len(fresh)
	w.counts.Updated += len(changed)
	w.changed = w.changed || len(changed) > 0
	return w.write(func() error {
		if err := w.insert(ctx, inserts); err != nil {
			return err
		}
		return w.update(ctx, updates)
	})
}

// sectionAt is the section a student was in at t, from their enrollment history: an enrollment not
// ended by then, and either begun by then, or in a section whose term covers the day, or begun when its
// section entered the mirror (a district's first sync sees every enrollment begin then: when it really
// began is unknown) in a section whose term had begun by then or that has no term. Of several, the one
// whose term covers the day, then the oldest enrollment, then the smallest section id; nil for none.
func (p *person) sectionAt(at time.Time) *enrollment {
	t := at.Round(time.Microsecond).UnixMicro() // as Postgres keeps it
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC).UnixMicro()
	var best *enrollment
	bestPref := 2
	for i := range p.enrollments {
		e := &p.enrollments[i]
		if e.hasEnded && e.ended <= t {
			continue
		}
		sec := e.sec
		covers := sec.hasStart && sec.termStart <= t && (!sec.hasEnd || sec.termEnd >= day)
		entered := sec.known && e.started == sec.created && (!sec.hasStart || sec.termStart <= t)
		if e.started > t && !covers && !entered {
			continue
		}
		pref := 1
		if covers {
			pref = 0
		}
		if best == nil || cmp.Or(cmp.Compare(pref, bestPref), cmp.Compare(e.started, best.started), strings.Compare(sec.id, best.sec.id)) < 0 {
			best, bestPref = e, pref
		}
	}
	return best
}

// sectionOf is the section id as far as the write knows it; one not met before is read with the batch.
func (w *writer) sectionOf(id string) *sectionFacts {
	sec := w.sections[id]
	if sec == nil {
		sec = &sectionFacts{id: id}
		w.sections[id] = sec
		w.pending = append(w.pending, id)
	}
	return sec
}

// lookUp reads what the mirror knows of the batch's students and sections not met before, and the
// keys of their stored records.
func (w *writer) lookUp(ctx context.Context, rows []row) error {
	var ids []string
	for i := range rows {
		r := &rows[i]
		if _, ok := w.students[r.student]; !ok {
			w.students[r.student] = &student{current: r.student}
			ids = append(ids, r.student)
		}
		if r.section != "" {
			w.sectionOf(r.section)
		}
	}
	if err := w.each(ctx, `SELECT former_clever_id, clever_id FROM clever_id_aliases WHERE %s`, "former_clever_id", ids, func(rs *sql.Rows) error {
		var former, current string
		if err := rs.Scan(&former, &current); err != nil {
			return err
		}
		w.students[former].current = current
		return nil
	}); err != nil {
		return err
	}
	byCurrent := make(map[string][]*student, len(ids))
	var current []string
	for _, id := range ids {
		st := w.students[id]
		if _, ok := byCurrent[st.current]; !ok {
			current = append(current, st.current)
		}
		byCurrent[st.current] = append(byCurrent[st.current], st)
	}
	var met []string // people met for the first time, by current id
	for _, c := range current {
		if w.people[c] == nil {
			w.people[c] = &person{}
			met = append(met, c)
		}
		for _, st := range byCurrent[c] {
			st.person = w.people[c]
		}
	}
	roles := make([]string, len(current))
	for i, id := range current {
		roles[i] = id + "/student" // user_roles' key
	}
	if err := w.each(ctx, `SELECT user_id, district_id, COALESCE(school_id, ''), COALESCE(grade, '') FROM user_roles WHERE %s`, "id", roles, func(rs *sql.Rows) error {
		var id, district, school, grade string
		if err := rs.Scan(&id, &district, &school, &grade); err != nil {
			return err
		}
		for _, st := range byCurrent[id] {
			st.known, st.district, st.school, st.grade = true, district, school, grade
		}
		return nil
	}); err != nil {
		return err
	}
	// Every id of the people met: the current one and every former one.
	owner := make(map[string]*person, len(met))
	var all []string
	for _, c := range met {
		owner[c] = w.people[c]
		all = append(all, c)
	}
	if err := w.each(ctx, `SELECT former_clever_id, clever_id FROM clever_id_aliases WHERE %s`, "clever_id", met, func(rs *sql.Rows) error {
		var former, current string
		if err := rs.Scan(&former, &current); err != nil {
			return err
		}
		owner[former] = w.people[current]
		all = append(all, former)
		return nil
	}); err != nil {
		return err
	}
	// Their enrollments, under any of their ids.
	if err := w.each(ctx, `SELECT user_id, section_id, started_at, ended_at FROM section_students WHERE %s`, "user_id", all, func(rs *sql.Rows) error {
		var user, sec string
		var started time.Time
		var ended sql.NullTime
		if err := rs.Scan(&user, &sec, &started, &ended); err != nil {
			return err
		}
		p := owner[user]
		p.enrollments = append(p.enrollments, enrollment{sec: w.sectionOf(sec), started: started.UnixMicro(),
			ended: ended.Time.UnixMicro(), hasEnded: ended.Valid})
		return nil
	}); err != nil {
		return err
	}
	// The sections named or enrolled in, met for the first time.
	pending := w.pending
	w.pending = nil
	if err := w.each(ctx, `SELECT sc.clever_id, sc.district_id, COALESCE(sc.school_id, ''), COALESCE(sc.term_id, ''), sc.created_at, t.start_date, t.end_date
		FROM sections sc LEFT JOIN terms t ON t.clever_id = sc.term_id WHERE %s`, "sc.clever_id", pending, func(rs *sql.Rows) error {
		var id, district, school, term string
		var created time.Time
		var start, end sql.NullTime
		if err := rs.Scan(&id, &district, &school, &term, &created, &start, &end); err != nil {
			return err
		}
		sec := w.sections[id]
		sec.known, sec.district, sec.school, sec.term, sec.created = true, district, school, term, created.UnixMicro()
		sec.termStart, sec.hasStart = start.Time.UnixMicro(), start.Valid
		sec.termEnd, sec.hasEnd = end.Time.UnixMicro(), end.Valid
		return nil
	}); err != nil {
		return err
	}
	// Their stored records, under any of their ids.
	return w.each(ctx, `SELECT student_clever_id, activity_id, attempt_id, content_hash FROM progress_records WHERE %s`, "student_clever_id", all, func(rs *sql.Rows) error {
		var student, activity, attempt, hash string
		if err := rs.Scan(&student, &activity, &attempt, &hash); err != nil {
			return err
		}
		r := w.recordedAs(student)
		r.hadRecords = true
		p := owner[student]
		p.records.add(keyed{key: w.key(activity, attempt), hash: hashPrefix(hash), as: p.idIndex(student), stored: true})
		return nil
	})
}

// each runs query — its %s the condition "column IN (ids)" — over ids (in chunks on SQLite), calling
// scan for each row.
func (w *writer) each(ctx context.Context, query, column string, ids []string, scan func(*sql.Rows) error) error {
	chunk := len(ids)
	if !w.tx.bulk.PG {
		chunk = bulk.ChunkSize
	}
	for start := 0; start < len(ids); start += chunk {
		cond, args := w.tx.bulk.In(column, ids[start:min(start+chunk, len(ids))])
		rs, err := w.look.QueryContext(ctx, w.tx.bulk.Rebind(fmt.Sprintf(query, cond)), args...)
		if err != nil {
			return fmt.Errorf("look up progress's students: %w", err)
		}
		for rs.Next() {
			if err := scan(rs); err != nil {
				rs.Close()
				return fmt.Errorf("look up progress's students: %w", err)
			}
		}
		if err := rs.Close(); err != nil {
			return fmt.Errorf("look up progress's students: %w", err)
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("look up progress's students: %w", err)
		}
	}
	return nil
}

// recordColumns are the columns a write sets.
var recordColumns = []string{"id", "student_clever_id", "activity_id", "attempt_id", "kind", "score", "max_score",
	"completed_at", "time_spent_seconds", "data", "district_id", "section_id", "section_given", "school_id", "term_id",
	"grade", "content_hash", "created_at", "updated_at"}

// values are a placed record's columns (recordColumns), with id.
func (w *writer) values(p placed, id string) []any {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var score, maxScore, spent, data any
	if p.score != nil {
		score = *p.score
	}
	if p.maxScore != nil {
		maxScore = *p.maxScore
	}
	if p.timeSpent != nil {
		spent = *p.timeSpent
	}
	if p.data != nil {
		data = string(p.data)
	}
	return []any{id, p.recorded, p.activity, p.attempt, string(p.kind), score, maxScore, p.completedAt, spent, data,
		p.district, opt(p.section), p.given, opt(p.school), opt(p.term), p.grade, p.hash, w.now, w.now}
}

func (w *writer) rollup(p placed) *rollupSum {
	return w.at(p.recorded, p.district, p.section, p.school, p.term)
}

// insert appends new records (COPY on Postgres).
func (w *writer) insert(ctx context.Context, vals [][]any) error {
	if err := w.tx.bulk.Insert(ctx, progressrecord.Table, recordColumns, vals); err != nil {
		if uniqueViolation(err) {
			return ErrConcurrent
		}
		return fmt.Errorf("write progress: %w", err)
	}
	return nil
}

// moved is what a changed record was, where it was: it leaves that rollup.
type moved struct {
	student, district, section, school, term string
	old                                      row
}

// updateTable stages changed records.
const updateTable = "progress_update"

// update writes changed records over the stored ones, keeping their id and created_at.
func (w *writer) update(ctx context.Context, vals [][]any) error {
	if len(vals) == 0 {
		return nil
	}
	b := w.tx.bulk
	if err := b.TempLike(ctx, updateTable, progressrecord.Table, recordColumns...); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	if _, err := b.Exec(ctx, "DELETE FROM "+updateTable); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	if err := b.Insert(ctx, updateTable, recordColumns, vals); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	t := progressrecord.Table
	match := t + ".student_clever_id = u.student_clever_id AND " + t + ".activity_id = u.activity_id AND " + t + ".attempt_id = u.attempt_id"
	// The values they have now leave their rollups (applied by finish). Locked on Postgres: a write
	// changing the same records waits for this one, then reads what it wrote.
	lock := ""
	if b.PG {
		lock = " FOR UPDATE OF " + t
	}
	rs, err := b.Tx.QueryContext(ctx, `SELECT `+t+`.student_clever_id, `+t+`.district_id, COALESCE(`+t+`.section_id, ''), COALESCE(`+t+`.school_id, ''),
		COALESCE(`+t+`.term_id, ''), `+t+`.kind, `+t+`.score, `+t+`.max_score, `+t+`.time_spent_seconds FROM `+t+` JOIN `+updateTable+` u ON `+match+lock)
	if err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	for rs.Next() {
		var m moved
		var score, maxScore sql.NullFloat64
		var spent sql.NullInt64
		if err := rs.Scan(&m.student, &m.district, &m.section, &m.school, &m.term, &m.old.kind, &score, &maxScore, &spent); err != nil {
			rs.Close()
			return fmt.Errorf("write progress: %w", err)
		}
		if score.Valid {
			m.old.score = &score.Float64
		}
		if maxScore.Valid {
			m.old.maxScore = &maxScore.Float64
		}
		if spent.Valid {
			m.old.timeSpent = &spent.Int64
		}
		w.moved = append(w.moved, m)
	}
	if err := rs.Close(); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	set := make([]string, 0, len(recordColumns))
	for _, c := range recordColumns {
		switch c {
		case "id", "student_clever_id", "activity_id", "attempt_id", "created_at":
		default:
			set = append(set, c+" = u."+c)
		}
	}
	n, err := b.Exec(ctx, "UPDATE "+t+" SET "+strings.Join(set, ", ")+" FROM "+updateTable+" AS u WHERE "+match)
	if err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	if int(n) != len(vals) {
		return ErrConcurrent
	}
	return nil
}

// rollupTable stages what a write adds to progress_rollups.
const rollupTable = "progress_rollup_delta"

var rollupColumns = []string{"id", "district_id", "student_clever_id", "section_id", "school_id", "term_id", "records",
	"completed", "scored", "score_sum", "time_spent_seconds"}

// finish writes what the write added to progress_rollups, and returns its counts: the rollups of
// students who had no record before are appended (COPY on Postgres); the others are added to.
func (w *writer) finish(ctx context.Context) (Counts, error) {
	if err := w.flush(); err != nil {
		return Counts{}, err
	}
	for _, m := range w.moved {
		w.at(m.student, m.district, m.section, m.school, m.term).add(&m.old, -1)
	}
	n, err := w.writeRollups(ctx)
	if errors.Is(err, ErrConcurrent) {
		return Counts{}, err
	} else if err != nil {
		return Counts{}, fmt.Errorf("write progress rollups: %w", err)
	}
	if w.s.pg() && n >= 10_000 {
		// Many new sums: the planner learns of them now rather than when autovacuum comes by, so
		// that the next summary hashes the table's real size.
		if _, err := w.tx.bulk.Exec(ctx, "ANALYZE progress_rollups"); err != nil {
			return Counts{}, fmt.Errorf("write progress rollups: %w", err)
		}
	}
	return w.counts, nil
}

// writeRollups writes the write's sums and returns how many rows it wrote.
func (w *writer) writeRollups(ctx context.Context) (int, error) {
	b := w.tx.bulk
	var fresh, deltas [][]any
	districts := map[string]bool{}
	for id, r := range w.recorded {
		for _, p := range r.places {
			if p.sum == (rollupSum{}) {
				continue
			}
			v := []any{newID(), p.district, id, p.section, p.school, p.term, p.sum.records, p.sum.completed, p.sum.scored, p.sum.scoreSum, p.sum.timeSpent}
			if r.hadRecords {
				deltas = append(deltas, v)
				districts[p.district] = true
			} else {
				fresh = append(fresh, v)
			}
		}
	}
	if err := b.Insert(ctx, "progress_rollups", rollupColumns, fresh); err != nil {
		if uniqueViolation(err) {
			return 0, ErrConcurrent
		}
		return 0, err
	}
	if len(deltas) == 0 {
		return len(fresh), nil
	}
	if err := b.TempLike(ctx, rollupTable, "progress_rollups", rollupColumns...); err != nil {
		return 0, err
	}
	if err := b.Insert(ctx, rollupTable, rollupColumns, deltas); err != nil {
		return 0, err
	}
	cols := strings.Join(rollupColumns, ", ")
	var set []string
	for _, c := range rollupColumns[6:] {
		set = append(set, c+" = progress_rollups."+c+" + excluded."+c)
	}
	if _, err := b.Exec(ctx, "INSERT INTO progress_rollups ("+cols+") SELECT "+cols+" FROM "+rollupTable+
		" WHERE true ON CONFLICT (district_id, student_clever_id, section_id, school_id, term_id) DO UPDATE SET "+strings.Join(set, ", ")); err != nil {
		return 0, err
	}
	if w.changed { // a changed record may have left its old place
		ids := make([]string, 0, len(districts))
		for d := range districts {
			ids = append(ids, d)
		}
		if _, err := b.ExecIn(ctx, "DELETE FROM progress_rollups WHERE records <= 0 AND %s", nil, "district_id", ids); err != nil {
			return 0, err
		}
	}
	return len(fresh) + len(deltas), nil
}

// uniqueViolation reports whether err is a unique index's refusal.
func uniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// newID is an id like ent/schema's: 8 bytes of milliseconds then 8 random bytes, hex.
func newID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli()))
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}
