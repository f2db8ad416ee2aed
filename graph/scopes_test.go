package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph"
)

// guarded is a field, an input field or an enum value of the GraphQL schema that @requiresScope guards.
type guarded struct {
	typ, name, scope string
}

// schemaGuards lists what the schema guards, by kind of definition.
func schemaGuards(s *ast.Schema) (fields, inputs, enums, types []guarded) {
	scopeOf := func(l ast.DirectiveList) string {
		if d := l.ForName("requiresScope"); d != nil {
			return strings.ToLower(d.Arguments.ForName("scope").Value.Raw)
		}
		return ""
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range s.Types {
			if !yield(n) {
				return
			}
		}
	}) {
		t := s.Types[name]
		if sc := scopeOf(t.Directives); sc != "" {
			types = append(types, guarded{name, "", sc})
		}
		for _, f := range t.Fields {
			if sc := scopeOf(f.Directives); sc != "" {
				g := guarded{name, f.Name, sc}
				if t.Kind == ast.InputObject {
					inputs = append(inputs, g)
				} else {
					fields = append(fields, g)
				}
			}
		}
		for _, v := range t.EnumValues {
			if sc := scopeOf(v.Directives); sc != "" {
				enums = append(enums, guarded{name, v.Name, sc})
			}
		}
	}
	return fields, inputs, enums, types
}

// TestScopesComeFromTheEntSchema: every field that ent/schema guards (ent.StorageTypes' Scope, from the
// RequiresScope annotation) carries @requiresScope in GraphQL, and so does every where-input predicate
// named after it; every type ent guards carries it with its connection and edge types. Nothing else
// in GraphQL is guarded by hand.
func TestScopesComeFromTheEntSchema(t *testing.T) {
	t.Parallel()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	fields, inputs, _, types := schemaGuards(s)
	var wantFields, wantTypes []guarded
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range ent.StorageTypes {
			if !yield(n) {
				return
			}
		}
	}) {
		st := ent.StorageTypes[name]
		if st.Scope != "" && s.Types[name] != nil {
			for _, suffix := range []string{"", "Connection", "Edge"} {
				if suffix == "" || s.Types[name+suffix] != nil { // a type without a connection has neither
					wantTypes = append(wantTypes, guarded{name + suffix, "", st.Scope})
				}
			}
		}
		for _, fname := range slices.Sorted(func(yield func(string) bool) {
			for n := range st.Fields {
				if !yield(n) {
					return
				}
			}
		}) {
			if sc := st.Fields[fname].Scope; sc != "" {
				wantFields = append(wantFields, guarded{name, fname, sc})
				// Every predicate of the field in the where input is guarded.
				where := s.Types[name+"WhereInput"]
				n := 0
				for _, p := range where.Fields {
					if strings.HasPrefix(p.Name, fname) {
						n++
						if !slices.Contains(inputs, guarded{where.Name, p.Name, sc}) {
							t.Errorf("%s.%s filters by the %s field %s.%s but is not guarded", where.Name, p.Name, sc, name, fname)
						}
					}
				}
				// Lists and JSON objects (StringMap) have none.
				if f := s.Types[name].Fields.ForName(fname); n == 0 && f != nil && f.Type.Elem == nil && f.Type.NamedType != "StringMap" {
					t.Errorf("no predicates of %s.%s found in %s", name, fname, where.Name)
				}
			}
		}
	}
	byName := func(a, b guarded) int { return strings.Compare(a.typ+"."+a.name, b.typ+"."+b.name) }
	for _, l := range [][]guarded{fields, wantFields, types, wantTypes} {
		slices.SortFunc(l, byName)
	}
	if fmt.Sprint(fields) != fmt.Sprint(wantFields) {
		t.Errorf("guarded GraphQL fields %v, want those ent guards: %v", fields, wantFields)
	}
	if fmt.Sprint(types) != fmt.Sprint(wantTypes) {
		t.Errorf("guarded GraphQL types %v, want those ent guards with their connections: %v", types, wantTypes)
	}
	if len(wantFields) < 4 || len(wantTypes) < 3 {
		t.Errorf("ent guards %d fields and %d types; the sensitive fields and the audit log are missing", len(wantFields), len(wantTypes))
	}
}

// answer is one answer of a handler.
type answer struct {
	status int
	body   []byte
	r      response
}

func ask(t *testing.T, url, key, query string, vars map[string]any) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	a := answer{status: res.StatusCode, body: buf.Bytes()}
	if err := json.Unmarshal(a.body, &a.r); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	return a
}

