// Package bulk writes many rows at once in each database's fast way — COPY on Postgres, multi-row
// statements on SQLite — for the code that writes its own SQL over ent's tables: the sync engine
// (sync/mirror) and matching (internal/apprecord).
package bulk

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Writer runs writes inside a transaction in the database's own fast way: on Postgres rows go in with
// COPY (into a temporary staging table first when they may conflict), on SQLite with multi-row
// statements. Statements are written with ? placeholders (Rebind turns them into $n on Postgres).
type Writer struct {
	Tx      *sql.Tx
	PG      bool
	staged  map[string]bool   // staging tables created in this transaction
	updates map[string]string // Update's staging tables, and their columns
}

// New returns a Writer on tx; pg says whether tx is a Postgres transaction (else SQLite).
func New(tx *sql.Tx, pg bool) *Writer { return &Writer{Tx: tx, PG: pg, staged: map[string]bool{}} }

// SQLiteMaxParams stays under SQLite's limit of bound parameters per statement (32766).
const SQLiteMaxParams = 32000

// ChunkSize is how many ids one statement names when a list of ids may be long (a district's worth of
// held archives or ended memberships): well under SQLite's parameter limit, and a bounded statement on
// Postgres.
const ChunkSize = 5000

func (w *Writer) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := w.Tx.ExecContext(ctx, w.Rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", firstWords(query), err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Rebind turns ? placeholders into $n on Postgres.
func (w *Writer) Rebind(query string) string {
	if !w.PG || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// In renders "column IN (ids)" as one array parameter on Postgres and as a list on SQLite.
func (w *Writer) In(column string, ids []string) (string, []any) {
	if w.PG {
		return column + " = ANY(?)", []any{pq.StringArray(ids)}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// ExecIn runs query once per chunk of ids, with the chunk's "column IN (ids)" condition (w.in) in place
// of the query's single %s and args before the chunk's own; it returns the rows affected in all.
func (w *Writer) ExecIn(ctx context.Context, query string, args []any, column string, ids []string) (int64, error) {
	var n int64
	for start := 0; start < len(ids); start += ChunkSize {
		cond, in := w.In(column, ids[start:min(start+ChunkSize, len(ids))])
		k, err := w.Exec(ctx, fmt.Sprintf(query, cond), append(slices.Clone(args), in...)...)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// TempTable creates a transaction-scoped temporary table once.
func (w *Writer) TempTable(ctx context.Context, name, definition string) error {
	if w.staged[name] {
		return nil
	}
	ddl := "CREATE TEMP TABLE " + name + " " + definition
	if w.PG {
		ddl += " ON COMMIT DROP"
	}
	if _, err := w.Exec(ctx, ddl); err != nil {
		return err
	}
	w.staged[name] = true
	return nil
}

// DropTemp drops the temporary tables before the transaction ends (Postgres drops them on commit; SQLite
// keeps temporary tables for the connection's life).
func (w *Writer) DropTemp(ctx context.Context) error {
	if w.PG {
		return nil
	}
	for name := range w.staged {
		if _, err := w.Exec(ctx, "DROP TABLE IF EXISTS temp."+name); err != nil {
			return err
		}
	}
	return nil
}

// Insert appends rows to table.
func (w *Writer) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if w.PG {
		return w.CopyIn(ctx, table, columns, rows)
	}
	return w.InsertValues(ctx, "INSERT INTO "+table, columns, rows, "")
}

// Upsert writes rows keyed by conflict, replacing every other column of an existing row except
// created_at.
func (w *Writer) Upsert(ctx context.Context, table string, columns []string, conflict string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	var set []string
	for _, c := range columns {
		if c != conflict && c != "created_at" {
			set = append(set, c+" = excluded."+c)
		}
	}
	onConflict := " ON CONFLICT (" + conflict + ") DO UPDATE SET " + strings.Join(set, ", ")
	if !w.PG {
		return w.InsertValues(ctx, "INSERT INTO "+table, columns, rows, onConflict)
	}
	stage := "stage_" + table
	if err := w.TempTable(ctx, stage, "(LIKE "+table+" INCLUDING DEFAULTS)"); err != nil {
		return err
	}
	if _, err := w.Exec(ctx, "TRUNCATE "+stage); err != nil {
		return err
	}
	if err := w.CopyIn(ctx, stage, columns, rows); err != nil {
		return err
	}
	cols := strings.Join(columns, ", ")
	_, err := w.Exec(ctx, "INSERT INTO "+table+" ("+cols+") SELECT "+cols+" FROM "+stage+onConflict)
	return err
}

// CopyIn streams rows into a Postgres table with COPY.
func (w *Writer) CopyIn(ctx context.Context, table string, columns []string, rows [][]any) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := w.Tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	defer stmt.Close()
	// Rows written together mostly carry the same instants (a sync's now): each is formatted once.
	var lastTime time.Time
	var lastText string
	args := make([]any, 0, len(columns))
	for _, row := range rows {
		args = append(args[:0], row...)
		for i, v := range args {
			if t, ok := v.(time.Time); ok {
				if t != lastTime || lastText == "" {
					lastTime, lastText = t, string(pq.FormatTimestamp(t))
				}
				args[i] = lastText
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// InsertValues writes rows with multi-row INSERT … VALUES statements sized under SQLite's parameter limit.
func (w *Writer) InsertValues(ctx context.Context, head string, columns []string, rows [][]any, tail string) error {
	per := max(1, SQLiteMaxParams/len(columns))
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var q strings.Builder
		q.WriteString(head + " (" + strings.Join(columns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(columns))
		for i, row := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(tuple)
			args = append(args, row...)
		}
		q.WriteString(tail)
		if _, err := w.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// firstWords names a statement in an error without its (possibly long) text.
func firstWords(query string) string {
	f := strings.Fields(query)
	return strings.Join(f[:min(len(f), 4)], " ")
}

// Update sets columns[1:] of table's rows from rows, each row's first value naming the row by
// columns[0] (its key): the rows are staged into a temporary table (COPY on Postgres, multi-row INSERT on
// SQLite), then applied by one UPDATE … FROM. A row whose key matches nothing changes nothing.
func (w *Writer) Update(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	stage := "stage_update_" + table
	cols := strings.Join(columns, ", ")
	if prev, ok := w.updates[stage]; ok && prev != cols {
		if _, err := w.Exec(ctx, "DROP TABLE "+stage); err != nil {
			return err
		}
		delete(w.updates, stage)
		delete(w.staged, stage)
	}
	if _, ok := w.updates[stage]; !ok {
		if err := w.TempLike(ctx, stage, table, columns...); err != nil {
			return err
		}
		if w.updates == nil {
			w.updates = map[string]string{}
		}
		w.updates[stage] = cols
	} else if _, err := w.Exec(ctx, "DELETE FROM "+stage); err != nil {
		return err
	}
	if w.PG {
		if err := w.CopyIn(ctx, stage, columns, rows); err != nil {
			return err
		}
	} else if err := w.InsertValues(ctx, "INSERT INTO "+stage, columns, rows, ""); err != nil {
		return err
	}
	set := make([]string, 0, len(columns)-1)
	for _, c := range columns[1:] {
		set = append(set, c+" = s."+c)
	}
	_, err := w.Exec(ctx, "UPDATE "+table+" SET "+strings.Join(set, ", ")+" FROM "+stage+" AS s WHERE "+table+"."+columns[0]+" = s."+columns[0])
	return err
}

// TempLike creates the temporary table name with columns of table (all of them when none are named)
// and none of its rows, indexes or constraints, once per transaction: rows staged there are cheap to
// write (no index, and on Postgres no WAL) and go into a real table with one statement.
func (w *Writer) TempLike(ctx context.Context, name, table string, columns ...string) error {
	if w.staged[name] {
		return nil
	}
	cols := "*"
	if len(columns) > 0 {
		cols = strings.Join(columns, ", ")
	}
	ddl := "CREATE TEMP TABLE " + name
	if w.PG {
		ddl += " ON COMMIT DROP"
	}
	if _, err := w.Exec(ctx, ddl+" AS SELECT "+cols+" FROM "+table+" WHERE 1 = 0"); err != nil {
		return err
	}
	w.staged[name] = true
	return nil
}
