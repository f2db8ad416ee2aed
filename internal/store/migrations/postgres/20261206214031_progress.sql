-- +goose Up
-- create "clever_id_aliases" table
CREATE TABLE "clever_id_aliases" ("id" character varying NOT NULL, "former_clever_id" character varying NOT NULL, "clever_id" character varying NOT NULL, "district_id" character varying NOT NULL, "method" character varying NOT NULL, "decided_by" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "cleveridalias_clever_id" to table: "clever_id_aliases"
CREATE INDEX "cleveridalias_clever_id" ON "clever_id_aliases" ("clever_id");
-- create index "cleveridalias_former_clever_id" to table: "clever_id_aliases"
CREATE UNIQUE INDEX "cleveridalias_former_clever_id" ON "clever_id_aliases" ("former_clever_id");
-- create "progress_records" table
CREATE TABLE "progress_records" ("id" character varying NOT NULL, "student_clever_id" character varying NOT NULL, "activity_id" character varying NOT NULL, "attempt_id" character varying NOT NULL DEFAULT '', "kind" character varying NOT NULL, "score" double precision NULL, "max_score" double precision NULL, "completed_at" timestamptz NOT NULL, "time_spent_seconds" bigint NULL, "data" jsonb NULL, "district_id" character varying NOT NULL, "section_id" character varying NULL, "section_given" boolean NOT NULL DEFAULT false, "school_id" character varying NULL, "term_id" character varying NULL, "grade" character varying NOT NULL DEFAULT '', "content_hash" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "progressrecord_district_id_completed_at" to table: "progress_records"
CREATE INDEX "progressrecord_district_id_completed_at" ON "progress_records" ("district_id", "completed_at");
-- create index "progressrecord_school_id" to table: "progress_records"
CREATE INDEX "progressrecord_school_id" ON "progress_records" ("school_id");
-- create index "progressrecord_section_id" to table: "progress_records"
CREATE INDEX "progressrecord_section_id" ON "progress_records" ("section_id");
-- create index "progressrecord_student_clever_id_activity_id_attempt_id" to table: "progress_records"
CREATE UNIQUE INDEX "progressrecord_student_clever_id_activity_id_attempt_id" ON "progress_records" ("student_clever_id", "activity_id", "attempt_id");
-- create index "progressrecord_term_id" to table: "progress_records"
CREATE INDEX "progressrecord_term_id" ON "progress_records" ("term_id");
-- analytics_student_progress: the read-only view for BI tools (README "Progress"): each progress record
-- with its student's current Clever id (through clever_id_aliases) and the section, school, term and
-- grade of the time of the work. No names or other PII: analysts key by Clever id.
CREATE VIEW "analytics_student_progress" AS
SELECT p.id AS progress_id,
  COALESCE(a.clever_id, p.student_clever_id) AS student_clever_id,
  p.student_clever_id AS recorded_clever_id,
  p.district_id, p.activity_id, p.attempt_id, p.kind,
  p.kind = 'COMPLETED' AS completed,
  p.score, p.max_score,
  CASE WHEN p.max_score > 0 THEN p.score / p.max_score END AS score_ratio,
  p.completed_at, p.time_spent_seconds, p.data,
  p.section_id, sec.name AS section_name,
  p.school_id, sch.name AS school_name,
  p.term_id, t.name AS term_name, t.start_date AS term_start_date, t.end_date AS term_end_date,
  p.grade,
  u.archived_at IS NOT NULL AS student_archived,
  p.created_at, p.updated_at
FROM progress_records p
LEFT JOIN clever_id_aliases a ON a.former_clever_id = p.student_clever_id
LEFT JOIN users u ON u.clever_id = COALESCE(a.clever_id, p.student_clever_id)
LEFT JOIN sections sec ON sec.clever_id = p.section_id
LEFT JOIN schools sch ON sch.clever_id = p.school_id
LEFT JOIN terms t ON t.clever_id = p.term_id;

-- +goose Down
-- reverse: create view "analytics_student_progress"
DROP VIEW "analytics_student_progress";
-- reverse: create index "progressrecord_term_id" to table: "progress_records"
DROP INDEX "progressrecord_term_id";
-- reverse: create index "progressrecord_student_clever_id_activity_id_attempt_id" to table: "progress_records"
DROP INDEX "progressrecord_student_clever_id_activity_id_attempt_id";
-- reverse: create index "progressrecord_section_id" to table: "progress_records"
DROP INDEX "progressrecord_section_id";
-- reverse: create index "progressrecord_school_id" to table: "progress_records"
DROP INDEX "progressrecord_school_id";
-- reverse: create index "progressrecord_district_id_completed_at" to table: "progress_records"
DROP INDEX "progressrecord_district_id_completed_at";
-- reverse: create "progress_records" table
DROP TABLE "progress_records";
-- reverse: create index "cleveridalias_former_clever_id" to table: "clever_id_aliases"
DROP INDEX "cleveridalias_former_clever_id";
-- reverse: create index "cleveridalias_clever_id" to table: "clever_id_aliases"
DROP INDEX "cleveridalias_clever_id";
-- reverse: create "clever_id_aliases" table
DROP TABLE "clever_id_aliases";
