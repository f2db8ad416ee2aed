package cleversim

import (
	"encoding/json"
	"fmt"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Ids of the small dataset; they sort in the order listed within each kind.
const (
	sDistrict  = "5a0000000000000000000d01"
	sDistrict2 = "5a0000000000000000000d02"
	sSchool1   = "5a0000000000000000000101"
	sSchool2   = "5a0000000000000000000102"
	sTerm      = "5a0000000000000000000201"
	sCourse    = "5a0000000000000000000301"
	sTeacher1  = "5a0000000000000000000401"
	sTeacher2  = "5a0000000000000000000402"
	sContact   = "5a0000000000000000000403"
	sSection1  = "5a0000000000000000000501"
	sSection2  = "5a0000000000000000000502"
	sOther     = "5a0000000000000000000601" // a school of the second district
	sToken2    = "district-two-token"
)

// sStudent returns the id of student i (1..n).
func sStudent(i int) string { return fmt.Sprintf("5a00000000000000000004%02x", 0x10+i) }

// smallDataset is a hand-made two-district roster that does not need the shared fixtures: district one
// has two schools, a term, a course, two teachers, a contact, n students and two sections.
func smallDataset(n int) *Dataset {
	raw := func(v any) json.RawMessage {
		b, err := encodeJSON(v) // keeps "&" unescaped, as Clever sends it
		if err != nil {
			panic(err)
		}
		return b
	}
	ts := "2023-01-02T03:04:05.000Z"
	d := &Dataset{
		Districts: []json.RawMessage{
			raw(map[string]any{"id": sDistrict, "name": "Small ISD"}),
			raw(map[string]any{"id": sDistrict2, "name": "Other ISD"}),
		},
		Schools: []json.RawMessage{
			raw(map[string]any{"id": sSchool1, "district": sDistrict, "name": "One", "created": ts, "last_modified": ts}),
			raw(map[string]any{"id": sSchool2, "district": sDistrict, "name": "Two & Co", "created": ts, "last_modified": ts}),
			raw(map[string]any{"id": sOther, "district": sDistrict2, "name": "Elsewhere"}),
		},
		Terms:   []json.RawMessage{raw(map[string]any{"id": sTerm, "district": sDistrict, "name": "Y1"})},
		Courses: []json.RawMessage{raw(map[string]any{"id": sCourse, "district": sDistrict, "name": "Math"})},
		Users: []json.RawMessage{
			raw(map[string]any{"id": sTeacher1, "district": sDistrict, "name": map[string]any{"first": "Ada", "last": "Teach"}, "created": ts, "last_modified": ts,
				"roles": map[string]any{"teacher": map[string]any{"school": sSchool1, "schools": []string{sSchool1, sSchool2}, "sis_id": "t1"}}}),
			raw(map[string]any{"id": sTeacher2, "district": sDistrict, "name": map[string]any{"first": "Bo", "last": "Teach"}, "created": ts, "last_modified": ts,
				"roles": map[string]any{"teacher": map[string]any{"school": sSchool2, "schools": []string{sSchool2}, "sis_id": "t2"}, "staff": map[string]any{"schools": []string{sSchool2}}}}),
			raw(map[string]any{"id": sContact, "district": sDistrict, "name": map[string]any{"last": "Carla Contact"}, "created": ts, "last_modified": ts,
				"roles": map[string]any{"contact": map[string]any{"student_relationships": []any{map[string]any{"student": sStudent(1), "relationship": "Parent", "type": "Family"}}}}}),
		},
	}
	var all []string
	for i := 1; i <= n; i++ {
		school := sSchool1
		if i%2 == 0 {
			school = sSchool2
		}
		d.Users = append(d.Users, raw(map[string]any{"id": sStudent(i), "district": sDistrict, "name": map[string]any{"first": fmt.Sprint("S", i), "last": "Student"},
			"created": ts, "last_modified": ts,
			"roles": map[string]any{"student": map[string]any{"school": school, "schools": []string{school}, "grade": "5", "ext": map[string]any{"gifted_status": "N"}}}}))
		all = append(all, sStudent(i))
	}
	d.Sections = []json.RawMessage{
		raw(map[string]any{"id": sSection1, "district": sDistrict, "school": sSchool1, "term_id": sTerm, "course": sCourse, "name": "Math - Teach - 1",
			"teacher": sTeacher1, "teachers": []string{sTeacher1, sTeacher2}, "students": all[:min(3, n)], "created": ts, "last_modified": ts}),
		raw(map[string]any{"id": sSection2, "district": sDistrict, "school": sSchool2, "term_id": sTerm, "course": sCourse, "name": "Math - Teach - 2",
			"teacher": sTeacher2, "teachers": []string{sTeacher2}, "students": []string{sStudent(1), sStudent(min(4, n))}, "created": ts, "last_modified": ts}),
	}
	return d
}

// setupSmall starts a simulator over smallDataset(n) whose second district's token is sToken2.
func setupSmall(t *testing.T, n int, cfg Config) *bundle {
	t.Helper()
	cfg.Dataset = smallDataset(n)
	if cfg.Tokens == nil {
		cfg.Tokens = map[string]string{sDistrict2: sToken2}
	}
	return setup(t, cfg)
}

// token1 is the first small district's token.
func (b *bundle) token1() string { return b.srv.DistrictToken(sDistrict) }
