package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is a key for the GraphQL API. Only a hash of the key is stored; the key itself is shown once,
// when it is created.
type APIKey struct {
	ent.Schema
}

// Fields of APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("name").NotEmpty().Comment("what the key is for, chosen by whoever created it"),
		field.String("prefix").NotEmpty().Immutable().
			Comment("the key's first characters, to tell keys apart in lists without revealing them"),
		field.String("hash").NotEmpty().Immutable().Unique().Sensitive().
			Comment("sha-256 of the key, hex"),
		field.Strings("scopes").Comment("read, admin, sensitive"),
		field.String("created_by").Default(""),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("prefix")}
}

// Annotations of APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
