package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rostermirror/rostermirror/internal/auth"
)

// newAPIKeyCommand builds `rostermirror apikey` and its subcommands.
func newAPIKeyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey create|list|revoke",
		Short: "Create, list and revoke API keys",
		Long: `Manage the keys that callers of the GraphQL API send as "Authorization: Bearer <key>".

Scopes: read (query the mirror), admin (link, match, sync, the audit log; implies read and metrics),
sensitive (students' ELL, FRL and IEP status and home language; separate: admin does not imply it),
metrics (scrape /metrics, for Prometheus; nothing else).

Only a hash of each key is stored: a key is printed once, by create, and cannot be shown again.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("apikey needs a subcommand: create, list or revoke")
		},
	}
	cmd.AddCommand(newAPIKeyCreateCommand(a), newAPIKeyListCommand(a), newAPIKeyRevokeCommand(a))
	return cmd
}

// newAPIKeyCreateCommand builds `rostermirror apikey create`.
func newAPIKeyCreateCommand(a *app) *cobra.Command {
	var (
		name   string
		scopes []string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --scope SCOPE...",
		Short: "Create an API key and print it once",
		Long: `Create an API key and print it on stdout — the only time it is shown — so that a script can capture
it: KEY=$(rostermirror apikey create --name reports --scope read).

--scope is repeatable and takes comma-separated lists: read, admin, sensitive, metrics. At least one is required.`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return usagef("--name is required: say what the key is for")
			}
			parsed, err := auth.ParseScopes(scopes)
			if err != nil {
				return usageError{err}
			}
			if len(parsed) == 0 {
				return usagef("--scope is required: read, admin, sensitive or metrics (repeatable or comma-separated)")
			}
			return a.withAPIKeys(cmd.Context(), func(s *auth.Store) error {
				key, k, err := s.Create(cmd.Context(), name, parsed, a.decidedBy())
				if err != nil {
					return err // "create API key: …"
				}
				if _, err := fmt.Fprintln(a.stdout, key); err != nil {
					return fmt.Errorf("print API key: %w", err)
				}
				fmt.Fprintf(a.stderr, "created API key %s (%s, scopes %s): store it now, it is not shown again; send it as \"Authorization: Bearer <key>\"\n",
					k.ID, k.Prefix, joinScopes(k.Scopes))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "what the key is for (shown in lists and audit entries)")
	fl.StringArrayVar(&scopes, "scope", nil, "`SCOPE` to grant: read, admin, sensitive or metrics (repeatable, or comma-separated)")
	return cmd
}

// newAPIKeyListCommand builds `rostermirror apikey list`.
func newAPIKeyListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List API keys (never the keys themselves)",
		Long: `List every API key, revoked ones included, oldest first: id, name, prefix, scopes, when it was
created, last used (to within a minute) and revoked. Times are UTC.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPIKeys(cmd.Context(), func(s *auth.Store) error {
				keys, err := s.List(cmd.Context())
				if err != nil {
					return err // "list API keys: …"
				}
				return writeAPIKeys(a.stdout, keys)
			})
		},
	}
}

// newAPIKeyRevokeCommand builds `rostermirror apikey revoke`.
func newAPIKeyRevokeCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Revoke an API key",
		Long: `Revoke the API key with the given id or prefix (as apikey list shows them); the key itself is
accepted too. Requests with it fail from then on. Revoking a revoked key changes nothing and succeeds.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPIKeys(cmd.Context(), func(s *auth.Store) error {
				k, err := s.Revoke(cmd.Context(), args[0])
				switch {
				case errors.Is(err, auth.ErrAlreadyRevoked):
					_, err = fmt.Fprintf(a.stdout, "API key %s (%s, %s) was already revoked at %s\n",
						k.ID, k.Name, k.Prefix, formatTime(k.RevokedAt))
					return err
				case err != nil:
					return err // "revoke API key …: …"
				}
				_, err = fmt.Fprintf(a.stdout, "revoked API key %s (%s, %s)\n", k.ID, k.Name, k.Prefix)
				return err
			})
		},
	}
}

// withAPIKeys opens the database, refuses it when migrations are pending, and calls f with the key store.
func (a *app) withAPIKeys(ctx context.Context, f func(*auth.Store) error) error {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(auth.NewStore(db, time.Now, auth.WithLogger(a.logger)))
}

// writeAPIKeys writes keys as a table.
func writeAPIKeys(w io.Writer, keys []auth.Key) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tLAST USED\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, joinScopes(k.Scopes),
			formatTime(&k.CreatedAt), formatTime(k.LastUsedAt), formatTime(k.RevokedAt))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	return nil
}

// joinScopes writes scopes as a comma-separated list, "-" for none.
func joinScopes(scopes []auth.Scope) string {
	if len(scopes) == 0 {
		return "-"
	}
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

// formatTime writes a time as RFC 3339 in UTC to the second (one word, for awk), "-" for none.
func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}
