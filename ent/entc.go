//go:build ignore

// entc generates the ent client from ent/schema. Run it through `go generate ./...` from the module root
// (generate.go), never from ent/.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/rostermirror/rostermirror/ent",
		Features: []gen.Feature{
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureModifier,
			gen.FeatureVersionedMigration,
		},
	})
	if err != nil {
		log.Fatalf("generate ent: %v", err)
	}
}
