package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RoleOverride is an admin's decision about one role of a Clever user in the app: GRANT it although
// Clever does not send it, or REVOKE it although Clever does. User.roles stays what Clever says;
// User.effectiveRoles applies the overrides. Set and cleared only by mutations (internal/localdata);
// sync never reads or writes it, and it holds whatever Clever sends next.
type RoleOverride struct {
	ent.Schema
}

// Fields of RoleOverride.
func (RoleOverride) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").DefaultFunc(newID).Immutable().MaxLen(32),
		field.String("user_id").NotEmpty().Immutable().MaxLen(64).Comment("the Clever id of the user"),
		field.String("district_id").NotEmpty().Immutable().MaxLen(64).Comment("the Clever id of the user's district"),
		field.Enum("role").Values("STUDENT", "TEACHER", "STAFF", "DISTRICT_ADMIN", "CONTACT").Immutable(),
		field.Enum("effect").Values("GRANT", "REVOKE"),
		field.String("reason").Default("").MaxLen(2000),
		field.String("decided_by").NotEmpty().Comment("who set it (an audit actor)"),
		field.Time("decided_at").Default(time.Now).Annotations(entgql.OrderField("DECIDED_AT")),
	}
}

// Indexes of RoleOverride.
func (RoleOverride) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "role").Unique(),
		index.Fields("district_id"),
	}
}

// Annotations of RoleOverride.
func (RoleOverride) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
