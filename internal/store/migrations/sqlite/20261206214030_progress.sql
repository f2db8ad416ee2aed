-- +goose Up
-- create "clever_id_aliases" table
CREATE TABLE `clever_id_aliases` (`id` text NOT NULL, `former_clever_id` text NOT NULL, `clever_id` text NOT NULL, `district_id` text NOT NULL, `method` text NOT NULL, `decided_by` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "cleveridalias_former_clever_id" to table: "clever_id_aliases"
CREATE UNIQUE INDEX `cleveridalias_former_clever_id` ON `clever_id_aliases` (`former_clever_id`);
-- create index "cleveridalias_clever_id" to table: "clever_id_aliases"
CREATE INDEX `cleveridalias_clever_id` ON `clever_id_aliases` (`clever_id`);
-- create "progress_records" table
CREATE TABLE `progress_records` (`id` text NOT NULL, `student_clever_id` text NOT NULL, `activity_id` text NOT NULL, `attempt_id` text NOT NULL DEFAULT (''), `kind` text NOT NULL, `score` real NULL, `max_score` real NULL, `completed_at` datetime NOT NULL, `time_spent_seconds` integer NULL, `data` json NULL, `district_id` text NOT NULL, `section_id` text NULL, `section_given` bool NOT NULL DEFAULT (false), `school_id` text NULL, `term_id` text NULL, `grade` text NOT NULL DEFAULT (''), `content_hash` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "progressrecord_student_clever_id_activity_id_attempt_id" to table: "progress_records"
CREATE UNIQUE INDEX `progressrecord_student_clever_id_activity_id_attempt_id` ON `progress_records` (`student_clever_id`, `activity_id`, `attempt_id`);
-- create index "progressrecord_district_id_completed_at" to table: "progress_records"
CREATE INDEX `progressrecord_district_id_completed_at` ON `progress_records` (`district_id`, `completed_at`);
-- create index "progressrecord_section_id" to table: "progress_records"
CREATE INDEX `progressrecord_section_id` ON `progress_records` (`section_id`);
-- create index "progressrecord_school_id" to table: "progress_records"
CREATE INDEX `progressrecord_school_id` ON `progress_records` (`school_id`);
-- create index "progressrecord_term_id" to table: "progress_records"
CREATE INDEX `progressrecord_term_id` ON `progress_records` (`term_id`);

-- +goose Down
-- reverse: create index "progressrecord_term_id" to table: "progress_records"
DROP INDEX `progressrecord_term_id`;
-- reverse: create index "progressrecord_school_id" to table: "progress_records"
DROP INDEX `progressrecord_school_id`;
-- reverse: create index "progressrecord_section_id" to table: "progress_records"
DROP INDEX `progressrecord_section_id`;
-- reverse: create index "progressrecord_district_id_completed_at" to table: "progress_records"
DROP INDEX `progressrecord_district_id_completed_at`;
-- reverse: create index "progressrecord_student_clever_id_activity_id_attempt_id" to table: "progress_records"
DROP INDEX `progressrecord_student_clever_id_activity_id_attempt_id`;
-- reverse: create "progress_records" table
DROP TABLE `progress_records`;
-- reverse: create index "cleveridalias_clever_id" to table: "clever_id_aliases"
DROP INDEX `cleveridalias_clever_id`;
-- reverse: create index "cleveridalias_former_clever_id" to table: "clever_id_aliases"
DROP INDEX `cleveridalias_former_clever_id`;
-- reverse: create "clever_id_aliases" table
DROP TABLE `clever_id_aliases`;
