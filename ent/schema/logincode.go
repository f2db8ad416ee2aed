package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginCode is the one-time code /auth/clever/callback hands the app (ROSTERMIRROR_APP_LOGIN_URL?code=),
// which the app's backend exchanges at /auth/exchange for who signed in. Short-lived and single-use; only
// a hash of the code is stored, and never Clever's token.
type LoginCode struct {
	ent.Schema
}

// Fields of LoginCode.
func (LoginCode) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").NotEmpty().Immutable().MaxLen(64).Comment("sha-256 of the code, hex"),
		field.String("user_id").NotEmpty().Immutable().MaxLen(64).Comment("the Clever id of the user who signed in"),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64),
		field.Strings("roles").Optional().Immutable().Comment("the user's roles: student, teacher, staff, district_admin, contact"),
		field.String("authorized_by").Default("").Immutable().Comment("district or teacher"),
		field.String("organization_id").Default("").Immutable().Comment("the district's organization when it is linked"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of LoginCode.
func (LoginCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations of LoginCode.
func (LoginCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
