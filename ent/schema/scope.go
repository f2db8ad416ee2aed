package schema

// RequiresScope marks a field or a whole type as readable only with an API key scope ("sensitive",
// "admin"). It is the one place a scope is declared: code generation turns it into the GraphQL
// @requiresScope directive on the field or type and on everything that reaches it — the where-input
// predicates derived from the field, its ordering, the connection and edge types of the type, and the
// has…With predicates of edges to it — and into ent.StorageTypes (Scope), which node(id) and the compiled
// queries read. graph enforces the directive on every path (see graph/scopes.go).
type RequiresScope struct {
	// Scope is the API key scope (internal/auth's names: "sensitive", "admin").
	Scope string `json:"scope"`
}

// Name of the annotation.
func (RequiresScope) Name() string { return "RequiresScope" }

// Sensitive marks a field as one districts trust apps least with (students' ELL, FRL and IEP status,
// home language): null in GraphQL, and refused in filters and orderings, without the sensitive scope.
func Sensitive() RequiresScope { return RequiresScope{Scope: "sensitive"} }

// AdminOnly marks a type, or a field, as readable only with the admin scope.
func AdminOnly() RequiresScope { return RequiresScope{Scope: "admin"} }
