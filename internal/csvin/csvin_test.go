package csvin

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCanonicalColumnAndKey(t *testing.T) {
	for in, want := range map[string][2]string{
		"External ID":     {"external_id", "externalid"},
		" external-id ":   {"external_id", "externalid"},
		"E-Mail":          {"e_mail", "email"},
		"Date of Birth.":  {"date_of_birth", "dateofbirth"},
		"FirstName":       {"firstname", "firstname"},
		"first__name\t":   {"first_name", "firstname"},
		"Student #/No.":   {"student_no", "studentno"},
		"Prénom":          {"prénom", "prénom"},
		"":                {"", ""},
		"--":              {"", ""},
		"sis_id (school)": {"sis_id_school", "sisidschool"},
	} {
		if got := [2]string{CanonicalColumn(in), ColumnKey(in)}; got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestProblemsCap(t *testing.T) {
	var l Problems
	if l.Err() != nil {
		t.Fatal("empty list has an error")
	}
	for i := range MaxProblems + 3 {
		l.Add(Problem{Line: i + 1, Message: "bad"})
	}
	var e *Error
	if !errors.As(l.Err(), &e) || len(e.Problems) != MaxProblems || e.More != 3 || l.Len() != MaxProblems+3 {
		t.Fatalf("%v", l.Err())
	}
	if !strings.HasPrefix(e.Error(), "the file has 53 problems; nothing was changed:\n  line 1: bad\n") || !strings.HasSuffix(e.Error(), "\n  … and 3 more") {
		t.Errorf("%q", e.Error())
	}
	if s := (Problem{Line: 7, Column: 3, ColumnName: "mdr_number", Message: "m"}).String(); s != "line 7, column 3 (mdr_number): m" {
		t.Errorf("%q", s)
	}
	if s := (Problem{Column: 3, Message: "m"}).String(); s != "column 3: m" {
		t.Errorf("%q", s)
	}
}

// readAll reads every row, returning the rows and the problems as strings.
func readAll(t *testing.T, file string) ([][]string, []string) {
	t.Helper()
	r, err := NewReader(strings.NewReader(file))
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatal(err)
		}
		return nil, []string{e.Problems[0].String()}
	}
	var rows [][]string
	var probs []string
	for {
		rec, p, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, probs
		}
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			probs = append(probs, p.String())
			continue
		}
		if len(rows) == 0 {
			r.SetColumnNames(rec)
		}
		for i, v := range rec {
			if p, bad := r.UTF8Problem(i, v); bad {
				probs = append(probs, p.String())
			}
		}
		rows = append(rows, rec)
	}
}

func TestReader(t *testing.T) {
	rows, probs := readAll(t, "\xef\xbb\xbfa,b\r\n1, \"x\ny\"\r\n2\n3,4,5\n\"4\",\"z\xffw\"\n5,\"q")
	if len(rows) != 3 || rows[0][0] != "a" || rows[1][1] != "x\ny" || rows[2][1] != "z\xffw" {
		t.Errorf("rows %q", rows)
	}
	want := []string{
		"line 4, column 2 (b): missing: the row has 1 values, the header 2",
		"line 5, column 3: 1 value too many: the row has 3 values, the header 2 (a value with a comma in it must be enclosed in double quotes)",
		`line 6, column 2 (b): not UTF-8 text: byte 0xFF at character 2 of the value; save the file as "CSV UTF-8"`,
		`line 7, column 2 (b): a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`,
	}
	if strings.Join(probs, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(probs, "\n"), strings.Join(want, "\n"))
	}
	if _, probs := readAll(t, "\xfe\xff\x00a"); len(probs) != 1 || !strings.Contains(probs[0], "UTF-16") {
		t.Errorf("UTF-16: %q", probs)
	}
}
