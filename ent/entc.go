//go:build ignore

// entc generates the ent client and the GraphQL schema (graph/ent.graphql, via entgql) from ent/schema.
// Run it through `go generate ./...` from the module root (generate.go), never from ent/: the schema
// path must match gqlgen.yml's entry textually.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
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
	}, entc.Extensions(ex), entc.TemplateFiles("ent/template/storage.tmpl"))
	if err != nil {
		log.Fatalf("generate ent: %v", err)
	}
}
