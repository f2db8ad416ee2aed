// Package sqljson compiles a GraphQL query over the mirror into one Postgres statement that builds the
// whole JSON answer in the database, the way PostGraphile does. It covers the part of the schema that
// maps directly onto ent's tables (ent.StorageTypes): node(id), the root connections, scalar fields,
// unique and list edges, and connections paged with first (edges.node, totalCount, pageInfo's flags).
// Anything else — hand-written resolvers, where/orderBy, cursors, last, mutations, introspection,
// @defer — is not compiled: Compile reports ErrNotCompiled and the caller runs the query through
// gqlgen's resolvers, which remain the reference semantics. The compiled answer is byte-for-byte the
// resolvers' answer; graph's tests check that over a corpus of queries.
//
// Records the resolvers would fail on (a required edge whose record is archived or not mirrored, a
// node that vanished) are not reproduced: the statement puts a marker in its output instead, and
// Answer reports ErrNotCompiled so the resolvers produce their error.
package sqljson

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rostermirror/rostermirror/ent"
)

// ErrNotCompiled says the query is outside what the compiler covers (or needs the resolvers'
// error): run it through the resolvers.
var ErrNotCompiled = errors.New("sqljson: query not compiled")

// marker is what a compiled statement outputs where the resolvers would answer an error: a JSON
// string no mirrored text can produce unless it holds U+0001 followed by these words (and then the
// resolvers answer, which is merely slower).
const marker = `"\u0001rostermirror:resolve"`

// maxFields is the most fields one object may select: json_build_object takes at most 100 arguments.
const maxFields = 50

// Config configures a Compiler.
type Config struct {
	// Schema is the executable GraphQL schema.
	Schema *ast.Schema
	// SchemaFile is the source name of the entgql-generated schema file; only fields defined there
	// (plus cleverId) are compiled, since hand-written fields have their own resolvers.
	SchemaFile string
	// NodeType tells the table of the record with a given id (as ent's WithNodeType).
	NodeType func(ctx context.Context, id string) (string, error)
	// MaxPageSize is the largest first the resolvers accept; larger ones are left to them (to refuse).
	MaxPageSize int
	// Members are the hand-written connections of a record's members (Section.students), by
	// "Type.field", that the compiler answers as their resolvers do (graph/roster).
	Members map[string]Members
}

// Members describes a connection of users through a membership table, as graph/roster answers it: the
// memberships of the record that hold now (or on asOf) and whose user is mirrored and visible, in
// Order, each edge the user with the membership's startedAt (and its position, when Position).
type Members struct {
	// Membership is the ent type of the membership table (ent.StorageTypes has its columns).
	Membership string
	// Order are the membership's columns the edges are ordered by, ascending; the id follows.
	Order []string
	// Position is whether edges carry the membership's position.
	Position bool
	// Additions, when set, is the table of members added to the record by hand, which the resolvers
	// list with the membership's (marked local). A record with additions that hold (now, or on asOf) is
	// left to the resolvers: the statement checks for them (one indexed lookup) and puts the marker in
	// its output when there are; a query asking for Clever's members only (source: CLEVER) is compiled
	// whatever the record holds, and one asking for the additions only is not compiled.
	Additions *Additions
}

// Additions describes a table of members added by hand: rows of Owner (the record's id), holding from
// Start until End (null while they hold), where Where holds (a condition on the row's columns, written
// with the alias %[1]s).
type Additions struct {
	Table, Owner, Start, End, Where string
}

// preparedStatements is how many prepared statements a Compiler keeps (the least recently used is closed).
const preparedStatements = 500

// Compiler compiles and runs queries. It is safe for concurrent use.
type Compiler struct {
	cfg     Config
	byTable map[string]*ent.StorageType
	stmts   *lru.Cache[string, *sql.Stmt]
}

// New returns a Compiler.
func New(cfg Config) *Compiler {
	c := &Compiler{cfg: cfg, byTable: map[string]*ent.StorageType{}}
	for _, t := range ent.StorageTypes {
		c.byTable[t.Table] = t
	}
	c.stmts, _ = lru.NewWithEvict(preparedStatements, func(_ string, s *sql.Stmt) { s.Close() })
	return c
}