// forbidden reports whether an answer is one FORBIDDEN error and no data.
func forbidden(a answer) bool {
	return len(a.r.Errors) == 1 && a.r.Errors[0].Extensions["code"] == "FORBIDDEN" &&
		(len(a.r.Data) == 0 || string(a.r.Data) == "null")
}

// TestSensitiveMatrix: every field the schema guards with the sensitive scope (found in the schema, so a
// field annotated tomorrow is covered the day it is added) × select, filter (every predicate, at the
// root, nested in and/or/not, through a variable, as explicit null, and on a nested connection), order,
// count and node/nodes × with and without the scope × resolvers and (on Postgres) compiled queries.
// Without the scope a selected field reads null and everything else is refused before it runs; with it,
// the values and counts are the database's.
func TestSensitiveMatrix(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := newCompiledAPI(t, a)
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	fields, inputs, enums, _ := schemaGuards(s)
	handlers := map[string]string{"resolvers": c.resolvedURL}
	if a.db.Dialect == dialect.Postgres {
		handlers["compiled"] = c.compiledURL
	}
	keys := map[bool]string{true: a.keys["sensitive"], false: a.keys["read"]}
	var sensitive []guarded
	for _, f := range fields {
		if f.scope == "sensitive" {
			sensitive = append(sensitive, f)
		}
	}
	if len(sensitive) == 0 {
		t.Fatal("the schema guards no field with the sensitive scope")
	}
	for _, f := range sensitive {
		st := ent.StorageTypes[f.typ]
		col := st.Fields[f.name].Column
		// The most common value of the field in the mirror, and the database's count of users holding it.
		var value string
		if err := a.db.SQL.QueryRow(fmt.Sprintf("SELECT %[1]s FROM %[2]s WHERE %[1]s IS NOT NULL AND %[1]s <> '' AND archived_at IS NULL GROUP BY %[1]s ORDER BY count(*) DESC, %[1]s LIMIT 1", col, st.Table)).Scan(&value); err != nil {
			t.Fatalf("%s: no value in the demo district: %v", f.name, err)
		}
		path, where := pathTo(t, s, f.typ)
		var want int
		a.db.SQL.QueryRow(rebind(a, fmt.Sprintf(`SELECT count(DISTINCT u.clever_id) FROM users u JOIN %s r ON r.user_id = u.clever_id
			WHERE u.archived_at IS NULL AND r.archived_at IS NULL AND r.%s = ?`, st.Table, col)), value).Scan(&want)
		var recordID string
		a.db.SQL.QueryRow(rebind(a, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? ORDER BY 1 LIMIT 1", st.ID, st.Table, col)), value).Scan(&recordID)

		for hname, url := range handlers {
			for _, scoped := range []bool{true, false} {
				key := keys[scoped]
				label := fmt.Sprintf("%s.%s %s scoped=%v", f.typ, f.name, hname, scoped)

				// select: values (with) or nulls (without), in a list and through node(id)/nodes(ids).
				sel := ask(t, url, key, "{ "+strings.Replace(path, "$FIELDS", f.name, 1)+" }", nil)
				vals := valuesOf(t, sel, f.name)
				switch {
				case len(sel.r.Errors) > 0:
					t.Errorf("%s select: %+v", label, sel.r.Errors)
				case scoped && !slices.Contains(vals, value):
					t.Errorf("%s select: no %q among %d values", label, value, len(vals))
				case !scoped && slices.ContainsFunc(vals, func(v string) bool { return v != "<null>" }):
					t.Errorf("%s select: a value without the scope", label)
				}
				for _, q := range []string{
					fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { %s } } }`, f.typ, f.name),
					fmt.Sprintf(`query($id: ID!) { nodes(ids: [$id]) { ... on %s { %s } } }`, f.typ, f.name),
				} {
					n := ask(t, url, key, q, map[string]any{"id": recordID})
					got := valuesOf(t, n, f.name)
					if len(n.r.Errors) > 0 || len(got) != 1 || (scoped && got[0] != value) || (!scoped && got[0] != "<null>") {
						t.Errorf("%s node: %s", label, n.body)
					}
				}

				// filter: every predicate of the field, in every position.
				for _, p := range inputs {
					if p.typ != f.typ+"WhereInput" || !strings.HasPrefix(p.name, f.name) {
						continue
					}
					arg := predicateValue(s, p)
					for _, filter := range []string{
						fmt.Sprintf(`{%s: %s}`, p.name, arg),
						fmt.Sprintf(`{and: [{%s: %s}]}`, p.name, arg),
						fmt.Sprintf(`{or: [{not: {%s: %s}}]}`, p.name, arg),
					} {
						q := fmt.Sprintf(`{ %s { totalCount } }`, strings.Replace(where, "$FILTER", filter, 1))
						r := ask(t, url, key, q, nil)
						if scoped && len(r.r.Errors) > 0 || !scoped && !forbidden(r) {
							t.Errorf("%s filter %s: %s", label, q, r.body)
						}
					}
				}
				eq := ask(t, url, key, fmt.Sprintf(`{ %s { totalCount } }`, strings.Replace(where, "$FILTER", fmt.Sprintf(`{%s: %q}`, f.name, value), 1)), nil)
				var total struct{ TotalCount int }
				if scoped {
					totalCount(t, eq, &total)
					if total.TotalCount != want || want == 0 {
						t.Errorf("%s count where %s = %q: %d, the database has %d", label, f.name, value, total.TotalCount, want)
					}
				} else if !forbidden(eq) {
					t.Errorf("%s count: %s", label, eq.body)
				}
				// Through a variable, and as an explicit null: refused all the same without the scope.
				for _, v := range []any{value, nil} {
					q, vars := whereVariable(t, s, where, f.name, v)
					r := ask(t, url, key, q, vars)
					ok := len(r.r.Errors) == 0 || v == nil && r.r.Errors[0].Extensions["code"] == "BAD_REQUEST" // {hasRolesWith: [{f: null}]} is an empty filter
					if scoped && !ok || !scoped && !forbidden(r) {
						t.Errorf("%s filter through a variable (%v): %s", label, v, r.body)
					}
				}
				// On a nested connection's where.
				if nested := nestedWhere(s, f.typ); nested != "" {
					r := ask(t, url, key, strings.ReplaceAll(nested, "$FILTER", fmt.Sprintf(`{%s: %q}`, f.name, value)), nil)
					if scoped && len(r.r.Errors) > 0 || !scoped && !forbidden(r) {
						t.Errorf("%s nested filter: %s", label, r.body)
					}
				}
			}
		}
		// order: an ordering by the field is guarded wherever the schema offers one.
		for _, v := range enums {
			if v.typ == f.typ+"OrderField" && strings.EqualFold(strings.ReplaceAll(v.name, "_", ""), f.name) {
				t.Logf("ordering by %s is offered and guarded", v.name)
			}
		}
		if order := s.Types[f.typ+"OrderField"]; order != nil {
			for _, v := range order.EnumValues {
				if strings.EqualFold(strings.ReplaceAll(v.Name, "_", ""), f.name) && !slices.Contains(enums, guarded{order.Name, v.Name, f.scope}) {
					t.Errorf("%s orders by the %s field %s without the guard", v.Name, f.scope, f.name)
				}
			}
		}
	}
	for _, v := range enums {
		// Every guarded ordering is refused without its scope (none is offered today; the loop covers
		// one the day it is).
		typ := strings.TrimSuffix(v.typ, "OrderField")
		path, _ := pathTo(t, s, typ)
		q := strings.Replace(strings.Replace(path, "$FIELDS", "id", 1), "(", fmt.Sprintf("(orderBy: {field: %s}, ", v.name), 1)
		r := ask(t, c.resolvedURL, a.keys["read"], "{ "+q+" }", nil)
		if !forbidden(r) {
			t.Errorf("ordering by %s without the scope: %s", v.name, r.body)
		}
	}
	if a.db.Dialect == dialect.Postgres {
		// The selects and node lookups above carry no operation name; the compiled handler counts them
		// under "". Prove the compiled path answered some.
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.compiled[""] {
			t.Error("no query of the matrix was answered by a compiled statement")
		}
	}
}

func rebind(a *api, q string) string {
	if a.db.Dialect != dialect.Postgres {
		return q
	}
	n := 0
	var b strings.Builder
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathTo finds how a query reaches records of typ from a root connection: directly (the root lists
// them) or one edge below the root's nodes. It returns the selection with $FIELDS where typ's fields go
// ("users(first: 1000) { edges { node { roles { $FIELDS } } } }"), and the root field with a where
// argument holding $FILTER that filters it by typ's fields ("users(where: {hasRolesWith: $FILTER})").
func pathTo(t *testing.T, s *ast.Schema, typ string) (path, where string) {
	t.Helper()
	for _, root := range s.Query.Fields {
		conn := s.Types[root.Type.Name()]
		if conn == nil || conn.Fields.ForName("edges") == nil || root.Arguments.ForName("where") == nil {
			continue
		}
		node := s.Types[conn.Fields.ForName("edges").Type.Name()].Fields.ForName("node").Type.Name()
		rootWhere := s.Types[root.Arguments.ForName("where").Type.Name()]
		if node == typ {
			return root.Name + "(first: 1000) { edges { node { $FIELDS } } }", root.Name + "(where: $FILTER)"
		}
		for _, f := range s.Types[node].Fields {
			if f.Type.Name() != typ || len(f.Arguments) > 0 {
				continue
			}
			for _, p := range rootWhere.Fields {
				if p.Type.Name() == typ+"WhereInput" && strings.HasPrefix(p.Name, "has") {
					return fmt.Sprintf("%s(first: 1000) { edges { node { %s { $FIELDS } } } }", root.Name, f.Name),
						fmt.Sprintf("%s(where: {%s: $FILTER})", root.Name, p.Name)
				}
			}
		}
	}
	t.Fatalf("no root connection reaches %s within one edge: extend pathTo", typ)
	return "", ""
}

// valuesOf collects every value of field name in an answer ("<null>" for null).
func valuesOf(t *testing.T, a answer, name string) []string {
	t.Helper()
	var data any
	json.Unmarshal(a.r.Data, &data)
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, item := range x {
				if k == name {
					if item == nil {
						out = append(out, "<null>")
					} else {
						out = append(out, fmt.Sprint(item))
					}
					continue
				}
				walk(item)
			}
		case []any:
			for _, item := range x {
				walk(item)
			}
		}
	}
	walk(data)
	return out
}

func totalCount(t *testing.T, a answer, v *struct{ TotalCount int }) {
	t.Helper()
	if len(a.r.Errors) > 0 {
		t.Fatalf("%s", a.body)
	}
	var m map[string]json.RawMessage
	json.Unmarshal(a.r.Data, &m)
	for _, raw := range m {
		json.Unmarshal(raw, v)
	}
}

// predicateValue is a literal of the predicate's input type.
func predicateValue(s *ast.Schema, p guarded) string {
	fd := s.Types[p.typ].Fields.ForName(p.name)
	switch {
	case fd.Type.Elem != nil:
		return `["x"]`
	case fd.Type.Name() == "Boolean":
		return "true"
	}
	return `"x"`
}

// whereVariable is the where query with its filter passed as a variable holding {field: v}.
func whereVariable(t *testing.T, s *ast.Schema, where, field string, v any) (string, map[string]any) {
	t.Helper()
	rootName := where[:strings.Index(where, "(")]
	inputType := s.Query.Fields.ForName(rootName).Arguments.ForName("where").Type.Name()
	filter := map[string]any{field: v}
	var vars map[string]any
	inner := strings.TrimSuffix(where[strings.Index(where, "(where: ")+len("(where: "):], ")")
	if inner == "$FILTER" {
		vars = map[string]any{"w": filter}
	} else {
		// {hasXWith: $FILTER}: the variable is the outer input.
		key := strings.TrimSpace(strings.Trim(strings.Split(inner, ":")[0], "{ "))
		vars = map[string]any{"w": map[string]any{key: []any{filter}}}
	}
	return fmt.Sprintf(`query($w: %s) { %s(where: $w) { totalCount } }`, inputType, rootName), vars
}

// nestedWhere is a query filtering, with $FILTER, a connection of typ below a root's nodes, or "".
func nestedWhere(s *ast.Schema, typ string) string {
	for _, root := range s.Query.Fields {
		conn := s.Types[root.Type.Name()]
		if conn == nil || conn.Fields.ForName("edges") == nil {
			continue
		}
		node := s.Types[s.Types[conn.Fields.ForName("edges").Type.Name()].Fields.ForName("node").Type.Name()]
		for _, f := range node.Fields {
			if w := f.Arguments.ForName("where"); w != nil && w.Type.Name() == typ+"WhereInput" {
				return fmt.Sprintf(`{ %s(first: 10) { edges { node { %s(where: $FILTER) { totalCount } } } } }`, root.Name, f.Name)
			}
		}
	}
	return ""
}
