-- +goose Up
-- modify "sync_runs" table
ALTER TABLE "sync_runs" ADD COLUMN "fallback" character varying NOT NULL DEFAULT '';
-- create "event_cursors" table
CREATE TABLE "event_cursors" ("district_id" character varying NOT NULL, "event_id" character varying NOT NULL DEFAULT '', "enabled" boolean NOT NULL DEFAULT true, "checked_at" timestamptz NOT NULL, "newest_event_at" timestamptz NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("district_id"));

-- +goose Down
-- reverse: create "event_cursors" table
DROP TABLE "event_cursors";
-- reverse: modify "sync_runs" table
ALTER TABLE "sync_runs" DROP COLUMN "fallback";
