package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/internal/csvin"
	studentprogress "github.com/rostermirror/rostermirror/internal/progress"
)

// newProgressCommand builds `rostermirror progress` and its subcommands (students' progress; the sync
// progress display is progress.go's).
func newProgressCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "progress import|export",
		Short: "Load or export students' progress",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("progress needs a subcommand: import or export")
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE.csv",
		Short: "Load progress records from a CSV file (all or nothing)",
		Long: `Load students' progress records from a CSV file ("-" reads stdin), streamed, in one transaction:
a file with any problem changes nothing, and every problem is printed with its line and column.
Columns (header names are matched whatever their case and punctuation):
  student_clever_id (or clever_id)  required
  activity_id                       required
  attempt_id                        optional ("" for an activity done once)
  kind                              required: completed or in_progress
  score, max_score                  optional numbers (max_score above 0)
  completed_at                      required: RFC 3339 (2026-03-01T14:05:00Z) or a date (2026-03-01)
  time_spent_seconds                optional whole number
  section_id                        optional: else resolved from the enrollment history at completed_at
  data                              optional JSON
Idempotent on (student_clever_id, activity_id, attempt_id): importing the same file again changes nothing.
Prints the records created, updated and unchanged.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("progress import needs one file (or - for stdin), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.importProgress(cmd.Context(), args[0], cmd.InOrStdin())
		},
	})
	var district, out string
	export := &cobra.Command{
		Use:   "export [--district ID] [--output FILE]",
		Short: "Write progress records as CSV (archived students' included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.exportProgress(cmd.Context(), district, out)
		},
	}
	export.Flags().StringVar(&district, "district", "", "Clever district `ID` (default: every district)")
	export.Flags().StringVar(&out, "output", "-", "`FILE` to write (- for stdout)")
	cmd.AddCommand(export)
	return cmd
}

func (a *app) openProgress(ctx context.Context) (*studentprogress.Service, func() error, error) {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return nil, nil, err
	}
	return studentprogress.New(db, studentprogress.WithLogger(a.logger)), db.Close, nil
}

func (a *app) importProgress(ctx context.Context, path string, stdin io.Reader) error {
	var r io.Reader = stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, path
	}
	svc, closeDB, err := a.openProgress(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	c, err := svc.Import(ctx, r, a.decidedBy())
	if err != nil {
		if _, ok := errors.AsType[*csvin.Error](err); ok {
			return fmt.Errorf("%s: %w", name, err)
		}
		return fmt.Errorf("import progress: %w", err)
	}
	fmt.Fprintf(a.stdout, "progress: %s\n", c)
	return nil
}

func (a *app) exportProgress(ctx context.Context, district, out string) error {
	svc, closeDB, err := a.openProgress(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	return a.writeOutput(out, func(w io.Writer) error {
		if err := svc.Export(ctx, w, district); err != nil {
			return fmt.Errorf("export progress: %w", err)
		}
		return nil
	})
}
