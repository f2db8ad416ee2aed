package progress

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/rostermirror/rostermirror/internal/csvin"
)

// stageTable holds a write's records in its transaction (COPY on Postgres) until they are checked
// against the mirror and upserted with one statement.
const stageTable = "progress_stage"

var stageColumns = []string{"line", "id", "student_clever_id", "activity_id", "attempt_id", "kind", "score", "max_score",
	"completed_at", "completed_day", "time_spent_seconds", "section_id", "data", "content_hash"}

// stage is one write's staged records.
type stage struct {
	s    *Service
	tx   *txn
	n    int
	item string // "record" (recordProgress) or "line" (a file)
	// problem makes the problem of a staged record's field (nil: "record N: field: message").
	problem func(line int, field, msg string) csvin.Problem
}

func (st *stage) begin(ctx context.Context) error {
	def := `(line bigint, id text, student_clever_id text, activity_id text, attempt_id text, kind text,
		score double precision, max_score double precision, completed_at timestamptz, completed_day timestamptz,
		time_spent_seconds bigint, section_id text, data text, content_hash text)`
	if !st.s.pg() {
		def = `(line INTEGER, id TEXT, student_clever_id TEXT, activity_id TEXT, attempt_id TEXT, kind TEXT,
		score REAL, max_score REAL, completed_at DATETIME, completed_day DATETIME, time_spent_seconds INTEGER,
		section_id TEXT, data TEXT, content_hash TEXT)`
	}
	if err := st.tx.bulk.TempTable(ctx, stageTable, def); err != nil {
		return fmt.Errorf("stage progress: %w", err)
	}
	if st.problem == nil {
		st.problem = func(line int, field, msg string) csvin.Problem {
			return csvin.Problem{Message: fmt.Sprintf("record %d: %s: %s", line, graphName(field), msg)}
		}
	}
	return nil
}

// add stages rows.
func (st *stage) add(ctx context.Context, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	vals := make([][]any, len(rows))
	for i, r := range rows {
		var score, maxScore, spent, data any
		if r.score != nil {
			score = *r.score
		}
		if r.maxScore != nil {
			maxScore = *r.maxScore
		}
		if r.timeSpent != nil {
			spent = *r.timeSpent
		}
		if r.data != nil {
			data = string(r.data)
		}
		day := time.Date(r.completedAt.Year(), r.completedAt.Month(), r.completedAt.Day(), 0, 0, 0, 0, time.UTC)
		vals[i] = []any{int64(r.line), newID(), r.student, r.activity, r.attempt, string(r.kind), score, maxScore,
			r.completedAt, day, spent, r.section, data, r.hash}
	}
	st.n += len(rows)
	if err := st.tx.bulk.Insert(ctx, stageTable, stageColumns, vals); err != nil {
		return fmt.Errorf("stage progress: %w", err)
	}
	return nil
}