// Statement is a compiled query.
type Statement struct {
	SQL  string
	Args []any
}

// Compile compiles the operation of op. may tells whether the caller holds an API key scope: a field
// guarded by a scope it lacks (@requiresScope) compiles to null, and a record of a guarded type (which
// node(id) could name) is left to the resolvers, which refuse it.
func (c *Compiler) Compile(ctx context.Context, op *graphql.OperationContext, may func(scope string) bool) (Statement, error) {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Query {
		return Statement{}, ErrNotCompiled
	}
	b := &builder{c: c, ctx: ctx, op: op, may: may}
	root, err := b.root()
	if err != nil {
		return Statement{}, err
	}
	return Statement{SQL: "SELECT " + root, Args: b.args}, nil
}

// Answer compiles op and runs it on db, returning the JSON of the response's data. ErrNotCompiled
// means the resolvers must answer (the query is not covered, or its answer holds an error).
func (c *Compiler) Answer(ctx context.Context, db *sql.DB, op *graphql.OperationContext, may func(scope string) bool) ([]byte, error) {
	st, err := c.Compile(ctx, op, may)
	if err != nil {
		return nil, err
	}
	stmt, ok := c.stmts.Get(st.SQL)
	if !ok {
		if stmt, err = db.PrepareContext(ctx, st.SQL); err != nil {
			return nil, fmt.Errorf("sqljson: prepare: %w", err)
		}
		if prev, loaded, _ := c.stmts.PeekOrAdd(st.SQL, stmt); loaded {
			stmt.Close()
			stmt = prev
		}
	}
	var out []byte
	if err := stmt.QueryRowContext(ctx, st.Args...).Scan(&out); err != nil {
		return nil, fmt.Errorf("sqljson: run: %w", err)
	}
	if bytes.Contains(out, []byte(marker)) {
		return nil, ErrNotCompiled
	}
	return out, nil
}

// builder compiles one operation.
type builder struct {
	c       *Compiler
	ctx     context.Context
	op      *graphql.OperationContext
	may     func(scope string) bool
	args    []any
	aliases int
	// archived is whether the root field being compiled includes archived records.
	archived bool
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) alias() string {
	b.aliases++
	return "t" + strconv.Itoa(b.aliases)
}

// object is a JSON object of fields, each "'key', expr".
func object(fields []string) string {
	return "json_build_object(" + strings.Join(fields, ", ") + ")"
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func key(f graphql.CollectedField) string { return literal(f.Alias) }

// markerJSON is the marker as a JSON value in SQL.
var markerJSON = literal(marker) + "::json"

func (b *builder) collect(sel ast.SelectionSet, typeName string) ([]graphql.CollectedField, error) {
	satisfies := []string{typeName}
	if def := b.c.cfg.Schema.Types[typeName]; def != nil {
		satisfies = append(satisfies, def.Interfaces...)
	}
	fields := graphql.CollectFields(b.op, sel, satisfies)
	if len(fields) > maxFields {
		return nil, ErrNotCompiled
	}
	for _, f := range fields {
		if len(f.Deferrables) > 0 {
			return nil, ErrNotCompiled
		}
	}
	return fields, nil
}

// args is a field's argument values, variables and defaults applied.
func (b *builder) argsOf(f graphql.CollectedField) map[string]any {
	return f.ArgumentMap(b.op.Variables)
}

func (b *builder) root() (string, error) {
	fields, err := b.collect(b.op.Operation.SelectionSet, "Query")
	if err != nil {
		return "", err
	}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		b.archived = false
		var expr string
		switch {
		case f.Name == "__typename":
			expr = "'Query'::text"
		case f.Name == "node":
			expr, err = b.node(f)
		case f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection"):
			expr, err = b.rootConnection(f)
		default:
			err = ErrNotCompiled
		}
		if err != nil {
			return "", err
		}
		out = append(out, key(f), expr)
	}
	return object(out), nil
}

