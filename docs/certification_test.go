package docs_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// requiredSections are the groups of Clever's district certification questions that issue 13 names:
// docs/clever-certification.md has a "## " heading starting with each (case aside).
var requiredSections = []string{
	"General", "Provisioning", "Matching", "Rostering", "Ongoing updates", "Admin edits",
	"Updating and deleting records", "Student progress", "Rollover", "Login provisioning",
	"Administrators with two Clever ids", "Co-teachers", "Users with no sections",
	"Users in several schools", "Events",
}

var (
	// citation is a proof as the document writes it: `TestName` (directory of its package).
	citation = regexp.MustCompile("`(Test[A-Za-z0-9_]*)` \\(([^()\\s]+)\\)")
	// anyTest is any test name in backquotes, cited as a proof or not.
	anyTest = regexp.MustCompile("`(Test[A-Za-z0-9_]*)`")
)

// TestCertificationAnswers: every answer of docs/clever-certification.md has a proof, every test it
// names is declared in the directory it names, and every section of Clever's checklist has a heading.
func TestCertificationAnswers(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("clever-certification.md")
	if err != nil {
		t.Fatal(err)
	}
	tests, err := declaredTests("..")
	if err != nil {
		t.Fatal(err)
	}
	problems, cited := check(string(doc), tests)
	for _, p := range problems {
		t.Error(p)
	}
	if cited < 40 {
		t.Errorf("the document cites %d tests: the parser missed its proofs", cited)
	}
}

// TestCertificationCheckFails: the check names each kind of problem, so TestCertificationAnswers can
// fail: a test that does not exist, a test cited in the wrong directory, an answer without a proof, a
// proof that names no test, and a missing section.
func TestCertificationCheckFails(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{"TestReal": {"sync/mirror"}}
	var b strings.Builder
	for _, s := range requiredSections {
		if s == "Rollover" {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n### Question?\n\nAnswer.\n\nProof: `TestReal` (sync/mirror)\n\n", s)
	}
	good := b.String()
	if problems, _ := check(good, tests); len(problems) != 1 || !strings.Contains(problems[0], `"Rollover"`) {
		t.Errorf("a document without Rollover: %q, want the missing section named", problems)
	}
	good += "## Rollover\n\n### Q?\n\nA.\n\nProof: `TestReal` (sync/mirror)\n"
	if problems, n := check(good, tests); len(problems) != 0 || n != len(requiredSections) {
		t.Fatalf("a good document: %q, %d citations", problems, n)
	}
	for _, tc := range []struct{ name, add, want string }{
		{"missing test", "### Q?\n\nA.\n\nProof: `TestGhost` (sync/mirror)\n", "TestGhost (sync/mirror), which is declared nowhere"},
		{"wrong directory", "### Q?\n\nA.\n\nProof: `TestReal` (graph)\n", "TestReal is not declared in graph (it is in sync/mirror)"},
		{"no proof", "### Unproven?\n\nA claim.\n", `"Unproven?" has no "Proof:" line`},
		{"empty proof", "### Q?\n\nA.\n\nProof: the README\n", "names no test"},
		{"test named in the text", "### Q?\n\nAs `TestGone` shows.\n\nProof: `TestReal` (sync/mirror)\n", "TestGone is declared nowhere"},
	} {
		problems, _ := check(good+"\n"+tc.add, tests)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("%s: problems %q, want one saying %q", tc.name, problems, tc.want)
		}
	}
}

// check returns the document's problems and the number of proof citations it read.
func check(doc string, tests map[string][]string) (problems []string, cited int) {
	var sections []string
	type answer struct {
		question string
		proofs   []string // the "Proof:" lines
	}
	var answers []*answer
	for line := range strings.Lines(doc) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "## "):
			sections = append(sections, strings.TrimPrefix(line, "## "))
		case strings.HasPrefix(line, "### "):
			answers = append(answers, &answer{question: strings.TrimPrefix(line, "### ")})
		case strings.HasPrefix(line, "Proof:") && len(answers) > 0:
			a := answers[len(answers)-1]
			a.proofs = append(a.proofs, line)
		}
	}
	for _, want := range requiredSections {
		if !slices.ContainsFunc(sections, func(s string) bool { return strings.HasPrefix(strings.ToLower(s), strings.ToLower(want)) }) {
			problems = append(problems, fmt.Sprintf("no section %q (a \"## %s…\" heading)", want, want))
		}
	}
	if len(answers) == 0 {
		problems = append(problems, "no answers (\"### \" headings)")
	}
	for _, a := range answers {
		if len(a.proofs) == 0 {
			problems = append(problems, fmt.Sprintf("%q has no \"Proof:\" line", a.question))
			continue
		}
		for _, p := range a.proofs {
			cites := citation.FindAllStringSubmatch(p, -1)
			if len(cites) == 0 {
				problems = append(problems, fmt.Sprintf("%q: %q names no test as `TestName` (directory)", a.question, p))
			}
			for _, c := range cites {
				cited++
				name, dir := c[1], c[2]
				switch dirs := tests[name]; {
				case len(dirs) == 0:
					problems = append(problems, fmt.Sprintf("%q cites %s (%s), which is declared nowhere in the repository", a.question, name, dir))
				case !slices.Contains(dirs, dir):
					problems = append(problems, fmt.Sprintf("%q cites %s (%s): %s is not declared in %s (it is in %s)", a.question, name, dir, name, dir, strings.Join(dirs, ", ")))
				}
			}
		}
	}
	// A test named anywhere else in the text must exist too.
	for _, m := range anyTest.FindAllStringSubmatch(doc, -1) {
		if len(tests[m[1]]) == 0 && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, m[1]+" ") }) {
			problems = append(problems, fmt.Sprintf("%s is declared nowhere in the repository", m[1]))
		}
	}
	return problems, cited
}

// declaredTests maps each test function (func TestX(t *testing.T), no receiver) declared in the
// repository's *_test.go files to the directories, relative to root, that declare it.
func declaredTests(root string) (map[string][]string, error) {
	tests := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") {
				continue
			}
			if name := fn.Name.Name; !slices.Contains(tests[name], rel) {
				tests[name] = append(tests[name], rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the repository's tests: %w", err)
	}
	return tests, nil
}
