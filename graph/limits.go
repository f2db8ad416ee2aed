package graph

import (
	"context"
	"fmt"
	"math"
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
// much: a connection whose first or last is outside 0..maxPage, or whose first and last are both null
// (a variable left unset: the default page size applies only where both are left out), and a list
// anywhere in the arguments (nodes' ids, an idIn filter) longer than maxPage. Nested connections are
// loaded eagerly, before their own resolvers run, so the check must come before execution.
type argLimit struct{ maxPage, defaultPage int }

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

func (p argLimit) field(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil || len(f.Definition.Arguments) == 0 {
		return nil
	}
	bad := func(format string, args ...any) *gqlerror.Error {
		return &gqlerror.Error{
			Message:    f.Alias + ": " + fmt.Sprintf(format, args...),
			Locations:  []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}},
			Extensions: map[string]any{"code": CodeBadRequest},
		}
	}
	args := f.ArgumentMap(vars)
	if isConnection(f.Definition) {
		if args["first"] == nil && args["last"] == nil {
			return bad("first and last are both null; give first or last (1 to %d), or leave both out for a page of %d", p.maxPage, p.defaultPage)
		}
		for _, name := range []string{"first", "last"} {
			if v, ok := args[name].(int64); ok && (v < 0 || v > int64(p.maxPage)) {
				return bad("%s must be between 0 and %d", name, p.maxPage)
			}
		}
	}
	for name, v := range args {
		if n := longestList(v); n > p.maxPage {
			return bad("%s holds a list of %d values; at most %d are allowed", name, n, p.maxPage)
		}
	}
	return nil
}

// longestList is the length of the longest list in an argument value, at any depth.
func longestList(v any) int {
	switch x := v.(type) {
	case []any:
		n := len(x)
		for _, item := range x {
			n = max(n, longestList(item))
		}
		return n
	case map[string]any:
		n := 0
		for _, item := range x {
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
	case def == nil || len(f.SelectionSet) == 0:
		return 0 // a scalar
	}
	args := f.ArgumentMap(w.vars)
	switch {
	case isConnection(def):
		size := -1
		for _, name := range []string{"first", "last"} {
			if v, ok := args[name].(int64); ok {
				size = max(size, int(max(0, min(v, saturated))))
			}
		}
		if size < 0 {
			size = w.defaultPage
		}
		if where, ok := args["where"].(map[string]any); ok { // a filter on ids bounds the page
			if where["id"] != nil {
				size = min(size, 1)
			}
			if ids, ok := where["idIn"].([]any); ok {
				size = min(size, len(ids))
			}
		}
		return add(1, w.set(f.SelectionSet, size))
	case def.Type.Elem == nil:
		return add(1, w.set(f.SelectionSet, 0))
	case f.Name == "edges" && f.ObjectDefinition != nil && f.ObjectDefinition.Fields.ForName("pageInfo") != nil:
		return mul(page, w.set(f.SelectionSet, 0)) // a connection's edges: each counts its node
	}
	times := w.listSz
	if ids, ok := args["ids"].([]any); ok {
		times = len(ids)
	}
	return mul(times, add(1, w.set(f.SelectionSet, 0)))
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
