-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_sync_runs" table
CREATE TABLE `new_sync_runs` (`id` text NOT NULL, `kind` text NOT NULL DEFAULT ('FULL'), `status` text NOT NULL DEFAULT ('RUNNING'), `trigger` text NOT NULL DEFAULT (''), `dry_run` bool NOT NULL DEFAULT (false), `started_at` datetime NOT NULL, `finished_at` datetime NULL, `counts` json NULL, `errors` json NULL, `event_cursor` text NOT NULL DEFAULT (''), `fallback` text NOT NULL DEFAULT (''), `held` json NULL, `held_memberships` json NULL, `decided_by` text NULL DEFAULT (''), `decided_at` datetime NULL, `district_id` text NOT NULL, PRIMARY KEY (`id`));
-- copy rows from old table "sync_runs" to new temporary table "new_sync_runs"
INSERT INTO `new_sync_runs` (`id`, `kind`, `status`, `trigger`, `dry_run`, `started_at`, `finished_at`, `counts`, `errors`, `event_cursor`, `held`, `held_memberships`, `decided_by`, `decided_at`, `district_id`) SELECT `id`, `kind`, `status`, `trigger`, `dry_run`, `started_at`, `finished_at`, `counts`, `errors`, `event_cursor`, `held`, `held_memberships`, `decided_by`, `decided_at`, `district_id` FROM `sync_runs`;
-- drop "sync_runs" table after copying rows
DROP TABLE `sync_runs`;
-- rename temporary table "new_sync_runs" to "sync_runs"
ALTER TABLE `new_sync_runs` RENAME TO `sync_runs`;
-- create index "syncrun_district_id_started_at" to table: "sync_runs"
CREATE INDEX `syncrun_district_id_started_at` ON `sync_runs` (`district_id`, `started_at`);
-- create index "syncrun_status" to table: "sync_runs"
CREATE INDEX `syncrun_status` ON `sync_runs` (`status`);
-- create "event_cursors" table
CREATE TABLE `event_cursors` (`district_id` text NOT NULL, `event_id` text NOT NULL DEFAULT (''), `enabled` bool NOT NULL DEFAULT (true), `checked_at` datetime NOT NULL, `newest_event_at` datetime NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`district_id`));
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create "event_cursors" table
DROP TABLE `event_cursors`;
-- reverse: create index "syncrun_status" to table: "sync_runs"
DROP INDEX `syncrun_status`;
-- reverse: create index "syncrun_district_id_started_at" to table: "sync_runs"
DROP INDEX `syncrun_district_id_started_at`;
-- reverse: create "new_sync_runs" table
DROP TABLE `new_sync_runs`;
