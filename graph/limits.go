package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Error codes of the limits.
const (
	CodeQueryTooLarge    = "QUERY_TOO_LARGE"    // the document exceeds the parse and validation budget
	CodeQueryTooComplex  = "QUERY_TOO_COMPLEX"  // the operation's cost exceeds MaxCost
	CodeQueryTooDeep     = "QUERY_TOO_DEEP"     // selections nest deeper than MaxDepth
	CodeResponseTooLarge = "RESPONSE_TOO_LARGE" // the answer exceeds MaxResponseBytes
	CodePayloadTooLarge  = "PAYLOAD_TOO_LARGE"  // the request body exceeds MaxBodyBytes
)

// saturated is the ceiling of counts and costs: sums and products stop growing there instead of
// overflowing (a fragment that spreads another twice, 30 levels deep, counts 2^30 fields).
const saturated = math.MaxInt32

func add(a, b int) int { return min(a+b, saturated) }

func mul(a, b int) int {
	if a != 0 && b > saturated/a {
		return saturated
	}
	return min(a*b, saturated)
}

// budget bounds a query document before gqlgen parses it for execution and validates it, so that no
// document costs more than a few milliseconds to parse, validate and plan, whatever it holds. It parses
// the document itself under a token limit and counts, with every fragment expanded where it is spread
// (each fragment measured once, so a fan-out of fragments costs nothing to measure): fields, aliases,
// fragment spreads and introspection root fields; then, walking the expanded document, the pairs of
// fields that answer the same place of the response (users.edges.node.cleverId asked for twice makes a
// pair): validation's overlapping-fields rule compares every such pair, so their number is its cost.
// Documents already in the query cache passed it before.
type budget struct {
	cache graphql.Cache[*ast.QueryDocument]
	limits
}

// limits are the budget's bounds (see HandlerConfig).
type limits struct {
	maxTokens, maxFields, maxAliases, maxSpreads, maxPairs int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = budget{}

func (budget) ExtensionName() string                   { return "Budget" }
func (budget) Validate(graphql.ExecutableSchema) error { return nil }

func (b budget) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // gqlgen answers "no operation provided"
	}
	if _, ok := b.cache.Get(ctx, params.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, b.maxTokens)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded token limit") {
			return tooLarge("the query has more than %d tokens", b.maxTokens)
		}
		return nil // a syntax error: gqlgen reports it, with its location
	}
	s := measure(doc)
	switch {
	case s.fields > b.maxFields:
		return tooLarge("the query selects %s fields once its fragments are expanded; at most %d are allowed", count(s.fields), b.maxFields)
	case s.spreads > b.maxSpreads:
		return tooLarge("the query spreads fragments %s times once expanded; at most %d are allowed", count(s.spreads), b.maxSpreads)
	case s.aliases > b.maxAliases:
		return tooLarge("the query uses %s aliases; at most %d are allowed", count(s.aliases), b.maxAliases)
	case s.maxSet > b.maxFields:
		return tooLarge("a selection set holds %s fields once its fragments are expanded; at most %d are allowed", count(s.maxSet), b.maxFields)
	case s.schema > 1:
		return tooLarge("the query asks for __schema %s times; once is enough", count(s.schema))
	case s.types > maxTypeLookups:
		return tooLarge("the query asks for __type %s times; at most %d are allowed", count(s.types), maxTypeLookups)
	}
	if pairs, worst := repeats(doc, b.maxPairs); pairs > b.maxPairs {
		return tooLarge("the query asks again and again for fields at one place of the answer (%s, …): they make "+
			"more than %d pairs for validation to compare; ask for each field once", worst.path, b.maxPairs)
	}
	return nil
}

// repeat is a place of the answer and how many fields of the document answer it.
type repeat struct {
	path string
	n    int
}

