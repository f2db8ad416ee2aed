package apprecord

import (
	"context"
	"fmt"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/user"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/match"
)

// The reads below load by list (graph/batch): the Clever record each of many app records is matched to,
// or each of many suggestions names — archived or not, since a match outlives an unsharing — and the
// app record matched to each of many Clever records.

var personTypes = []apprecord.Type{apprecord.TypeSTUDENT, apprecord.TypeTEACHER, apprecord.TypeSTAFF}

// matchedIDs maps the MATCHED app records among ids, of the given types, to their Clever ids.
func (s *Service) matchedIDs(ctx context.Context, ids []string, types ...apprecord.Type) (map[string]string, []string, error) {
	rs, err := s.db.Client.AppRecord.Query().Where(apprecord.IDIn(ids...), apprecord.StatusEQ(apprecord.StatusMATCHED),
		apprecord.CleverIDNotNil(), apprecord.TypeIn(types...)).Select(apprecord.FieldID, apprecord.FieldCleverID).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(rs))
	clever := make([]string, 0, len(rs))
	for _, r := range rs {
		out[r.ID] = *r.CleverID
		clever = append(clever, *r.CleverID)
	}
	return out, clever, nil
}

// suggestedIDs maps the suggestions among ids, of the given types, to their Clever ids.
func (s *Service) suggestedIDs(ctx context.Context, ids []string, types ...apprecord.Type) (map[string]string, []string, error) {
	mt := make([]matchsuggestion.Type, len(types))
	for i, t := range types {
		mt[i] = matchsuggestion.Type(t)
	}
	rs, err := s.db.Client.MatchSuggestion.Query().Where(matchsuggestion.IDIn(ids...), matchsuggestion.TypeIn(mt...)).
		Select(matchsuggestion.FieldID, matchsuggestion.FieldCleverID).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(rs))
	clever := make([]string, 0, len(rs))
	for _, r := range rs {
		out[r.ID] = r.CleverID
		clever = append(clever, r.CleverID)
	}
	return out, clever, nil
}

// resolveTo maps each key to the record its Clever id names.
func resolveTo[T interface {
	*ent.User | *ent.School | *ent.Section
}](byKey map[string]string, records []T, id func(T) string) map[string]T {
	byID := make(map[string]T, len(records))
	for _, r := range records {
		byID[id(r)] = r
	}
	out := make(map[string]T, len(byKey))
	for k, c := range byKey {
		if r, ok := byID[c]; ok {
			out[k] = r
		}
	}
	return out
}

// Users are the Clever users the given app records (students, teachers, staff) are matched to.
func (s *Service) Users(ctx context.Context, appRecordIDs []string) (map[string]*ent.User, error) {
	m, ids, err := s.matchedIDs(ctx, appRecordIDs, personTypes...)
	if err != nil {
		return nil, err
	}
	return s.users(ctx, m, ids)
}

// Schools are the Clever schools the given app records are matched to.
func (s *Service) Schools(ctx context.Context, appRecordIDs []string) (map[string]*ent.School, error) {
	m, ids, err := s.matchedIDs(ctx, appRecordIDs, apprecord.TypeSCHOOL)
	if err != nil {
		return nil, err
	}
	return s.schools(ctx, m, ids)
}

// Sections are the Clever sections the given app records are matched to.
func (s *Service) Sections(ctx context.Context, appRecordIDs []string) (map[string]*ent.Section, error) {
	m, ids, err := s.matchedIDs(ctx, appRecordIDs, apprecord.TypeSECTION)
	if err != nil {
		return nil, err
	}
	return s.sections(ctx, m, ids)
}

// SuggestedUsers, SuggestedSchools and SuggestedSections are the Clever records the given suggestions
// name.
func (s *Service) SuggestedUsers(ctx context.Context, suggestionIDs []string) (map[string]*ent.User, error) {
	m, ids, err := s.suggestedIDs(ctx, suggestionIDs, personTypes...)
	if err != nil {
		return nil, err
	}
	return s.users(ctx, m, ids)
}

func (s *Service) SuggestedSchools(ctx context.Context, suggestionIDs []string) (map[string]*ent.School, error) {
	m, ids, err := s.suggestedIDs(ctx, suggestionIDs, apprecord.TypeSCHOOL)
	if err != nil {
		return nil, err
	}
	return s.schools(ctx, m, ids)
}

func (s *Service) SuggestedSections(ctx context.Context, suggestionIDs []string) (map[string]*ent.Section, error) {
	m, ids, err := s.suggestedIDs(ctx, suggestionIDs, apprecord.TypeSECTION)
	if err != nil {
		return nil, err
	}
	return s.sections(ctx, m, ids)
}

func (s *Service) users(ctx context.Context, m map[string]string, ids []string) (map[string]*ent.User, error) {
	us, err := s.db.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	return resolveTo(m, us, func(u *ent.User) string { return u.ID }), nil
}

