-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_contact_relationships" table
CREATE TABLE `new_contact_relationships` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `relationship` text NOT NULL DEFAULT (''), `type` text NOT NULL DEFAULT (''), `student_id` text NULL, `contact_id` text NULL, PRIMARY KEY (`id`));
-- copy rows from old table "contact_relationships" to new temporary table "new_contact_relationships"
INSERT INTO `new_contact_relationships` (`id`, `district_id`, `started_at`, `ended_at`, `relationship`, `type`, `student_id`, `contact_id`) SELECT `id`, `district_id`, `started_at`, `ended_at`, `relationship`, `type`, `student_id`, `contact_id` FROM `contact_relationships`;
-- drop "contact_relationships" table after copying rows
DROP TABLE `contact_relationships`;
-- rename temporary table "new_contact_relationships" to "contact_relationships"
ALTER TABLE `new_contact_relationships` RENAME TO `contact_relationships`;
-- create index "contactrelationship_contact_id" to table: "contact_relationships"
CREATE INDEX `contactrelationship_contact_id` ON `contact_relationships` (`contact_id`);
-- create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
CREATE UNIQUE INDEX `contactrelationship_contact_id_student_id` ON `contact_relationships` (`contact_id`, `student_id`) WHERE ended_at IS NULL;
-- create index "contactrelationship_student_id" to table: "contact_relationships"
CREATE INDEX `contactrelationship_student_id` ON `contact_relationships` (`student_id`);
-- create "new_role_schools" table
CREATE TABLE `new_role_schools` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `archived_at` datetime NULL, `school_id` text NULL, `role_id` text NOT NULL, PRIMARY KEY (`id`));
-- copy rows from old table "role_schools" to new temporary table "new_role_schools"
INSERT INTO `new_role_schools` (`id`, `district_id`, `started_at`, `ended_at`, `archived_at`, `school_id`, `role_id`) SELECT `id`, `district_id`, `started_at`, `ended_at`, `archived_at`, `school_id`, `role_id` FROM `role_schools`;
-- drop "role_schools" table after copying rows
DROP TABLE `role_schools`;
-- rename temporary table "new_role_schools" to "role_schools"
ALTER TABLE `new_role_schools` RENAME TO `role_schools`;
-- create index "roleschool_role_id" to table: "role_schools"
CREATE INDEX `roleschool_role_id` ON `role_schools` (`role_id`);
-- create index "roleschool_role_id_school_id" to table: "role_schools"
CREATE UNIQUE INDEX `roleschool_role_id_school_id` ON `role_schools` (`role_id`, `school_id`) WHERE ended_at IS NULL;
-- create index "roleschool_school_id" to table: "role_schools"
CREATE INDEX `roleschool_school_id` ON `role_schools` (`school_id`);
-- create "new_section_students" table
CREATE TABLE `new_section_students` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `section_id` text NULL, `user_id` text NULL, PRIMARY KEY (`id`));
-- copy rows from old table "section_students" to new temporary table "new_section_students"
INSERT INTO `new_section_students` (`id`, `district_id`, `started_at`, `ended_at`, `section_id`, `user_id`) SELECT `id`, `district_id`, `started_at`, `ended_at`, `section_id`, `user_id` FROM `section_students`;
-- drop "section_students" table after copying rows
DROP TABLE `section_students`;
-- rename temporary table "new_section_students" to "section_students"
ALTER TABLE `new_section_students` RENAME TO `section_students`;
-- create index "sectionstudent_section_id" to table: "section_students"
CREATE INDEX `sectionstudent_section_id` ON `section_students` (`section_id`);
-- create index "sectionstudent_section_id_user_id" to table: "section_students"
CREATE UNIQUE INDEX `sectionstudent_section_id_user_id` ON `section_students` (`section_id`, `user_id`) WHERE ended_at IS NULL;
-- create index "sectionstudent_user_id" to table: "section_students"
CREATE INDEX `sectionstudent_user_id` ON `section_students` (`user_id`);
-- create "new_section_teachers" table
CREATE TABLE `new_section_teachers` (`id` text NOT NULL, `district_id` text NOT NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `position` integer NOT NULL, `section_id` text NULL, `user_id` text NULL, PRIMARY KEY (`id`));
-- copy rows from old table "section_teachers" to new temporary table "new_section_teachers"
INSERT INTO `new_section_teachers` (`id`, `district_id`, `started_at`, `ended_at`, `position`, `section_id`, `user_id`) SELECT `id`, `district_id`, `started_at`, `ended_at`, `position`, `section_id`, `user_id` FROM `section_teachers`;
-- drop "section_teachers" table after copying rows
DROP TABLE `section_teachers`;
-- rename temporary table "new_section_teachers" to "section_teachers"
ALTER TABLE `new_section_teachers` RENAME TO `section_teachers`;
-- create index "sectionteacher_section_id" to table: "section_teachers"
CREATE INDEX `sectionteacher_section_id` ON `section_teachers` (`section_id`);
-- create index "sectionteacher_section_id_user_id" to table: "section_teachers"
CREATE UNIQUE INDEX `sectionteacher_section_id_user_id` ON `section_teachers` (`section_id`, `user_id`) WHERE ended_at IS NULL;
-- create index "sectionteacher_user_id" to table: "section_teachers"
CREATE INDEX `sectionteacher_user_id` ON `section_teachers` (`user_id`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "sectionteacher_user_id" to table: "section_teachers"
DROP INDEX `sectionteacher_user_id`;
-- reverse: create index "sectionteacher_section_id_user_id" to table: "section_teachers"
DROP INDEX `sectionteacher_section_id_user_id`;
-- reverse: create index "sectionteacher_section_id" to table: "section_teachers"
DROP INDEX `sectionteacher_section_id`;
-- reverse: create "new_section_teachers" table
DROP TABLE `new_section_teachers`;
-- reverse: create index "sectionstudent_user_id" to table: "section_students"
DROP INDEX `sectionstudent_user_id`;
-- reverse: create index "sectionstudent_section_id_user_id" to table: "section_students"
DROP INDEX `sectionstudent_section_id_user_id`;
-- reverse: create index "sectionstudent_section_id" to table: "section_students"
DROP INDEX `sectionstudent_section_id`;
-- reverse: create "new_section_students" table
DROP TABLE `new_section_students`;
-- reverse: create index "roleschool_school_id" to table: "role_schools"
DROP INDEX `roleschool_school_id`;
-- reverse: create index "roleschool_role_id_school_id" to table: "role_schools"
DROP INDEX `roleschool_role_id_school_id`;
-- reverse: create index "roleschool_role_id" to table: "role_schools"
DROP INDEX `roleschool_role_id`;
-- reverse: create "new_role_schools" table
DROP TABLE `new_role_schools`;
-- reverse: create index "contactrelationship_student_id" to table: "contact_relationships"
DROP INDEX `contactrelationship_student_id`;
-- reverse: create index "contactrelationship_contact_id_student_id" to table: "contact_relationships"
DROP INDEX `contactrelationship_contact_id_student_id`;
-- reverse: create index "contactrelationship_contact_id" to table: "contact_relationships"
DROP INDEX `contactrelationship_contact_id`;
-- reverse: create "new_contact_relationships" table
DROP TABLE `new_contact_relationships`;
