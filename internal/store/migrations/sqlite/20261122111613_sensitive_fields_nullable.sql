-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_user_roles" table
CREATE TABLE `new_user_roles` (`id` text NOT NULL, `role` text NOT NULL, `district_id` text NOT NULL, `content_hash` text NOT NULL, `archived_at` datetime NULL, `last_synced_at` datetime NOT NULL, `sis_id` text NOT NULL DEFAULT (''), `state_id` text NOT NULL DEFAULT (''), `legacy_id` text NOT NULL DEFAULT (''), `district_username` text NOT NULL DEFAULT (''), `email` text NOT NULL DEFAULT (''), `student_number` text NOT NULL DEFAULT (''), `grade` text NOT NULL DEFAULT (''), `dob` datetime NULL, `gender` text NOT NULL DEFAULT (''), `graduation_year` text NOT NULL DEFAULT (''), `race` text NOT NULL DEFAULT (''), `hispanic_ethnicity` text NOT NULL DEFAULT (''), `ell_status` text NULL, `frl_status` text NULL, `iep_status` text NULL, `home_language` text NULL, `teacher_number` text NOT NULL DEFAULT (''), `staff_id` text NOT NULL DEFAULT (''), `title` text NOT NULL DEFAULT (''), `department` text NOT NULL DEFAULT (''), `staff_roles` json NULL, `phone` text NOT NULL DEFAULT (''), `phone_type` text NOT NULL DEFAULT (''), `ext` json NULL, `school_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`));
-- copy rows from old table "user_roles" to new temporary table "new_user_roles"
INSERT INTO `new_user_roles` (`id`, `role`, `district_id`, `content_hash`, `archived_at`, `last_synced_at`, `sis_id`, `state_id`, `legacy_id`, `district_username`, `email`, `student_number`, `grade`, `dob`, `gender`, `graduation_year`, `race`, `hispanic_ethnicity`, `ell_status`, `frl_status`, `iep_status`, `home_language`, `teacher_number`, `staff_id`, `title`, `department`, `staff_roles`, `phone`, `phone_type`, `ext`, `school_id`, `user_id`) SELECT `id`, `role`, `district_id`, `content_hash`, `archived_at`, `last_synced_at`, `sis_id`, `state_id`, `legacy_id`, `district_username`, `email`, `student_number`, `grade`, `dob`, `gender`, `graduation_year`, `race`, `hispanic_ethnicity`, `ell_status`, `frl_status`, `iep_status`, `home_language`, `teacher_number`, `staff_id`, `title`, `department`, `staff_roles`, `phone`, `phone_type`, `ext`, `school_id`, `user_id` FROM `user_roles`;
-- drop "user_roles" table after copying rows
DROP TABLE `user_roles`;
-- rename temporary table "new_user_roles" to "user_roles"
ALTER TABLE `new_user_roles` RENAME TO `user_roles`;
-- create index "userrole_user_id_role" to table: "user_roles"
CREATE UNIQUE INDEX `userrole_user_id_role` ON `user_roles` (`user_id`, `role`);
-- create index "userrole_district_id_role_archived_at" to table: "user_roles"
CREATE INDEX `userrole_district_id_role_archived_at` ON `user_roles` (`district_id`, `role`, `archived_at`);
-- create index "userrole_school_id" to table: "user_roles"
CREATE INDEX `userrole_school_id` ON `user_roles` (`school_id`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "userrole_school_id" to table: "user_roles"
DROP INDEX `userrole_school_id`;
-- reverse: create index "userrole_district_id_role_archived_at" to table: "user_roles"
DROP INDEX `userrole_district_id_role_archived_at`;
-- reverse: create index "userrole_user_id_role" to table: "user_roles"
DROP INDEX `userrole_user_id_role`;
-- reverse: create "new_user_roles" table
DROP TABLE `new_user_roles`;