// node is node(id): the record whatever its state (archived included), below it the usual rules.
func (b *builder) node(f graphql.CollectedField) (string, error) {
	id, ok := b.argsOf(f)["id"].(string)
	if !ok || b.c.cfg.NodeType == nil {
		return "", ErrNotCompiled
	}
	table, err := b.c.cfg.NodeType(b.ctx, id)
	if err != nil {
		return "", ErrNotCompiled // not found, or the lookup failed: the resolvers say so
	}
	t := b.c.byTable[table]
	if t == nil || !b.readable(t) {
		return "", ErrNotCompiled
	}
	r := b.alias()
	obj, err := b.object(t, r, f.Selections)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("COALESCE((SELECT %s FROM %s %s WHERE %s.%s = %s), %s)",
		obj, t.Table, r, r, t.ID, b.arg(id), markerJSON), nil
}

// rootConnection is one of Query's connections (schools, users, ...), paged with first only.
func (b *builder) rootConnection(f graphql.CollectedField) (string, error) {
	t := ent.StorageTypes[strings.TrimSuffix(f.Definition.Type.Name(), "Connection")]
	if t == nil || !isRootList(f) || !b.readable(t) {
		return "", ErrNotCompiled
	}
	args := b.argsOf(f)
	for name, v := range args {
		switch name {
		case "first":
		case "includeArchived":
			include, ok := v.(bool)
			if !ok && v != nil {
				return "", ErrNotCompiled
			}
			b.archived = include
		default:
			if v != nil {
				return "", ErrNotCompiled
			}
		}
	}
	return b.connection(f, t, "", args)
}

// isRootList reports whether f is one of the hand-written root connections that only add
// includeArchived to entgql's (schema.graphql's districts, schools, ...): their resolvers are
// Paginate over the whole table. (auditEntries is not: it checks the admin scope.)
func isRootList(f graphql.CollectedField) bool {
	switch f.Name {
	case "districts", "schools", "users", "sections", "terms", "courses", "syncRuns":
		return true
	}
	return false
}

// fromEntSchema reports whether def was generated by entgql (and so is resolved by ent's code).
func (b *builder) fromEntSchema(def *ast.FieldDefinition) bool {
	return def != nil && def.Position != nil && def.Position.Src != nil && def.Position.Src.Name == b.c.cfg.SchemaFile
}

// readable reports whether the caller may read records of t.
func (b *builder) readable(t *ent.StorageType) bool {
	return t.Scope == "" || b.may(t.Scope)
}

// where is the filter hiding archived rows of t under alias r, or "".
func (b *builder) where(t *ent.StorageType, r string) string {
	if b.archived || !t.Archivable {
		return ""
	}
	return " AND " + r + ".archived_at IS NULL"
}

// object is the JSON object of t's row r with the fields of sel.
func (b *builder) object(t *ent.StorageType, r string, sel ast.SelectionSet) (string, error) {
	fields, err := b.collect(sel, t.Name)
	if err != nil {
		return "", err
	}
	out := make([]string, 0, 2*len(fields))
	for _, f := range fields {
		expr, err := b.field(t, r, f)
		if err != nil {
			return "", err
		}
		out = append(out, key(f), expr)
	}
	return object(out), nil
}

