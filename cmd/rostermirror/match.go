package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/match"
)

// newMatchCommand builds `rostermirror match` and its subcommands.
func newMatchCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "match import|export|rematch",
		Short: "Match the app's existing records to Clever's",
		Long: `Match the app's own records (the students, teachers, staff, schools and sections it had before
Clever) to a district's records in the mirror, as Clever's Matchmaker does: match import loads them from
a CSV file and matches them, match export writes the result in Matchmaker's format, match rematch
matches the undecided ones again. Every sync rematches by itself after it runs. An admin reviews
suggestions and corrects matches through the GraphQL API (matchRecord, unmatchRecord,
acceptSuggestion, rejectSuggestion); those decisions stand through any import, sync or rematch.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("match needs a subcommand: import, export or rematch")
		},
	}
	cmd.AddCommand(newMatchImportCommand(a), newMatchExportCommand(a), newMatchRematchCommand(a))
	return cmd
}

// matchTarget are the --district and --type flags every match subcommand takes.
type matchTarget struct {
	district string
	typ      string
}

func (f *matchTarget) register(cmd *cobra.Command, typeRequired bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.district, "district", "", "Clever district `ID` (the district must have been synced)")
	usage := "record `TYPE`: student, teacher, staff, school or section"
	if !typeRequired {
		usage += " (default: every type the district has records of)"
	}
	fl.StringVar(&f.typ, "type", "", usage)
}

// parse checks the flags: the district id, and the record type (nil when not given and not required).
func (f matchTarget) parse(typeRequired bool) (string, *match.Type, error) {
	district := strings.TrimSpace(f.district)
	if district == "" {
		return "", nil, usagef("--district is required: the Clever id of a synced district")
	}
	if strings.TrimSpace(f.typ) == "" {
		if typeRequired {
			return "", nil, usagef("--type is required: student, teacher, staff, school or section")
		}
		return district, nil, nil
	}
	typ, err := apprecord.ParseType(f.typ)
	if err != nil {
		return "", nil, usagef("--type: unknown record type %q: want student, teacher, staff, school or section", f.typ)
	}
	return district, &typ, nil
}

// newMatchImportCommand builds `rostermirror match import`.
func newMatchImportCommand(a *app) *cobra.Command {
	var (
		target   matchTarget
		idColumn string
		maps     []string
	)
	cmd := &cobra.Command{
		Use:   "import --district ID --type TYPE [--id-column COL] [--map FIELD=COL,...] FILE.csv",
		Short: "Load the app's records of one type from a CSV file and match them",
		Long: `Load the app's own records of one type (student, teacher, staff, school or section) for a synced
Clever district from a CSV file ("-" reads stdin), match them to the district's records in the mirror,
and print the counts: records new, changed, unchanged and missing, then how many of the district's
current records of the type are matched, suggested (for review), unmatched and duplicate.

The file is RFC 4180, UTF-8, with a header row and any columns. One column holds the app's own id of
each record, once per file: --id-column names it, by default the first of app_id, id, internal_id and
user_id the header has. The columns that matching compares are recognised by their header, whatever
its case, spaces and punctuation ("First Name" is first_name):
  first_name         or firstname, given_name; likewise middle_name
  last_name          or lastname, surname, family_name
  dob                or birthdate, birth_date, date_of_birth, birthday
  email, sis_id, student_number, state_id, teacher_number, staff_id
  school             a person's or section's school: its name or id (school_id, school_name)
  grade, nces_id, mdr_number, school_number, state; name (schools, sections); teacher, period,
  section_number (sections)
--map FIELD=COLUMN,... names the column of a field whose header says it otherwise, as in
--map "dob=Birth Date,sis_id=Student ID" (repeatable). Other columns are not compared: they are kept
for the export, and named in a warning on stderr.