func (s *Service) schools(ctx context.Context, m map[string]string, ids []string) (map[string]*ent.School, error) {
	ss, err := s.db.Client.School.Query().Where(school.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	return resolveTo(m, ss, func(x *ent.School) string { return x.ID }), nil
}

func (s *Service) sections(ctx context.Context, m map[string]string, ids []string) (map[string]*ent.Section, error) {
	ss, err := s.db.Client.Section.Query().Where(section.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	return resolveTo(m, ss, func(x *ent.Section) string { return x.ID }), nil
}

// Archived reports, for each of the given MATCHED app records, whether its Clever record is archived
// (or no longer in the mirror at all): for a person, the user or its role of the record's type (a
// teacher record whose user lost the teacher role is archived), as matching and the export see it.
func (s *Service) Archived(ctx context.Context, appRecordIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(appRecordIDs))
	rs, err := s.db.Client.AppRecord.Query().Where(apprecord.IDIn(appRecordIDs...), apprecord.StatusEQ(apprecord.StatusMATCHED),
		apprecord.CleverIDNotNil()).Select(apprecord.FieldID, apprecord.FieldType, apprecord.FieldCleverID).All(ctx)
	if err != nil {
		return nil, err
	}
	byType := map[apprecord.Type][]string{}
	for _, r := range rs {
		byType[r.Type] = append(byType[r.Type], *r.CleverID)
	}
	shared := map[apprecord.Type]map[string]bool{}
	for t, ids := range byType {
		var live []string
		switch t {
		case apprecord.TypeSCHOOL:
			live, err = s.db.Client.School.Query().Where(school.IDIn(ids...), school.ArchivedAtIsNil()).IDs(ctx)
		case apprecord.TypeSECTION:
			live, err = s.db.Client.Section.Query().Where(section.IDIn(ids...), section.ArchivedAtIsNil()).IDs(ctx)
		default:
			live, err = s.db.Client.UserRole.Query().Where(userrole.UserIDIn(ids...), userrole.RoleIn(rolesOf(matchType(t))...),
				userrole.ArchivedAtIsNil(), userrole.HasUserWith(user.ArchivedAtIsNil())).Select(userrole.FieldUserID).Strings(ctx)
		}
		if err != nil {
			return nil, err
		}
		shared[t] = map[string]bool{}
		for _, id := range live {
			shared[t][id] = true
		}
	}
	for _, r := range rs {
		out[r.ID] = !shared[r.Type][*r.CleverID]
	}
	return out, nil
}

// ByCleverID is the app record matched to each of the given Clever records, of the app's current records
// (the latest changed, when records of two types are matched to one user).
func (s *Service) ByCleverID(ctx context.Context, cleverIDs []string) (map[string]*ent.AppRecord, error) {
	rs, err := s.db.Client.AppRecord.Query().Where(apprecord.CleverIDIn(cleverIDs...), apprecord.StatusEQ(apprecord.StatusMATCHED),
		apprecord.MissingSinceIsNil()).Order(ent.Asc(apprecord.FieldUpdatedAt)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ent.AppRecord, len(rs))
	for _, r := range rs {
		out[*r.CleverID] = r
	}
	return out, nil
}

// Options are the import's options as GraphQL gives them: the id column, and the column of each field by
// the field's name (SPEC.md "Matching CSV").
func Options(idColumn *string, columns map[string]string) (match.CSVOptions, error) {
	var o match.CSVOptions
	if idColumn != nil {
		o.IDColumn = *idColumn
	}
	for name, col := range columns {
		f, ok := match.FieldNamed(name)
		if !ok {
			return o, fmt.Errorf("%w: map: %q is not a field: want one of %s", ErrInvalid, name, match.FieldNames())
		}
		if strings.TrimSpace(col) == "" {
			return o, fmt.Errorf("%w: map: %s names no column", ErrInvalid, name)
		}
		if prev, dup := o.Map[f]; dup {
			return o, fmt.Errorf("%w: map: %s is mapped twice (to %q and %q)", ErrInvalid, f, prev, col)
		}
		if o.Map == nil {
			o.Map = map[match.Field]string{}
		}
		o.Map[f] = strings.TrimSpace(col)
	}
	return o, nil
}

// Stats are matching's counts for the metrics: the app's records by type and status (current ones: the
// records an import no longer had are left out), and the open suggestions.
func (s *Service) Stats(ctx context.Context) (records map[[2]string]int, open int, err error) {
	var rows []struct {
		Type   apprecord.Type   `json:"type"`
		Status apprecord.Status `json:"status"`
		Count  int              `json:"count"`
	}
	if err := s.db.Client.AppRecord.Query().Where(apprecord.MissingSinceIsNil()).
		GroupBy(apprecord.FieldType, apprecord.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return nil, 0, err
	}
	records = map[[2]string]int{}
	for _, r := range rows {
		records[[2]string{string(matchType(r.Type)), string(r.Status)}] = r.Count
	}
	open, err = s.db.Client.MatchSuggestion.Query().Where(matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN)).Count(ctx)
	return records, open, err
}
