package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/org"
	"github.com/rostermirror/rostermirror/internal/store"
)

// newOrgCommand builds `rostermirror org` and its subcommands.
func newOrgCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "org import",
		Short: "Manage the app's organizations (its customers)",
		Long: `Manage the app's organizations: the customers that Clever districts are linked to. The GraphQL
mutations createOrganization and updateOrganization change one at a time; org import loads many from a
CSV file.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("org needs a subcommand: import")
		},
	}
	cmd.AddCommand(newOrgImportCommand(a))
	return cmd
}

// newOrgImportCommand builds `rostermirror org import`.
func newOrgImportCommand(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import [--dry-run] FILE.csv",
		Short: "Create and update organizations from a CSV file",
		Long: `Create and update the app's organizations from a CSV file (RFC 4180, UTF-8; "-" reads stdin), all
or nothing, and print what changed.

The header row names the columns, in any order and case ("External ID" works); external_id and name
are required, the others optional. A column that is not an organization's field
(an export's "Notes") is ignored with a warning; common CRM names are recognised ("Account ID",
"Account Name", "MDR").
  external_id        the app's own id of the customer: the key that finds it again
  name               the customer's name
  mdr_number         MDR number, digits (an "MDR" label is accepted); empty when unknown
  nces_id            NCES district id (7 digits) or school id (12 digits)
  state              two-letter code or name: TX, Texas
  email_domains      the customer's e-mail domains, separated by ";"
  contact_emails     e-mail addresses of the customer's people, separated by ";"
  auto_link_invites  true/false, yes/no, 1/0 (empty is false)

An organization whose external id is new is created; an existing one gets the file's values for the
columns the file has, and is written only when one of them differs: importing the same file again
changes nothing. Organizations the file does not list are kept (an import never deletes) and reported.

A file with any problem changes nothing: every problem is printed on stderr with its line and column,
and the exit status is 1. --dry-run checks the file and prints what an import would change, writing
nothing.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("org import needs one file (or - for stdin), got %d arguments", len(args))
			}
			return nil
		},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.importOrganizations(cmd.Context(), args[0], cmd.InOrStdin(), dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and print what would change, writing nothing")
	return cmd
}

// importOrganizations imports the organizations of path ("-": stdin) and prints the report.
func (a *app) importOrganizations(ctx context.Context, path string, stdin io.Reader, dryRun bool) error {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err // "open FILE: no such file or directory"
		}
		defer f.Close()
		r = f
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := org.New(db, a.orgSignals(db), org.WithLogger(a.logger))
	var rep *org.Report
	if dryRun {
		rep, err = svc.DryRun(ctx, r)
	} else {
		rep, err = svc.Import(ctx, r, a.decidedBy())
	}
	if err != nil {
		name := path
		if path == "-" {
			name = "stdin"
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return writeOrgReport(a.stdout, rep)
}

// orgSignals is what the org import tells of the organizations it created or updated, so that onboarding
// re-evaluates its signals (MDR numbers, e-mail domains, names) for them.
func (a *app) orgSignals(db *store.DB) org.Signals {
	return link.New(link.Config{DB: db, Logger: a.logger})
}

// writeOrgReport prints an import's report: the counts, then one line per organization created, updated
// (with its changed fields) or not in the file. Unchanged organizations are only counted.
func writeOrgReport(w io.Writer, rep *org.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if rep.DryRun {
		fmt.Fprintln(tw, "dry run: nothing was written; the import would give")
	}
	fmt.Fprintf(tw, "organizations: %s\n", rep.Summary())
	for _, e := range rep.Created {
		fmt.Fprintf(tw, "created\t%s\t%s (line %d)\n", e.ExternalID, e.Name, e.Line)
	}
	for _, e := range rep.Updated {
		changes := make([]string, len(e.Changes))
		for i, c := range e.Changes {
			changes[i] = c.String()
		}
		fmt.Fprintf(tw, "updated\t%s\t%s (line %d): %s\n", e.ExternalID, e.Name, e.Line, strings.Join(changes, ", "))
	}
	for _, e := range rep.NotInFile {
		fmt.Fprintf(tw, "not in file\t%s\t%s: kept\n", e.ExternalID, e.Name)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