func (b *builder) field(t *ent.StorageType, r string, f graphql.CollectedField) (string, error) {
	def := f.Definition
	switch {
	case f.Name == "__typename":
		return literal(t.Name) + "::text", nil
	case def == nil:
		return "", ErrNotCompiled
	case f.Name == "cleverId" && def.Type.Name() == "String" && def.Type.NonNull:
		return r + "." + t.ID, nil // schema.graphql's cleverId is the record's id
	case !b.fromEntSchema(def):
		if m, ok := b.c.cfg.Members[t.Name+"."+f.Name]; ok {
			return b.members(f, t, r, m)
		}
		return "", ErrNotCompiled
	}
	if col, ok := t.Fields[f.Name]; ok && col.Scope != "" && !b.may(col.Scope) {
		if def.Type.NonNull {
			return "", ErrNotCompiled // the resolvers answer the error
		}
		return "NULL", nil
	}
	if col, ok := t.Fields[f.Name]; ok && len(f.Arguments) == 0 {
		if def.Type.Elem != nil {
			return stringList(r, col, def.Type)
		}
		return b.scalar(r, col, def.Type)
	}
	if e, ok := t.Edges[f.Name]; ok {
		target := ent.StorageTypes[e.Target]
		if target == nil || !b.readable(target) {
			return "", ErrNotCompiled
		}
		switch {
		case strings.HasSuffix(def.Type.Name(), "Connection"):
			return b.edgeConnection(f, t, r, e, target)
		case e.Unique && def.Type.Elem == nil && len(f.Arguments) == 0:
			return b.uniqueEdge(f, t, r, e, target)
		case !e.Unique && def.Type.Elem != nil && len(f.Arguments) == 0:
			return b.listEdge(f, t, r, e, target)
		}
	}
	return "", ErrNotCompiled
}

// members is a connection of the users holding a membership of row r of t (m): paged with first, now
// or on asOf; cursors, after, before and last are the resolvers' business.
func (b *builder) members(f graphql.CollectedField, t *ent.StorageType, r string, m Members) (string, error) {
	mt, users := ent.StorageTypes[m.Membership], ent.StorageTypes[ent.TypeUser]
	if mt == nil || mt.Membership == nil || users == nil || !b.readable(users) {
		return "", ErrNotCompiled
	}
	args := b.argsOf(f)
	var asOf any
	for name, v := range args {
		switch {
		case name == "first" || v == nil:
		case name == "asOf":
			s, ok := v.(string)
			if !ok {
				return "", ErrNotCompiled
			}
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return "", ErrNotCompiled // the resolvers say what is wrong with it
			}
			asOf = at
		case name == "source":
			switch v {
			case "ALL":
			case "CLEVER":
				m.Additions = nil // Clever's members only: the additions do not matter
			default:
				return "", ErrNotCompiled
			}
		default:
			return "", ErrNotCompiled
		}
	}
	first, ok := asInt(args["first"])
	if !ok || first <= 0 || first > b.c.cfg.MaxPageSize {
		return "", ErrNotCompiled
	}
	owner := mt.Membership.Owner
	// rows is the FROM clause of the memberships under a fresh alias: r's, holding, of a visible user.
	rows := func() (string, string) {
		a, u := b.alias(), b.alias()
		held := a + ".ended_at IS NULL"
		if asOf != nil {
			p := b.arg(asOf)
			held = fmt.Sprintf("%[1]s.started_at <= %[2]s AND (%[1]s.ended_at IS NULL OR %[1]s.ended_at > %[2]s)", a, p)
		}
		visible := fmt.Sprintf("EXISTS (SELECT 1 FROM %s %s WHERE %s.%s = %s.%s%s)",
			users.Table, u, u, users.ID, a, mt.Membership.Other, b.where(users, u))
		return a, fmt.Sprintf("%s %s WHERE %s.%s = %s.%s AND %s AND %s", mt.Table, a, a, owner, r, t.ID, held, visible)
	}
	typeName := f.Definition.Type.Name()
	fields, err := b.collect(f.Selections, typeName)
	if err != nil {
		return "", err
	}
	out := make([]string, 0, 2*len(fields))
	for _, cf := range fields {
		if aliased(cf) {
			return "", ErrNotCompiled
		}
		var expr string
		switch cf.Name {
		case "__typename":
			expr = literal(typeName) + "::text"
		case "totalCount":
			_, from := rows()
			expr = "(SELECT count(*) FROM " + from + ")"
		case "pageInfo":
			expr, err = b.pageInfo(cf, rows, first)
		case "edges":
			expr, err = b.memberEdges(cf, m, users, rows, first)
		default:
			err = ErrNotCompiled
		}
		if err != nil {
			return "", err
		}
		out = append(out, key(cf), expr)
	}
	if a := m.Additions; a != nil {
		x := b.alias()
		held := fmt.Sprintf("%s.%s IS NULL", x, a.End)
		if asOf != nil {
			p := b.arg(asOf)
			held = fmt.Sprintf("%[1]s.%[3]s <= %[2]s AND (%[1]s.%[4]s IS NULL OR %[1]s.%[4]s > %[2]s)", x, p, a.Start, a.End)
		}
		return fmt.Sprintf("CASE WHEN EXISTS (SELECT 1 FROM %s %s WHERE %s.%s = %s.%s AND %s AND %s) THEN %s ELSE %s END",
			a.Table, x, x, a.Owner, r, t.ID, held, fmt.Sprintf(a.Where, x), markerJSON, object(out)), nil
	}
	return object(out), nil
}