// repeats counts, over every operation and fragment of the document with its fragments expanded, the
// pairs of fields that answer the same place of the response, and names the place most asked for. It
// stops counting past limit. The document is small by then (measure bounded its expanded size).
func repeats(doc *ast.QueryDocument, limit int) (int, repeat) {
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	pairs := 0
	var worst repeat
	places := map[string]int{}
	var walk func(set ast.SelectionSet, path string, visiting map[string]bool)
	walk = func(set ast.SelectionSet, path string, visiting map[string]bool) {
		for _, sel := range set {
			if pairs > limit {
				return
			}
			switch x := sel.(type) {
			case *ast.Field:
				p := path + "." + x.Alias
				pairs = add(pairs, places[p]) // a pair with each field already there
				places[p]++
				if places[p] > worst.n {
					worst = repeat{p[1:], places[p]}
				}
				walk(x.SelectionSet, p, visiting)
			case *ast.InlineFragment:
				walk(x.SelectionSet, path, visiting)
			case *ast.FragmentSpread:
				if f := frags[x.Name]; f != nil && !visiting[x.Name] {
					visiting[x.Name] = true
					walk(f.SelectionSet, path, visiting)
					delete(visiting, x.Name)
				}
			}
		}
	}
	for i, op := range doc.Operations {
		walk(op.SelectionSet, "#"+strconv.Itoa(i), map[string]bool{})
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet, "#"+f.Name, map[string]bool{})
	}
	if i := strings.Index(worst.path, "."); i >= 0 {
		worst.path = worst.path[i+1:] // without the operation or fragment
	}
	return pairs, worst
}

// maxTypeLookups is how many __type fields one query may hold.
const maxTypeLookups = 10

func tooLarge(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": CodeQueryTooLarge}}
}

// count prints a saturated count as "more than 2147483647".
func count(n int) string {
	if n >= saturated {
		return "more than " + strconv.Itoa(saturated)
	}
	return strconv.Itoa(n)
}

// docStats are the counts of a selection set with its fragments expanded.
type docStats struct {
	fields, aliases, spreads int
	schema, types            int // __schema and __type fields
	top                      int // fields of the set itself, fragments spread into it included
	maxSet                   int // the largest top of this set and every set below it
}

func (s *docStats) plus(o docStats) {
	s.fields = add(s.fields, o.fields)
	s.aliases = add(s.aliases, o.aliases)
	s.spreads = add(s.spreads, o.spreads)
	s.schema = add(s.schema, o.schema)
	s.types = add(s.types, o.types)
	s.maxSet = max(s.maxSet, o.maxSet)
}

// measure counts a whole document: every operation with its fragments expanded, and every fragment's
// own largest selection set (validation checks fragments on their own too).
func measure(doc *ast.QueryDocument) docStats {
	m := measurer{frags: map[string]*ast.FragmentDefinition{}, memo: map[string]docStats{}, visiting: map[string]bool{}}
	for _, f := range doc.Fragments {
		m.frags[f.Name] = f
	}
	var total docStats
	for _, op := range doc.Operations {
		total.plus(m.set(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		total.maxSet = max(total.maxSet, m.spread(f.Name).maxSet)
	}
	return total
}

type measurer struct {
	frags    map[string]*ast.FragmentDefinition
	memo     map[string]docStats
	visiting map[string]bool
}

func (m measurer) set(set ast.SelectionSet) docStats {
	var s docStats
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			s.top = add(s.top, 1)
			s.fields = add(s.fields, 1)
			if x.Alias != "" && x.Alias != x.Name {
				s.aliases = add(s.aliases, 1)
			}
			switch x.Name {
			case "__schema":
				s.schema = add(s.schema, 1)
			case "__type":
				s.types = add(s.types, 1)
			}
			s.plus(m.set(x.SelectionSet))
		case *ast.InlineFragment:
			in := m.set(x.SelectionSet)
			s.top = add(s.top, in.top)
			s.plus(in)
		case *ast.FragmentSpread:
			in := m.spread(x.Name)
			s.spreads = add(s.spreads, 1)
			s.top = add(s.top, in.top)
			s.plus(in)
		}
	}
	s.maxSet = max(s.maxSet, s.top)
	return s
}

// spread is a fragment's counts, measured once; a fragment that spreads itself (which validation
// refuses) counts nothing the second time.
func (m measurer) spread(name string) docStats {
	if s, ok := m.memo[name]; ok {
		return s
	}
	f := m.frags[name]
	if f == nil || m.visiting[name] {
		return docStats{}
	}
	m.visiting[name] = true
	s := m.set(f.SelectionSet)
	delete(m.visiting, name)
	m.memo[name] = s
	return s
}

// depthLimit rejects operations nested deeper than max selections (fragments included), before any
// resolver runs: a cheap guard against depth bombs. Introspection (__schema, __type) is not counted:
// it reads the schema, not the mirror, and GraphiQL's own introspection query nests type references
// nine levels deep under __schema; the budget and the cost bound it instead.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, map[string]bool{}); depth > d.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("the query is nested %d levels deep; at most %d are allowed", depth, d.max),
			Extensions: map[string]any{"code": CodeQueryTooDeep},
		}
	}
	return nil
}

