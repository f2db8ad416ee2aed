package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/csvin"
)

// Columns are the columns of a progress file, in the order export writes them. A header names them
// case- and punctuation-insensitively ("Student Clever ID", "student-clever-id"); Aliases lists the
// other names each is recognised by.
var Columns = []string{"student_clever_id", "activity_id", "attempt_id", "kind", "score", "max_score", "completed_at",
	"time_spent_seconds", "section_id", "data"}

// Aliases are other names of the columns.
var Aliases = map[string][]string{
	"student_clever_id":  {"clever_id", "student_id"},
	"attempt_id":         {"attempt"},
	"time_spent_seconds": {"time_spent", "time_spent_s", "duration_seconds"},
}

// required are the columns a file must have.
var required = []string{"student_clever_id", "activity_id", "kind", "completed_at"}

// batchSize is how many rows are staged at once: memory stays bounded whatever the file's size.
const batchSize = 10_000

// Import loads progress records from a CSV file (`rostermirror progress import`): streamed, checked
// whole, and written all or nothing in one transaction. A file with any problem changes nothing; the
// error (a *csvin.Error) lists the problems with their lines and columns. Idempotent as Record is.
func (s *Service) Import(ctx context.Context, r io.Reader, actor string) (Counts, error) {
	in, err := csvin.NewReader(r)
	if err != nil {
		return Counts{}, err
	}
	var problems csvin.Problems
	header, prob, err := in.Read()
	switch {
	case errors.Is(err, io.EOF):
		problems.Add(csvin.Problem{Line: 1, Message: "the file is empty: want a header row (" + strings.Join(Columns, ",") + ") and a row per record"})
		return Counts{}, problems.Err()
	case err != nil:
		return Counts{}, err
	case prob != nil:
		problems.Add(*prob)
		return Counts{}, problems.Err()
	}
	in.SetColumnNames(header)
	col, ignored := columnsOf(header, &problems)
	if problems.Len() > 0 {
		return Counts{}, problems.Err()
	}
	where := func(line int, field, msg string) csvin.Problem {
		i := col[field]
		if i < 0 {
			return csvin.Problem{Line: line, Message: field + ": " + msg}
		}
		return csvin.Problem{Line: line, Column: i + 1, ColumnName: header[i], Message: msg}
	}
	var counts Counts
	err = s.inTx(ctx, func(tx *txn) error {
		w, err := s.newWriter(ctx, tx, true, "line", where)
		if err != nil {
			return err
		}
		defer w.stop()
		// The file is read and its records checked on one goroutine while the batches before are
		// written on this one.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		batches := make(chan []row, 1)
		var records int
		var readErr error
		go func() {
			defer close(batches)
			records, readErr = readRows(ctx, in, col, &problems, where, batches)
		}()
		var writeErr error
		for b := range batches {
			if writeErr == nil {
				if writeErr = w.add(ctx, b); writeErr != nil {
					cancel() // the reader stops within 1,024 records; the loop drains what it sent
				}
			}
		}
		switch {
		case writeErr != nil:
			return writeErr
		case readErr != nil:
			return readErr
		}
		if records == 0 && problems.Len() == 0 {
			problems.Add(csvin.Problem{Line: 2, Message: "the file has a header and no records"})
		}
		all := csvin.Merge(problems, w.problems)
		if err := all.Err(); err != nil {
			return err
		}
		c, err := w.finish(ctx)
		if err != nil {
			return err
		}
		counts = c
		return audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: audit.ImportProgress, Target: "progress", Outcome: counts.String()})
	})
	if err != nil {
		return Counts{}, err
	}
	counts.Ignored = strings.Join(ignored, ", ")
	s.log.Info("progress imported", "created", counts.Created, "updated", counts.Updated, "unchanged", counts.Unchanged)
	return counts, nil
}

