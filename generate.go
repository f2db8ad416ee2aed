// Package rostermirror mirrors Clever rosters into Postgres and serves them over GraphQL. This root
// package only drives code generation; see README.md.
package rostermirror

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
