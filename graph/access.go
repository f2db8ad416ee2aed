package graph

import (
	"context"

	"github.com/rostermirror/rostermirror/internal/auth"
)

// mayReadSensitive reports whether the request's API key carries the sensitive scope.
func mayReadSensitive(ctx context.Context) bool {
	k, ok := auth.FromContext(ctx)
	return ok && k.Has(auth.ScopeSensitive)
}
