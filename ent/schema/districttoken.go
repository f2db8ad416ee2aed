package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// DistrictToken is a district's Clever token, encrypted at rest with ROSTERMIRROR_SECRET_KEY, and its
// health. There is one per district the app is connected to; the district row itself appears with the
// first sync.
type DistrictToken struct {
	ent.Schema
}

// Fields of DistrictToken.
func (DistrictToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("district_id").NotEmpty().Immutable().MaxLen(64).
			Comment("the Clever id of the district"),
		field.Bytes("ciphertext").Sensitive().
			Comment("the token sealed with AES-256-GCM under ROSTERMIRROR_SECRET_KEY"),
		field.Enum("source").NamedValues("OAuth", "OAUTH", "Env", "ENV").
			Comment("OAUTH: listed by GET /oauth/tokens; ENV: CLEVER_DISTRICT_TOKENS"),
		field.Enum("status").NamedValues("Ok", "OK", "Revoked", "REVOKED", "Error", "ERROR").Default("OK").
			Comment("REVOKED: Clever answered 401 or stopped listing the token (the district disconnected the app)"),
		field.Time("last_used_at").Optional().Nillable(),
		field.String("last_error").Default(""),
		field.Time("status_changed_at").Optional().Nillable(),
		field.Time("updated_at"),
	}
}

// Annotations of DistrictToken.
func (DistrictToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
