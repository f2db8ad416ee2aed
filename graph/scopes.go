package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rostermirror/rostermirror/internal/auth"
)

// scopeDirective is the directive that ent/schema's RequiresScope annotation becomes (ent/entc.go puts
// it on guarded fields, their filters and orderings, and guarded types with their connections).
const scopeDirective = "requiresScope"

// scopeOf is the auth scope a directive list requires, or "".
func scopeOf(list ast.DirectiveList) auth.Scope {
	d := list.ForName(scopeDirective)
	if d == nil {
		return ""
	}
	arg := d.Arguments.ForName("scope")
	if arg == nil || arg.Value == nil {
		return ""
	}
	return authScope(APIScope(arg.Value.Raw))
}

// authScope is the API key scope named by a GraphQL APIScope value.
func authScope(s APIScope) auth.Scope { return auth.Scope(strings.ToLower(string(s))) }

// may reports whether the request's API key grants scope s.
func may(ctx context.Context, s auth.Scope) bool {
	k, ok := auth.FromContext(ctx)
	return ok && k.Has(s)
}

// requiresScope is the @requiresScope directive at execution, behind the operation-wide check
// (scopeCheck), which refuses filters, orderings and guarded types before anything runs. Without the
// scope, a guarded nullable field reads null; a field returning a guarded type, a non-null guarded field
// and a guarded input field (should one ever get past scopeCheck) fail with FORBIDDEN — never a
// silently dropped filter.
func requiresScope(ctx context.Context, obj any, next graphql.Resolver, scope APIScope) (any, error) {
	s := authScope(scope)
	if may(ctx, s) {
		return next(ctx)
	}
	if _, input := obj.(map[string]any); input { // gqlgen hands input field directives the raw input object
		return nil, &auth.ScopeError{Missing: s}
	}
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Field.Definition != nil && !fc.Field.Definition.Type.NonNull &&
		scopeOf(fc.Field.Definition.Directives) != "" {
		return nil, nil // the field itself is guarded: null
	}
	return nil, &auth.ScopeError{Missing: s}
}

// scopeCheck refuses, after validation and before anything executes (on either the resolvers or the
// compiled path), an operation that needs a scope the API key lacks: one that selects a field whose type
// is guarded (AuditEntry, its connection and edges), or whose arguments use a guarded input field (a
// where-input predicate on a sensitive field, at any depth, explicit null included) or a guarded enum
// value (an ordering by a sensitive field). Guarded fields themselves may be selected: they read null.
type scopeCheck struct {
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = scopeCheck{}

func (scopeCheck) ExtensionName() string                   { return "ScopeCheck" }
func (scopeCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (c scopeCheck) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := scopeWalk{ctx: ctx, schema: c.schema, vars: oc.Variables, done: map[string]bool{}}
	if err := w.set(oc.Operation.SelectionSet); err != nil {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			return gerr // an argument that cannot be read
		}
		return &gqlerror.Error{Message: err.Error(), Extensions: map[string]any{"code": CodeForbidden}}
	}
	return nil
}

type scopeWalk struct {
	ctx    context.Context
	schema *ast.Schema
	vars   map[string]any
	done   map[string]bool // fragments checked (a fragment's checks do not depend on where it is spread)
}

func (w scopeWalk) set(set ast.SelectionSet) error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := w.field(s); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.set(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || w.done[s.Name] {
				continue
			}
			w.done[s.Name] = true
			if err := w.set(s.Definition.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w scopeWalk) field(f *ast.Field) error {
	def := f.Definition
	if def == nil {
		return nil
	}
	if strings.HasPrefix(f.Name, "__") {
		return nil // introspection and __typename read the schema, not the mirror
	}
	if t := w.schema.Types[def.Type.Name()]; t != nil {
		if s := scopeOf(t.Directives); s != "" && !may(w.ctx, s) {
			return fmt.Errorf("%s: %s needs the API key scope %q", f.Alias, t.Name, s)
		}
	}
	args, gerr := argumentMap(f, w.vars)
	if gerr != nil {
		return gerr
	}
	for _, a := range def.Arguments {
		v, ok := args[a.Name]
		if !ok {
			continue
		}
		if err := w.value(a.Type, v, f.Alias+"("+a.Name); err != nil {
			return err
		}
	}
	return w.set(f.SelectionSet)
}

// value checks an argument value of type t: every input field present (even as null) and every enum
// value used must be allowed.
func (w scopeWalk) value(t *ast.Type, v any, path string) error {
	if v == nil || t == nil {
		return nil
	}
	if t.Elem != nil {
		items, ok := asList(v)
		if !ok {
			return w.value(t.Elem, v, path) // a single value where a list is expected (input coercion)
		}
		for _, item := range items {
			if err := w.value(t.Elem, item, path); err != nil {
				return err
			}
		}
		return nil
	}
	def := w.schema.Types[t.Name()]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.InputObject:
		m, ok := asMap(v)
		if !ok {
			return nil
		}
		for name, fv := range m {
			fd := def.Fields.ForName(name)
			if fd == nil {
				continue
			}
			if s := scopeOf(fd.Directives); s != "" && !may(w.ctx, s) {
				return fmt.Errorf("%s): filtering by %s needs the API key scope %q", path, name, s)
			}
			if err := w.value(fd.Type, fv, path+"."+name); err != nil {
				return err
			}
		}
	case ast.Enum:
		name, ok := v.(string)
		if !ok {
			return nil
		}
		if ev := def.EnumValues.ForName(name); ev != nil {
			if s := scopeOf(ev.Directives); s != "" && !may(w.ctx, s) {
				return fmt.Errorf("%s): %s needs the API key scope %q", path, name, s)
			}
		}
	}
	return nil
}
