package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/internal/tokens"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/schedule"
)

// Environment variables read by the commands (SPEC "Configuration"). They are read in loadConfig and
// nowhere else.
const (
	envDatabaseURL    = "ROSTERMIRROR_DATABASE_URL"
	envAddr           = "ROSTERMIRROR_ADDR"
	envCleverAPIURL   = "CLEVER_API_URL"
	envCleverOAuthURL = "CLEVER_OAUTH_URL"
	envClientID       = "CLEVER_CLIENT_ID"
	envClientSecret   = "CLEVER_CLIENT_SECRET"
	envDistrictTokens = "CLEVER_DISTRICT_TOKENS"
	envSyncSchedule   = "ROSTERMIRROR_SYNC_SCHEDULE"
	envSecretKey      = "ROSTERMIRROR_SECRET_KEY"
)

// Defaults of config.
const (
	defaultAddr           = ":8080"
	defaultCleverAPIURL   = "https://api.clever.com"
	defaultCleverOAuthURL = "https://clever.com"
)

// config is the process configuration, built once from the environment by loadConfig and then
// overridden by flags. It holds secrets (ClientSecret, DistrictTokens, SecretKey): never log it whole.
type config struct {
	// DatabaseURL selects the database: postgres://… or a SQLite file: URL. Default store.DefaultURL.
	DatabaseURL string
	// Addr is the HTTP listen address of serve. Default ":8080".
	Addr string
	// CleverAPIURL is the base of Clever's Data API. Default https://api.clever.com.
	CleverAPIURL string
	// CleverOAuthURL is the base of Clever's OAuth endpoints. Default https://clever.com.
	CleverOAuthURL string
	// ClientID and ClientSecret are the Clever app's credentials; without them districts' tokens are
	// not listed from Clever and only DistrictTokens (and tokens already stored) are used.
	ClientID, ClientSecret string
	// DistrictTokens is the raw "districtID=token,…" list of tokens copied by hand.
	DistrictTokens string
	// SyncSchedule is the cron expression of full syncs; empty means the scheduler's default (daily).
	SyncSchedule string
	// SecretKey encrypts tokens at rest; required by every command that touches tokens.
	SecretKey string
}

// loadConfig reads the environment through getenv and fills in the defaults. It does not validate:
// each command checks what it needs (see secretBox, staticTokens, validateClever), so that migrate
// does not demand a secret key.
func loadConfig(getenv func(string) string) config {
	or := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	return config{
		DatabaseURL:    or(envDatabaseURL, store.DefaultURL),
		Addr:           or(envAddr, defaultAddr),
		CleverAPIURL:   or(envCleverAPIURL, defaultCleverAPIURL),
		CleverOAuthURL: or(envCleverOAuthURL, defaultCleverOAuthURL),
		ClientID:       or(envClientID, ""),
		ClientSecret:   or(envClientSecret, ""),
		DistrictTokens: or(envDistrictTokens, ""),
		SyncSchedule:   or(envSyncSchedule, ""),
		SecretKey:      getenv(envSecretKey), // a key is taken as given, spaces included
	}
}

// errSecretKeyMissing is the error of a command that needs ROSTERMIRROR_SECRET_KEY when it is unset.
var errSecretKeyMissing = errors.New(envSecretKey + " is required: generate one with `openssl rand -base64 32`")

// secretBox returns the box that encrypts tokens at rest, built from SecretKey.
func (c config) secretBox() (*secret.Box, error) {
	if c.SecretKey == "" {
		return nil, errSecretKeyMissing
	}
	return secret.NewBox(c.SecretKey) // its errors name the variable and how to make a key
}

// validateClever checks that the Clever app credentials come as a pair.
func (c config) validateClever() error {
	switch {
	case c.ClientID != "" && c.ClientSecret == "":
		return errors.New(envClientSecret + " is required when " + envClientID + " is set")
	case c.ClientID == "" && c.ClientSecret != "":
		return errors.New(envClientID + " is required when " + envClientSecret + " is set")
	}
	return nil
}

// staticTokens parses DistrictTokens.
func (c config) staticTokens() (map[string]clever.Token, error) {
	if c.DistrictTokens == "" {
		return nil, nil
	}
	return tokens.ParseStatic(c.DistrictTokens) // its errors name the variable, never a token
}

// validateSchedule checks SyncSchedule the way the scheduler will read it.
func (c config) validateSchedule() error {
	if _, _, err := schedule.ParseSchedule(c.SyncSchedule); err != nil {
		return fmt.Errorf("%s: %w", envSyncSchedule, err)
	}
	return nil
}

// parseLogLevel reads a --log-level value: debug, info, warn or error (slog's names, any case).
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
