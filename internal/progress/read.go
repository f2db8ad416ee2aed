package progress

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/cleveridalias"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/predicate"
	"github.com/rostermirror/rostermirror/ent/progressrecord"
	"github.com/rostermirror/rostermirror/ent/progressrollup"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/term"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/internal/auth"
)

// currentOf is the current Clever id of the student a progress row was recorded for (through the
// aliases), as SQL over the row's table t.
func currentOf(s *entsql.Selector) string {
	rec := s.C(progressrecord.FieldStudentCleverID)
	return "COALESCE((SELECT a.clever_id FROM clever_id_aliases a WHERE a.former_clever_id = " + rec + "), " + rec + ")"
}

// Visible leaves out the progress of students who are archived now (by their current id), unless
// includeArchived: the rule of every list of the API. The records are kept; they show again when the
// student is restored, and with includeArchived.
func Visible(includeArchived bool) predicate.ProgressRecord {
	return func(s *entsql.Selector) {
		if includeArchived {
			return
		}
		s.Where(entsql.ExprP("NOT EXISTS (SELECT 1 FROM users u WHERE u.clever_id = " + currentOf(s) + " AND u.archived_at IS NOT NULL)"))
	}
}

// OfStudent is the progress of the student with cleverID, whichever of their Clever ids it was recorded
// under: cleverID may be their current id or a former one.
func OfStudent(cleverID string) predicate.ProgressRecord {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			cur := func() {
				b.WriteString("COALESCE((SELECT c.clever_id FROM clever_id_aliases c WHERE c.former_clever_id = ").Arg(cleverID).
					WriteString("), ").Arg(cleverID).WriteString(")")
			}
			b.WriteString(s.C(progressrecord.FieldStudentCleverID) + " IN (SELECT ")
			cur()
			b.WriteString(" UNION ALL SELECT f.former_clever_id FROM clever_id_aliases f WHERE f.clever_id = ")
			cur()
			b.WriteString(")")
		}))
	}
}

// CurrentID is the current Clever id of a student recorded as cleverID (cleverID itself unless an
// alias leads elsewhere).
func CurrentID(ctx context.Context, c *ent.Client, cleverID string) (string, error) {
	a, err := c.CleverIDAlias.Query().Where(cleveridalias.FormerCleverID(cleverID)).Only(ctx)
	if ent.IsNotFound(err) {
		return cleverID, nil
	}
	if err != nil {
		return "", err
	}
	return a.CleverID, nil
}

// FormerIDs are the former Clever ids of the student with cleverID, oldest alias first.
func FormerIDs(ctx context.Context, c *ent.Client, cleverID string) ([]string, error) {
	return c.CleverIDAlias.Query().Where(cleveridalias.CleverID(cleverID)).
		Order(ent.Asc(cleveridalias.FieldCreatedAt), ent.Asc(cleveridalias.FieldFormerCleverID)).
		Select(cleveridalias.FieldFormerCleverID).Strings(ctx)
}

// GroupBy is what progressSummary groups by.
type GroupBy string

// The groupings.
const (
	BySection  GroupBy = "SECTION"
	BySchool   GroupBy = "SCHOOL"
	ByTerm     GroupBy = "TERM"
	ByDistrict GroupBy = "DISTRICT"
)

// SummaryRow is one group of progressSummary.
type SummaryRow struct {
	// GroupBy is the grouping.
	GroupBy GroupBy `json:"groupBy"`
	// ID is the group's Clever id: nil for the records with none (no section, school or term resolved).
	ID *string `json:"id"`
	// Name is the group's name in the mirror (archived records included); nil with no ID.
	Name *string `json:"name"`
	// Records is how many progress records the group has.
	Records int `json:"records"`
	// Students is how many students (by current Clever id) they are of.
	Students int `json:"students"`
	// Completed is how many are COMPLETED.
	Completed int `json:"completed"`
	// CompletionRate is Completed / Records.
	CompletionRate float64 `json:"completionRate"`
	// MeanScore is the mean of score / maxScore over the records that have both; nil when none has.
	MeanScore *float64 `json:"meanScore"`
	// TimeSpentSeconds is the sum of the records' time spent.
	TimeSpentSeconds int `json:"timeSpentSeconds"`
}

