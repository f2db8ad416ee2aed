-- +goose Up
-- create "contact_relationships" table
CREATE TABLE `contact_relationships` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `relationship` text NOT NULL DEFAULT (''), `type` text NOT NULL DEFAULT (''), `student_id` text NOT NULL, `contact_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
CREATE UNIQUE INDEX `contactrelationship_contact_id_student_id` ON `contact_relationships` (`contact_id`, `student_id`) WHERE ended_at IS NULL;
-- create index "contactrelationship_student_id" to table: "contact_relationships"
CREATE INDEX `contactrelationship_student_id` ON `contact_relationships` (`student_id`);
-- create "courses" table
CREATE TABLE `courses` (`clever_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `number` text NOT NULL DEFAULT (''), `district_id` text NOT NULL, PRIMARY KEY (`clever_id`));
-- create index "course_district_id_archived_at" to table: "courses"
CREATE INDEX `course_district_id_archived_at` ON `courses` (`district_id`, `archived_at`);
-- create "districts" table
CREATE TABLE `districts` (`clever_id` text NOT NULL, `district_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `sis_type` text NOT NULL DEFAULT (''), `state` text NOT NULL DEFAULT (''), `launch_date` datetime NULL, `portal_url` text NOT NULL DEFAULT (''), `login_methods` json NULL, `last_sync` datetime NULL, `error` text NOT NULL DEFAULT (''), `mdr_number` text NOT NULL DEFAULT (''), `nces_id` text NOT NULL DEFAULT (''), `pause_start` datetime NULL, `pause_end` datetime NULL, PRIMARY KEY (`clever_id`));
-- create index "district_district_id_archived_at" to table: "districts"
CREATE INDEX `district_district_id_archived_at` ON `districts` (`district_id`, `archived_at`);
-- create "district_tokens" table
CREATE TABLE `district_tokens` (`district_id` text NOT NULL, `ciphertext` blob NOT NULL, `source` text NOT NULL, `status` text NOT NULL DEFAULT ('OK'), `last_used_at` datetime NULL, `last_error` text NOT NULL DEFAULT (''), `status_changed_at` datetime NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`district_id`));
-- create "role_schools" table
CREATE TABLE `role_schools` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `school_id` text NOT NULL, `role_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "roleschool_role_id_school_id" to table: "role_schools"
CREATE UNIQUE INDEX `roleschool_role_id_school_id` ON `role_schools` (`role_id`, `school_id`) WHERE ended_at IS NULL;
-- create index "roleschool_school_id" to table: "role_schools"
CREATE INDEX `roleschool_school_id` ON `role_schools` (`school_id`);
-- create "schools" table
CREATE TABLE `schools` (`clever_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `sis_id` text NOT NULL DEFAULT (''), `school_number` text NOT NULL DEFAULT (''), `state_id` text NOT NULL DEFAULT (''), `nces_id` text NOT NULL DEFAULT (''), `mdr_number` text NOT NULL DEFAULT (''), `phone` text NOT NULL DEFAULT (''), `low_grade` text NOT NULL DEFAULT (''), `high_grade` text NOT NULL DEFAULT (''), `principal_name` text NOT NULL DEFAULT (''), `principal_email` text NOT NULL DEFAULT (''), `city` text NOT NULL DEFAULT (''), `state` text NOT NULL DEFAULT (''), `zip` text NOT NULL DEFAULT (''), `ext` json NULL, `clever_created` datetime NULL, `clever_last_modified` datetime NULL, `district_id` text NOT NULL, PRIMARY KEY (`clever_id`));
-- create index "school_district_id_archived_at" to table: "schools"
CREATE INDEX `school_district_id_archived_at` ON `schools` (`district_id`, `archived_at`);
-- create "sections" table
CREATE TABLE `sections` (`clever_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `sis_id` text NOT NULL DEFAULT (''), `subject` text NOT NULL DEFAULT (''), `grade` text NOT NULL DEFAULT (''), `period` text NOT NULL DEFAULT (''), `section_number` text NOT NULL DEFAULT (''), `ext` json NULL, `clever_created` datetime NULL, `clever_last_modified` datetime NULL, `course_id` text NULL, `district_id` text NOT NULL, `school_id` text NULL, `term_id` text NULL, PRIMARY KEY (`clever_id`));
-- create index "section_district_id_archived_at" to table: "sections"
CREATE INDEX `section_district_id_archived_at` ON `sections` (`district_id`, `archived_at`);
-- create index "section_school_id" to table: "sections"
CREATE INDEX `section_school_id` ON `sections` (`school_id`);
-- create index "section_term_id" to table: "sections"
CREATE INDEX `section_term_id` ON `sections` (`term_id`);
-- create index "section_course_id" to table: "sections"
CREATE INDEX `section_course_id` ON `sections` (`course_id`);
-- create "section_students" table
CREATE TABLE `section_students` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `section_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "sectionstudent_section_id_user_id" to table: "section_students"
CREATE UNIQUE INDEX `sectionstudent_section_id_user_id` ON `section_students` (`section_id`, `user_id`) WHERE ended_at IS NULL;
-- create index "sectionstudent_user_id" to table: "section_students"
CREATE INDEX `sectionstudent_user_id` ON `section_students` (`user_id`);
-- create "section_teachers" table
CREATE TABLE `section_teachers` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `position` integer NOT NULL, `section_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "sectionteacher_section_id_user_id" to table: "section_teachers"
CREATE UNIQUE INDEX `sectionteacher_section_id_user_id` ON `section_teachers` (`section_id`, `user_id`) WHERE ended_at IS NULL;
-- create index "sectionteacher_user_id" to table: "section_teachers"
CREATE INDEX `sectionteacher_user_id` ON `section_teachers` (`user_id`);
-- create "sync_runs" table
CREATE TABLE `sync_runs` (`id` text NOT NULL, `kind` text NOT NULL DEFAULT ('FULL'), `status` text NOT NULL DEFAULT ('RUNNING'), `trigger` text NOT NULL DEFAULT (''), `dry_run` bool NOT NULL DEFAULT (false), `started_at` datetime NOT NULL, `finished_at` datetime NULL, `counts` json NULL, `errors` json NULL, `event_cursor` text NOT NULL DEFAULT (''), `held` json NULL, `decided_by` text NOT NULL DEFAULT (''), `decided_at` datetime NULL, `district_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "syncrun_district_id_started_at" to table: "sync_runs"
CREATE INDEX `syncrun_district_id_started_at` ON `sync_runs` (`district_id`, `started_at`);
-- create index "syncrun_status" to table: "sync_runs"
CREATE INDEX `syncrun_status` ON `sync_runs` (`status`);
-- create "terms" table
CREATE TABLE `terms` (`clever_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `start_date` datetime NULL, `end_date` datetime NULL, `district_id` text NOT NULL, PRIMARY KEY (`clever_id`));
-- create index "term_district_id_archived_at" to table: "terms"
CREATE INDEX `term_district_id_archived_at` ON `terms` (`district_id`, `archived_at`);
-- create "users" table
CREATE TABLE `users` (`clever_id` text NOT NULL, `raw` json NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `created_at` datetime NOT NULL, `email` text NOT NULL DEFAULT (''), `first_name` text NOT NULL DEFAULT (''), `middle_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL DEFAULT (''), `clever_created` datetime NULL, `clever_last_modified` datetime NULL, `district_id` text NOT NULL, PRIMARY KEY (`clever_id`));
-- create index "user_district_id_archived_at" to table: "users"
CREATE INDEX `user_district_id_archived_at` ON `users` (`district_id`, `archived_at`);
-- create "user_roles" table
CREATE TABLE `user_roles` (`id` text NOT NULL, `role` text NOT NULL, `district_id` text NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `sis_id` text NOT NULL DEFAULT (''), `state_id` text NOT NULL DEFAULT (''), `legacy_id` text NOT NULL DEFAULT (''), `district_username` text NOT NULL DEFAULT (''), `email` text NOT NULL DEFAULT (''), `student_number` text NOT NULL DEFAULT (''), `grade` text NOT NULL DEFAULT (''), `dob` datetime NULL, `gender` text NOT NULL DEFAULT (''), `graduation_year` text NOT NULL DEFAULT (''), `race` text NOT NULL DEFAULT (''), `hispanic_ethnicity` text NOT NULL DEFAULT (''), `ell_status` text NOT NULL DEFAULT (''), `frl_status` text NOT NULL DEFAULT (''), `iep_status` text NOT NULL DEFAULT (''), `home_language` text NOT NULL DEFAULT (''), `teacher_number` text NOT NULL DEFAULT (''), `staff_id` text NOT NULL DEFAULT (''), `title` text NOT NULL DEFAULT (''), `department` text NOT NULL DEFAULT (''), `staff_roles` json NULL, `phone` text NOT NULL DEFAULT (''), `phone_type` text NOT NULL DEFAULT (''), `ext` json NULL, `school_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`));
-- create index "userrole_user_id_role" to table: "user_roles"
CREATE UNIQUE INDEX `userrole_user_id_role` ON `user_roles` (`user_id`, `role`);
-- create index "userrole_district_id_role_archived_at" to table: "user_roles"
CREATE INDEX `userrole_district_id_role_archived_at` ON `user_roles` (`district_id`, `role`, `archived_at`);
-- create index "userrole_school_id" to table: "user_roles"
CREATE INDEX `userrole_school_id` ON `user_roles` (`school_id`);

-- +goose Down
-- reverse: create index "userrole_school_id" to table: "user_roles"
DROP INDEX `userrole_school_id`;
-- reverse: create index "userrole_district_id_role_archived_at" to table: "user_roles"
DROP INDEX `userrole_district_id_role_archived_at`;
-- reverse: create index "userrole_user_id_role" to table: "user_roles"
DROP INDEX `userrole_user_id_role`;
-- reverse: create "user_roles" table
DROP TABLE `user_roles`;
-- reverse: create index "user_district_id_archived_at" to table: "users"
DROP INDEX `user_district_id_archived_at`;
-- reverse: create "users" table
DROP TABLE `users`;
-- reverse: create index "term_district_id_archived_at" to table: "terms"
DROP INDEX `term_district_id_archived_at`;
-- reverse: create "terms" table
DROP TABLE `terms`;
-- reverse: create index "syncrun_status" to table: "sync_runs"
DROP INDEX `syncrun_status`;
-- reverse: create index "syncrun_district_id_started_at" to table: "sync_runs"
DROP INDEX `syncrun_district_id_started_at`;
-- reverse: create "sync_runs" table
DROP TABLE `sync_runs`;
-- reverse: create index "sectionteacher_user_id" to table: "section_teachers"
DROP INDEX `sectionteacher_user_id`;
-- reverse: create index "sectionteacher_section_id_user_id" to table: "section_teachers"
DROP INDEX `sectionteacher_section_id_user_id`;
-- reverse: create "section_teachers" table
DROP TABLE `section_teachers`;
-- reverse: create index "sectionstudent_user_id" to table: "section_students"
DROP INDEX `sectionstudent_user_id`;
-- reverse: create index "sectionstudent_section_id_user_id" to table: "section_students"
DROP INDEX `sectionstudent_section_id_user_id`;
-- reverse: create "section_students" table
DROP TABLE `section_students`;
-- reverse: create index "section_course_id" to table: "sections"
DROP INDEX `section_course_id`;
-- reverse: create index "section_term_id" to table: "sections"
DROP INDEX `section_term_id`;
-- reverse: create index "section_school_id" to table: "sections"
DROP INDEX `section_school_id`;
-- reverse: create index "section_district_id_archived_at" to table: "sections"
DROP INDEX `section_district_id_archived_at`;
-- reverse: create "sections" table
DROP TABLE `sections`;
-- reverse: create index "school_district_id_archived_at" to table: "schools"
DROP INDEX `school_district_id_archived_at`;
-- reverse: create "schools" table
DROP TABLE `schools`;
-- reverse: create index "roleschool_school_id" to table: "role_schools"
DROP INDEX `roleschool_school_id`;
-- reverse: create index "roleschool_role_id_school_id" to table: "role_schools"
DROP INDEX `roleschool_role_id_school_id`;
-- reverse: create "role_schools" table
DROP TABLE `role_schools`;
-- reverse: create "district_tokens" table
DROP TABLE `district_tokens`;
-- reverse: create index "district_district_id_archived_at" to table: "districts"
DROP INDEX `district_district_id_archived_at`;
-- reverse: create "districts" table
DROP TABLE `districts`;
-- reverse: create index "course_district_id_archived_at" to table: "courses"
DROP INDEX `course_district_id_archived_at`;
-- reverse: create "courses" table
DROP TABLE `courses`;
-- reverse: create index "contactrelationship_student_id" to table: "contact_relationships"
DROP INDEX `contactrelationship_student_id`;
-- reverse: create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
DROP INDEX `contactrelationship_contact_id_student_id`;
-- reverse: create "contact_relationships" table
DROP TABLE `contact_relationships`;
