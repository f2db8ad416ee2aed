package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginState is one OAuth `state` that rostermirror issued and that was used, or a district invite
// (createDistrictInvite). The state itself is signed and carries what it names; the row makes it
// single-use. A sign-in's state gets its row only once Clever has accepted its code (starting a sign-in
// writes nothing); an invite's row is written when an admin creates it. Only a hash of its nonce is
// stored.
type LoginState struct {
	ent.Schema
}

// Fields of LoginState.
func (LoginState) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().Immutable().MaxLen(64).Comment("sha-256 of the state's nonce, hex"),
		field.Enum("purpose").Values("LOGIN", "INVITE").Immutable(),
		field.String("organization_id").Default("").Immutable().Comment("the inviting organization (INVITE)"),
		field.String("created_by").Default("").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of LoginState.
func (LoginState) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations of LoginState.
func (LoginState) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
