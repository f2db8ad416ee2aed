package apprecord

import (
	"context"
	"strings"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/internal/match"
)

// refs resolves the app's own references in a record — a student's school given as the app's school id
// or name, a section's teacher as the app's teacher id — to Clever ids, through the app records of those
// types already MATCHED (schools are matched before people, people before sections): the reference then
// agrees with the Clever side whichever the app used.
type refs map[match.Field]map[string]string // field → lower-cased app reference → Clever id

// appRefs collects the references a type's records may make.
func (s *Service) appRefs(ctx context.Context, c *ent.Client, districtID string, typ match.Type) (refs, error) {
	out := refs{}
	add := func(f match.Field, of apprecord.Type, names ...match.Field) error {
		rs, err := c.AppRecord.Query().
			Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(of), apprecord.StatusEQ(apprecord.StatusMATCHED), apprecord.CleverIDNotNil()).
			Select(apprecord.FieldExternalID, apprecord.FieldMatchValues, apprecord.FieldCleverID).All(ctx)
		if err != nil {
			return err
		}
		m := map[string]string{}
		for _, r := range rs {
			m[refKey(r.ExternalID)] = *r.CleverID
			for _, n := range names {
				if v := r.MatchValues[string(n)]; v != "" {
					m[refKey(v)] = *r.CleverID
				}
			}
		}
		if len(m) > 0 {
			out[f] = m
		}
		return nil
	}
	switch typ {
	case match.Student, match.Teacher, match.Staff:
		return out, add(match.SchoolRef, apprecord.TypeSCHOOL, match.Name, match.SISID, match.SchoolNumber)
	case match.Section:
		if err := add(match.SchoolRef, apprecord.TypeSCHOOL, match.Name, match.SISID, match.SchoolNumber); err != nil {
			return nil, err
		}
		return out, add(match.TeacherRef, apprecord.TypeTEACHER, match.Email, match.SISID, match.TeacherNumber)
	}
	return out, nil
}

func refKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// resolve returns a record's values with each reference it knows extended by the Clever id it names
// ("Lincoln Elementary" → "Lincoln Elementary|<school's Clever id>").
func (r refs) resolve(vals map[string]string) map[match.Field]string {
	out := make(map[match.Field]string, len(vals))
	for k, v := range vals {
		out[match.Field(k)] = v
	}
	for f, m := range r {
		v := out[f]
		if v == "" {
			continue
		}
		for _, alt := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ';' }) {
			if id, ok := m[refKey(alt)]; ok {
				out[f] = v + "|" + id
				break
			}
		}
	}
	return out
}