// check finds what the mirror refuses: a key given twice, a student the mirror does not know, a given
// section that is not of the student's district.
func (st *stage) check(ctx context.Context) (csvin.Problems, error) {
	var problems csvin.Problems
	if st.s.pg() && st.n >= 10_000 {
		if _, err := st.tx.bulk.Exec(ctx, "ANALYZE "+stageTable); err != nil {
			return problems, err
		}
	}
	type found struct {
		line  int
		field string
		msg   string
	}
	queries := []struct {
		sql   string
		field string
		msg   func(a, b string) string
	}{
		{`SELECT MAX(line), MIN(line), '' FROM ` + stageTable + ` GROUP BY student_clever_id, activity_id, attempt_id
			HAVING COUNT(*) > 1 ORDER BY MAX(line) LIMIT 51`, "attempt_id",
			func(first, _ string) string {
				return fmt.Sprintf("the same student, activity and attempt as %s %s: give each attempt its own attempt_id", st.item, first)
			}},
		{`SELECT s.line, s.student_clever_id, '' FROM ` + stageTable + ` s
			LEFT JOIN clever_id_aliases a ON a.former_clever_id = s.student_clever_id
			LEFT JOIN user_roles r ON r.id = COALESCE(a.clever_id, s.student_clever_id) || '/student'
			WHERE r.id IS NULL ORDER BY s.line LIMIT 51`, "student_clever_id",
			func(id, _ string) string {
				return fmt.Sprintf("%q is no student of the mirror (not shared with the app yet, or not a student): record it after the sync that brings the student", id)
			}},
		{`SELECT s.line, s.section_id, u.district_id FROM ` + stageTable + ` s
			LEFT JOIN clever_id_aliases a ON a.former_clever_id = s.student_clever_id
			JOIN users u ON u.clever_id = COALESCE(a.clever_id, s.student_clever_id)
			WHERE s.section_id <> '' AND NOT EXISTS (SELECT 1 FROM sections sc WHERE sc.clever_id = s.section_id AND sc.district_id = u.district_id)
			ORDER BY s.line LIMIT 51`, "section_id",
			func(id, district string) string {
				return fmt.Sprintf("%q is no section of the student's district %s", id, district)
			}},
	}
	var all []found
	for _, q := range queries {
		rows, err := st.tx.bulk.Tx.QueryContext(ctx, q.sql)
		if err != nil {
			return problems, fmt.Errorf("check progress: %w", err)
		}
		for rows.Next() {
			var line int
			var a, b string
			if err := rows.Scan(&line, &a, &b); err != nil {
				rows.Close()
				return problems, fmt.Errorf("check progress: %w", err)
			}
			all = append(all, found{line, q.field, q.msg(a, b)})
		}
		if err := rows.Close(); err != nil {
			return problems, fmt.Errorf("check progress: %w", err)
		}
	}
	sortFound(all, func(f found) int { return f.line })
	for _, f := range all {
		problems.Add(st.problem(f.line, f.field, f.msg))
	}
	return problems, nil
}

// apply checks the staged records and upserts them; a problem fails the whole write.
func (st *stage) apply(ctx context.Context) (Counts, error) {
	problems, err := st.check(ctx)
	if err != nil {
		return Counts{}, err
	}
	if err := problems.Err(); err != nil {
		return Counts{}, fmt.Errorf("%w: %s", ErrInvalid, err.Error())
	}
	return st.upsert(ctx)
}

// upsert writes the staged records: each new one is created; one whose key exists is updated when its
// content hash differs, and left as it is (updated_at included) when it is the same.
func (st *stage) upsert(ctx context.Context) (Counts, error) {
	var created int
	if st.s.pg() && st.n >= 10_000 {
		// The join and pick of many records sort and hash in memory rather than in files (this
		// transaction only).
		if _, err := st.tx.bulk.Exec(ctx, "SET LOCAL work_mem = '128MB'"); err != nil {
			return Counts{}, fmt.Errorf("write progress: %w", err)
		}
	}
	if err := st.tx.bulk.Tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+stageTable+` s WHERE NOT EXISTS (SELECT 1 FROM progress_records p
		WHERE p.student_clever_id = s.student_clever_id AND p.activity_id = s.activity_id AND p.attempt_id = s.attempt_id)`).Scan(&created); err != nil {
		return Counts{}, fmt.Errorf("count new progress: %w", err)
	}
	data := "x.data"
	if st.s.pg() {
		data = "x.data::jsonb"
	}
	now := st.s.now().UTC()
	q := `WITH x AS (
		SELECT s.*, u.clever_id AS cur, u.district_id AS district_id, r.school_id AS primary_school, r.grade AS grade
		FROM ` + stageTable + ` s
		LEFT JOIN clever_id_aliases a ON a.former_clever_id = s.student_clever_id
		JOIN users u ON u.clever_id = COALESCE(a.clever_id, s.student_clever_id)
		LEFT JOIN user_roles r ON r.id = u.clever_id || '/student'
	), ` + resolved(st.s.pg()) + `
	INSERT INTO progress_records (id, student_clever_id, activity_id, attempt_id, kind, score, max_score, completed_at,
		time_spent_seconds, data, district_id, section_id, section_given, school_id, term_id, grade, content_hash, created_at, updated_at)
	SELECT x.id, x.student_clever_id, x.activity_id, x.attempt_id, x.kind, x.score, x.max_score, x.completed_at,
		x.time_spent_seconds, ` + data + `, x.district_id, x.sec, x.section_id <> '', COALESCE(sec.school_id, x.primary_school), sec.term_id,
		COALESCE(x.grade, ''), x.content_hash, ?, ?
	FROM (SELECT x.*, CASE WHEN x.section_id <> '' THEN x.section_id ELSE rs.section_id END AS sec
		FROM x LEFT JOIN resolved rs ON rs.line = x.line) x
	LEFT JOIN sections sec ON sec.clever_id = x.sec
	WHERE true
	ORDER BY x.student_clever_id, x.activity_id, x.attempt_id
	ON CONFLICT (student_clever_id, activity_id, attempt_id) DO UPDATE SET kind = excluded.kind, score = excluded.score,
		max_score = excluded.max_score, completed_at = excluded.completed_at, time_spent_seconds = excluded.time_spent_seconds,
		data = excluded.data, district_id = excluded.district_id, section_id = excluded.section_id,
		section_given = excluded.section_given, school_id = excluded.school_id, term_id = excluded.term_id,
		grade = excluded.grade, content_hash = excluded.content_hash, updated_at = excluded.updated_at
	WHERE progress_records.content_hash <> excluded.content_hash`
	written, err := st.tx.bulk.Exec(ctx, q, now, now)
	if err != nil {
		return Counts{}, fmt.Errorf("write progress: %w", err)
	}
	c := Counts{Created: created, Updated: int(written) - created}
	c.Unchanged = st.n - c.Created - c.Updated
	return c, nil
}

