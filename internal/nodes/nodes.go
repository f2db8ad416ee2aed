// Package nodes resolves a Relay node id to the table that holds it. Ids have three shapes that live in
// disjoint tables: Clever ids (24 hex digits, unique across Clever's types) key the mirrored tables,
// "<user>/<role>" keys user_roles, and rostermirror's own 32-hex ids key memberships, runs and audit
// entries. One UNION query over the tables of the id's shape answers, and the answer is cached: a row
// never changes table.
package nodes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/archive"
	"github.com/rostermirror/rostermirror/internal/store"
)

type table struct{ name, key string }

var (
	mirrored = []table{{"districts", "clever_id"}, {"schools", "clever_id"}, {"terms", "clever_id"},
		{"courses", "clever_id"}, {"users", "clever_id"}, {"sections", "clever_id"}}
	roles = []table{{"user_roles", "id"}}
	own   = []table{{"role_schools", "id"}, {"section_teachers", "id"}, {"section_students", "id"},
		{"contact_relationships", "id"}, {"sync_runs", "id"}, {"audit_entries", "id"}}
)

// cacheSize bounds the id → table cache (about 100 bytes an entry).
const cacheSize = 100_000

// TypeFunc returns the function ent's Noder needs (ent.WithNodeType): id → table, or a not-found error.
func TypeFunc(db *store.DB) func(context.Context, string) (string, error) {
	queries := map[string]string{}
	for _, group := range [][]table{mirrored, roles, own} {
		parts := make([]string, len(group))
		for i, t := range group {
			ph := "?"
			if db.Dialect == dialect.Postgres {
				ph = fmt.Sprintf("$%d", i+1)
			}
			parts[i] = fmt.Sprintf("SELECT '%s' FROM %s WHERE %s = %s", t.name, t.name, t.key, ph)
		}
		queries[group[0].name] = strings.Join(parts, " UNION ALL ") + " LIMIT 1"
	}
	cache, _ := lru.New[string, string](cacheSize)
	return func(ctx context.Context, id string) (string, error) {
		if t, ok := cache.Get(id); ok {
			return t, nil
		}
		group := own
		switch {
		case strings.Contains(id, "/"):
			group = roles
		case len(id) == 24:
			group = mirrored
		}
		args := make([]any, len(group))
		for i := range args {
			args[i] = id
		}
		var t string
		switch err := db.SQL.QueryRowContext(ctx, queries[group[0].name], args...).Scan(&t); {
		case errors.Is(err, sql.ErrNoRows):
			return "", &ent.NotFoundError{}
		case err != nil:
			return "", fmt.Errorf("resolve node type: %w", err)
		}
		cache.Add(id, t)
		return t, nil
	}
}

// Get is node(id): the record with id whatever its state (archived ones included, since an id names
// the record explicitly); the edges loaded below it hide archived records as everywhere else.
func Get(ctx context.Context, client *ent.Client, id string, typeOf func(context.Context, string) (string, error)) (ent.Noder, error) {
	return client.Noder(archive.IncludeFirst(ctx), id, ent.WithNodeType(typeOf))
}

// GetAll is nodes(ids): the records in the order of ids, each whatever its state, with the edges below
// them hiding archived records. The ids are grouped by table and each group is loaded as one Get does
// (one query for the records, then their edges), so the number of queries grows with the number of
// record types asked for, not of ids. An id that names nothing gives null at its index and an error
// at its path.
func GetAll(ctx context.Context, client *ent.Client, ids []string, typeOf func(context.Context, string) (string, error)) ([]ent.Noder, error) {
	out := make([]ent.Noder, len(ids))
	byTable := map[string][]int{} // table → indexes into ids
	var tables []string
	for i, id := range ids {
		table, err := typeOf(ctx, id)
		if err != nil {
			if !ent.IsNotFound(err) {
				return nil, err
			}
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), entgql.ErrNodeNotFound(id))
			continue
		}
		if _, ok := byTable[table]; !ok {
			tables = append(tables, table)
		}
		byTable[table] = append(byTable[table], i)
	}
	for _, table := range tables {
		idx := byTable[table]
		group := make([]string, len(idx))
		for j, i := range idx {
			group[j] = ids[i]
		}
		// ent's Noders loads one table's records in one query (the first under IncludeFirst). Its
		// ids all have a row (typeOf found them, and rows are never deleted), so it adds no errors
		// whose paths would be relative to the group.
		nodes, err := client.Noders(archive.IncludeFirst(ctx), group, ent.WithNodeType(typeOf))
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = nodes[j]
		}
	}
	return out, nil
}