All or nothing: a file with any problem (a row with too many or too few values, a stray or unclosed
quote, bytes that are not UTF-8, a missing or empty id, an id on two lines, an empty file, a header
with nothing under it) changes nothing: every problem is printed on stderr with its line and column,
and the exit status is 1. Importing the same file again changes nothing. A record that an earlier
import had and this file has not is kept, marked missing and left out of the export; the report counts
them and names the first. An admin's decisions (a match or unmatch by hand, a suggestion accepted or
rejected) stand through any import.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("match import needs one file (or - for stdin), got %d arguments", len(args))
			}
			return nil
		},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			district, typ, err := target.parse(true)
			if err != nil {
				return err
			}
			m, err := match.ParseMap(strings.Join(maps, ","))
			if err != nil {
				return usageError{err}
			}
			opts := match.CSVOptions{IDColumn: strings.TrimSpace(idColumn), Map: m}
			return a.importAppRecords(cmd.Context(), args[0], cmd.InOrStdin(), district, *typ, opts)
		},
	}
	target.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&idColumn, "id-column", "", "the column of the app's own id (default: the first of "+strings.Join(match.DefaultIDColumns, ", ")+")")
	fl.StringArrayVar(&maps, "map", nil, "`FIELD=COLUMN` pairs, comma-separated (repeatable): the column of a field whose header says it otherwise")
	return cmd
}

// importAppRecords imports the app's records of path ("-": stdin) and prints the report.
func (a *app) importAppRecords(ctx context.Context, path string, stdin io.Reader, districtID string, typ match.Type, opts match.CSVOptions) error {
	name, fileName := path, filepath.Base(path)
	if path == "-" {
		name, fileName = "stdin", "stdin"
	}
	file, cleanup, err := rereadable(path, stdin)
	if err != nil {
		return err // "open FILE: no such file or directory"
	}
	defer cleanup()
	svc, closeDB, err := a.openMatching(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	imp, err := svc.Import(ctx, apprecord.ImportInput{
		DistrictID: districtID, Type: typ, FileName: fileName, Options: opts,
		Open: func() (io.ReadCloser, error) { return os.Open(file) },
	}, a.decidedBy())
	if err != nil {
		if _, ok := errors.AsType[*csvin.Error](err); ok {
			return fmt.Errorf("%s: %w", name, err) // "FILE: the file has 2 problems; nothing was changed: …"
		}
		return fmt.Errorf("import %s records: %w", typ, err)
	}
	for _, w := range imp.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return writeImportReport(a.stdout, districtID, typ, imp)
}

// rereadable returns the name of a file that holds what path holds and can be opened again and again
// (apprecord.Import reads its file twice), and a func that removes it when it is a copy. A regular file
// is used as it is; stdin ("-"), a pipe or a process substitution is first copied to a temporary file
// that only this user can read.
func rereadable(path string, stdin io.Reader) (string, func(), error) {
	nothing := func() {}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", nothing, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", nothing, err
		}
		if st.IsDir() {
			return "", nothing, fmt.Errorf("%s is a directory: name a CSV file, or - for stdin", path)
		}
		if st.Mode().IsRegular() {
			return path, nothing, nil
		}
		r = f
	}
	tmp, err := os.CreateTemp("", "rostermirror-match-*.csv")
	if err != nil {
		return "", nothing, fmt.Errorf("copy the file to read it twice: %w", err)
	}
	remove := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		remove()
		return "", nothing, fmt.Errorf("copy the file to read it twice: %w", err)
	}
	return tmp.Name(), remove, nil
}

