package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newMigrateCommand builds `rostermirror migrate`.
func newMigrateCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the schema migrations and exit",
		Long: `Apply the pending schema migrations to the database and exit. Running it again is harmless:
it applies nothing. sync and serve refuse a database with pending migrations.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.Migrate(cmd.Context())
			if err != nil {
				return err // "migrate: …" from the store
			}
			fmt.Fprintf(a.stdout, "applied %d %s; database is up to date\n", n, plural(n, "migration", "migrations"))
			return nil
		},
	}
}

// plural picks the singular or plural form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
