// Package archive decides whether reads see archived records. Archived mirrored records (and the roles a
// user lost) are hidden from every query — root lists, edges, eager loads — by one ent interceptor,
// unless the request's context asks for them with Include.
package archive

import (
	"context"
	"sync/atomic"

	"entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/intercept"
	"github.com/rostermirror/rostermirror/internal/progress"
)

type includeKey struct{}

// Include returns a context whose reads see archived records too when include is true.
func Include(ctx context.Context, include bool) context.Context {
	if !include {
		return ctx
	}
	return context.WithValue(ctx, includeKey{}, true)
}

// Included reports whether reads under ctx see archived records.
func Included(ctx context.Context) bool {
	v, _ := ctx.Value(includeKey{}).(bool)
	return v
}

type firstKey struct{}

// IncludeFirst returns a context under which the first query (the record node(id) asks for) sees
// archived records; the queries after it — the edges loaded below that record — hide them as usual.
func IncludeFirst(ctx context.Context) context.Context {
	pending := new(atomic.Bool)
	pending.Store(true)
	return context.WithValue(ctx, firstKey{}, pending)
}

// Archivable reports whether rows of the ent type carry archived_at (and are hidden when archived):
// mirrored records, user roles and role schools (ent.StorageTypes, generated from the schema).
func Archivable(entType string) bool {
	t := ent.StorageTypes[entType]
	return t != nil && t.Archivable
}

// Interceptor hides archived rows from every query on an archivable type unless the context includes
// them (Include, or IncludeFirst for the first query under it) — and the progress of students archived
// now (progress.Visible), which is kept, and shows again when the student is restored.
func Interceptor() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		if pending, ok := ctx.Value(firstKey{}).(*atomic.Bool); ok && pending.CompareAndSwap(true, false) {
			return nil
		}
		switch {
		case Included(ctx):
		case Archivable(q.Type()):
			q.WhereP(sql.FieldIsNull("archived_at"))
		case q.Type() == ent.TypeProgressRecord:
			q.WhereP(progress.Visible(false))
		}
		return nil
	})
}