// writeImportReport prints what an import did: the file's records, then where the district's records of
// the type stand after matching (the app's current records: the missing ones are counted apart), then
// the first records of earlier imports the file no longer has.
func writeImportReport(w io.Writer, districtID string, typ match.Type, imp *ent.AppImport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s records of district %s: %d in the file: %d new, %d changed, %d unchanged, %d missing\n",
		typ, districtID, imp.Records, imp.Created, imp.Changed, imp.Unchanged, imp.Missing)
	fmt.Fprintf(&b, "after matching, the district's %s records: %d matched, %d suggested, %d unmatched, %d duplicate\n",
		typ, imp.Matched, imp.Suggested, imp.Unmatched, imp.Duplicate)
	if imp.Missing > 0 {
		fmt.Fprintf(&b, "missing (kept, left out of the export): %s", strings.Join(imp.MissingIds, ", "))
		if more := imp.Missing - len(imp.MissingIds); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// newMatchExportCommand builds `rostermirror match export`.
func newMatchExportCommand(a *app) *cobra.Command {
	var (
		target matchTarget
		out    string
	)
	cmd := &cobra.Command{
		Use:   "export --district ID --type TYPE [--out FILE]",
		Short: "Write the Matchmaker-format CSV of one type",
		Long: `Write a district's records of one type in Clever Matchmaker's format, to stdout or to --out FILE.
FILE is written whole or not at all: an export that fails leaves no file behind (and an existing FILE
as it was). FILE is readable by its owner only, as it holds the app's records.

Columns: the latest import's columns prefixed "app.", then clever.id and the Clever fields compared
prefixed "clever.", then matchmaker_results — one of "match", "from app, no match", "from app,
duplicate", "from Clever, no match", "from Clever, duplicate" — then rostermirror's own: method, score,
explanation, status, decided_by, clever_archived and suggestions. One row per record of the latest
import (a suggestion is not a match: it is "from app, no match" with its suggestions listed), then one
per shared Clever record that no app record is matched to.

The same file is served at GET /match/export?district=ID&type=TYPE to an API key with the admin scope.`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			district, typ, err := target.parse(true)
			if err != nil {
				return err
			}
			return a.exportAppRecords(cmd.Context(), district, *typ, out)
		},
	}
	target.register(cmd, true)
	cmd.Flags().StringVar(&out, "out", "", "write to `FILE` instead of stdout")
	return cmd
}

// openMatching opens the migrated database and the matching service over it (ROSTERMIRROR_MATCH_ORDER
// applied); closeDB closes the database.
func (a *app) openMatching(ctx context.Context) (svc *apprecord.Service, closeDB func() error, err error) {
	mopts, err := a.cfg.matchOptions(a.logger)
	if err != nil {
		return nil, nil, err
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return nil, nil, err
	}
	return apprecord.New(db, mopts...), db.Close, nil
}

// exportAppRecords writes the Matchmaker CSV to out ("" or "-": stdout).
func (a *app) exportAppRecords(ctx context.Context, districtID string, typ match.Type, out string) error {
	svc, closeDB, err := a.openMatching(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	export := func(w io.Writer) error {
		if err := svc.Export(ctx, w, districtID, typ); err != nil {
			return fmt.Errorf("export %s records: %w", typ, err)
		}
		return nil
	}
	if err := a.writeOutput(out, export); err != nil {
		return err
	}
	if out != "" && out != "-" {
		fmt.Fprintf(a.stderr, "wrote the %s records of district %s to %s\n", typ, districtID, out)
	}
	return nil
}

// writeOutput writes a command's output to out: stdout for "" or "-", else the file, whole or not at
// all (writeFileAtomic).
func (a *app) writeOutput(out string, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		bw := bufio.NewWriter(a.stdout)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	return writeFileAtomic(out, write)
}

// writeFileAtomic writes path through a temporary file in its directory, renamed over path once write
// has succeeded and the file is synced: path is written whole or not at all.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp") // 0600
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newMatchRematchCommand builds `rostermirror match rematch`.
func newMatchRematchCommand(a *app) *cobra.Command {
	var target matchTarget
	cmd := &cobra.Command{
		Use:   "rematch --district ID [--type TYPE]",
		Short: "Match a district's undecided app records again",
		Long: `Match a district's undecided app records again against its records in the mirror — of one type
with --type, else of every type the district has records of (schools first, then people, then
sections) — and print where each type stands: matched, suggested, unmatched, duplicate. Records an
admin decided, and records the latest import no longer had, are left as they are. Every sync (serve,
sync, demo) does this by itself after it runs. The rematch is recorded in the audit log.`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			district, typ, err := target.parse(false)
			if err != nil {
				return err
			}
			return a.rematchAppRecords(cmd.Context(), district, typ)
		},
	}
	target.register(cmd, false)
	return cmd
}

