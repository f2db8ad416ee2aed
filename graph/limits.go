package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// depthLimit rejects operations nested deeper than max selections (fragments included), before any
// resolver runs: a cheap guard against depth bombs. Introspection (__schema, __type) is not counted:
// it reads the schema, not the mirror, and GraphiQL's own introspection query nests type references
// nine levels deep under __schema.
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
			Extensions: map[string]any{"code": "QUERY_TOO_DEEP"},
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

// pageLimit refuses, before any resolver or query runs, a connection whose first or last is outside
// 0..max. Nested connections are loaded eagerly, before their own resolvers run, so the check must come
// before execution. (A connection asked for without first or last lists all its edges, as entgql does.)
type pageLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageLimit{}

func (pageLimit) ExtensionName() string                   { return "PageLimit" }
func (pageLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (p pageLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return p.check(oc.Operation.SelectionSet, oc.Variables, map[string]bool{})
}

func (p pageLimit) check(set ast.SelectionSet, vars map[string]any, visiting map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := p.field(s, vars); err != nil {
				return err
			}
			if err := p.check(s.SelectionSet, vars, visiting); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := p.check(s.SelectionSet, vars, visiting); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			err := p.check(s.Definition.SelectionSet, vars, visiting)
			delete(visiting, s.Name)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// field checks one field: a Relay connection (a field with first and last arguments).
func (p pageLimit) field(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil || f.Definition.Arguments.ForName("first") == nil || f.Definition.Arguments.ForName("last") == nil {
		return nil
	}
	args := f.ArgumentMap(vars)
	for _, name := range []string{"first", "last"} {
		if v, ok := args[name].(int64); ok && (v < 0 || v > int64(p.max)) {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("%s: %s must be between 0 and %d", f.Alias, name, p.max),
				Locations:  []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}},
				Extensions: map[string]any{"code": CodeBadRequest},
			}
		}
	}
	return nil
}
