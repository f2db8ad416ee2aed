-- +goose Up
-- create "app_imports" table
CREATE TABLE "app_imports" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "type" character varying NOT NULL, "file_name" character varying NOT NULL DEFAULT '', "columns" jsonb NOT NULL, "id_column" character varying NOT NULL, "mapping" jsonb NOT NULL, "records" bigint NOT NULL, "created" bigint NOT NULL, "changed" bigint NOT NULL, "unchanged" bigint NOT NULL, "missing" bigint NOT NULL, "missing_ids" jsonb NULL, "matched" bigint NOT NULL DEFAULT 0, "suggested" bigint NOT NULL DEFAULT 0, "unmatched" bigint NOT NULL DEFAULT 0, "duplicate" bigint NOT NULL DEFAULT 0, "warnings" jsonb NULL, "imported_by" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "appimport_district_id_type_created_at" to table: "app_imports"
CREATE INDEX "appimport_district_id_type_created_at" ON "app_imports" ("district_id", "type", "created_at");
-- create "app_records" table
CREATE TABLE "app_records" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "type" character varying NOT NULL, "external_id" character varying NOT NULL, "fields" jsonb NOT NULL, "match_values" jsonb NOT NULL, "status" character varying NOT NULL DEFAULT 'UNMATCHED', "clever_id" character varying NULL, "method" character varying NOT NULL DEFAULT '', "score" double precision NOT NULL DEFAULT 0, "explanation" character varying NOT NULL DEFAULT '', "decided_by" character varying NOT NULL DEFAULT '', "decided_at" timestamptz NULL, "missing_since" timestamptz NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "apprecord_clever_id" to table: "app_records"
CREATE INDEX "apprecord_clever_id" ON "app_records" ("clever_id");
-- create index "apprecord_district_id_type_external_id" to table: "app_records"
CREATE UNIQUE INDEX "apprecord_district_id_type_external_id" ON "app_records" ("district_id", "type", "external_id");
-- create index "apprecord_district_id_type_status" to table: "app_records"
CREATE INDEX "apprecord_district_id_type_status" ON "app_records" ("district_id", "type", "status");
-- create "match_suggestions" table
CREATE TABLE "match_suggestions" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "type" character varying NOT NULL, "clever_id" character varying NOT NULL, "score" double precision NOT NULL, "weight" double precision NOT NULL, "rank" bigint NOT NULL DEFAULT 1, "method" character varying NOT NULL DEFAULT '', "explanation" character varying NOT NULL DEFAULT '', "status" character varying NOT NULL DEFAULT 'OPEN', "decided_by" character varying NOT NULL DEFAULT '', "decided_at" timestamptz NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "app_record_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "matchsuggestion_app_record_id_clever_id" to table: "match_suggestions"
CREATE UNIQUE INDEX "matchsuggestion_app_record_id_clever_id" ON "match_suggestions" ("app_record_id", "clever_id");
-- create index "matchsuggestion_district_id_type_status" to table: "match_suggestions"
CREATE INDEX "matchsuggestion_district_id_type_status" ON "match_suggestions" ("district_id", "type", "status");

-- +goose Down
-- reverse: create index "matchsuggestion_district_id_type_status" to table: "match_suggestions"
DROP INDEX "matchsuggestion_district_id_type_status";
-- reverse: create index "matchsuggestion_app_record_id_clever_id" to table: "match_suggestions"
DROP INDEX "matchsuggestion_app_record_id_clever_id";
-- reverse: create "match_suggestions" table
DROP TABLE "match_suggestions";
-- reverse: create index "apprecord_district_id_type_status" to table: "app_records"
DROP INDEX "apprecord_district_id_type_status";
-- reverse: create index "apprecord_district_id_type_external_id" to table: "app_records"
DROP INDEX "apprecord_district_id_type_external_id";
-- reverse: create index "apprecord_clever_id" to table: "app_records"
DROP INDEX "apprecord_clever_id";
-- reverse: create "app_records" table
DROP TABLE "app_records";
-- reverse: create index "appimport_district_id_type_created_at" to table: "app_imports"
DROP INDEX "appimport_district_id_type_created_at";
-- reverse: create "app_imports" table
DROP TABLE "app_imports";
