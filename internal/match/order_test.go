package match

import (
	"slices"
	"testing"
)

func TestParseOrders(t *testing.T) {
	got, err := ParseOrders(" student = State ID, sis_id ,dob, name ; staff=email,staff_id")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Field{StateID, SISID, DOB, Name}; !slices.Equal(got[Student].Order, want) || len(got) != 2 || len(got[Staff].Order) != 2 {
		t.Errorf("ParseOrders = %v", got)
	}
	p := newPlan(Student, got[Student])
	if !p.strong[fiStateID] || !p.strong[fiSIS] || p.strong[fiStudentNumber] || p.active[fiEmail] {
		t.Errorf("plan of the order: strong state id and sis id only, e-mail not compared: %+v", p)
	}
	for _, bad := range []string{"pupil=name", "student", "student=shoe_size", "student=name,name", "student=name;student=dob"} {
		if _, err := ParseOrders(bad); err == nil {
			t.Errorf("ParseOrders(%q) accepted", bad)
		}
	}
}