// rematchAppRecords rematches and prints the counts.
func (a *app) rematchAppRecords(ctx context.Context, districtID string, typ *match.Type) error {
	svc, closeDB, err := a.openMatching(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	counts, err := svc.RematchAs(ctx, districtID, typ, a.decidedBy())
	if err != nil {
		return err // "rematch student records of district X: …"
	}
	if len(counts) == 0 {
		_, err := fmt.Fprintf(a.stdout, "district %s has no app records: nothing to rematch (load them with match import)\n", districtID)
		return err
	}
	var b strings.Builder
	for _, c := range counts {
		b.WriteString(c.String() + "\n") // "student: 7 matched, 0 suggested, 1 unmatched, 0 duplicate"
	}
	_, err = io.WriteString(a.stdout, b.String())
	return err
}

// maxExports is how many /match/export requests run at once.
const maxExports = 2

// matchExportHandler serves GET /match/export?district=ID&type=TYPE: the Matchmaker CSV of Export, to a
// request whose API key has the admin scope (auth.Middleware puts it in the context). The CSV is written
// to a temporary file first and sent only once it is whole, so a failure is an error status, never a
// 200 with half a file: 400 for a missing district or a missing or unknown type, 404 when the district
// has no import of the type, 500 otherwise. At most maxExports run at once (each reads a district's
// records of the type); a request beyond them gets 429.
func matchExportHandler(svc *apprecord.Service, logger *slog.Logger) http.Handler {
	running := make(chan struct{}, maxExports)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case running <- struct{}{}:
			defer func() { <-running }()
		default:
			w.Header().Set("Retry-After", "10")
			writeText(w, http.StatusTooManyRequests, "other exports are running: try again in a moment")
			return
		}
		ctx := r.Context()
		q := r.URL.Query()
		districtID := strings.TrimSpace(q.Get("district"))
		if districtID == "" {
			writeText(w, http.StatusBadRequest, "missing district: GET /match/export?district=ID&type=TYPE")
			return
		}
		rawType := strings.TrimSpace(q.Get("type"))
		if rawType == "" {
			writeText(w, http.StatusBadRequest, "missing type: want student, teacher, staff, school or section")
			return
		}
		typ, err := apprecord.ParseType(rawType)
		if err != nil {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("unknown record type %q: want student, teacher, staff, school or section", rawType))
			return
		}

		f, err := os.CreateTemp("", "rostermirror-export-*.csv")
		if err != nil {
			logger.ErrorContext(ctx, "match export: create a temporary file", slog.String("error", err.Error()))
			writeText(w, http.StatusInternalServerError, "the export failed; try again")
			return
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		bw := bufio.NewWriter(f)
		err = svc.ExportCSV(ctx, bw, districtID, typ)
		if err == nil {
			err = bw.Flush()
		}
		var size int64
		if err == nil {
			size, err = f.Seek(0, io.SeekCurrent)
		}
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		switch {
		case err == nil:
		case errors.Is(err, apprecord.ErrNotFound):
			writeText(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), apprecord.ErrNotFound.Error()+": "))
			return
		case errors.Is(err, apprecord.ErrInvalid):
			writeText(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), apprecord.ErrInvalid.Error()+": "))
			return
		case errors.Is(err, auth.ErrForbidden):
			writeText(w, http.StatusForbidden, err.Error())
			return
		case errors.Is(err, auth.ErrInvalidKey):
			writeText(w, http.StatusUnauthorized, "invalid API key")
			return
		default:
			if ctx.Err() == nil {
				logger.ErrorContext(ctx, "match export", slog.String("district", districtID), slog.String("type", string(typ)),
					slog.String("error", err.Error()))
			}
			writeText(w, http.StatusInternalServerError, "the export failed; try again")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment",
			map[string]string{"filename": fmt.Sprintf("matchmaker-%s-%s.csv", districtID, typ)}))
		h.Set("Content-Length", fmt.Sprint(size))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		if _, err := io.Copy(w, f); err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "match export: send the file", slog.String("error", err.Error()))
		}
	})
}