// selectionDepth is the depth of the deepest field under set; visiting guards against fragment cycles
// (which validation rejects anyway).
func selectionDepth(set ast.SelectionSet, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue // introspection: bounded by the schema itself
			}
			d = 1 + selectionDepth(s.SelectionSet, visiting)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(s.Definition.SelectionSet, visiting)
			delete(visiting, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// isConnection reports whether def is a Relay connection field: one with first and last arguments.
func isConnection(def *ast.FieldDefinition) bool {
	return def != nil && def.Arguments.ForName("first") != nil && def.Arguments.ForName("last") != nil
}

// argLimit refuses, before any resolver or query runs, arguments that would make one request load too
// much or cost the database too much:
//   - a connection whose first or last is not an integer between 0 and maxPage, or whose first and last
//     are both null (a variable left unset: the default page size applies only where both are left
//     out);
//   - a list anywhere in the arguments (nodes' ids, an idIn filter) longer than maxPage;
//   - a cursor that is not one rostermirror could have written (see checkCursor: a crafted one made the
//     cursor decoder reserve gigabytes);
//   - a filter (an input object: where) with more than the filters bounds allow — predicates, edge
//     predicates (has…With, each a subquery), or edge predicates nested too deep (each level multiplies
//     Postgres' planning time).
//
// Nested connections are loaded eagerly, before their own resolvers run, so the checks come before
// execution.
type argLimit struct {
	schema               *ast.Schema
	maxPage, defaultPage int
	filters              filterLimits
}

// filterLimits bound one argument's filter.
type filterLimits struct {
	predicates, edges, depth int
}

// defaultFilterLimits: 100 predicates, 30 edge predicates, nested 4 deep (users → roles → school
// memberships → school is 3).
var defaultFilterLimits = filterLimits{predicates: 100, edges: 30, depth: 4}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = argLimit{}

func (argLimit) ExtensionName() string                   { return "ArgumentLimit" }
func (argLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (p argLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return p.check(oc.Operation.SelectionSet, oc.Variables, map[string]bool{})
}

func (p argLimit) check(set ast.SelectionSet, vars map[string]any, done map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := p.field(s, vars); err != nil {
				return err
			}
			if err := p.check(s.SelectionSet, vars, done); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := p.check(s.SelectionSet, vars, done); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || done[s.Name] {
				continue
			}
			done[s.Name] = true
			if err := p.check(s.Definition.SelectionSet, vars, done); err != nil {
				return err
			}
		}
	}
	return nil
}

// badArgument is a BAD_REQUEST error at field f.
func badArgument(f *ast.Field, format string, args ...any) *gqlerror.Error {
	err := &gqlerror.Error{
		Message:    f.Alias + ": " + fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeBadRequest},
	}
	if f.Position != nil {
		err.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return err
}

func (p argLimit) field(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil || len(f.Definition.Arguments) == 0 {
		return nil
	}
	args, err := argumentMap(f, vars)
	if err != nil {
		return err
	}
	if isConnection(f.Definition) {
		if args["first"] == nil && args["last"] == nil {
			return badArgument(f, "first and last are both null; give first or last (1 to %d), or leave both out for a page of %d", p.maxPage, p.defaultPage)
		}
		for _, name := range []string{"first", "last"} {
			v := args[name]
			if v == nil {
				continue
			}
			if n, ok := toInt(v); !ok || n < 0 || n > int64(p.maxPage) {
				return badArgument(f, "%s must be an integer between 0 and %d", name, p.maxPage)
			}
		}
	}
	for _, a := range f.Definition.Arguments {
		v, ok := args[a.Name]
		if !ok || v == nil {
			continue
		}
		if n := longestList(v); n > p.maxPage {
			return badArgument(f, "%s holds a list of %d values; at most %d are allowed", a.Name, n, p.maxPage)
		}
		if a.Type.Name() == "Cursor" {
			if msg := checkCursor(v); msg != "" {
				return badArgument(f, "%s: %s", a.Name, msg)
			}
		}
		if def := p.schema.Types[a.Type.Name()]; def != nil && def.Kind == ast.InputObject {
			var st filterStats
			p.walkFilter(def, v, 0, &st)
			switch {
			case st.predicates > p.filters.predicates:
				return badArgument(f, "%s holds %d predicates; at most %d are allowed", a.Name, st.predicates, p.filters.predicates)
			case st.edges > p.filters.edges:
				return badArgument(f, "%s holds %d edge predicates (has…With); at most %d are allowed", a.Name, st.edges, p.filters.edges)
			case st.depth > p.filters.depth:
				return badArgument(f, "%s nests edge predicates (has…With) %d deep; at most %d are allowed", a.Name, st.depth, p.filters.depth)
			}
		}
	}
	return nil
}

