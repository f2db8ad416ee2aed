package main

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

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
			envEventsInterval: "1m",
			envSyncConcurrent: "8",
			envSyncSpread:     "30m",
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
			EventsInterval:     "1m",
			SyncConcurrency:    "8",
			SyncSpread:         "30m",
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

func TestScheduleOptions(t *testing.T) {
	t.Parallel()
	defaults := scheduleOptions{EventsInterval: 5 * time.Minute, Concurrency: 4, Spread: time.Hour}
	tests := []struct {
		cfg     config
		want    scheduleOptions
		wantErr string
	}{
		{config{}, defaults, ""},
		{config{SyncSchedule: "*/15 * * * *", EventsInterval: "90s", SyncConcurrency: "10", SyncSpread: "15m"},
			scheduleOptions{Schedule: "*/15 * * * *", EventsInterval: 90 * time.Second, Concurrency: 10, Spread: 15 * time.Minute}, ""},
		{config{EventsInterval: "0", SyncSpread: "0s"}, scheduleOptions{Concurrency: 4}, ""},
		{config{SyncConcurrency: "1"}, scheduleOptions{EventsInterval: 5 * time.Minute, Concurrency: 1, Spread: time.Hour}, ""},
		{config{SyncSchedule: "every day"}, defaults, `ROSTERMIRROR_SYNC_SCHEDULE: parse schedule "every day"`},
		{config{EventsInterval: "5"}, defaults, `ROSTERMIRROR_EVENTS_INTERVAL="5": want a duration of at least 1s such as "5m", or 0 to turn the events sync off`},
		{config{EventsInterval: "100ms"}, defaults, `ROSTERMIRROR_EVENTS_INTERVAL="100ms": want a duration of at least 1s`},
		{config{EventsInterval: "-5m"}, defaults, `ROSTERMIRROR_EVENTS_INTERVAL="-5m": want`},
		{config{SyncSpread: "an hour"}, defaults, `ROSTERMIRROR_SYNC_SPREAD="an hour": want a duration such as "1h" or "90s", or 0 to start every district's full sync at the scheduled time`},
		{config{SyncSpread: "-1h"}, defaults, `ROSTERMIRROR_SYNC_SPREAD="-1h": want`},
		{config{SyncConcurrency: "0"}, defaults, `ROSTERMIRROR_SYNC_CONCURRENCY="0": want a whole number from 1 to 10 (default 4)`},
		{config{SyncConcurrency: "11"}, defaults, `ROSTERMIRROR_SYNC_CONCURRENCY="11": want a whole number from 1 to 10`},
		{config{SyncConcurrency: "two"}, defaults, `ROSTERMIRROR_SYNC_CONCURRENCY="two": want a whole number`},
	}
	for _, tt := range tests {
		got, err := tt.cfg.scheduleOptions()
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%+v: %+v, %v; want %+v", tt.cfg, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
			t.Errorf("%+v: error %v, want %q", tt.cfg, err, tt.wantErr)
		}
	}
}

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