// memberEdges are the edges of a members connection: each the user (node) with the membership's
// startedAt and position.
func (b *builder) memberEdges(f graphql.CollectedField, m Members, users *ent.StorageType, rows func() (string, string), first int) (string, error) {
	edgeType := f.Definition.Type.Name()
	fields, err := b.collect(f.Selections, edgeType)
	if err != nil {
		return "", err
	}
	a, from := rows()
	e, u := b.alias(), b.alias()
	out := make([]string, 0, 2*len(fields))
	for _, ef := range fields {
		if aliased(ef) {
			return "", ErrNotCompiled
		}
		var expr string
		switch ef.Name {
		case "__typename":
			expr = literal(edgeType) + "::text"
		case "node":
			obj, err := b.object(users, u, ef.Selections)
			if err != nil {
				return "", err
			}
			expr = fmt.Sprintf("(SELECT %s FROM %s %s WHERE %s.%s = %s.%s)", obj, users.Table, u, u, users.ID, e, "member")
		case "startedAt":
			expr = timeJSON(e + ".started_at")
		case "position":
			expr = "NULL::int"
			if m.Position {
				expr = e + ".position"
			}
		case "local":
			expr = "false" // the statement lists Clever's members only
		case "addedBy":
			expr = "NULL::text"
		default:
			return "", ErrNotCompiled // cursor
		}
		out = append(out, key(ef), expr)
	}
	order := make([]string, 0, len(m.Order)+1)
	for _, c := range append(slices.Clone(m.Order), "id") {
		order = append(order, a+"."+c)
	}
	inner := fmt.Sprintf("SELECT %[1]s.*, %[1]s.%[2]s AS member FROM %[3]s ORDER BY %[4]s LIMIT %[5]d",
		a, ent.StorageTypes[m.Membership].Membership.Other, from, strings.Join(order, ", "), first)
	outerOrder := strings.ReplaceAll(strings.Join(order, ", "), a+".", e+".")
	return fmt.Sprintf("COALESCE((SELECT json_agg(%s ORDER BY %s) FROM (%s) %s), '[]'::json)",
		object(out), outerOrder, inner, e), nil
}

// scalar is column col of row r as gqlgen marshals it.
func (b *builder) scalar(r string, col ent.StorageField, typ *ast.Type) (string, error) {
	expr := r + "." + col.Column
	isEnum := false
	if def := b.c.cfg.Schema.Types[typ.Name()]; def != nil {
		isEnum = def.Kind == ast.Enum
	}
	zero := ""
	switch {
	case isEnum:
		zero = "''"
	case typ.Name() == "String" || typ.Name() == "ID":
		if col.Type != "string" {
			return "", ErrNotCompiled
		}
		zero = "''"
	case typ.Name() == "Int":
		if !strings.HasPrefix(col.Type, "int") && !strings.HasPrefix(col.Type, "uint") {
			return "", ErrNotCompiled
		}
		zero = "0"
	case typ.Name() == "Boolean":
		if col.Type != "bool" {
			return "", ErrNotCompiled
		}
		zero = "false"
	case typ.Name() == "Time":
		if col.Type != "time.Time" || col.Optional && !col.Nillable {
			return "", ErrNotCompiled // a NULL would be Go's zero time
		}
		return timeJSON(expr), nil
	default:
		return "", ErrNotCompiled
	}
	if col.Optional && !col.Nillable {
		expr = "COALESCE(" + expr + ", " + zero + ")"
	}
	return expr, nil
}