// filterStats count a filter.
type filterStats struct {
	predicates, edges, depth int
}

// walkFilter counts the predicates of input value v of type def: every field set is a predicate; a
// has…With (a field whose name starts with "has" and whose type is an input object) is an edge
// predicate one level deeper; and/or/not and other nested inputs stay at their level. It stops early
// once a count is far past any bound.
func (p argLimit) walkFilter(def *ast.Definition, v any, depth int, st *filterStats) {
	if st.predicates > 100*p.filters.predicates {
		return
	}
	if items, ok := asList(v); ok {
		for _, item := range items {
			p.walkFilter(def, item, depth, st)
		}
		return
	}
	m, ok := asMap(v)
	if !ok {
		return
	}
	for name, fv := range m {
		st.predicates++
		fd := def.Fields.ForName(name)
		if fd == nil || fv == nil {
			continue
		}
		inner := p.schema.Types[fd.Type.Name()]
		if inner == nil || inner.Kind != ast.InputObject {
			continue
		}
		d := depth
		if strings.HasPrefix(name, "has") {
			st.edges++
			d++
			st.depth = max(st.depth, d)
		}
		p.walkFilter(inner, fv, d, st)
	}
}

// maxCursor is the longest cursor accepted, in characters: a cursor holds a record's id and the value it
// is ordered by (a name, a date), a few dozen characters.
const maxCursor = 512

// checkCursor says what is wrong with a cursor argument, or "" when it is one rostermirror could have
// written: base64 (unpadded) of a msgpack map of at most two entries, keys "i" (the id) and "v" (the
// order value), whose values are scalars (nil, bool, number, string, binary, timestamp). entgql's
// decoder reserves room for every map and array a cursor announces before reading it — a 566-character
// cursor announcing nested maps of two billion entries took the server out of memory — so nothing else
// may reach it.
func checkCursor(v any) string {
	s, ok := v.(string)
	switch {
	case !ok:
		return "a cursor is a string"
	case len(s) > maxCursor:
		return fmt.Sprintf("not a cursor: longer than %d characters", maxCursor)
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || !scalarMap(b) {
		return "not a cursor this API returned"
	}
	return ""
}

// scalarMap reports whether b is exactly one msgpack fixmap of one or two entries with keys "i" or "v"
// and scalar values.
func scalarMap(b []byte) bool {
	if len(b) == 0 || b[0]&0xf0 != 0x80 {
		return false
	}
	n := int(b[0] & 0x0f)
	if n < 1 || n > 2 {
		return false
	}
	rest := b[1:]
	for range n {
		if len(rest) < 2 || rest[0] != 0xa1 || rest[1] != 'i' && rest[1] != 'v' {
			return false
		}
		size, ok := scalarSize(rest[2:])
		if !ok {
			return false
		}
		rest = rest[2+size:]
	}
	return len(rest) == 0
}

// scalarSize is the encoded size of the msgpack scalar at the start of b; ok is false for anything else
// (maps, arrays, other extensions) or when b is too short.
func scalarSize(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	fixed := func(n int) (int, bool) { return n, len(b) >= n }
	sized := func(header, lenBytes int) (int, bool) {
		if len(b) < header {
			return 0, false
		}
		n := 0
		for _, c := range b[header-lenBytes : header] {
			n = n<<8 | int(c)
		}
		return fixed(header + n)
	}
	c := b[0]
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixints, nil, false, true
		return 1, true
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return fixed(1 + int(c&0x1f))
	}
	switch c {
	case 0xcc, 0xd0:
		return fixed(2)
	case 0xcd, 0xd1:
		return fixed(3)
	case 0xca, 0xce, 0xd2:
		return fixed(5)
	case 0xcb, 0xcf, 0xd3:
		return fixed(9)
	case 0xd9, 0xc4: // str8, bin8
		return sized(2, 1)
	case 0xda, 0xc5: // str16, bin16
		return sized(3, 2)
	case 0xd6, 0xd7: // fixext4, fixext8: a timestamp (type -1)
		if len(b) < 2 || int8(b[1]) != -1 {
			return 0, false
		}
		return fixed(map[byte]int{0xd6: 6, 0xd7: 10}[c])
	case 0xc7: // ext8: a 96-bit timestamp
		if len(b) < 3 || b[1] != 12 || int8(b[2]) != -1 {
			return 0, false
		}
		return fixed(15)
	}
	return 0, false
}

