package match

import (
	"encoding/json"
	"fmt"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// WithCleverRecords returns ds with the set's added Clever records (second records of one person,
// same-name people) as Clever users, shaped like the first user of ds with the set's role, so that a
// simulator serving it serves exactly the set's Clever side. ds is the dataset the set was made from;
// it is not changed.
func (s LabelledSet) WithCleverRecords(ds *cleversim.Dataset) (*cleversim.Dataset, error) {
	role := map[Type]string{Student: "student", Teacher: "teacher", Staff: "staff"}[s.Type]
	have := map[string]bool{}
	var template map[string]any
	for _, raw := range ds.Users {
		var u map[string]any
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, err
		}
		id, _ := u["id"].(string)
		have[id] = true
		if roles, _ := u["roles"].(map[string]any); template == nil && roles[role] != nil {
			template = u
		}
	}
	if template == nil {
		return nil, fmt.Errorf("the dataset has no %s to shape the added records on", role)
	}
	out := *ds
	out.Users = append([]json.RawMessage(nil), ds.Users...)
	for _, c := range s.Clever {
		if have[c.ID] {
			continue
		}
		u := cloneJSON(template)
		v := c.Values
		u["id"], u["email"] = c.ID, v[Email]
		u["name"] = map[string]any{"first": v[FirstName], "middle": v[MiddleName], "last": v[LastName]}
		r := map[string]any{"sis_id": v[SISID], "credentials": map[string]any{"district_username": "u" + c.ID[max(0, len(c.ID)-8):]}}
		switch s.Type {
		case Student:
			r["student_number"], r["state_id"], r["dob"], r["email"], r["grade"] = v[StudentNumber], v[StateID], cleverDate(v[DOB]), v[Email], v[Grade]
			r["school"], r["schools"] = v[SchoolRef], []string{v[SchoolRef]}
		case Teacher:
			r["teacher_number"], r["state_id"] = v[TeacherNumber], v[StateID]
			r["school"], r["schools"] = v[SchoolRef], []string{v[SchoolRef]}
		case Staff:
			r["staff_id"], r["schools"] = v[StaffID], []string{v[SchoolRef]}
		}
		roles := u["roles"].(map[string]any)
		for k := range roles {
			delete(roles, k)
		}
		base, _ := template["roles"].(map[string]any)[role].(map[string]any)
		merged := cloneJSON(base)
		for k, x := range r {
			merged[k] = x
		}
		roles[role] = merged
		raw, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		out.Users = append(out.Users, raw)
	}
	return &out, nil
}

func cloneJSON(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// cleverDate writes a date as Clever does (M/D/YYYY); "" stays "".
func cleverDate(s string) string {
	if d, ok := labParseDate(s); ok {
		return fmt.Sprintf("%d/%d/%d", d.Month(), d.Day(), d.Year())
	}
	return s
}
