package mirror

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

// txWriter runs one record type's writes inside its transaction, in the database's own fast way: on
// Postgres rows go in with COPY (into a temporary staging table first when they may conflict), on SQLite
// with multi-row statements.
type txWriter struct {
	tx     *sql.Tx
	pg     bool
	now    time.Time
	staged map[string]bool // staging tables created in this transaction
}

// sqliteMaxParams stays under SQLite's limit of bound parameters per statement (32766).
const sqliteMaxParams = 32000

// chunkSize is how many ids one statement names when a list of ids may be long (a district's worth of
// held archives or ended memberships): well under SQLite's parameter limit, and a bounded statement on
// Postgres.
const chunkSize = 5000

func (w *txWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := w.tx.ExecContext(ctx, w.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", firstWords(query), err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// rebind turns ? placeholders into $n on Postgres.
func (w *txWriter) rebind(query string) string {
	if !w.pg || !strings.Contains(query, "?") {
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

// in renders "column IN (ids)" as one array parameter on Postgres and as a list on SQLite.
func (w *txWriter) in(column string, ids []string) (string, []any) {
	if w.pg {
		return column + " = ANY(?)", []any{pq.StringArray(ids)}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// execIn runs query once per chunk of ids, with the chunk's "column IN (ids)" condition (w.in) in place
// of the query's single %s and args before the chunk's own; it returns the rows affected in all.
func (w *txWriter) execIn(ctx context.Context, query string, args []any, column string, ids []string) (int64, error) {
	var n int64
	for start := 0; start < len(ids); start += chunkSize {
		cond, in := w.in(column, ids[start:min(start+chunkSize, len(ids))])
		k, err := w.exec(ctx, fmt.Sprintf(query, cond), append(slices.Clone(args), in...)...)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// tempTable creates a transaction-scoped temporary table once.
func (w *txWriter) tempTable(ctx context.Context, name, definition string) error {
	if w.staged[name] {
		return nil
	}
	ddl := "CREATE TEMP TABLE " + name + " " + definition
	if w.pg {
		ddl += " ON COMMIT DROP"
	}
	if _, err := w.exec(ctx, ddl); err != nil {
		return err
	}
	w.staged[name] = true
	return nil
}

// dropTemp drops the temporary tables before the transaction ends (Postgres drops them on commit; SQLite
// keeps temporary tables for the connection's life).
func (w *txWriter) dropTemp(ctx context.Context) error {
	if w.pg {
		return nil
	}
	for name := range w.staged {
		if _, err := w.exec(ctx, "DROP TABLE IF EXISTS temp."+name); err != nil {
			return err
		}
	}
	return nil
}

// insert appends rows to table.
func (w *txWriter) insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if w.pg {
		return w.copyIn(ctx, table, columns, rows)
	}
	return w.insertValues(ctx, "INSERT INTO "+table, columns, rows, "")
}

// upsert writes rows keyed by conflict, replacing every other column of an existing row except
// created_at.
func (w *txWriter) upsert(ctx context.Context, table string, columns []string, conflict string, rows [][]any) error {
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
	if !w.pg {
		return w.insertValues(ctx, "INSERT INTO "+table, columns, rows, onConflict)
	}
	stage := "stage_" + table
	if err := w.tempTable(ctx, stage, "(LIKE "+table+" INCLUDING DEFAULTS)"); err != nil {
		return err
	}
	if _, err := w.exec(ctx, "TRUNCATE "+stage); err != nil {
		return err
	}
	if err := w.copyIn(ctx, stage, columns, rows); err != nil {
		return err
	}
	cols := strings.Join(columns, ", ")
	_, err := w.exec(ctx, "INSERT INTO "+table+" ("+cols+") SELECT "+cols+" FROM "+stage+onConflict)
	return err
}

// copyIn streams rows into a Postgres table with COPY.
func (w *txWriter) copyIn(ctx context.Context, table string, columns []string, rows [][]any) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := w.tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	defer stmt.Close()
	for _, row := range rows {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// insertValues writes rows with multi-row INSERT … VALUES statements sized under SQLite's parameter limit.
func (w *txWriter) insertValues(ctx context.Context, head string, columns []string, rows [][]any, tail string) error {
	per := max(1, sqliteMaxParams/len(columns))
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
		if _, err := w.exec(ctx, q.String(), args...); err != nil {
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