// toInt reads an Int argument's value as gqlparser leaves it: int64 for literals, and for variables
// whatever JSON gave (json.Number, float64) — or a string, which gqlparser accepts for Int and gqlgen
// parses later.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// argumentMap is f's arguments with variables applied; gqlparser panics on some literals of custom
// scalars (an integer too large for Int64 given as a Cursor), which is answered as a bad argument.
func argumentMap(f *ast.Field, vars map[string]any) (args map[string]any, err *gqlerror.Error) {
	defer func() {
		if recover() != nil {
			args, err = nil, badArgument(f, "an argument cannot be read (a cursor, id or date must be a string)")
		}
	}()
	return f.ArgumentMap(vars), nil
}

// asList and asMap read lists and input objects whatever slice or map type gqlparser coerced them to
// ([]any from JSON, []map[string]any from a default value, …).
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

func asMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// longestList is the length of the longest list in an argument value, at any depth.
func longestList(v any) int {
	if items, ok := asList(v); ok {
		n := len(items)
		for _, item := range items {
			n = max(n, longestList(item))
		}
		return n
	}
	if m, ok := asMap(v); ok {
		n := 0
		for _, item := range m {
			n = max(n, longestList(item))
		}
		return n
	}
	return 0
}

// costLimit refuses, before anything executes, an operation whose cost exceeds max. The cost counts the
// records (objects) the answer can hold, as GitHub's node limit does: a connection's nodes count once per
// edge of its page (first or last, or the default page size; at most 1 when filtered by id, at most the
// number of ids when filtered by idIn) and everything below them as often, a
// list of ids once per id, any other list of objects (a user's roles, a role's schools) listSize times,
// other objects once; scalar fields count nothing (the budget bounds how many a query selects per
// record); an introspection field counts the fields selected under it once per type of the schema. It
// replaces gqlgen's complexity limit, which counted a connection's page once and walked fragments without
// memory (a fan-out of fragments kept it busy for minutes).
type costLimit struct {
	schema              *ast.Schema
	max                 int
	defaultPage, listSz int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = costLimit{}

func (costLimit) ExtensionName() string                   { return "CostLimit" }
func (costLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (c costLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if n := c.cost(oc.Operation, oc.Variables); n > c.max {
		return &gqlerror.Error{
			Message: fmt.Sprintf("the query can return %s records; at most %d are allowed in one request "+
				"(each connection counts its page: first, last or %d by default; ask for smaller pages)", count(n), c.max, c.defaultPage),
			Extensions: map[string]any{"code": CodeQueryTooComplex},
		}
	}
	return nil
}

// cost is the cost of an operation.
func (c costLimit) cost(op *ast.OperationDefinition, vars map[string]any) int {
	w := costWalk{costLimit: c, vars: vars, memo: map[memoKey]int{}}
	return w.set(op.SelectionSet, 0)
}

// listSize is what a list of objects without pagination (User.roles, UserRole.schools) counts for: a
// user holds at most five roles.
const listSize = 5

type costWalk struct {
	costLimit
	vars map[string]any
	memo map[memoKey]int // a fragment's cost depends only on the page of the connection it is spread in
}

type memoKey struct {
	fragment string
	page     int
}

// set is the cost of a selection set; page is the page size when the set is a connection's.
func (w costWalk) set(set ast.SelectionSet, page int) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n = add(n, w.field(s, page))
		case *ast.InlineFragment:
			n = add(n, w.set(s.SelectionSet, page))
		case *ast.FragmentSpread:
			k := memoKey{s.Name, page}
			c, ok := w.memo[k]
			if !ok {
				w.memo[k] = 0 // a cycle (refused by validation) counts nothing
				if s.Definition != nil {
					c = w.set(s.Definition.SelectionSet, page)
				}
				w.memo[k] = c
			}
			n = add(n, c)
		}
	}
	return n
}