// Summary computes progressSummary in the database: the district's progress (those of archived
// students only with includeArchived), filtered by where, one row per group, ordered by name then id,
// the group without an id last.
func (s *Service) Summary(ctx context.Context, districtID string, groupBy GroupBy, includeArchived bool, where ...predicate.ProgressRecord) ([]*SummaryRow, error) {
	if err := auth.Require(ctx, auth.ScopeRead); err != nil {
		return nil, err
	}
	c := s.db.Client
	if ok, err := c.District.Query().Where(district.ID(districtID)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: no district %q", ErrNotFound, districtID)
	}
	var col string
	switch groupBy {
	case BySection:
		col = progressrecord.FieldSectionID
	case BySchool:
		col = progressrecord.FieldSchoolID
	case ByTerm:
		col = progressrecord.FieldTermID
	case ByDistrict:
		col = progressrecord.FieldDistrictID
	default:
		return nil, fmt.Errorf("%w: group by %q: want SECTION, SCHOOL, TERM or DISTRICT", ErrInvalid, groupBy)
	}
	// Two levels, each a hash aggregate: the records per group and student (their current id, through
	// the aliases), then per group — so that counting distinct students needs no sort, and the archived
	// students are left out once per group and student, not once per record. Without filters the first
	// level reads progress_rollups — the records already summed per student and place by the writes,
	// a tenth of the rows — rather than the records.
	raw := len(where) > 0
	tname := "progress_rollups"
	if raw {
		tname = progressrecord.Table
	}
	t := entsql.Dialect(s.db.Dialect).Table(tname)
	al := entsql.Dialect(s.db.Dialect).Table("clever_id_aliases").As("al")
	// The aliases are joined only when the district has some: probing an empty table a million times
	// costs a fifth of the statement.
	aliased, err := c.CleverIDAlias.Query().Where(cleveridalias.DistrictID(districtID)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("summarise progress: %w", err)
	}
	student, group := t.C(progressrecord.FieldStudentCleverID), t.C(col)
	if aliased {
		student = "COALESCE(" + al.C("clever_id") + ", " + student + ")"
	}
	var inner *entsql.Selector
	if raw {
		ratio := "CASE WHEN " + t.C(progressrecord.FieldMaxScore) + " > 0 THEN " + t.C(progressrecord.FieldScore) + " / " + t.C(progressrecord.FieldMaxScore) + " END"
		inner = entsql.Dialect(s.db.Dialect).Select(
			entsql.As(group, "group_id"),
			entsql.As(student, "student"),
			entsql.As("COUNT(*)", "records"),
			entsql.As("SUM(CASE WHEN "+t.C(progressrecord.FieldKind)+" = 'COMPLETED' THEN 1 ELSE 0 END)", "completed"),
			entsql.As("SUM("+ratio+")", "score_sum"),
			entsql.As("COUNT("+ratio+")", "scored"),
			entsql.As("COALESCE(SUM("+t.C(progressrecord.FieldTimeSpentSeconds)+"), 0)", "time_spent"),
		).From(t)
	} else {
		// Sums in floating point (exact to 2^53) keep the per-student states small; grouped by
		// student first, the rows come in the order of the rollups' key and are summed as they come.
		sum := func(c string) string { return "SUM(CAST(" + t.C(c) + " AS DOUBLE PRECISION))" }
		inner = entsql.Dialect(s.db.Dialect).Select(
			entsql.As("NULLIF("+group+", '')", "group_id"),
			entsql.As(student, "student"),
			entsql.As(sum(progressrollup.FieldRecords), "records"),
			entsql.As(sum(progressrollup.FieldCompleted), "completed"),
			entsql.As("SUM("+t.C(progressrollup.FieldScoreSum)+")", "score_sum"),
			entsql.As(sum(progressrollup.FieldScored), "scored"),
			entsql.As(sum(progressrollup.FieldTimeSpentSeconds), "time_spent"),
		).From(t)
	}
	if aliased {
		inner.LeftJoin(al).On(al.C("former_clever_id"), t.C(progressrecord.FieldStudentCleverID))
	}
	inner.Where(entsql.EQ(t.C(progressrecord.FieldDistrictID), districtID))
	for _, p := range where {
		p(inner)
	}
	if raw {
		inner.GroupBy(group, student)
	} else {
		inner.GroupBy(student, group)
	}
	ps := inner.As("ps")
	u := entsql.Dialect(s.db.Dialect).Table(user.Table).As("u")
	outer := entsql.Dialect(s.db.Dialect).Select(
		ps.C("group_id"),
		entsql.As("CAST(SUM("+ps.C("records")+") AS BIGINT)", "records"),
		entsql.As("COUNT(*)", "students"),
		entsql.As("CAST(SUM("+ps.C("completed")+") AS BIGINT)", "completed"),
		entsql.As("SUM("+ps.C("score_sum")+") / NULLIF(SUM("+ps.C("scored")+"), 0)", "mean_score"),
		entsql.As("CAST(SUM("+ps.C("time_spent")+") AS BIGINT)", "time_spent"),
	).From(ps)
	if !includeArchived { // the district's archived students, read from their index
		outer.Where(entsql.NotExists(entsql.Dialect(s.db.Dialect).Select(u.C(user.FieldID)).From(u).Where(entsql.And(
			entsql.EQ(u.C(user.FieldDistrictID), districtID), entsql.NotNull(u.C(user.FieldArchivedAt)),
			entsql.ColumnsEQ(u.C(user.FieldID), ps.C("student"))))))
	}
	outer.GroupBy(ps.C("group_id"))
	query, args := outer.Query()
	// One read-only transaction, so that Postgres hashes the records' groups in memory when the summary
	// reads the records (work_mem and enable_sort for this statement only): it takes every record for a
	// group of its own and would sort a million of them — on disk within the default 4 MB — where
	// hashing the 100,000-odd (group, student) pairs takes a fraction of the time. A hash aggregate
	// that outgrows work_mem spills to disk: memory stays bounded either way.
	tx, err := s.db.SQL.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("summarise progress: %w", err)
	}
	defer tx.Rollback()
	if s.pg() && raw {
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'; SET LOCAL enable_sort = off"); err != nil {
			return nil, fmt.Errorf("summarise progress: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("summarise progress: %w", err)
	}
	defer rows.Close()
	type summed struct {
		ID        sql.NullString
		Records   int64
		Students  int64
		Completed int64
		Mean      sql.NullFloat64
		Time      int64
	}
	var scanned []summed
	for rows.Next() {
		var r summed
		if err := rows.Scan(&r.ID, &r.Records, &r.Students, &r.Completed, &r.Mean, &r.Time); err != nil {
			return nil, fmt.Errorf("summarise progress: %w", err)
		}
		scanned = append(scanned, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summarise progress: %w", err)
	}
	ids := make([]string, 0, len(scanned))
	for _, r := range scanned {
		if r.ID.Valid {
			ids = append(ids, r.ID.String)
		}
	}
	names, err := groupNames(ctx, c, groupBy, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*SummaryRow, 0, len(scanned))
	for _, r := range scanned {
		row := &SummaryRow{GroupBy: groupBy, Records: int(r.Records), Students: int(r.Students), Completed: int(r.Completed),
			TimeSpentSeconds: int(r.Time)}
		if r.Records > 0 {
			row.CompletionRate = float64(r.Completed) / float64(r.Records)
		}
		if r.Mean.Valid {
			row.MeanScore = &r.Mean.Float64
		}
		if r.ID.Valid {
			id := r.ID.String
			row.ID = &id
			if n, ok := names[id]; ok {
				row.Name = &n
			}
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b *SummaryRow) int {
		if (a.ID == nil) != (b.ID == nil) {
			if a.ID == nil {
				return 1
			}
			return -1
		}
		if a.ID == nil {
			return 0
		}
		return cmp.Or(cmp.Compare(deref(a.Name), deref(b.Name)), cmp.Compare(*a.ID, *b.ID))
	})
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// groupNames are the names of the groups' records (archived ones included: the client has no
// archive interceptor).
func groupNames(ctx context.Context, c *ent.Client, groupBy GroupBy, ids []string) (map[string]string, error) {
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	var err error
	switch groupBy {
	case BySection:
		var rs []*ent.Section
		rs, err = c.Section.Query().Where(section.IDIn(ids...)).Select(section.FieldName).All(ctx)
		for _, r := range rs {
			names[r.ID] = r.Name
		}
	case BySchool:
		var rs []*ent.School
		rs, err = c.School.Query().Where(school.IDIn(ids...)).Select(school.FieldName).All(ctx)
		for _, r := range rs {
			names[r.ID] = r.Name
		}
	case ByTerm:
		var rs []*ent.Term
		rs, err = c.Term.Query().Where(term.IDIn(ids...)).Select(term.FieldName).All(ctx)
		for _, r := range rs {
			names[r.ID] = r.Name
		}
	case ByDistrict:
		var rs []*ent.District
		rs, err = c.District.Query().Where(district.IDIn(ids...)).Select(district.FieldName).All(ctx)
		for _, r := range rs {
			names[r.ID] = r.Name
		}
	}
	if err != nil {
		return nil, fmt.Errorf("name progress groups: %w", err)
	}
	return names, nil
}

// exportColumns are the columns of Export: Columns as the records were given (student_clever_id the id
// recorded, section_id the section given), then the student's current id and where the work was done.
var exportColumns = append(slices.Clone(Columns), "current_clever_id", "district_id", "resolved_section_id", "school_id", "term_id", "grade", "created_at", "updated_at")

// exportPage is how many records Export reads at once.
const exportPage = 5000

// Export writes progress as CSV (`rostermirror progress export`): a district's, or all of it when
// districtID is "", archived students' included, in the order of the records' ids. Its first columns
// are those Import reads, as the records were given.
func (s *Service) Export(ctx context.Context, w io.Writer, districtID string) error {
	c := s.db.Client
	if districtID != "" {
		if ok, err := c.District.Query().Where(district.ID(districtID)).Exist(ctx); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: no district %q", ErrNotFound, districtID)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	after := ""
	for {
		q := c.ProgressRecord.Query().Where(progressrecord.IDGT(after)).Order(ent.Asc(progressrecord.FieldID)).Limit(exportPage)
		if districtID != "" {
			q.Where(progressrecord.DistrictID(districtID))
		}
		page, err := q.All(ctx)
		if err != nil {
			return fmt.Errorf("export progress: %w", err)
		}
		if len(page) == 0 {
			break
		}
		recorded := make([]string, len(page))
		for i, p := range page {
			recorded[i] = p.StudentCleverID
		}
		aliases, err := c.CleverIDAlias.Query().Where(cleveridalias.FormerCleverIDIn(recorded...)).All(ctx)
		if err != nil {
			return fmt.Errorf("export progress: %w", err)
		}
		current := map[string]string{}
		for _, a := range aliases {
			current[a.FormerCleverID] = a.CleverID
		}
		for _, p := range page {
			if err := cw.Write(exportRow(p, cmp.Or(current[p.StudentCleverID], p.StudentCleverID))); err != nil {
				return err
			}
		}
		after = page[len(page)-1].ID
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func exportRow(p *ent.ProgressRecord, current string) []string {
	f := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	spent := ""
	if p.TimeSpentSeconds != nil {
		spent = strconv.Itoa(*p.TimeSpentSeconds)
	}
	section := ""
	if p.SectionGiven && p.SectionID != nil {
		section = *p.SectionID
	}
	return []string{p.StudentCleverID, p.ActivityID, p.AttemptID, string(p.Kind), f(p.Score), f(p.MaxScore),
		p.CompletedAt.UTC().Format(time.RFC3339Nano), spent, section, string(p.Data),
		current, p.DistrictID, deref(p.SectionID), deref(p.SchoolID), deref(p.TermID), p.Grade,
		p.CreatedAt.UTC().Format(time.RFC3339Nano), p.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}

// UnmarshalGQL reads a GroupBy from GraphQL (ProgressGroupBy).
func (g *GroupBy) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%w: group by: want a string", ErrInvalid)
	}
	switch gb := GroupBy(s); gb {
	case BySection, BySchool, ByTerm, ByDistrict:
		*g = gb
		return nil
	}
	return fmt.Errorf("%w: group by %q: want SECTION, SCHOOL, TERM or DISTRICT", ErrInvalid, s)
}

// MarshalGQL writes a GroupBy to GraphQL.
func (g GroupBy) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(g))) }

// StudentKey relates a progress record to the users whose progress it is (PaginateByParent's key, for
// User.progress of a page of users at once): user X's are the records recorded under X's current id or
// under any former id of it — OfStudent(X), for many users in one statement.
func StudentKey(s *entsql.Selector) string {
	d := entsql.Dialect(s.Dialect())
	cur := func() (*entsql.SelectTable, *entsql.SelectTable, string) {
		u, a := d.Table(user.Table).As("pu"), d.Table(cleveridalias.Table).As("pa")
		return u, a, "COALESCE(" + a.C(cleveridalias.FieldCleverID) + ", " + u.C(user.FieldID) + ")"
	}
	u1, a1, cur1 := cur()
	current := d.Select().AppendSelectExprAs(entsql.Expr(u1.C(user.FieldID)), "uid").AppendSelectExprAs(entsql.Expr(cur1), "rid").
		From(u1).LeftJoin(a1).On(a1.C(cleveridalias.FieldFormerCleverID), u1.C(user.FieldID))
	u2, a2, cur2 := cur()
	f := d.Table(cleveridalias.Table).As("pf")
	former := d.Select().AppendSelectExprAs(entsql.Expr(u2.C(user.FieldID)), "uid").AppendSelectExprAs(entsql.Expr(f.C(cleveridalias.FieldFormerCleverID)), "rid").
		From(u2).LeftJoin(a2).On(a2.C(cleveridalias.FieldFormerCleverID), u2.C(user.FieldID)).
		Join(f).OnP(entsql.ExprP(f.C(cleveridalias.FieldCleverID) + " = " + cur2))
	owners := current.UnionAll(former).As("progress_owner")
	s.Join(owners).On(s.C(progressrecord.FieldStudentCleverID), owners.C("rid"))
	return owners.C("uid")
}
