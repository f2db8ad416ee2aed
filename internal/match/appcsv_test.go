package match

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/csvin"
)

// readAll reads a file with ReadAppRecords, keeping its rows.
func readAll(t *testing.T, file string, typ Type, opts CSVOptions) (*AppFile, []AppRow, error) {
	t.Helper()
	var rows []AppRow
	af, err := ReadAppRecords(strings.NewReader(file), typ, opts, func(r AppRow) error {
		rows = append(rows, r)
		return nil
	})
	return af, rows, err
}

// problemStrings are the problems of a *csvin.Error as strings, failing the test for any other error.
func problemStrings(t *testing.T, err error) []string {
	t.Helper()
	var ce *csvin.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *csvin.Error", err)
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestReadAppRecordsRejectsMalformedFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		opts CSVOptions
		want []string
	}{
		{name: "row short of values",
			file: "app_id,first_name,last_name\n1,Ann,Lee\n2,Bob\n",
			want: []string{"line 3, column 3 (last_name): missing: the row has 2 values, the header 3"}},
		{name: "row with a value too many",
			file: "app_id,first_name,last_name\n1,Ann,Lee,x\n",
			want: []string{"line 2, column 4: 1 value too many: the row has 4 values, the header 3 (a value with a comma in it must be enclosed in double quotes)"}},
		{name: "stray quote",
			file: "app_id,first_name,last_name\n1,An\"n,Lee\n",
			want: []string{`line 2, column 2 (first_name): a " in a value not enclosed in double quotes (byte 5 of the line): enclose the value in double quotes and double each " in it, as in "The ""Best"" ISD"`}},
		{name: "quote not doubled",
			file: "app_id,first_name,last_name\n1,\"An\"n\",Lee\n",
			want: []string{`line 2, column 2 (first_name): a " in a value enclosed in double quotes is not doubled, or its closing " is not followed by a comma (byte 6 of the line): write it as in "The ""Best"" ISD"`}},
		{name: "quoted value never closed",
			file: "app_id,first_name,last_name\n1,Ann,Lee\n2,\"Bob,Ray\n",
			want: []string{`line 3, column 2 (first_name): a value in double quotes starts here and is never closed: the file ends inside it (its closing " is missing, or a " in it is not doubled)`}},
		{name: "no id column",
			file: "name,email\nAnn,ann@example.org\n",
			want: []string{`line 1: no internal id column: want one of app_id, id, internal_id, user_id, or name yours with --id-column (the header has "name", "email")`}},
		{name: "no --id-column column",
			file: "app_id,email\n1,ann@example.org\n",
			opts: CSVOptions{IDColumn: "Student Key"},
			want: []string{`line 1: no id column "Student Key" (--id-column): the header has "app_id", "email"`}},
		{name: "id column twice",
			file: "ID,email,id\n1,a@example.org,1\n",
			want: []string{"line 1, column 3 (id): column 1 is the id column ID too: name one internal id column, once"}},
		{name: "empty id",
			file: "app_id,first_name\n1,Ann\n  ,Bob\n",
			want: []string{"line 3, column 1 (app_id): empty id: every record needs its internal id"}},
		{name: "duplicate ids",
			file: "first_name,app_id\nAnn,7\nBob,8\nCy,7\nDee,8\n",
			want: []string{
				`line 4, column 2 (app_id): id "7" is on line 2 too: list each record once`,
				`line 5, column 2 (app_id): id "8" is on line 3 too: list each record once`,
			}},
		{name: "not UTF-8",
			file: "app_id,first_name\n1,Ann\n2,Jos\xe9\n",
			want: []string{`line 3, column 2 (first_name): not UTF-8 text: byte 0xE9 at character 4 of the value; save the file as "CSV UTF-8"`}},
		{name: "not UTF-8 in the header",
			file: "app_id,n\xe4me\n1,Ann\n",
			want: []string{`line 1, column 2: not UTF-8 text: byte 0xE4 at character 2 of the value; save the file as "CSV UTF-8"`}},
		{name: "UTF-16",
			file: "\xff\xfea\x00p\x00p\x00",
			want: []string{`line 1: the file is UTF-16 text (Excel's "Unicode Text"): save it as "CSV UTF-8"`}},
		{name: "empty file",
			file: "",
			want: []string{"line 1: the file is empty: want a header row naming the columns, one of them the internal id (app_id, id, internal_id, user_id, or the column --id-column names)"}},
		{name: "byte order mark only",
			file: "\xef\xbb\xbf",
			want: []string{"line 1: the file is empty: want a header row naming the columns, one of them the internal id (app_id, id, internal_id, user_id, or the column --id-column names)"}},
		{name: "header only",
			file: "app_id,first_name,last_name\n",
			want: []string{"line 2: no records: the file has a header row and nothing under it; want one row per student"}},
		{name: "header and empty rows",
			file: "app_id,first_name,last_name\r\n,,\r\n , ,\r\n",
			want: []string{"line 2: no records: the file has a header row and nothing under it; want one row per student"}},
		{name: "--map column not in the header",
			file: "app_id,first_name\n1,Ann\n",
			opts: CSVOptions{Map: map[Field]string{DOB: "Birth"}},
			want: []string{`line 1: --map dob=Birth: the header has no column "Birth" (it has "app_id", "first_name")`}},
		{name: "every problem in one pass",
			file: "app_id,first_name,last_name\n1,Ann,Lee\n2,Bob\n,Cy,Ng\n1,Dee,Fox\n3,\xff,Gil\n4,\"x\"y,Ho\n",
			want: []string{
				"line 3, column 3 (last_name): missing: the row has 2 values, the header 3",
				"line 4, column 1 (app_id): empty id: every record needs its internal id",
				`line 5, column 1 (app_id): id "1" is on line 2 too: list each record once`,
				`line 6, column 2 (first_name): not UTF-8 text: byte 0xFF at character 1 of the value; save the file as "CSV UTF-8"`,
				`line 7, column 2 (first_name): a " in a value enclosed in double quotes is not doubled, or its closing " is not followed by a comma (byte 5 of the line): write it as in "The ""Best"" ISD"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []int
			_, err := ReadAppRecords(strings.NewReader(tt.file), Student, tt.opts, func(r AppRow) error { lines = append(lines, r.Line); return nil })
			if got := problemStrings(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			// The rows before the first problem may have been passed on; none after it.
			var ce *csvin.Error
			errors.As(err, &ce)
			for _, l := range lines {
				if l >= ce.Problems[0].Line {
					t.Errorf("line %d passed on, after the problem on line %d", l, ce.Problems[0].Line)
				}
			}
			if _, verr := ValidateAppRecords(strings.NewReader(tt.file), Student, tt.opts); verr == nil || verr.Error() != err.Error() {
				t.Errorf("ValidateAppRecords: %v, want the same error as ReadAppRecords", verr)
			}
		})
	}
}

func TestReadAppRecordsCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("app_id,first_name\n")
	for range 60 {
		b.WriteString(",Ann\n")
	}
	_, err := ValidateAppRecords(strings.NewReader(b.String()), Student, CSVOptions{})
	var ce *csvin.Error
	if !errors.As(err, &ce) || len(ce.Problems) != csvin.MaxProblems || ce.More != 10 {
		t.Fatalf("error %v, want 50 problems and 10 more", err)
	}
	if last := ce.Problems[49].String(); last != "line 51, column 1 (app_id): empty id: every record needs its internal id" {
		t.Errorf("problem 50 is %q", last)
	}
	if !strings.HasPrefix(err.Error(), "the file has 60 problems; nothing was changed:") || !strings.HasSuffix(err.Error(), "… and 10 more") {
		t.Errorf("error reads %q", err)
	}
}

func TestReadAppRecordsRecognisesHeaders(t *testing.T) {
	file := "\xef\xbb\xbfUser ID,Given Name,Middle-Name,SURNAME,Birth Date,E-Mail,SIS ID,Student Number,State ID,School,Grade Level,Shoe Size\n" +
		"u1, Ann ,Q,Lee,2010-01-02,ann@example.org,S1,N1,ST1,Lincoln Elementary,5,7\n" +
		"u2,Bob,,Ray,,,,,,,,\n"
	af, rows, err := readAll(t, file, Student, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []string{"User ID", "Given Name", "Middle-Name", "SURNAME", "Birth Date", "E-Mail", "SIS ID", "Student Number", "State ID", "School", "Grade Level", "Shoe Size"}
	if !slices.Equal(af.Columns, wantCols) || af.IDColumn != 0 || af.Records != 2 {
		t.Errorf("file %+v", af)
	}
	wantFields := map[Field]int{FirstName: 1, MiddleName: 2, LastName: 3, DOB: 4, Email: 5, SISID: 6, StudentNumber: 7, StateID: 8, SchoolRef: 9, Grade: 10}
	if !maps.Equal(af.Fields, wantFields) {
		t.Errorf("fields %v, want %v", af.Fields, wantFields)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	want := map[Field]string{FirstName: "Ann", MiddleName: "Q", LastName: "Lee", DOB: "2010-01-02", Email: "ann@example.org",
		SISID: "S1", StudentNumber: "N1", StateID: "ST1", SchoolRef: "Lincoln Elementary", Grade: "5"}
	if r := rows[0]; r.ID != "u1" || r.Line != 2 || !maps.Equal(r.Values, want) || len(r.Raw) != 12 || r.Raw[11] != "7" || r.Raw[1] != "Ann " {
		t.Errorf("row 1 %+v", r)
	}
	if r := rows[1]; r.ID != "u2" || r.Line != 3 || !maps.Equal(r.Values, map[Field]string{FirstName: "Bob", LastName: "Ray"}) {
		t.Errorf("row 2 %+v", r)
	}
	if rec := rows[1].Record(); rec.ID != "u2" || rec.Values[LastName] != "Ray" {
		t.Errorf("record %+v", rec)
	}
}

func TestReadAppRecordsSynonyms(t *testing.T) {
	tests := []struct {
		typ    Type
		header string
		want   map[Field]int
	}{
		{Student, "id,firstname,lastname,dob,email", map[Field]int{FirstName: 1, LastName: 2, DOB: 3, Email: 4}},
		{Student, "id,FirstName,LastName,DateOfBirth", map[Field]int{FirstName: 1, LastName: 2, DOB: 3}},
		{Student, "id,given_name,family_name,birthday", map[Field]int{FirstName: 1, LastName: 2, DOB: 3}},
		{Student, "id,first_name,surname,birthdate", map[Field]int{FirstName: 1, LastName: 2, DOB: 3}},
		{Teacher, "id,email,teacher_number,staff_id,state_id,school", map[Field]int{Email: 1, TeacherNumber: 2, StaffID: 3, StateID: 4, SchoolRef: 5}},
		// first_name and given_name both present: first_name, the stronger claim, wins.
		{Student, "id,given_name,first_name", map[Field]int{FirstName: 2}},
		{School, "id,School Name,NCES ID,MDR Number,School Number,State,sis_id", map[Field]int{Name: 1, NCESID: 2, MDRNumber: 3, SchoolNumber: 4, State: 5, SISID: 6}},
		{School, "id,school", map[Field]int{Name: 1}},
		{Section, "id,Name,School,Teacher,Period,Section Number,Grade", map[Field]int{Name: 1, SchoolRef: 2, TeacherRef: 3, Period: 4, SectionNumber: 5, Grade: 6}},
		// A student information system's export: "Building" is the school.
		{Student, "id,Student Number,Last Name,First Name,Date of Birth,Building", map[Field]int{StudentNumber: 1, LastName: 2, FirstName: 3, DOB: 4, SchoolRef: 5}},
		// A person's state is not a school's: left to the app's columns.
		{Student, "id,state,name", map[Field]int{}},
	}
	for _, tt := range tests {
		af, _, err := readAll(t, tt.header+"\n"+"1"+strings.Repeat(",x", strings.Count(tt.header, ","))+"\n", tt.typ, CSVOptions{})
		if err != nil {
			t.Errorf("%s %q: %v", tt.typ, tt.header, err)
			continue
		}
		if !maps.Equal(af.Fields, tt.want) {
			t.Errorf("%s %q: fields %v, want %v", tt.typ, tt.header, af.Fields, tt.want)
		}
	}
}

func TestReadAppRecordsMap(t *testing.T) {
	file := "app_id,Preferred,First Name,Born\n1,Annie,Ann,2010-01-02\n"
	m, err := ParseMap("first-name=Preferred, DOB = born")
	if err != nil {
		t.Fatal(err)
	}
	af, rows, err := readAll(t, file, Student, CSVOptions{Map: m})
	if err != nil {
		t.Fatal(err)
	}
	// "First Name" is no longer first_name: --map named another column for it.
	if want := map[Field]int{FirstName: 1, DOB: 3}; !maps.Equal(af.Fields, want) {
		t.Errorf("fields %v, want %v", af.Fields, want)
	}
	if want := map[Field]string{FirstName: "Annie", DOB: "2010-01-02"}; !maps.Equal(rows[0].Values, want) {
		t.Errorf("values %v, want %v", rows[0].Values, want)
	}
	// A column --map gives a field is not recognised as another.
	af, _, err = readAll(t, "id,first_name,x\n1,a,b\n", Student, CSVOptions{Map: map[Field]string{LastName: "first_name"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[Field]int{LastName: 1}; !maps.Equal(af.Fields, want) {
		t.Errorf("fields %v, want %v", af.Fields, want)
	}
	if _, err := ValidateAppRecords(strings.NewReader(file), Student, CSVOptions{Map: map[Field]string{"shoe": "x"}}); err == nil || !strings.Contains(err.Error(), `"shoe" is not a field`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestParseMap(t *testing.T) {
	if m, err := ParseMap("  "); m != nil || err != nil {
		t.Errorf("empty: %v, %v", m, err)
	}
	m, err := ParseMap("sis_id=Student ID,school=Building,TEACHER=Instructor")
	if want := map[Field]string{SISID: "Student ID", SchoolRef: "Building", TeacherRef: "Instructor"}; err != nil || !maps.Equal(m, want) {
		t.Errorf("got %v, %v; want %v", m, err, want)
	}
	for in, want := range map[string]string{
		"first_name=A,,dob=B":     "--map: entry 2 is empty: want FIELD=COLUMN pairs separated by commas",
		"first_name":              `--map: "first_name" is not FIELD=COLUMN`,
		"shoe_size=Shoes":         `--map: "shoe_size" is not a field: want one of first_name, middle_name, last_name, name, dob, email, sis_id, student_number, state_id, teacher_number, staff_id, school, grade, nces_id, mdr_number, school_number, state, teacher, period, section_number`,
		"dob= ":                   `--map: "dob=" names no column`,
		"dob=Born,DOB=Birth Date": `--map: dob is mapped twice (to "Born" and "Birth Date")`,
	} {
		if _, err := ParseMap(in); err == nil || err.Error() != want {
			t.Errorf("ParseMap(%q): %v, want %s", in, err, want)
		}
	}
}

func TestReadAppRecordsIDColumn(t *testing.T) {
	file := "user_id,email,ID,internal_id\nu1,a@example.org,i1,n1\nu2,b@example.org,i2,n2\n"
	// Default: the first of app_id, id, internal_id, user_id the header has — id, though it is not the
	// first column.
	af, rows, err := readAll(t, file, Teacher, CSVOptions{})
	if err != nil || af.IDColumn != 2 || rows[0].ID != "i1" || rows[1].ID != "i2" {
		t.Fatalf("default: %+v, %v", af, err)
	}
	af, rows, err = readAll(t, file, Teacher, CSVOptions{IDColumn: "User-ID"})
	if err != nil || af.IDColumn != 0 || rows[0].ID != "u1" {
		t.Fatalf("--id-column: %+v, %v", af, err)
	}
	// The id column may also be a field's.
	af, rows, err = readAll(t, file, Teacher, CSVOptions{IDColumn: "email"})
	if err != nil || af.IDColumn != 1 || rows[0].ID != "a@example.org" || rows[0].Values[Email] != "a@example.org" {
		t.Fatalf("--id-column email: %+v, %v", af, err)
	}
	af, _, err = readAll(t, "App ID,id\n1,2\n", Teacher, CSVOptions{})
	if err != nil || af.IDColumn != 0 {
		t.Fatalf("app_id first: %+v, %v", af, err)
	}
}

func TestReadAppRecordsStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	_, err := ReadAppRecords(strings.NewReader("id\n1\n2\n3\n"), Staff, CSVOptions{}, func(AppRow) error {
		if calls++; calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Errorf("error %v after %d calls", err, calls)
	}
	if _, err := ValidateAppRecords(strings.NewReader("id\n1\n"), "parent", CSVOptions{}); err == nil || !strings.Contains(err.Error(), `unknown record type "parent"`) {
		t.Errorf("unknown type: %v", err)
	}
}

// genFile generates a students file of n rows as it is read, so that the input is never in memory.
type genFile struct {
	n, next int
	buf     []byte
	size    int64
}

func (g *genFile) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.next > g.n:
			return 0, io.EOF
		case g.next == 0:
			g.buf = []byte("app_id,first_name,middle_name,last_name,dob,email,sis_id,student_number,state_id,school,grade,notes\n")
		default:
			i := g.next
			g.buf = fmt.Appendf(g.buf, "A%07d,First%d,M,Last%d,2010-%02d-%02d,first%d.last%d@example.org,S%07d,%d,TX%09d,Lincoln Elementary School,%d,\"Some notes, quoted, to make a row of a realistic size\"\n",
				i, i, i, i%12+1, i%28+1, i, i, i, i, i, i%12+1)
		}
		g.next++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	g.size += int64(n)
	return n, nil
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestReadAppRecordsStreams reads 100,000 rows through ReadAppRecords and checks that memory stays
// bounded: the live heap while reading grows by the set of ids only (about 50 bytes an id), not by the
// rows (about 190 bytes of text each, and several times that parsed).
func TestReadAppRecordsStreams(t *testing.T) {
	const n = 100_000
	g := &genFile{n: n}
	base := liveHeap()
	var peak uint64
	count := 0
	af, err := ReadAppRecords(g, Student, CSVOptions{}, func(r AppRow) error {
		count++
		if r.ID != fmt.Sprintf("A%07d", count) || r.Values[LastName] != fmt.Sprintf("Last%d", count) {
			return fmt.Errorf("row %d: %+v", count, r)
		}
		if count%10_000 == 0 {
			peak = max(peak, liveHeap())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n || af.Records != n {
		t.Fatalf("%d records passed on, %d read; want %d", count, af.Records, n)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d rows, %.1f MB of CSV: live heap grew by at most %.2f MB while reading (%.0f bytes a row)",
		n, float64(g.size)/1e6, float64(growth)/1e6, float64(growth)/n)
	// Holding the rows would take far more than the file's size; the ids take about 50 bytes each.
	if growth > 100*n {
		t.Errorf("live heap grew by %d bytes over %d rows: rows are being kept", growth, n)
	}

	// Allocations per row are a constant: the row's strings, slice and values map.
	const small = 1000
	file, err := io.ReadAll(&genFile{n: small})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func(AppRow) error
		max  float64
	}{
		{"ValidateAppRecords", nil, 5},
		{"ReadAppRecords", func(AppRow) error { return nil }, 10},
	} {
		allocs := testing.AllocsPerRun(5, func() {
			if _, err := ReadAppRecords(bytes.NewReader(file), Student, CSVOptions{}, c.fn); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.1f allocations a row", c.name, allocs/small)
		if allocs/small > c.max {
			t.Errorf("%s: %.1f allocations a row, want at most %v", c.name, allocs/small, c.max)
		}
	}
}