// stringList is a JSON column of strings ([String!] in GraphQL; ent's JSON null and SQL NULL are
// both a nil slice).
func stringList(r string, col ent.StorageField, typ *ast.Type) (string, error) {
	if col.Type != "[]string" || typ.Elem.Name() != "String" || typ.Elem.Elem != nil {
		return "", ErrNotCompiled
	}
	if typ.NonNull {
		return "COALESCE(NULLIF(" + r + "." + col.Column + ", 'null'::jsonb)::json, '[]'::json)", nil
	}
	return r + "." + col.Column + "::json", nil
}

// timeJSON formats a timestamptz as Go's time.RFC3339Nano does for the time lib/pq reads (the
// session's offset; Z for UTC; fractional seconds without trailing zeros).
func timeJSON(c string) string {
	return fmt.Sprintf(`to_char(%[1]s, 'YYYY-MM-DD"T"HH24:MI:SS') || rtrim(rtrim(to_char(%[1]s, '.US'), '0'), '.') || `+
		`CASE WHEN extract(timezone FROM %[1]s) = 0 THEN 'Z' ELSE to_char(%[1]s, 'TZH:TZM') END`, c)
}

// join is the condition tying target row u to row r of t through e.
func join(t *ent.StorageType, r string, e ent.StorageEdge, target *ent.StorageType, u string) string {
	if e.OwnFK {
		return u + "." + target.ID + " = " + r + "." + e.Column
	}
	return u + "." + e.Column + " = " + r + "." + t.ID
}

func (b *builder) uniqueEdge(f graphql.CollectedField, t *ent.StorageType, r string, e ent.StorageEdge, target *ent.StorageType) (string, error) {
	u := b.alias()
	obj, err := b.object(target, u, f.Selections)
	if err != nil {
		return "", err
	}
	expr := fmt.Sprintf("(SELECT %s FROM %s %s WHERE %s%s LIMIT 1)", obj, target.Table, u, join(t, r, e, target, u), b.where(target, u))
	if f.Definition.Type.NonNull {
		expr = "COALESCE(" + expr + ", " + markerJSON + ")" // the resolvers fail: let them
	}
	return expr, nil
}

func (b *builder) listEdge(f graphql.CollectedField, t *ent.StorageType, r string, e ent.StorageEdge, target *ent.StorageType) (string, error) {
	u := b.alias()
	obj, err := b.object(target, u, f.Selections)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("COALESCE((SELECT json_agg(%s ORDER BY %s.%s) FROM %s %s WHERE %s%s), '[]'::json)",
		obj, u, target.ID, target.Table, u, join(t, r, e, target, u), b.where(target, u)), nil
}

func (b *builder) edgeConnection(f graphql.CollectedField, t *ent.StorageType, r string, e ent.StorageEdge, target *ent.StorageType) (string, error) {
	if e.Unique {
		return "", ErrNotCompiled
	}
	args := b.argsOf(f)
	for name, v := range args {
		if name != "first" && v != nil {
			return "", ErrNotCompiled
		}
	}
	u := "%[1]s"
	return b.connection(f, target, join(t, r, e, target, u), args)
}

