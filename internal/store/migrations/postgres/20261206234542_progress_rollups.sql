-- +goose Up
-- drop index "progressrecord_district_id_completed_at" from table: "progress_records"
DROP INDEX "progressrecord_district_id_completed_at";
-- drop index "progressrecord_school_id" from table: "progress_records"
DROP INDEX "progressrecord_school_id";
-- drop index "progressrecord_term_id" from table: "progress_records"
DROP INDEX "progressrecord_term_id";
-- create index "progressrecord_district_id" to table: "progress_records"
CREATE INDEX "progressrecord_district_id" ON "progress_records" ("district_id");
-- create "progress_rollups" table
CREATE TABLE "progress_rollups" ("id" character varying NOT NULL, "district_id" character varying NOT NULL, "student_clever_id" character varying NOT NULL, "section_id" character varying NOT NULL DEFAULT '', "school_id" character varying NOT NULL DEFAULT '', "term_id" character varying NOT NULL DEFAULT '', "records" bigint NOT NULL DEFAULT 0, "completed" bigint NOT NULL DEFAULT 0, "scored" bigint NOT NULL DEFAULT 0, "score_sum" double precision NOT NULL DEFAULT 0, "time_spent_seconds" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- create index "progressrollup_key" to table: "progress_rollups"
CREATE UNIQUE INDEX "progressrollup_key" ON "progress_rollups" ("district_id", "student_clever_id", "section_id", "school_id", "term_id");
-- backfill: the rollups of the records already written (hand-written; see ent/schema/progressrollup.go)
INSERT INTO "progress_rollups" ("id", "district_id", "student_clever_id", "section_id", "school_id", "term_id", "records", "completed", "scored", "score_sum", "time_spent_seconds")
SELECT md5(random()::text || clock_timestamp()::text || "student_clever_id"), "district_id", "student_clever_id", COALESCE("section_id", ''), COALESCE("school_id", ''), COALESCE("term_id", ''),
  COUNT(*), SUM(CASE WHEN "kind" = 'COMPLETED' THEN 1 ELSE 0 END), COUNT(CASE WHEN "max_score" > 0 THEN "score" END),
  COALESCE(SUM(CASE WHEN "max_score" > 0 THEN "score" / "max_score" END), 0), COALESCE(SUM("time_spent_seconds"), 0)
FROM "progress_records" GROUP BY "district_id", "student_clever_id", COALESCE("section_id", ''), COALESCE("school_id", ''), COALESCE("term_id", '');

-- +goose Down
-- reverse: create index "progressrollup_key" to table: "progress_rollups"
DROP INDEX "progressrollup_key";
-- reverse: create "progress_rollups" table
DROP TABLE "progress_rollups";
-- reverse: create index "progressrecord_district_id" to table: "progress_records"
DROP INDEX "progressrecord_district_id";
-- reverse: drop index "progressrecord_term_id" from table: "progress_records"
CREATE INDEX "progressrecord_term_id" ON "progress_records" ("term_id");
-- reverse: drop index "progressrecord_school_id" from table: "progress_records"
CREATE INDEX "progressrecord_school_id" ON "progress_records" ("school_id");
-- reverse: drop index "progressrecord_district_id_completed_at" from table: "progress_records"
CREATE INDEX "progressrecord_district_id_completed_at" ON "progress_records" ("district_id", "completed_at");
