//go:build ignore

// entc generates the ent client and the GraphQL schema (graph/ent.graphql, via entgql) from ent/schema.
// Run it through `go generate ./...` from the module root (generate.go), never from ent/: the schema
// path must match gqlgen.yml's entry textually.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(scopeDirectives, specNames),
	)
	if err != nil {
		log.Fatalf("create entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/rostermirror/rostermirror/ent",
		Features: []gen.Feature{
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureModifier,
			gen.FeatureVersionedMigration,
			gen.FeatureIntercept,
			gen.FeatureNamedEdges,
		},
	}, entc.Extensions(ex), entc.TemplateFiles("ent/template/storage.tmpl", "ent/template/paginate.tmpl"))
	if err != nil {
		log.Fatalf("generate ent: %v", err)
	}
}

// scopeDirective is the GraphQL directive that the RequiresScope annotation (ent/schema/scope.go)
// becomes; graph/schema.graphql declares it and graph enforces it.
const scopeDirective = "requiresScope"

var camel = gen.Funcs["camel"].(func(string) string) // entgql's own naming of fields and predicates

// scopeDirectives puts @requiresScope on everything a RequiresScope annotation guards: an annotated
// field, every where-input predicate derived from it (entgql names them camel(field_op)) and its order
// enum value; an annotated type, its connection and edge types, and the hasX/hasXWith predicates of
// every edge that leads to it. A guarded field or type that the GraphQL schema shows but the hook cannot
// find is an error, so a change in entgql's naming fails generation instead of leaving a side door.
func scopeDirectives(g *gen.Graph, s *ast.Schema) error {
	for _, t := range g.Nodes {
		scope, err := scopeOf(t.Annotations)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if scope != "" {
			for _, name := range []string{t.Name, t.Name + "Connection", t.Name + "Edge"} {
				if def := s.Types[name]; def != nil {
					def.Directives = append(def.Directives, directive(scope))
				}
			}
		}
		for _, f := range t.Fields {
			scope, err := scopeOf(f.Annotations)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name, f.Name, err)
			}
			if scope == "" {
				continue
			}
			if err := guardField(s, t, f, scope); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name, f.Name, err)
			}
		}
		where := s.Types[t.Name+"WhereInput"]
		for _, e := range t.Edges {
			scope, err := scopeOf(e.Type.Annotations)
			if err != nil || scope == "" || where == nil {
				continue
			}
			for _, name := range []string{camel("has_" + e.Name), camel("has_" + e.Name + "_with")} {
				if fd := where.Fields.ForName(name); fd != nil {
					fd.Directives = append(fd.Directives, directive(scope))
				}
			}
		}
	}
	return nil
}

// specRenames are GraphQL field names SPEC.md fixes where entgql's naming differs ("externalID"), by the
// ent type they belong to. The fields of the type, of its mutation inputs and the predicates of its where
// input starting with the entgql name are renamed; gqlgen binds them to the same Go fields (it matches
// names case-insensitively).
var specRenames = map[string]map[string]string{
	"Organization":    {"externalID": "externalId", "ncesID": "ncesId"},
	"AppRecord":       {"externalID": "externalId", "cleverID": "cleverId"},
	"MatchSuggestion": {"cleverID": "cleverId"},
	"LocalUser":       {"externalID": "externalId"},
	"ProgressRecord":  {"activityID": "activityId", "attemptID": "attemptId"},
	"CleverIDAlias":   {"formerCleverID": "formerCleverId", "cleverID": "cleverId"},
}

// specNames applies specRenames.
func specNames(_ *gen.Graph, s *ast.Schema) error {
	for typ, renames := range specRenames {
		for _, name := range []string{typ, "Create" + typ + "Input", "Update" + typ + "Input", typ + "WhereInput"} {
			def := s.Types[name]
			if def == nil && name == typ {
				return fmt.Errorf("rename fields of %s: no GraphQL type %s", typ, name)
			}
			if def == nil {
				continue // a type without mutation inputs
			}
			for _, f := range def.Fields {
				for from, to := range renames {
					if rest, ok := strings.CutPrefix(f.Name, from); ok {
						f.Name = to + rest
					}
				}
			}
		}
	}
	return nil
}

// guardField marks field f of type t, its predicates and its order value.
func guardField(s *ast.Schema, t *gen.Type, f *gen.Field, scope string) error {
	obj := s.Types[t.Name]
	if obj == nil {
		return nil // the type is not in GraphQL
	}
	fd := obj.Fields.ForName(camel(f.Name))
	if fd == nil {
		return fmt.Errorf("guarded by scope %q but not found in GraphQL type %s (skip it from GraphQL, or mind entgql's naming)", scope, t.Name)
	}
	fd.Directives = append(fd.Directives, directive(scope))
	if where := s.Types[t.Name+"WhereInput"]; where != nil {
		for _, op := range f.Ops() {
			name := camel(f.Name + "_" + op.Name())
			if op == gen.EQ {
				name = camel(f.Name)
			}
			if p := where.Fields.ForName(name); p != nil {
				p.Directives = append(p.Directives, directive(scope))
			}
		}
		// Anything else in the where input named after the field is a predicate the loop missed.
		for _, p := range where.Fields {
			if strings.HasPrefix(p.Name, camel(f.Name)) && p.Directives.ForName(scopeDirective) == nil && !isOtherField(t, p.Name, f) {
				return fmt.Errorf("predicate %s.%s looks derived from the guarded field but was not marked", where.Name, p.Name)
			}
		}
	}
	if order := s.Types[t.Name+"OrderField"]; order != nil {
		if ant, ok := f.Annotations["EntGQL"].(map[string]any); ok {
			if name, _ := ant["OrderField"].(string); name != "" {
				if v := order.EnumValues.ForName(name); v != nil {
					v.Directives = append(v.Directives, directive(scope))
				}
			}
		}
	}
	return nil
}

// isOtherField reports whether predicate name belongs to another field of t whose name extends f's
// (email_verified's predicates start with email's name).
func isOtherField(t *gen.Type, name string, f *gen.Field) bool {
	for _, other := range t.Fields {
		if other != f && len(other.Name) > len(f.Name) && strings.HasPrefix(name, camel(other.Name)) {
			return true
		}
	}
	return false
}

func directive(scope string) *ast.Directive {
	return &ast.Directive{Name: scopeDirective, Arguments: ast.ArgumentList{{
		Name: "scope", Value: &ast.Value{Kind: ast.EnumValue, Raw: strings.ToUpper(scope)},
	}}}
}

// scopeOf reads a RequiresScope annotation as entc hands it over (decoded from JSON).
func scopeOf(annotations gen.Annotations) (string, error) {
	a, ok := annotations["RequiresScope"]
	if !ok {
		return "", nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	var v struct{ Scope string }
	if err := json.Unmarshal(b, &v); err != nil || v.Scope == "" {
		return "", fmt.Errorf("malformed RequiresScope annotation %s", b)
	}
	return v.Scope, nil
}
