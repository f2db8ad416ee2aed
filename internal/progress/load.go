package progress

import (
	"cmp"
	"context"
	"fmt"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/cleveridalias"
	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/term"
	"github.com/rostermirror/rostermirror/ent/user"
)

// Loader loads what progress records refer to — their student's current id, the student, section,
// school and term — for many records at once (graph's batches), through Client: the API's client,
// whose archive rule then applies to the records loaded.
type Loader struct {
	Client *ent.Client
}

// records reads the progress records with ids.
func (l Loader) records(ctx context.Context, ids []string) ([]*ent.ProgressRecord, error) {
	rs, err := l.Client.ProgressRecord.Query().Where(progressrecord.IDIn(ids...)).
		Select(progressrecord.FieldStudentCleverID, progressrecord.FieldSectionID, progressrecord.FieldSchoolID, progressrecord.FieldTermID).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load progress records: %w", err)
	}
	return rs, nil
}

// CurrentIDs are the current Clever ids of the records' students, by record id.
func (l Loader) CurrentIDs(ctx context.Context, ids []string) (map[string]string, error) {
	rs, err := l.records(ctx, ids)
	if err != nil {
		return nil, err
	}
	recorded := make([]string, len(rs))
	for i, r := range rs {
		recorded[i] = r.StudentCleverID
	}
	as, err := l.Client.CleverIDAlias.Query().Where(cleveridalias.FormerCleverIDIn(recorded...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aliases: %w", err)
	}
	cur := map[string]string{}
	for _, a := range as {
		cur[a.FormerCleverID] = a.CleverID
	}
	out := make(map[string]string, len(rs))
	for _, r := range rs {
		out[r.ID] = cmp.Or(cur[r.StudentCleverID], r.StudentCleverID)
	}
	return out, nil
}

// Students are the records' students, by record id (by their current id).
func (l Loader) Students(ctx context.Context, ids []string) (map[string]*ent.User, error) {
	cur, err := l.CurrentIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return byRecord(cur, func(ids []string) ([]*ent.User, error) {
		return l.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	}, func(u *ent.User) string { return u.ID })
}

// Sections are the records' sections, by record id.
func (l Loader) Sections(ctx context.Context, ids []string) (map[string]*ent.Section, error) {
	return refs(ctx, l, ids, func(r *ent.ProgressRecord) *string { return r.SectionID }, func(ids []string) ([]*ent.Section, error) {
		return l.Client.Section.Query().Where(section.IDIn(ids...)).All(ctx)
	}, func(s *ent.Section) string { return s.ID })
}

// Schools are the records' schools, by record id.
func (l Loader) Schools(ctx context.Context, ids []string) (map[string]*ent.School, error) {
	return refs(ctx, l, ids, func(r *ent.ProgressRecord) *string { return r.SchoolID }, func(ids []string) ([]*ent.School, error) {
		return l.Client.School.Query().Where(school.IDIn(ids...)).All(ctx)
	}, func(s *ent.School) string { return s.ID })
}

// Terms are the records' terms, by record id.
func (l Loader) Terms(ctx context.Context, ids []string) (map[string]*ent.Term, error) {
	return refs(ctx, l, ids, func(r *ent.ProgressRecord) *string { return r.TermID }, func(ids []string) ([]*ent.Term, error) {
		return l.Client.Term.Query().Where(term.IDIn(ids...)).All(ctx)
	}, func(t *ent.Term) string { return t.ID })
}

func refs[T any](ctx context.Context, l Loader, ids []string, ref func(*ent.ProgressRecord) *string, load func([]string) ([]T, error), key func(T) string) (map[string]T, error) {
	rs, err := l.records(ctx, ids)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, r := range rs {
		if v := ref(r); v != nil {
			m[r.ID] = *v
		}
	}
	return byRecord(m, load, key)
}

// byRecord loads the targets of m (record id → target id) and returns them by record id.
func byRecord[T any](m map[string]string, load func([]string) ([]T, error), key func(T) string) (map[string]T, error) {
	seen := map[string]bool{}
	var targets []string
	for _, t := range m {
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	out := map[string]T{}
	if len(targets) == 0 {
		return out, nil
	}
	vs, err := load(targets)
	if err != nil {
		return nil, err
	}
	by := map[string]T{}
	for _, v := range vs {
		by[key(v)] = v
	}
	for rec, t := range m {
		if v, ok := by[t]; ok {
			out[rec] = v
		}
	}
	return out, nil
}
