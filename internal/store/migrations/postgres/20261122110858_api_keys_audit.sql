-- +goose Up
-- create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "name" character varying NOT NULL, "prefix" character varying NOT NULL, "hash" character varying NOT NULL, "scopes" jsonb NOT NULL, "created_by" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "last_used_at" timestamptz NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "api_keys_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" ("hash");
-- create index "apikey_prefix" to table: "api_keys"
CREATE INDEX "apikey_prefix" ON "api_keys" ("prefix");
-- create "audit_entries" table
CREATE TABLE "audit_entries" ("id" character varying NOT NULL, "at" timestamptz NOT NULL, "actor" character varying NOT NULL, "action" character varying NOT NULL, "target" character varying NOT NULL DEFAULT '', "outcome" character varying NOT NULL DEFAULT '', "details" jsonb NULL, PRIMARY KEY ("id"));
-- create index "auditentry_at" to table: "audit_entries"
CREATE INDEX "auditentry_at" ON "audit_entries" ("at");
-- create index "auditentry_target" to table: "audit_entries"
CREATE INDEX "auditentry_target" ON "audit_entries" ("target");

-- +goose Down
-- reverse: create index "auditentry_target" to table: "audit_entries"
DROP INDEX "auditentry_target";
-- reverse: create index "auditentry_at" to table: "audit_entries"
DROP INDEX "auditentry_at";
-- reverse: create "audit_entries" table
DROP TABLE "audit_entries";
-- reverse: create index "apikey_prefix" to table: "api_keys"
DROP INDEX "apikey_prefix";
-- reverse: create index "api_keys_hash_key" to table: "api_keys"
DROP INDEX "api_keys_hash_key";
-- reverse: create "api_keys" table
DROP TABLE "api_keys";
