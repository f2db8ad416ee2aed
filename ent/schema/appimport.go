package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AppImport is one accepted import of the app's records of one type for one district: what the file
// was (its columns, in order, which the export repeats as app.* columns) and what it changed. Admin only.
type AppImport struct {
	ent.Schema
}

// Fields of AppImport.
func (AppImport) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.Enum("type").Values("STUDENT", "TEACHER", "STAFF", "SCHOOL", "SECTION").Immutable(),
		field.String("file_name").Default("").Immutable(),
		field.Strings("columns").Immutable().Comment("the header's columns in the file's order"),
		field.String("id_column").Immutable(),
		field.JSON("mapping", map[string]string{}).Immutable().Annotations(entgql.Type("StringMap")).
			Comment("the column each recognised field was read from"),
		field.Int("records").Immutable(),
		field.Int("created").Immutable().Comment("records new to rostermirror"),
		field.Int("changed").Immutable().Comment("records whose row differs from the last import"),
		field.Int("unchanged").Immutable(),
		field.Int("missing").Immutable().Comment("records of earlier imports this file no longer has (kept, marked missingSince)"),
		field.Strings("missing_ids").Optional().Immutable().Comment("the first 100 missing records' external ids"),
		field.Int("matched").Default(0).Comment("after the import's matching: records MATCHED (automatically or by an admin)"),
		field.Int("suggested").Default(0),
		field.Int("unmatched").Default(0),
		field.Int("duplicate").Default(0),
		field.Strings("warnings").Optional().Immutable().Comment("columns ignored, and the like"),
		field.String("imported_by").Default("").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of AppImport.
func (AppImport) Indexes() []ent.Index {
	return []ent.Index{index.Fields("district_id", "type", "created_at")}
}

// Annotations of AppImport.
func (AppImport) Annotations() []schema.Annotation {
	return []schema.Annotation{AdminOnly()}
}
