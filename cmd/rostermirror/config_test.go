package main

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/graph"
	"github.com/rostermirror/rostermirror/internal/store"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	defaults := config{
		DatabaseURL:    store.DefaultURL,
		Addr:           ":8080",
		CleverAPIURL:   "https://api.clever.com",
		CleverOAuthURL: "https://clever.com",
	}
	tests := []struct {
		name string
		env  env
		want config
	}{
		{"defaults", env{}, defaults},
		{"blank values keep the defaults", env{envDatabaseURL: "  ", envAddr: ""}, defaults},
		{"every variable", env{
			envDatabaseURL:    "postgres://u:p@db/rm",
			envAddr:           "127.0.0.1:9000",
			envCleverAPIURL:   "http://sim:8081",
			envCleverOAuthURL: "http://sim:8082",
			envClientID:       "id",
			envClientSecret:   "secret",
			envDistrictTokens: "d1=t1,d2=t2",
			envSyncSchedule:   "0 3 * * *",
			envSecretKey:      testSecretKey,
			envConcurrency:    " 12 ",
			envCompiled:       "off",
			"UNRELATED":       "x",
		}, config{
			DatabaseURL:    "postgres://u:p@db/rm",
			Addr:           "127.0.0.1:9000",
			CleverAPIURL:   "http://sim:8081",
			CleverOAuthURL: "http://sim:8082",
			ClientID:       "id",
			ClientSecret:   "secret",
			DistrictTokens: "d1=t1,d2=t2",
			SyncSchedule:   "0 3 * * *",
			SecretKey:      testSecretKey,

			GraphQLConcurrency: "12",
			CompiledQueries:    "off",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := loadConfig(tt.env.get); got != tt.want {
				t.Errorf("loadConfig:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     config
		check   func(config) error
		wantErr string // "" for no error
	}{
		{"key missing", config{}, secretErr, "ROSTERMIRROR_SECRET_KEY is required: generate one with `openssl rand -base64 32`"},
		{"key short", config{SecretKey: "short"}, secretErr, "ROSTERMIRROR_SECRET_KEY"},
		{"key ok", config{SecretKey: testSecretKey}, secretErr, ""},
		{"client id without secret", config{ClientID: "id"}, config.validateClever, "CLEVER_CLIENT_SECRET is required when CLEVER_CLIENT_ID is set"},
		{"client secret without id", config{ClientSecret: "s"}, config.validateClever, "CLEVER_CLIENT_ID is required when CLEVER_CLIENT_SECRET is set"},
		{"no client", config{}, config.validateClever, ""},
		{"client pair", config{ClientID: "id", ClientSecret: "s"}, config.validateClever, ""},
		{"schedule default", config{}, config.validateSchedule, ""},
		{"schedule cron", config{SyncSchedule: "*/15 * * * *"}, config.validateSchedule, ""},
		{"schedule malformed", config{SyncSchedule: "every day"}, config.validateSchedule, "ROSTERMIRROR_SYNC_SCHEDULE: "},
		{"static tokens", config{DistrictTokens: "d1=t1, d2=t2"}, staticErr, ""},
		{"static tokens malformed", config{DistrictTokens: "d1"}, staticErr, "CLEVER_DISTRICT_TOKENS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.check(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %q, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func secretErr(c config) error { _, err := c.secretBox(); return err }

func staticErr(c config) error {
	m, err := c.staticTokens()
	if err == nil && c.DistrictTokens != "" && len(m) == 0 {
		return errNoTokens
	}
	return err
}

var errNoTokens = errors.New("no tokens parsed")

func TestGraphQLOptions(t *testing.T) {
	t.Parallel()
	def := graph.DefaultConcurrency()
	tests := []struct {
		cfg     config
		want    graphqlOptions
		wantErr string
	}{
		{config{}, graphqlOptions{}, ""},
		{config{GraphQLConcurrency: "1"}, graphqlOptions{Concurrency: 1}, ""},
		{config{GraphQLConcurrency: "20", CompiledQueries: "on"}, graphqlOptions{Concurrency: 20}, ""},
		{config{CompiledQueries: "OFF"}, graphqlOptions{ResolveAll: true}, ""},
		{config{CompiledQueries: "false"}, graphqlOptions{ResolveAll: true}, ""},
		{config{CompiledQueries: "1"}, graphqlOptions{}, ""},
		{config{GraphQLConcurrency: "0"}, graphqlOptions{}, `ROSTERMIRROR_GRAPHQL_CONCURRENCY="0": want a whole number from 1 to 20 (default ` + strconv.Itoa(def) + ` here`},
		{config{GraphQLConcurrency: "-3"}, graphqlOptions{}, `ROSTERMIRROR_GRAPHQL_CONCURRENCY="-3": want a whole number`},
		{config{GraphQLConcurrency: "4.5"}, graphqlOptions{}, `ROSTERMIRROR_GRAPHQL_CONCURRENCY="4.5": want a whole number`},
		{config{GraphQLConcurrency: "21"}, graphqlOptions{}, `ROSTERMIRROR_GRAPHQL_CONCURRENCY="21": want a whole number`},
		{config{CompiledQueries: "maybe"}, graphqlOptions{}, `ROSTERMIRROR_COMPILED_QUERIES="maybe": want on or off`},
	}
	for _, tt := range tests {
		got, err := tt.cfg.graphqlOptions()
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%+v: %+v, %v; want %+v", tt.cfg, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v: error %v, want one containing %q", tt.cfg, err, tt.wantErr)
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := parseLogLevel(in); err != nil || got != want {
			t.Errorf("parseLogLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseLogLevel("loud"); err == nil {
		t.Error(`parseLogLevel("loud") succeeded`)
	}
}
