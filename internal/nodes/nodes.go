// Package nodes resolves a Relay node id to the table that holds it. Mirrored records are keyed by Clever
// ids, which are unique across Clever's types; other rows have ids of their own shape. One UNION query
// answers which table holds the id.
package nodes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/store"
)

// tables lists every table a node can come from, with its key column.
var tables = []struct{ table, key string }{
	{"districts", "clever_id"}, {"schools", "clever_id"}, {"terms", "clever_id"}, {"courses", "clever_id"},
	{"users", "clever_id"}, {"sections", "clever_id"}, {"user_roles", "id"}, {"role_schools", "id"},
	{"section_teachers", "id"}, {"section_students", "id"}, {"contact_relationships", "id"},
	{"sync_runs", "id"}, {"audit_entries", "id"},
}

// TypeFunc returns the function ent's Noder needs (ent.WithNodeType): id → table, or a not-found error.
func TypeFunc(db *store.DB) func(context.Context, string) (string, error) {
	parts := make([]string, len(tables))
	for i, t := range tables {
		ph := "?"
		if db.Dialect == dialect.Postgres {
			ph = fmt.Sprintf("$%d", i+1)
		}
		parts[i] = fmt.Sprintf("SELECT '%s' FROM %s WHERE %s = %s", t.table, t.table, t.key, ph)
	}
	query := strings.Join(parts, " UNION ALL ") + " LIMIT 1"
	return func(ctx context.Context, id string) (string, error) {
		args := make([]any, len(tables))
		for i := range args {
			args[i] = id
		}
		var table string
		switch err := db.SQL.QueryRowContext(ctx, query, args...).Scan(&table); {
		case errors.Is(err, sql.ErrNoRows):
			return "", &ent.NotFoundError{}
		case err != nil:
			return "", fmt.Errorf("resolve node type: %w", err)
		}
		return table, nil
	}
}