// connection is a Relay connection over target's rows matching cond (a condition on alias %[1]s, or
// "" for all rows), ordered by id (entgql's default order) and limited by first.
func (b *builder) connection(f graphql.CollectedField, target *ent.StorageType, cond string, args map[string]any) (string, error) {
	// The handler gives every connection without first or last a default first before it runs, so a
	// connection without first here is paged with last (or refused): the resolvers' business.
	v, ok := args["first"]
	if !ok || v == nil {
		return "", ErrNotCompiled
	}
	first, ok := asInt(v)
	if !ok || first <= 0 || first > b.c.cfg.MaxPageSize {
		return "", ErrNotCompiled // zero, negative and too large are the resolvers' business
	}
	// rows is the FROM clause of the connection's rows under a fresh alias.
	rows := func() (string, string) {
		u := b.alias()
		w := "TRUE"
		if cond != "" {
			w = fmt.Sprintf(cond, u)
		}
		return u, fmt.Sprintf("%s %s WHERE %s%s", target.Table, u, w, b.where(target, u))
	}
	typeName := f.Definition.Type.Name()
	fields, err := b.collect(f.Selections, typeName)
	if err != nil {
		return "", err
	}
	if cond == "" && selects(fields, "pageInfo") && !selects(fields, "edges") {
		// entgql answers hasNextPage = (totalCount > 0) here, whatever first is: stay consistent
		// with the resolvers rather than right.
		return "", ErrNotCompiled
	}
	out := make([]string, 0, 2*len(fields))
	for _, cf := range fields {
		if aliased(cf) {
			return "", ErrNotCompiled
		}
		var expr string
		switch cf.Name {
		case "__typename":
			expr = literal(typeName) + "::text"
		case "totalCount":
			_, from := rows()
			expr = "(SELECT count(*) FROM " + from + ")"
		case "pageInfo":
			expr, err = b.pageInfo(cf, rows, first)
		case "edges":
			expr, err = b.edges(cf, target, rows, first)
		default:
			err = ErrNotCompiled
		}
		if err != nil {
			return "", err
		}
		out = append(out, key(cf), expr)
	}
	return object(out), nil
}

func selects(fields []graphql.CollectedField, name string) bool {
	for _, f := range fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// aliased reports whether a connection's or an edge's own field (edges, node, totalCount, pageInfo) is
// asked for under an alias: entgql's resolvers look these fields up by alias and answer them as not
// asked for (a totalCount of 0), and the compiled answer must be the resolvers' — so it hands them the
// query (see the README's note on it).
func aliased(f graphql.CollectedField) bool {
	return f.Alias != f.Name && f.Name != "__typename"
}

// asInt is an Int argument's value (gqlparser gives int64 for literals, JSON variables may be other
// numbers).
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), int64(int(n)) == n
	case float64:
		return int(n), float64(int(n)) == n
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil && int64(int(i)) == i
	}
	return 0, false
}

func (b *builder) pageInfo(f graphql.CollectedField, rows func() (string, string), first int) (string, error) {
	fields, err := b.collect(f.Selections, "PageInfo")
	if err != nil {
		return "", err
	}
	out := make([]string, 0, 2*len(fields))
	for _, pf := range fields {
		var expr string
		switch pf.Name {
		case "__typename":
			expr = "'PageInfo'::text"
		case "hasPreviousPage":
			expr = "false" // no after, no last
		case "hasNextPage":
			_, from := rows()
			expr = fmt.Sprintf("(SELECT count(*) > %d FROM (SELECT 1 FROM %s LIMIT %d) s)", first, from, first+1)
		default:
			return "", ErrNotCompiled // cursors
		}
		out = append(out, key(pf), expr)
	}
	return object(out), nil
}

func (b *builder) edges(f graphql.CollectedField, target *ent.StorageType, rows func() (string, string), first int) (string, error) {
	edgeType := f.Definition.Type.Name()
	fields, err := b.collect(f.Selections, edgeType)
	if err != nil {
		return "", err
	}
	u, from := rows()
	limit := " LIMIT " + strconv.Itoa(first)
	e := b.alias()
	out := make([]string, 0, 2*len(fields))
	for _, ef := range fields {
		if aliased(ef) {
			return "", ErrNotCompiled
		}
		var expr string
		switch ef.Name {
		case "__typename":
			expr = literal(edgeType) + "::text"
		case "node":
			expr, err = b.object(target, e, ef.Selections)
			if err != nil {
				return "", err
			}
		default:
			return "", ErrNotCompiled // cursor
		}
		out = append(out, key(ef), expr)
	}
	return fmt.Sprintf("COALESCE((SELECT json_agg(%s ORDER BY %s.%s) FROM (SELECT %s.* FROM %s ORDER BY %s.%s%s) %s), '[]'::json)",
		object(out), e, target.ID, u, from, u, target.ID, limit, e), nil
}
