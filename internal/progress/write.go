package progress

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
)

// Input is one progress record as recordProgress takes it (GraphQL's ProgressInput).
type Input struct {
	StudentCleverID  string              `json:"studentCleverId"`
	ActivityID       string              `json:"activityId"`
	AttemptID        *string             `json:"attemptId"`
	Kind             progressrecord.Kind `json:"kind"`
	Score            *float64            `json:"score"`
	MaxScore         *float64            `json:"maxScore"`
	CompletedAt      time.Time           `json:"completedAt"`
	TimeSpentSeconds *int                `json:"timeSpentSeconds"`
	SectionID        *string             `json:"sectionId"`
	// Data is the app's free payload: JSON text.
	Data *string `json:"data"`
}

// Counts is what a write did: records created, updated (a record replayed with a changed value) and
// unchanged (replayed as it was).
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Ignored names the file's columns that are none of Columns (an export's notes or names), comma
	// separated: left out of the records (Import only).
	Ignored string `json:"-"`
}

// Total is the number of records written.
func (c Counts) Total() int { return c.Created + c.Updated + c.Unchanged }

func (c Counts) String() string {
	s := fmt.Sprintf("%d records: %d created, %d updated, %d unchanged", c.Total(), c.Created, c.Updated, c.Unchanged)
	if c.Ignored != "" {
		s += "; columns ignored: " + c.Ignored
	}
	return s
}

// row is a validated record, staged with the line (file) or position (recordProgress) it came from.
type row struct {
	line        int
	student     string
	activity    string
	attempt     string
	kind        progressrecord.Kind
	score       *float64
	maxScore    *float64
	completedAt time.Time
	timeSpent   *int64
	section     string
	data        []byte // compact JSON, or nil
	hash        string
}

// Limits of the values (the columns' sizes).
const (
	maxIDLen       = 64
	maxActivityLen = 255
)

// check validates r's values and computes its hash; each problem is reported through bad with the
// name of the field at fault (the CSV column or GraphQL field).
func (r *row) check(bad func(field, msg string)) {
	if r.student == "" {
		bad("student_clever_id", "empty: every record names its student's Clever id")
	} else if len(r.student) > maxIDLen {
		bad("student_clever_id", fmt.Sprintf("too long (%d bytes, at most %d): not a Clever id", len(r.student), maxIDLen))
	}
	if r.activity == "" {
		bad("activity_id", "empty: every record names its activity")
	} else if len(r.activity) > maxActivityLen {
		bad("activity_id", fmt.Sprintf("too long (%d bytes, at most %d)", len(r.activity), maxActivityLen))
	}
	if len(r.attempt) > maxActivityLen {
		bad("attempt_id", fmt.Sprintf("too long (%d bytes, at most %d)", len(r.attempt), maxActivityLen))
	}
	if len(r.section) > maxIDLen {
		bad("section_id", fmt.Sprintf("too long (%d bytes, at most %d): not a Clever id", len(r.section), maxIDLen))
	}
	if progressrecord.KindValidator(r.kind) != nil {
		bad("kind", fmt.Sprintf("%q: want COMPLETED or IN_PROGRESS", r.kind))
	}
	if r.score != nil && (math.IsNaN(*r.score) || math.IsInf(*r.score, 0) || *r.score < 0) {
		bad("score", fmt.Sprintf("%v: want a number of 0 or more", *r.score))
	}
	if r.maxScore != nil && (math.IsNaN(*r.maxScore) || math.IsInf(*r.maxScore, 0) || *r.maxScore <= 0) {
		bad("max_score", fmt.Sprintf("%v: want a number above 0", *r.maxScore))
	}
	if r.completedAt.IsZero() {
		bad("completed_at", "empty: every record says when the work was done")
	} else if y := r.completedAt.Year(); y < 1970 || y > 9999 {
		bad("completed_at", fmt.Sprintf("%s: out of range", r.completedAt.Format(time.RFC3339)))
	}
	if r.timeSpent != nil && *r.timeSpent < 0 {
		bad("time_spent_seconds", fmt.Sprintf("%d: want 0 or more", *r.timeSpent))
	}
	r.completedAt = r.completedAt.UTC()
	r.hash = r.contentHash()
}

// contentHash is the sha-256 of everything the record was given with: a replay with the same hash
// changes nothing.
func (r *row) contentHash() string {
	h := sha256.New()
	f := func(v string) { h.Write([]byte(v)); h.Write([]byte{0}) }
	opt := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	f(string(r.kind))
	f(opt(r.score))
	f(opt(r.maxScore))
	f(r.completedAt.UTC().Format(time.RFC3339Nano))
	if r.timeSpent == nil {
		f("-")
	} else {
		f(strconv.FormatInt(*r.timeSpent, 10))
	}
	f(r.section)
	h.Write(r.data)
	return hex.EncodeToString(h.Sum(nil))
}

// compactJSON checks that s is JSON and returns it compacted ("" gives nil).
func compactJSON(s string) ([]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Record writes records (recordProgress; admin): all or none. Idempotent on (studentCleverId,
// activityId, attemptId): a record given again as it was changes nothing; given with a changed value,
// it is updated (and its section resolved again). Every problem is reported, each naming its record
// (1-based, in the order given) and field.
func (s *Service) Record(ctx context.Context, inputs []Input) (*Counts, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	var problems csvin.Problems
	rows := make([]row, 0, len(inputs))
	for i, in := range inputs {
		r := row{line: i + 1, student: strings.TrimSpace(in.StudentCleverID), activity: strings.TrimSpace(in.ActivityID),
			kind: in.Kind, score: in.Score, maxScore: in.MaxScore, completedAt: in.CompletedAt}
		bad := func(field, msg string) {
			problems.Add(csvin.Problem{Message: fmt.Sprintf("record %d: %s: %s", i+1, graphName(field), msg)})
		}
		if in.AttemptID != nil {
			r.attempt = strings.TrimSpace(*in.AttemptID)
		}
		if in.SectionID != nil {
			r.section = strings.TrimSpace(*in.SectionID)
		}
		if in.TimeSpentSeconds != nil {
			v := int64(*in.TimeSpentSeconds)
			r.timeSpent = &v
		}
		if in.Data != nil {
			d, err := compactJSON(*in.Data)
			if err != nil {
				bad("data", "not JSON: "+err.Error())
			}
			r.data = d
		}
		r.check(bad)
		rows = append(rows, r)
	}
	if len(inputs) == 0 {
		problems.Add(csvin.Problem{Message: "no records given"})
	}
	if err := problems.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Replace(err.Error(), "the file has", "the request has", 1))
	}
	var counts Counts
	err := s.inTx(ctx, func(tx *txn) error {
		w, err := s.newWriter(ctx, tx, false, "record", nil)
		if err != nil {
			return err
		}
		defer w.stop()
		if err := w.add(ctx, rows); err != nil {
			return err
		}
		if err := w.problems.Err(); err != nil {
			return fmt.Errorf("%w: %s", ErrInvalid, strings.Replace(err.Error(), "the file has", "the request has", 1))
		}
		c, err := w.finish(ctx)
		if err != nil {
			return err
		}
		counts = c
		return audit.Record(ctx, tx.Client, audit.Entry{Actor: auth.Actor(ctx), Action: audit.RecordProgress,
			Target: "progress", Outcome: c.String()})
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("progress recorded", "created", counts.Created, "updated", counts.Updated, "unchanged", counts.Unchanged)
	return &counts, nil
}

// graphName is a CSV column's GraphQL name (ProgressInput's field).
func graphName(column string) string {
	parts := strings.Split(column, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
