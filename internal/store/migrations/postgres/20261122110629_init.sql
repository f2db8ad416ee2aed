-- +goose Up
-- create "contact_relationships" table
CREATE TABLE "contact_relationships" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "relationship" character varying NOT NULL DEFAULT '', "type" character varying NOT NULL DEFAULT '', "student_id" character varying NOT NULL, "contact_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
CREATE UNIQUE INDEX "contactrelationship_contact_id_student_id" ON "contact_relationships" ("contact_id", "student_id") WHERE (ended_at IS NULL);
-- create index "contactrelationship_student_id" to table: "contact_relationships"
CREATE INDEX "contactrelationship_student_id" ON "contact_relationships" ("student_id");
-- create "courses" table
CREATE TABLE "courses" ("clever_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "number" character varying NOT NULL DEFAULT '', "district_id" character varying NOT NULL, PRIMARY KEY ("clever_id"));
-- create index "course_district_id_archived_at" to table: "courses"
CREATE INDEX "course_district_id_archived_at" ON "courses" ("district_id", "archived_at");
-- create "districts" table
CREATE TABLE "districts" ("clever_id" character varying NOT NULL, "district_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "sis_type" character varying NOT NULL DEFAULT '', "state" character varying NOT NULL DEFAULT '', "launch_date" timestamptz NULL, "portal_url" character varying NOT NULL DEFAULT '', "login_methods" jsonb NULL, "last_sync" timestamptz NULL, "error" character varying NOT NULL DEFAULT '', "mdr_number" character varying NOT NULL DEFAULT '', "nces_id" character varying NOT NULL DEFAULT '', "pause_start" timestamptz NULL, "pause_end" timestamptz NULL, PRIMARY KEY ("clever_id"));
-- create index "district_district_id_archived_at" to table: "districts"
CREATE INDEX "district_district_id_archived_at" ON "districts" ("district_id", "archived_at");
-- create "district_tokens" table
CREATE TABLE "district_tokens" ("district_id" character varying NOT NULL, "ciphertext" bytea NOT NULL, "source" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'OK', "last_used_at" timestamptz NULL, "last_error" character varying NOT NULL DEFAULT '', "status_changed_at" timestamptz NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("district_id"));
-- create "role_schools" table
CREATE TABLE "role_schools" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "school_id" character varying NOT NULL, "role_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "roleschool_role_id_school_id" to table: "role_schools"
CREATE UNIQUE INDEX "roleschool_role_id_school_id" ON "role_schools" ("role_id", "school_id") WHERE (ended_at IS NULL);
-- create index "roleschool_school_id" to table: "role_schools"
CREATE INDEX "roleschool_school_id" ON "role_schools" ("school_id");
-- create "schools" table
CREATE TABLE "schools" ("clever_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "sis_id" character varying NOT NULL DEFAULT '', "school_number" character varying NOT NULL DEFAULT '', "state_id" character varying NOT NULL DEFAULT '', "nces_id" character varying NOT NULL DEFAULT '', "mdr_number" character varying NOT NULL DEFAULT '', "phone" character varying NOT NULL DEFAULT '', "low_grade" character varying NOT NULL DEFAULT '', "high_grade" character varying NOT NULL DEFAULT '', "principal_name" character varying NOT NULL DEFAULT '', "principal_email" character varying NOT NULL DEFAULT '', "city" character varying NOT NULL DEFAULT '', "state" character varying NOT NULL DEFAULT '', "zip" character varying NOT NULL DEFAULT '', "ext" jsonb NULL, "clever_created" timestamptz NULL, "clever_last_modified" timestamptz NULL, "district_id" character varying NOT NULL, PRIMARY KEY ("clever_id"));
-- create index "school_district_id_archived_at" to table: "schools"
CREATE INDEX "school_district_id_archived_at" ON "schools" ("district_id", "archived_at");
-- create "sections" table
CREATE TABLE "sections" ("clever_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "sis_id" character varying NOT NULL DEFAULT '', "subject" character varying NOT NULL DEFAULT '', "grade" character varying NOT NULL DEFAULT '', "period" character varying NOT NULL DEFAULT '', "section_number" character varying NOT NULL DEFAULT '', "ext" jsonb NULL, "clever_created" timestamptz NULL, "clever_last_modified" timestamptz NULL, "course_id" character varying NULL, "district_id" character varying NOT NULL, "school_id" character varying NULL, "term_id" character varying NULL, PRIMARY KEY ("clever_id"));
-- create index "section_course_id" to table: "sections"
CREATE INDEX "section_course_id" ON "sections" ("course_id");
-- create index "section_district_id_archived_at" to table: "sections"
CREATE INDEX "section_district_id_archived_at" ON "sections" ("district_id", "archived_at");
-- create index "section_school_id" to table: "sections"
CREATE INDEX "section_school_id" ON "sections" ("school_id");
-- create index "section_term_id" to table: "sections"
CREATE INDEX "section_term_id" ON "sections" ("term_id");
-- create "section_students" table
CREATE TABLE "section_students" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "section_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "sectionstudent_section_id_user_id" to table: "section_students"
CREATE UNIQUE INDEX "sectionstudent_section_id_user_id" ON "section_students" ("section_id", "user_id") WHERE (ended_at IS NULL);
-- create index "sectionstudent_user_id" to table: "section_students"
CREATE INDEX "sectionstudent_user_id" ON "section_students" ("user_id");
-- create "section_teachers" table
CREATE TABLE "section_teachers" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "started_at" timestamptz NOT NULL, "ended_at" timestamptz NULL, "position" bigint NOT NULL, "section_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "sectionteacher_section_id_user_id" to table: "section_teachers"
CREATE UNIQUE INDEX "sectionteacher_section_id_user_id" ON "section_teachers" ("section_id", "user_id") WHERE (ended_at IS NULL);
-- create index "sectionteacher_user_id" to table: "section_teachers"
CREATE INDEX "sectionteacher_user_id" ON "section_teachers" ("user_id");
-- create "sync_runs" table
CREATE TABLE "sync_runs" ("id" character varying NOT NULL, "kind" character varying NOT NULL DEFAULT 'FULL', "status" character varying NOT NULL DEFAULT 'RUNNING', "trigger" character varying NOT NULL DEFAULT '', "dry_run" boolean NOT NULL DEFAULT false, "started_at" timestamptz NOT NULL, "finished_at" timestamptz NULL, "counts" jsonb NULL, "errors" jsonb NULL, "event_cursor" character varying NOT NULL DEFAULT '', "held" jsonb NULL, "decided_by" character varying NOT NULL DEFAULT '', "decided_at" timestamptz NULL, "district_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "syncrun_district_id_started_at" to table: "sync_runs"
CREATE INDEX "syncrun_district_id_started_at" ON "sync_runs" ("district_id", "started_at");
-- create index "syncrun_status" to table: "sync_runs"
CREATE INDEX "syncrun_status" ON "sync_runs" ("status");
-- create "terms" table
CREATE TABLE "terms" ("clever_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "start_date" timestamptz NULL, "end_date" timestamptz NULL, "district_id" character varying NOT NULL, PRIMARY KEY ("clever_id"));
-- create index "term_district_id_archived_at" to table: "terms"
CREATE INDEX "term_district_id_archived_at" ON "terms" ("district_id", "archived_at");
-- create "users" table
CREATE TABLE "users" ("clever_id" character varying NOT NULL, "raw" jsonb NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL, "email" character varying NOT NULL DEFAULT '', "first_name" character varying NOT NULL DEFAULT '', "middle_name" character varying NOT NULL DEFAULT '', "last_name" character varying NOT NULL DEFAULT '', "clever_created" timestamptz NULL, "clever_last_modified" timestamptz NULL, "district_id" character varying NOT NULL, PRIMARY KEY ("clever_id"));
-- create index "user_district_id_archived_at" to table: "users"
CREATE INDEX "user_district_id_archived_at" ON "users" ("district_id", "archived_at");
-- create "user_roles" table
CREATE TABLE "user_roles" ("id" character varying NOT NULL, "role" character varying NOT NULL, "district_id" character varying NOT NULL, "content_hash" character varying NOT NULL, "archived_at" timestamptz NULL, "last_synced_at" timestamptz NOT NULL, "sis_id" character varying NOT NULL DEFAULT '', "state_id" character varying NOT NULL DEFAULT '', "legacy_id" character varying NOT NULL DEFAULT '', "district_username" character varying NOT NULL DEFAULT '', "email" character varying NOT NULL DEFAULT '', "student_number" character varying NOT NULL DEFAULT '', "grade" character varying NOT NULL DEFAULT '', "dob" timestamptz NULL, "gender" character varying NOT NULL DEFAULT '', "graduation_year" character varying NOT NULL DEFAULT '', "race" character varying NOT NULL DEFAULT '', "hispanic_ethnicity" character varying NOT NULL DEFAULT '', "ell_status" character varying NOT NULL DEFAULT '', "frl_status" character varying NOT NULL DEFAULT '', "iep_status" character varying NOT NULL DEFAULT '', "home_language" character varying NOT NULL DEFAULT '', "teacher_number" character varying NOT NULL DEFAULT '', "staff_id" character varying NOT NULL DEFAULT '', "title" character varying NOT NULL DEFAULT '', "department" character varying NOT NULL DEFAULT '', "staff_roles" jsonb NULL, "phone" character varying NOT NULL DEFAULT '', "phone_type" character varying NOT NULL DEFAULT '', "ext" jsonb NULL, "school_id" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "userrole_district_id_role_archived_at" to table: "user_roles"
CREATE INDEX "userrole_district_id_role_archived_at" ON "user_roles" ("district_id", "role", "archived_at");
-- create index "userrole_school_id" to table: "user_roles"
CREATE INDEX "userrole_school_id" ON "user_roles" ("school_id");
-- create index "userrole_user_id_role" to table: "user_roles"
CREATE UNIQUE INDEX "userrole_user_id_role" ON "user_roles" ("user_id", "role");

-- +goose Down
-- reverse: create index "userrole_user_id_role" to table: "user_roles"
DROP INDEX "userrole_user_id_role";
-- reverse: create index "userrole_school_id" to table: "user_roles"
DROP INDEX "userrole_school_id";
-- reverse: create index "userrole_district_id_role_archived_at" to table: "user_roles"
DROP INDEX "userrole_district_id_role_archived_at";
-- reverse: create "user_roles" table
DROP TABLE "user_roles";
-- reverse: create index "user_district_id_archived_at" to table: "users"
DROP INDEX "user_district_id_archived_at";
-- reverse: create "users" table
DROP TABLE "users";
-- reverse: create index "term_district_id_archived_at" to table: "terms"
DROP INDEX "term_district_id_archived_at";
-- reverse: create "terms" table
DROP TABLE "terms";
-- reverse: create index "syncrun_status" to table: "sync_runs"
DROP INDEX "syncrun_status";
-- reverse: create index "syncrun_district_id_started_at" to table: "sync_runs"
DROP INDEX "syncrun_district_id_started_at";
-- reverse: create "sync_runs" table
DROP TABLE "sync_runs";
-- reverse: create index "sectionteacher_user_id" to table: "section_teachers"
DROP INDEX "sectionteacher_user_id";
-- reverse: create index "sectionteacher_section_id_user_id" to table: "section_teachers"
DROP INDEX "sectionteacher_section_id_user_id";
-- reverse: create "section_teachers" table
DROP TABLE "section_teachers";
-- reverse: create index "sectionstudent_user_id" to table: "section_students"
DROP INDEX "sectionstudent_user_id";
-- reverse: create index "sectionstudent_section_id_user_id" to table: "section_students"
DROP INDEX "sectionstudent_section_id_user_id";
-- reverse: create "section_students" table
DROP TABLE "section_students";
-- reverse: create index "section_term_id" to table: "sections"
DROP INDEX "section_term_id";
-- reverse: create index "section_school_id" to table: "sections"
DROP INDEX "section_school_id";
-- reverse: create index "section_district_id_archived_at" to table: "sections"
DROP INDEX "section_district_id_archived_at";
-- reverse: create index "section_course_id" to table: "sections"
DROP INDEX "section_course_id";
-- reverse: create "sections" table
DROP TABLE "sections";
-- reverse: create index "school_district_id_archived_at" to table: "schools"
DROP INDEX "school_district_id_archived_at";
-- reverse: create "schools" table
DROP TABLE "schools";
-- reverse: create index "roleschool_school_id" to table: "role_schools"
DROP INDEX "roleschool_school_id";
-- reverse: create index "roleschool_role_id_school_id" to table: "role_schools"
DROP INDEX "roleschool_role_id_school_id";
-- reverse: create "role_schools" table
DROP TABLE "role_schools";
-- reverse: create "district_tokens" table
DROP TABLE "district_tokens";
-- reverse: create index "district_district_id_archived_at" to table: "districts"
DROP INDEX "district_district_id_archived_at";
-- reverse: create "districts" table
DROP TABLE "districts";
-- reverse: create index "course_district_id_archived_at" to table: "courses"
DROP INDEX "course_district_id_archived_at";
-- reverse: create "courses" table
DROP TABLE "courses";
-- reverse: create index "contactrelationship_student_id" to table: "contact_relationships"
DROP INDEX "contactrelationship_student_id";
-- reverse: create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
DROP INDEX "contactrelationship_contact_id_student_id";
-- reverse: create "contact_relationships" table
DROP TABLE "contact_relationships";
