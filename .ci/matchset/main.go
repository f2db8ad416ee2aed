// Command matchset writes a labelled matching set for .ci/measure-match: a synthetic district with the
// set's added Clever records (dataset.json, for cleversim --data) and the app's students (students.csv,
// for rostermirror match import), with the noise of internal/match's labelled sets.
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rostermirror/rostermirror/internal/match"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

func main() {
	students := flag.Int("students", 100_000, "students in the district")
	seed := flag.Int64("seed", 100, "seed of the district and the set")
	out := flag.String("out", ".", "directory to write dataset.json and students.csv into")
	flag.Parse()
	if err := run(*students, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "matchset:", err)
		os.Exit(1)
	}
}

func run(students int, seed int64, out string) error {
	ds := synth.Generate(synth.Config{Seed: seed, Students: students, Teachers: 50, Staff: 5, DistrictAdmins: 1,
		Contacts: -1, Sections: -1, Courses: -1, Terms: -1})
	set := match.Labelled(seed, match.LabelledOptions{Dataset: ds, AppShare: 0.97, AppOnly: 0.01})
	full, err := set.WithCleverRecords(ds)
	if err != nil {
		return err
	}
	b, err := json.Marshal(full)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "dataset.json"), b, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(out, "students.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	fields := []match.Field{match.FirstName, match.MiddleName, match.LastName, match.DOB, match.Email, match.SISID,
		match.StudentNumber, match.StateID, match.SchoolRef, match.Grade}
	head := []string{"app_id"}
	for _, fl := range fields {
		head = append(head, string(fl))
	}
	w.Write(head)
	for _, r := range set.App {
		row := []string{r.ID}
		for _, fl := range fields {
			row = append(row, r.Values[fl])
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d Clever students, %d app records\n", len(set.Clever), len(set.App))
	return f.Close()
}
