package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rostermirror/rostermirror/internal/apprecord"
	studentprogress "github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/tokens"
)

// openDB opens the configured database; it does not migrate.
func (a *app) openDB(ctx context.Context) (*store.DB, error) {
	db, err := store.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, err // store.Open names the (redacted) URL already
	}
	a.logger.Debug("database opened", "database_url", store.Redact(a.cfg.DatabaseURL), "dialect", db.Dialect)
	return db, nil
}

// openMigrated opens the configured database and refuses it (closed) when migrations are pending.
func (a *app) openMigrated(ctx context.Context) (*store.DB, error) {
	db, err := a.openDB(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.requireMigrated(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// requireMigrated refuses a database with pending migrations, naming it (redacted) and the command to run.
func (a *app) requireMigrated(ctx context.Context, db *store.DB) error {
	if err := db.CheckMigrated(ctx); err != nil {
		if errors.Is(err, store.ErrNotMigrated) {
			return fmt.Errorf("%w (database %s)", err, store.Redact(a.cfg.DatabaseURL))
		}
		return err
	}
	return nil
}

// syncer is the part of the application that sync, serve and demo share: the database, districts'
// tokens, the sync engine, record matching (which rematches after each sync, and serves the API) and
// students' progress (whose SIS-id aliases follow each sync).
type syncer struct {
	db       *store.DB
	tokens   *tokens.Store
	engine   *mirror.Engine
	client   *clever.Client
	matches  *apprecord.Service
	progress *studentprogress.Service
}

// afterSync wraps engine with the work every sync is followed by, whoever runs it (serve's scheduler
// and syncDistrict mutation, `rostermirror sync`, the demo): re-IDed students' former Clever ids linked
// by SIS id (progress.Service.Syncer), then the district's app records matched again
// (apprecord.Service.Syncer).
func (s *syncer) afterSync(engine apprecord.Syncer) apprecord.Syncer {
	return s.matches.Syncer(s.progress.Syncer(engine))
}

// afterApproval is the same work after an admin approves a held run (approveHeldSync): its archives,
// a re-IDed student's former id among them, are applied only then.
func (s *syncer) afterApproval(ctx context.Context, res mirror.Result) {
	s.progress.AfterApproval(ctx, res)
	s.matches.AfterApproval(ctx, res)
}

// Close closes the database.
func (s *syncer) Close() error { return s.db.Close() }

// openSyncer validates the configuration the sync needs, opens the database, refuses it when migrations
// are pending, and builds the Clever client, the token store and the engine. The caller closes it.
func (a *app) openSyncer(ctx context.Context) (*syncer, error) {
	// Configuration first: a mistake in it must not leave a database file behind.
	box, err := a.cfg.secretBox()
	if err != nil {
		return nil, err
	}
	if err := a.cfg.validateClever(); err != nil {
		return nil, err
	}
	static, err := a.cfg.staticTokens()
	if err != nil {
		return nil, err
	}

	db, err := a.openDB(ctx)
	if err != nil {
		return nil, err
	}
	s, err := a.buildSyncer(ctx, db, box, static)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (a *app) buildSyncer(ctx context.Context, db *store.DB, box *secret.Box, static map[string]clever.Token) (*syncer, error) {
	if err := a.requireMigrated(ctx, db); err != nil {
		return nil, err
	}
	client := clever.New(clever.Config{
		APIURL:       a.cfg.CleverAPIURL,
		OAuthURL:     a.cfg.CleverOAuthURL,
		ClientID:     a.cfg.ClientID,
		ClientSecret: a.cfg.ClientSecret,
		Logger:       a.logger,
	})
	tc := tokens.Config{DB: db, Box: box, Static: static, Logger: a.logger}
	if a.cfg.ClientID != "" {
		tc.OAuth = client // left unset otherwise, so that no typed nil reaches the token store
	}
	ts, err := tokens.New(tc)
	if err != nil {
		return nil, fmt.Errorf("build token store: %w", err)
	}
	engine, err := mirror.New(mirror.Config{
		DB:     db,
		Reader: func(t clever.Token) mirror.Reader { return client.WithToken(t) },
		Tokens: ts,
		Logger: a.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("build sync engine: %w", err)
	}
	mopts, err := a.cfg.matchOptions(a.logger)
	if err != nil {
		return nil, err
	}
	matches := apprecord.New(db, mopts...)
	return &syncer{db: db, tokens: ts, engine: engine, client: client, matches: matches,
		progress: studentprogress.New(db, studentprogress.WithLogger(a.logger))}, nil
}
