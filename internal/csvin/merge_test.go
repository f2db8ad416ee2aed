package csvin

import (
	"fmt"
	"testing"
)

// TestMerge: two readers' problems come out in the order of their lines, the first MaxProblems kept
// and the rest counted, whatever each list had kept.
func TestMerge(t *testing.T) {
	var a, b Problems
	for line := 1; line <= 40; line++ {
		a.Add(Problem{Line: 2 * line, Message: "parse"})
		b.Add(Problem{Line: 2*line - 1, Message: "check"})
	}
	b.Add(Problem{Line: 4, Message: "check"})
	m := Merge(a, b)
	if m.Len() != 81 || len(m.List()) != MaxProblems {
		t.Fatalf("merged %d problems, kept %d; want 81 and %d", m.Len(), len(m.List()), MaxProblems)
	}
	var got string
	for _, p := range m.List()[:6] {
		got += fmt.Sprintf("%d:%s ", p.Line, p.Message)
	}
	if want := "1:check 2:parse 3:check 4:parse 4:check 5:check "; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	var empty Problems
	if e := Merge(empty, empty); e.Err() != nil {
		t.Errorf("two empty lists merged: %v", e.Err())
	}
}
