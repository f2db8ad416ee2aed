-- +goose Up
-- create "app_imports" table
CREATE TABLE `app_imports` (`id` text NOT NULL, `district_id` text NOT NULL, `type` text NOT NULL, `file_name` text NOT NULL DEFAULT (''), `columns` json NOT NULL, `id_column` text NOT NULL, `mapping` json NOT NULL, `records` integer NOT NULL, `created` integer NOT NULL, `changed` integer NOT NULL, `unchanged` integer NOT NULL, `missing` integer NOT NULL, `missing_ids` json NULL, `matched` integer NOT NULL DEFAULT (0), `suggested` integer NOT NULL DEFAULT (0), `unmatched` integer NOT NULL DEFAULT (0), `duplicate` integer NOT NULL DEFAULT (0), `warnings` json NULL, `imported_by` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "appimport_district_id_type_created_at" to table: "app_imports"
CREATE INDEX `appimport_district_id_type_created_at` ON `app_imports` (`district_id`, `type`, `created_at`);
-- create "app_records" table
CREATE TABLE `app_records` (`id` text NOT NULL, `district_id` text NOT NULL, `type` text NOT NULL, `external_id` text NOT NULL, `fields` json NOT NULL, `match_values` json NOT NULL, `status` text NOT NULL DEFAULT ('UNMATCHED'), `clever_id` text NULL, `method` text NOT NULL DEFAULT (''), `score` real NOT NULL DEFAULT (0), `explanation` text NOT NULL DEFAULT (''), `decided_by` text NOT NULL DEFAULT (''), `decided_at` datetime NULL, `missing_since` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "apprecord_district_id_type_external_id" to table: "app_records"
CREATE UNIQUE INDEX `apprecord_district_id_type_external_id` ON `app_records` (`district_id`, `type`, `external_id`);
-- create index "apprecord_district_id_type_status" to table: "app_records"
CREATE INDEX `apprecord_district_id_type_status` ON `app_records` (`district_id`, `type`, `status`);
-- create index "apprecord_clever_id" to table: "app_records"
CREATE INDEX `apprecord_clever_id` ON `app_records` (`clever_id`);
-- create "match_suggestions" table
CREATE TABLE `match_suggestions` (`id` text NOT NULL, `district_id` text NOT NULL, `type` text NOT NULL, `clever_id` text NOT NULL, `score` real NOT NULL, `weight` real NOT NULL, `rank` integer NOT NULL DEFAULT (1), `method` text NOT NULL DEFAULT (''), `explanation` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('OPEN'), `decided_by` text NOT NULL DEFAULT (''), `decided_at` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `app_record_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "matchsuggestion_app_record_id_clever_id" to table: "match_suggestions"
CREATE UNIQUE INDEX `matchsuggestion_app_record_id_clever_id` ON `match_suggestions` (`app_record_id`, `clever_id`);
-- create index "matchsuggestion_district_id_type_status" to table: "match_suggestions"
CREATE INDEX `matchsuggestion_district_id_type_status` ON `match_suggestions` (`district_id`, `type`, `status`);

-- +goose Down
-- reverse: create index "matchsuggestion_district_id_type_status" to table: "match_suggestions"
DROP INDEX `matchsuggestion_district_id_type_status`;
-- reverse: create index "matchsuggestion_app_record_id_clever_id" to table: "match_suggestions"
DROP INDEX `matchsuggestion_app_record_id_clever_id`;
-- reverse: create "match_suggestions" table
DROP TABLE `match_suggestions`;
-- reverse: create index "apprecord_clever_id" to table: "app_records"
DROP INDEX `apprecord_clever_id`;
-- reverse: create index "apprecord_district_id_type_status" to table: "app_records"
DROP INDEX `apprecord_district_id_type_status`;
-- reverse: create index "apprecord_district_id_type_external_id" to table: "app_records"
DROP INDEX `apprecord_district_id_type_external_id`;
-- reverse: create "app_records" table
DROP TABLE `app_records`;
-- reverse: create index "appimport_district_id_type_created_at" to table: "app_imports"
DROP INDEX `appimport_district_id_type_created_at`;
-- reverse: create "app_imports" table
DROP TABLE `app_imports`;