// readRows reads the file's records into batches of batchSize, sent on batches until the first problem
// (then the file is refused: the rest is read only for its problems); it returns how many records it read.
func readRows(ctx context.Context, in *csvin.Reader, col map[string]int, problems *csvin.Problems,
	where func(line int, field, msg string) csvin.Problem, batches chan<- []row) (int, error) {
	batch := make([]row, 0, batchSize)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case batches <- batch:
			batch = make([]row, 0, batchSize)
			return true
		case <-ctx.Done():
			return false
		}
	}
	records := 0
	for {
		rec, prob, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return records, err
		}
		if prob != nil {
			problems.Add(*prob)
			continue
		}
		if csvin.Blank(rec) {
			continue
		}
		records++
		if records%1024 == 0 && ctx.Err() != nil { // the write failed, or the caller gave up
			return records, ctx.Err()
		}
		r, ok := parseRow(rec, col, in.Line(), in, problems, where)
		if !ok || problems.Len() > 0 {
			batch = batch[:0] // nothing more is written: the file is refused; go on to find its other problems
			continue
		}
		batch = append(batch, r)
		if len(batch) == batchSize && !send() {
			return records, ctx.Err()
		}
	}
	if problems.Len() == 0 && !send() {
		return records, ctx.Err()
	}
	return records, nil
}

// columnsOf maps each column name of Columns to its index in header (-1 when absent), adding a problem
// for a column it does not know, a column given twice and a required one missing.
func columnsOf(header []string, problems *csvin.Problems) (col map[string]int, ignored []string) {
	known := map[string]string{}
	for _, c := range Columns {
		known[csvin.ColumnKey(c)] = c
		for _, a := range Aliases[c] {
			known[csvin.ColumnKey(a)] = c
		}
	}
	col = map[string]int{}
	for _, c := range Columns {
		col[c] = -1
	}
	for i, h := range header {
		c, ok := known[csvin.ColumnKey(h)]
		switch {
		case !ok: // an export's other columns (notes, names): left out, and said so
			ignored = append(ignored, h)
		case col[c] >= 0:
			problems.Add(csvin.Problem{Line: 1, Column: i + 1, ColumnName: h,
				Message: fmt.Sprintf("%s given twice (column %d is %s too)", c, col[c]+1, c)})
		default:
			col[c] = i
		}
	}
	for _, c := range required {
		if col[c] < 0 {
			msg := "no " + c + " column: every record needs one (header: " + strings.Join(Columns, ",") + ")"
			if len(ignored) > 0 {
				msg += "; the file's columns " + strings.Join(ignored, ", ") + " are none of these"
			}
			problems.Add(csvin.Problem{Line: 1, Message: msg})
		}
	}
	return col, ignored
}

// parseRow reads one record; its problems go to problems (ok is false when there are any).
func parseRow(rec []string, col map[string]int, line int, in *csvin.Reader, problems *csvin.Problems,
	where func(line int, field, msg string) csvin.Problem) (row, bool) {
	before := problems.Len()
	get := func(field string) string {
		i := col[field]
		if i < 0 {
			return ""
		}
		if p, bad := in.UTF8Problem(i, rec[i]); bad {
			problems.Add(p)
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	bad := func(field, msg string) { problems.Add(where(line, field, msg)) }
	r := row{line: line, student: strings.Clone(get("student_clever_id")), activity: strings.Clone(get("activity_id")),
		attempt: strings.Clone(get("attempt_id")), section: strings.Clone(get("section_id"))}
	kind := get("kind")
	if k, ok := parseKind(kind); ok {
		r.kind = k
	} else {
		r.kind = progressrecord.Kind(kind)
	}
	num := func(field string) *float64 {
		v := get(field)
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			bad(field, fmt.Sprintf("%q is not a number", v))
			return nil
		}
		return &f
	}
	r.score, r.maxScore = num("score"), num("max_score")
	if v := get("completed_at"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			bad("completed_at", fmt.Sprintf("%q: want an RFC 3339 time (2026-03-01T14:05:00Z) or a date (2026-03-01)", v))
			r.completedAt = time.Unix(0, 0) // reported already
		} else {
			r.completedAt = t
		}
	}
	if v := get("time_spent_seconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad("time_spent_seconds", fmt.Sprintf("%q: want a whole number of seconds", v))
		} else {
			r.timeSpent = &n
		}
	}
	if v := get("data"); v != "" {
		d, err := compactJSON(v)
		if err != nil {
			bad("data", "not JSON: "+err.Error())
		}
		r.data = d
	}
	r.check(bad)
	return r, problems.Len() == before
}

// parseKind reads a kind whatever its case and punctuation: completed (or complete), in_progress.
func parseKind(v string) (progressrecord.Kind, bool) {
	switch csvin.ColumnKey(v) {
	case "completed", "complete":
		return progressrecord.KindCOMPLETED, true
	case "inprogress":
		return progressrecord.KindIN_PROGRESS, true
	}
	return "", false
}

// parseTime reads an RFC 3339 time, or a date (midnight UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, v)
}
