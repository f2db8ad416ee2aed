// Package nodes resolves Relay node ids to the tables that hold them and loads the records. Ids have
// three shapes that live in disjoint tables: Clever ids (24 hex digits, unique across Clever's types) key
// the mirrored tables, "<user>/<role>" keys user_roles, and rostermirror's own 32-hex ids key memberships,
// runs and audit entries. One UNION query over the tables of the ids' shape answers for any number of
// ids, and the answers are cached: a row never changes table. A record whose type needs an API key
// scope (ent/schema RequiresScope: audit entries need admin) is refused to a key without it.
package nodes

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/archive"
	"github.com/rostermirror/rostermirror/internal/auth"
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

// Lookup finds the tables of node ids. It is safe for concurrent use.
type Lookup struct {
	db    *store.DB
	cache *lru.Cache[string, string]
}

// NewLookup returns a Lookup over db.
func NewLookup(db *store.DB) *Lookup {
	cache, _ := lru.New[string, string](cacheSize)
	return &Lookup{db: db, cache: cache}
}

// shape is the group of tables an id of its shape can be in.
func shape(id string) []table {
	switch {
	case strings.Contains(id, "/"):
		return roles
	case len(id) == 24:
		return mirrored
	}
	return own
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

// Types maps each id that names a row to its table, with one query per shape of id not yet cached.
func (l *Lookup) Types(ctx context.Context, ids []string) (map[string]string, error) {
	found := make(map[string]string, len(ids))
	missing := map[string][]string{} // first table of the shape → ids
	for _, id := range ids {
		if t, ok := l.cache.Get(id); ok {
			found[id] = t
			continue
		}
		g := shape(id)
		missing[g[0].name] = append(missing[g[0].name], id)
	}
	for _, group := range [][]table{mirrored, roles, own} {
		want := missing[group[0].name]
		if len(want) == 0 {
			continue
		}
		query, args := l.query(group, want)
		rows, err := l.db.SQL.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("resolve node types: %w", err)
		}
		for rows.Next() {
			var t, id string
			if err := rows.Scan(&t, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("resolve node types: %w", err)
			}
			found[id] = t
			l.cache.Add(id, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("resolve node types: %w", err)
		}
	}
	return found, nil
}

// query is the UNION over the group's tables of the rows keyed by ids: (table, id).
func (l *Lookup) query(group []table, ids []string) (string, []any) {
	parts := make([]string, len(group))
	var args []any
	if l.db.Dialect == dialect.Postgres {
		args = []any{pq.StringArray(ids)}
		for i, t := range group {
			parts[i] = fmt.Sprintf("SELECT '%s', %s FROM %s WHERE %s = ANY($1)", t.name, t.key, t.name, t.key)
		}
		return strings.Join(parts, " UNION ALL "), args
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	for i, t := range group {
		parts[i] = fmt.Sprintf("SELECT '%s', %s FROM %s WHERE %s IN (%s)", t.name, t.key, t.name, t.key, in)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return strings.Join(parts, " UNION ALL "), args
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
// them hiding archived records. The ids' tables are found in one query per shape of id, and each
// table's records are loaded as one Get does (one query for the records, then their edges), so the
// number of queries grows with the number of record types asked for, not of ids. An id that names
// nothing, or a record the API key may not read, gives null at its index and an error at its path.
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