// resolved is a CTE, "resolved (line, section_id)", over the CTE x of the staged records with their
// student's current id (cur): for each record without a section given, the section it was earned in,
// from the enrollment history of its student (under the id recorded and the current one) at
// completed_at — an enrollment not ended by then, and either begun by then, or in a section whose term
// covers the day, or begun when its section entered the mirror (a district's first sync sees every
// enrollment begin then: when it really began is unknown) in a section whose term had begun by then
// or that has no term. Of several, the one whose term covers the day, then the oldest enrollment, then the
// smallest section id. Set-based: one join of the records with their students' enrollments, one pick
// per record (DISTINCT ON on Postgres, ROW_NUMBER on SQLite); a record with no such enrollment has no
// row.
func resolved(pg bool) string {
	candidates := `SELECT x.line, ss.section_id, ss.started_at,
			CASE WHEN t.start_date <= x.completed_at AND (t.end_date IS NULL OR t.end_date >= x.completed_day) THEN 0 ELSE 1 END AS pref
		FROM (SELECT line, completed_at, completed_day, student_clever_id AS user_id FROM x WHERE section_id = ''
			UNION ALL SELECT line, completed_at, completed_day, cur FROM x WHERE section_id = '' AND cur <> student_clever_id) x
		JOIN section_students ss ON ss.user_id = x.user_id
		LEFT JOIN sections sc ON sc.clever_id = ss.section_id
		LEFT JOIN terms t ON t.clever_id = sc.term_id
		WHERE (ss.ended_at IS NULL OR ss.ended_at > x.completed_at)
			AND (ss.started_at <= x.completed_at OR (t.start_date <= x.completed_at AND (t.end_date IS NULL OR t.end_date >= x.completed_day))
				OR (ss.started_at = sc.created_at AND (t.start_date IS NULL OR t.start_date <= x.completed_at)))`
	if pg {
		return `resolved AS (SELECT DISTINCT ON (c.line) c.line, c.section_id FROM (` + candidates + `) c
		ORDER BY c.line, c.pref, c.started_at, c.section_id)`
	}
	return `resolved AS (SELECT c.line, c.section_id FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.line
		ORDER BY c.pref, c.started_at, c.section_id) AS n FROM (` + candidates + `) c) c WHERE c.n = 1)`
}

// newID is an id like ent/schema's: 8 bytes of milliseconds then 8 random bytes, hex.
func newID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli()))
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

// sortFound sorts by key, stably.
func sortFound[T any](s []T, key func(T) int) {
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}
