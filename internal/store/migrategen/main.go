// Command migrategen writes a new versioned migration for each dialect when the ent schema changed:
// Atlas replays the existing migrations on a scratch database, compares the result with the ent schema
// and writes the difference as a goose migration into internal/store/migrations/<dialect>. Nothing is
// written when they already agree, which is what CI's drift check relies on.
//
// It runs from `go generate ./...` (in internal/store). SQLite needs nothing; Postgres needs a server:
// it creates and drops a scratch database through $ROSTERMIRROR_DEV_DATABASE_URL or $TEST_DATABASE_URL
// and, when neither is set, skips Postgres with a warning.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/rostermirror/rostermirror/ent/migrate"
)

func main() {
	name := flag.String("name", "changes", "name of the new migration")
	dir := flag.String("dir", "migrations", "migrations folder (holds postgres/ and sqlite/)")
	rehash := flag.Bool("rehash", false, "rewrite each dialect's atlas.sum after a generated migration was completed by hand (a data backfill), and exit")
	flag.Parse()
	ctx := context.Background()
	if *rehash {
		for _, d := range []string{"postgres", "sqlite"} {
			if err := rehashDir(filepath.Join(*dir, d)); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	if err := diff(ctx, dialect.SQLite, "sqlite", "file:migrategen?mode=memory&cache=shared&_pragma=foreign_keys(1)", filepath.Join(*dir, "sqlite"), *name); err != nil {
		log.Fatal(err)
	}
	admin := cmp.Or(os.Getenv("ROSTERMIRROR_DEV_DATABASE_URL"), os.Getenv("TEST_DATABASE_URL"))
	if admin == "" {
		log.Print("migrategen: no Postgres (set TEST_DATABASE_URL): postgres migrations not checked")
		return
	}
	if err := withScratchPostgres(ctx, admin, func(devURL string) error {
		return diff(ctx, dialect.Postgres, "postgres", devURL, filepath.Join(*dir, "postgres"), *name)
	}); err != nil {
		log.Fatal(err)
	}
}

// diff writes the migration that brings dir's migrations up to the ent schema, if any.
func diff(ctx context.Context, d, driver, devURL, dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db, err := sql.Open(driver, devURL)
	if err != nil {
		return fmt.Errorf("open %s dev database: %w", d, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	goose, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	var drv dialect.Driver = entsql.OpenDB(d, db)
	if d == dialect.Postgres {
		drv = cascadeDrops{drv}
	}
	s := migrate.NewSchema(drv)
	err = s.NamedDiff(ctx, name,
		schema.WithDir(goose),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithForeignKeys(false), // references may name records not (yet) mirrored
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return fmt.Errorf("diff %s migrations: %w", d, err)
	}
	return nil
}

// cascadeDrops makes the scratch database's table drops CASCADE: Atlas empties the database after
// replaying the migrations by dropping its tables, and a hand-written view over them (the analytics
// views of the progress migration) would otherwise refuse the drop. Only the scratch database sees it.
type cascadeDrops struct{ dialect.Driver }

func (c cascadeDrops) Exec(ctx context.Context, query string, args, v any) error {
	if strings.HasPrefix(query, "DROP TABLE ") {
		query += " CASCADE"
	}
	return c.Driver.Exec(ctx, query, args, v)
}

// rehashDir rewrites dir's atlas.sum from its migrations' contents.
func rehashDir(dir string) error {
	goose, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	sum, err := goose.Checksum()
	if err != nil {
		return fmt.Errorf("hash %s: %w", dir, err)
	}
	if err := atlasmigrate.WriteSumFile(goose, sum); err != nil {
		return fmt.Errorf("write %s/atlas.sum: %w", dir, err)
	}
	return nil
}

// withScratchPostgres creates an empty database next to admin's, runs f on it and drops it.
func withScratchPostgres(ctx context.Context, admin string, f func(devURL string) error) error {
	adminDB, err := sql.Open("postgres", admin)
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	defer adminDB.Close()
	name := "rostermirror_migrategen_" + strconv.Itoa(os.Getpid())
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create scratch database: %w", err)
	}
	defer adminDB.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
	u, err := url.Parse(admin)
	if err != nil {
		return fmt.Errorf("parse postgres URL: %w", err)
	}
	u.Path = "/" + name
	return f(u.String())
}
