// Package nodes resolves Relay node ids to the tables that hold them and loads the records. The node
// types are the GraphQL types that implement Node, and their tables ent's (ent.StorageTypes); ids are
// unique across those tables (Clever's across Clever's types, rostermirror's own random or derived from
// them). One UNION query over the tables answers for any number of ids, and the answers are cached: a row
// never changes table. A record whose type needs an API key scope (ent/schema RequiresScope: audit
// entries need admin) is refused to a key without it.
package nodes

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph/archive"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/store"
)

// cacheSize bounds the id → table cache (about 100 bytes an entry).
const cacheSize = 100_000

// Lookup finds the tables of node ids. It is safe for concurrent use.
type Lookup struct {
	db    *store.DB
	query string // the UNION over the node tables: (table, id) of the ids given as its one parameter
	cache *lru.Cache[string, string]
}

// NewLookup returns a Lookup over db for the ent types named types (the GraphQL types that implement
// Node). It panics when a type is not an ent type: a programming error.
func NewLookup(db *store.DB, types []string) *Lookup {
	cache, _ := lru.New[string, string](cacheSize)
	return &Lookup{db: db, query: unionQuery(db.Dialect, types), cache: cache}
}

// unionQuery selects (table, id) from each type's table where its key is one of the ids of the query's
// one parameter: an array on Postgres, a JSON array on SQLite.
func unionQuery(d string, types []string) string {
	in := "IN (SELECT value FROM json_each(?1))" // ?1 is the same parameter in every part
	if d == dialect.Postgres {
		in = "= ANY($1)"
	}
	parts := make([]string, 0, len(types))
	for _, name := range slices.Sorted(slices.Values(types)) {
		t := ent.StorageTypes[name]
		if t == nil {
			panic(fmt.Sprintf("nodes: node type %s is not an ent type", name))
		}
		part := fmt.Sprintf("SELECT '%s', %s FROM %s WHERE %s %s", t.Table, t.ID, t.Table, t.ID, in)
		parts = append(parts, part)
	}
	return strings.Join(parts, " UNION ALL ")
}

// Type is the table of id, or a not-found error: the function ent's Noder needs (ent.WithNodeType).
func (l *Lookup) Type(ctx context.Context, id string) (string, error) {
	found, err := l.Types(ctx, []string{id})
	if err != nil {
		return "", err
	}
	t, ok := found[id]
	if !ok {
		return "", errUnknownID()
	}
	return t, nil
}

// Types maps each id that names a row to its table, with one query for the ids not yet cached.
func (l *Lookup) Types(ctx context.Context, ids []string) (map[string]string, error) {
	found := make(map[string]string, len(ids))
	var missing []string
	for _, id := range ids {
		if t, ok := l.cache.Get(id); ok {
			found[id] = t
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return found, nil
	}
	arg, err := l.idsArg(missing)
	if err != nil {
		return nil, fmt.Errorf("resolve node types: %w", err)
	}
	rows, err := l.db.SQL.QueryContext(ctx, l.query, arg)
	if err != nil {
		return nil, fmt.Errorf("resolve node types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, id string
		if err := rows.Scan(&t, &id); err != nil {
			return nil, fmt.Errorf("resolve node types: %w", err)
		}
		found[id] = t
		l.cache.Add(id, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve node types: %w", err)
	}
	return found, nil
}

// idsArg is the query's parameter holding ids.
func (l *Lookup) idsArg(ids []string) (any, error) {
	if l.db.Dialect == dialect.Postgres {
		return pq.StringArray(ids), nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// errUnknownID is the error of an id that names no record. It does not repeat the id (the client sent
// it; an error echoes nothing of the request): its path says which one.
func errUnknownID() error {
	return &gqlerror.Error{Message: "no record has this id", Extensions: map[string]any{"code": "NOT_FOUND"}}
}

// byTable is each ent type's storage by table.
var byTable = func() map[string]*ent.StorageType {
	m := map[string]*ent.StorageType{}
	for _, t := range ent.StorageTypes {
		m[t.Table] = t
	}
	return m
}()

// allowed is nil when the request's API key may read records of table, and a scope error otherwise.
func allowed(ctx context.Context, table, id string) error {
	t := byTable[table]
	if t == nil || t.Scope == "" {
		return nil
	}
	if err := auth.Require(ctx, auth.Scope(t.Scope)); err != nil {
		return fmt.Errorf("node %s is a %s: %w", id, t.Name, err)
	}
	return nil
}

// Get is node(id): the record with id whatever its state (archived ones included, since an id names
// the record explicitly); the edges loaded below it hide archived records as everywhere else.
func (l *Lookup) Get(ctx context.Context, client *ent.Client, id string) (ent.Noder, error) {
	table, err := l.Type(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := allowed(ctx, table, id); err != nil {
		return nil, err
	}
	return client.Noder(archive.IncludeFirst(ctx), id, ent.WithFixedNodeType(table))
}

// GetAll is nodes(ids): the records in the order of ids, each whatever its state, with the edges below
// them hiding archived records. The ids' tables are found in one query, and each table's records are
// loaded as one Get does (one query for the records, then their edges), so the number of queries grows
// with the number of record types asked for, not of ids. An id that names nothing, or a record the API
// key may not read, gives null at its index and an error at its path.
func (l *Lookup) GetAll(ctx context.Context, client *ent.Client, ids []string) ([]ent.Noder, error) {
	found, err := l.Types(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ent.Noder, len(ids))
	byTableIdx := map[string][]int{} // table → indexes into ids
	var tables []string
	for i, id := range ids {
		table, ok := found[id]
		var refused error
		switch {
		case !ok:
			refused = errUnknownID()
		default:
			refused = allowed(ctx, table, id)
		}
		if refused != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), refused)
			continue
		}
		if _, ok := byTableIdx[table]; !ok {
			tables = append(tables, table)
		}
		byTableIdx[table] = append(byTableIdx[table], i)
	}
	for _, table := range tables {
		idx := byTableIdx[table]
		group := make([]string, len(idx))
		for j, i := range idx {
			group[j] = ids[i]
		}
		// ent's Noders loads one table's records in one query (the first under IncludeFirst). Its
		// ids all have a row (Types found them, and rows are never deleted), so it adds no errors
		// whose paths would be relative to the group.
		nodes, err := client.Noders(archive.IncludeFirst(ctx), group, ent.WithFixedNodeType(table))
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = nodes[j]
		}
	}
	return out, nil
}