func (w costWalk) field(f *ast.Field, page int) int {
	def := f.Definition
	switch {
	case f.Name == "__schema" || f.Name == "__type":
		return add(1, mul(fieldCount(f.SelectionSet, map[string]bool{}), len(w.schema.Types)))
	case def == nil:
		return 0
	}
	weight := fieldWeight(def)
	if len(f.SelectionSet) == 0 {
		return weight // a scalar: nothing unless its resolver queries (District.status's parts do not)
	}
	args, err := argumentMap(f, w.vars)
	if err != nil {
		return saturated // argLimit refuses it; count it as too much should the order of checks change
	}
	switch {
	case isConnection(def):
		size := -1
		for _, name := range []string{"first", "last"} {
			if n, ok := toInt(args[name]); ok {
				size = max(size, int(max(0, min(n, saturated))))
			}
		}
		if size < 0 {
			size = w.defaultPage
		}
		if where, ok := asMap(args["where"]); ok { // a filter on ids bounds the page (entgql ignores an empty idIn)
			if where["id"] != nil {
				size = min(size, 1)
			}
			if ids, ok := asList(where["idIn"]); ok && len(ids) > 0 {
				size = min(size, len(ids))
			}
		}
		return add(add(1, weight), w.set(f.SelectionSet, size))
	case def.Type.Elem == nil:
		return add(add(1, weight), w.set(f.SelectionSet, 0))
	case f.Name == "edges" && f.ObjectDefinition != nil && f.ObjectDefinition.Fields.ForName("pageInfo") != nil:
		return mul(page, w.set(f.SelectionSet, 0)) // a connection's edges: each counts its node
	}
	times := w.listSz
	if ids, ok := asList(args["ids"]); ok {
		times = len(ids)
	}
	if def.Arguments.ForName("first") != nil { // a list bounded by first (districtLinkCandidates): that many
		if n, ok := toInt(args["first"]); ok {
			times = int(max(0, min(n, saturated)))
		} else if d := def.Arguments.ForName("first").DefaultValue; d != nil {
			if n, err := strconv.Atoi(d.Raw); err == nil {
				times = n
			}
		}
	}
	return add(weight, mul(times, add(1, w.set(f.SelectionSet, 0))))
}

// fieldWeight is the @cost(weight:) of a field: what a hand-written resolver that queries the database
// once per parent record (District.status, School.users, …) adds each time it runs.
func fieldWeight(def *ast.FieldDefinition) int {
	d := def.Directives.ForName("cost")
	if d == nil {
		return 0
	}
	if a := d.Arguments.ForName("weight"); a != nil && a.Value != nil {
		if n, err := strconv.Atoi(a.Value.Raw); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// fieldCount is the number of fields under set, fragments expanded.
func fieldCount(set ast.SelectionSet, visiting map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n = add(n, add(1, fieldCount(s.SelectionSet, visiting)))
		case *ast.InlineFragment:
			n = add(n, fieldCount(s.SelectionSet, visiting))
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			n = add(n, fieldCount(s.Definition.SelectionSet, visiting))
			delete(visiting, s.Name)
		}
	}
	return n
}

// pagedCache is the parsed-query cache; it gives every connection asked for without first and last a
// page of size first: n as it stores a freshly parsed and validated document — before any request uses
// it, so the resolvers and the compiled path see the same default. An explicit null is replaced too;
// a variable that turns out null is argLimit's to refuse.
type pagedCache struct {
	graphql.Cache[*ast.QueryDocument]
	size int
}

func (c pagedCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		defaultPages(op.SelectionSet, c.size)
	}
	for _, f := range doc.Fragments {
		defaultPages(f.SelectionSet, c.size)
	}
	c.Cache.Add(ctx, key, doc)
}

// defaultPages adds first: size to the connections of set (fragment definitions are visited by the
// caller) that give neither first nor last.
func defaultPages(set ast.SelectionSet, size int) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			defaultPage(s, size)
			defaultPages(s.SelectionSet, size)
		case *ast.InlineFragment:
			defaultPages(s.SelectionSet, size)
		}
	}
}

func defaultPage(f *ast.Field, size int) {
	if !isConnection(f.Definition) {
		return
	}
	var given []*ast.Argument
	for _, a := range f.Arguments {
		if a.Name == "first" || a.Name == "last" {
			given = append(given, a)
		}
	}
	page := &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(size), Position: f.Position,
		ExpectedType: f.Definition.Arguments.ForName("first").Type}
	for _, a := range given {
		if a.Value != nil && a.Value.Kind != ast.NullValue {
			return // a page size is given (or a variable: argLimit checks it per request)
		}
	}
	for _, a := range given {
		if a.Name == "first" {
			a.Value = page // first: null
			return
		}
	}
	f.Arguments = append(f.Arguments, &ast.Argument{Name: "first", Value: page, Position: f.Position})
}
