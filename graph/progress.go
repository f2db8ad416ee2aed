package graph

import (
	"context"
	"encoding/json"

	"entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/predicate"
	"github.com/rostermirror/rostermirror/graph/archive"
	"github.com/rostermirror/rostermirror/graph/batch"
	"github.com/rostermirror/rostermirror/internal/progress"
)

// derefAll turns gqlgen's list of inputs into values.
func derefAll[T any](in []*T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = *v
	}
	return out
}

// jsonText is a JSON payload as GraphQL's String (nil for none).
func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	s := string(raw)
	return &s
}

// ofStudent filters progress by a student's Clever id (any they had) when one is given.
func ofStudent(cleverID *string) predicate.ProgressRecord {
	if cleverID == nil {
		return func(*sql.Selector) {}
	}
	return progress.OfStudent(*cleverID)
}

// filterOf is a where input's predicate (none for nil).
func filterOf(where *ent.ProgressRecordWhereInput) []predicate.ProgressRecord {
	if where == nil {
		return nil
	}
	p, err := where.P()
	if err != nil {
		return []predicate.ProgressRecord{func(s *sql.Selector) { s.AddError(err) }}
	}
	return []predicate.ProgressRecord{p}
}

// asRecorded is the context of what a progress record refers to — its student, and the section,
// school and term of the work: facts of when the work was done, read even when archived since (last
// year's class after a rollover; the student of a record node(id) returns).
func asRecorded(ctx context.Context) context.Context { return archive.Include(ctx, true) }

// userProgress is User.progress: the user's progress records (under any Clever id they had), paged as
// asked — for every user of a list in one statement (batch.Load, PaginateByParent), not one per user.
func userProgress(ctx context.Context, c *ent.Client, u *ent.User, after *ent.Cursor, first *int, before *ent.Cursor, last *int,
	orderBy *ent.ProgressRecordOrder, where *ent.ProgressRecordWhereInput) (*ent.ProgressRecordConnection, error) {
	return batch.Load(ctx, u.ID, func(ctx context.Context, users []string) (map[string]*ent.ProgressRecordConnection, error) {
		return c.ProgressRecord.Query().PaginateByParent(ctx, users, progress.StudentKey, true, after, first, before, last,
			ent.WithProgressRecordOrder(orderBy), ent.WithProgressRecordFilter(where.Filter))
	})
}
