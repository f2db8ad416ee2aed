-- +goose Up
-- create "district_links" table
CREATE TABLE "district_links" ("id" character varying NOT NULL, "state" character varying NOT NULL DEFAULT 'DISCOVERED', "signal" character varying NOT NULL DEFAULT '', "linked_by" character varying NOT NULL DEFAULT '', "linked_at" timestamptz NULL, "paused_at" timestamptz NULL, "connected" boolean NOT NULL DEFAULT true, "discovered_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "district_id" character varying NOT NULL, "organization_id" character varying NULL, PRIMARY KEY ("id"));
-- create index "district_links_district_id_key" to table: "district_links"
CREATE UNIQUE INDEX "district_links_district_id_key" ON "district_links" ("district_id");
-- create index "districtlink_organization_id" to table: "district_links"
CREATE INDEX "districtlink_organization_id" ON "district_links" ("organization_id");
-- create index "districtlink_state" to table: "district_links"
CREATE INDEX "districtlink_state" ON "district_links" ("state");
-- create "link_proposals" table
CREATE TABLE "link_proposals" ("id" character varying NOT NULL, "signal" character varying NOT NULL, "evidence" character varying NOT NULL DEFAULT '', "evidence_key" character varying NOT NULL, "score" double precision NOT NULL, "status" character varying NOT NULL DEFAULT 'OPEN', "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "decided_at" timestamptz NULL, "decided_by" character varying NOT NULL DEFAULT '', "district_id" character varying NOT NULL, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "linkproposal_district_id_organization_id_signal_evidence_key" to table: "link_proposals"
CREATE UNIQUE INDEX "linkproposal_district_id_organization_id_signal_evidence_key" ON "link_proposals" ("district_id", "organization_id", "signal", "evidence_key");
-- create index "linkproposal_organization_id" to table: "link_proposals"
CREATE INDEX "linkproposal_organization_id" ON "link_proposals" ("organization_id");
-- create index "linkproposal_status" to table: "link_proposals"
CREATE INDEX "linkproposal_status" ON "link_proposals" ("status");
-- create "login_codes" table
CREATE TABLE "login_codes" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "district_id" character varying NOT NULL, "roles" jsonb NULL, "authorized_by" character varying NOT NULL DEFAULT '', "organization_id" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "logincode_expires_at" to table: "login_codes"
CREATE INDEX "logincode_expires_at" ON "login_codes" ("expires_at");
-- create "login_states" table
CREATE TABLE "login_states" ("id" character varying NOT NULL, "purpose" character varying NOT NULL, "organization_id" character varying NOT NULL DEFAULT '', "created_by" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "loginstate_expires_at" to table: "login_states"
CREATE INDEX "loginstate_expires_at" ON "login_states" ("expires_at");
-- create "organizations" table
CREATE TABLE "organizations" ("id" character varying NOT NULL, "external_id" character varying NOT NULL, "name" character varying NOT NULL, "mdr_number" character varying NOT NULL DEFAULT '', "nces_id" character varying NOT NULL DEFAULT '', "state" character varying NOT NULL DEFAULT '', "email_domains" jsonb NULL, "contact_emails" jsonb NULL, "auto_link_invites" boolean NOT NULL DEFAULT false, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "organizations_external_id_key" to table: "organizations"
CREATE UNIQUE INDEX "organizations_external_id_key" ON "organizations" ("external_id");

-- +goose Down
-- reverse: create index "organizations_external_id_key" to table: "organizations"
DROP INDEX "organizations_external_id_key";
-- reverse: create "organizations" table
DROP TABLE "organizations";
-- reverse: create index "loginstate_expires_at" to table: "login_states"
DROP INDEX "loginstate_expires_at";
-- reverse: create "login_states" table
DROP TABLE "login_states";
-- reverse: create index "logincode_expires_at" to table: "login_codes"
DROP INDEX "logincode_expires_at";
-- reverse: create "login_codes" table
DROP TABLE "login_codes";
-- reverse: create index "linkproposal_status" to table: "link_proposals"
DROP INDEX "linkproposal_status";
-- reverse: create index "linkproposal_organization_id" to table: "link_proposals"
DROP INDEX "linkproposal_organization_id";
-- reverse: create index "linkproposal_district_id_organization_id_signal_evidence_key" to table: "link_proposals"
DROP INDEX "linkproposal_district_id_organization_id_signal_evidence_key";
-- reverse: create "link_proposals" table
DROP TABLE "link_proposals";
-- reverse: create index "districtlink_state" to table: "district_links"
DROP INDEX "districtlink_state";
-- reverse: create index "districtlink_organization_id" to table: "district_links"
DROP INDEX "districtlink_organization_id";
-- reverse: create index "district_links_district_id_key" to table: "district_links"
DROP INDEX "district_links_district_id_key";
-- reverse: create "district_links" table
DROP TABLE "district_links";
