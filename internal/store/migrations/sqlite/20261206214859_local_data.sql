-- +goose Up
-- create "local_groups" table
CREATE TABLE `local_groups` (`id` text NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `district_id` text NULL, `organization_id` text NULL, `section_id` text NULL, `created_by` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "localgroup_section_id" to table: "local_groups"
CREATE INDEX `localgroup_section_id` ON `local_groups` (`section_id`);
-- create index "localgroup_district_id" to table: "local_groups"
CREATE INDEX `localgroup_district_id` ON `local_groups` (`district_id`);
-- create index "localgroup_organization_id" to table: "local_groups"
CREATE INDEX `localgroup_organization_id` ON `local_groups` (`organization_id`);
-- create "local_memberships" table
CREATE TABLE `local_memberships` (`id` text NOT NULL, `section_id` text NULL, `user_id` text NULL, `role` text NOT NULL, `added_by` text NOT NULL, `added_at` datetime NOT NULL, `removed_at` datetime NULL, `removed_by` text NOT NULL DEFAULT (''), `group_id` text NULL, `local_user_id` text NULL, PRIMARY KEY (`id`));
-- create index "localmembership_group_id" to table: "local_memberships"
CREATE INDEX `localmembership_group_id` ON `local_memberships` (`group_id`);
-- create index "localmembership_section_id_removed_at" to table: "local_memberships"
CREATE INDEX `localmembership_section_id_removed_at` ON `local_memberships` (`section_id`, `removed_at`);
-- create index "localmembership_user_id" to table: "local_memberships"
CREATE INDEX `localmembership_user_id` ON `local_memberships` (`user_id`);
-- create index "localmembership_local_user_id" to table: "local_memberships"
CREATE INDEX `localmembership_local_user_id` ON `local_memberships` (`local_user_id`);
-- create index "localmembership_section_id_user_id" to table: "local_memberships"
CREATE UNIQUE INDEX `localmembership_section_id_user_id` ON `local_memberships` (`section_id`, `user_id`) WHERE removed_at IS NULL;
-- create index "localmembership_group_id_user_id" to table: "local_memberships"
CREATE UNIQUE INDEX `localmembership_group_id_user_id` ON `local_memberships` (`group_id`, `user_id`) WHERE removed_at IS NULL;
-- create index "localmembership_group_id_local_user_id" to table: "local_memberships"
CREATE UNIQUE INDEX `localmembership_group_id_local_user_id` ON `local_memberships` (`group_id`, `local_user_id`) WHERE removed_at IS NULL;
-- create "local_users" table
CREATE TABLE `local_users` (`id` text NOT NULL, `external_id` text NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL, `email` text NOT NULL DEFAULT (''), `role` text NOT NULL, `district_id` text NULL, `organization_id` text NULL, `created_by` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "localuser_external_id" to table: "local_users"
CREATE UNIQUE INDEX `localuser_external_id` ON `local_users` (`external_id`) WHERE external_id IS NOT NULL;
-- create index "localuser_district_id" to table: "local_users"
CREATE INDEX `localuser_district_id` ON `local_users` (`district_id`);
-- create index "localuser_organization_id" to table: "local_users"
CREATE INDEX `localuser_organization_id` ON `local_users` (`organization_id`);
-- create "role_overrides" table
CREATE TABLE `role_overrides` (`id` text NOT NULL, `user_id` text NOT NULL, `district_id` text NOT NULL, `role` text NOT NULL, `effect` text NOT NULL, `reason` text NOT NULL DEFAULT (''), `decided_by` text NOT NULL, `decided_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "roleoverride_user_id_role" to table: "role_overrides"
CREATE UNIQUE INDEX `roleoverride_user_id_role` ON `role_overrides` (`user_id`, `role`);
-- create index "roleoverride_district_id" to table: "role_overrides"
CREATE INDEX `roleoverride_district_id` ON `role_overrides` (`district_id`);

-- +goose Down
-- reverse: create index "roleoverride_district_id" to table: "role_overrides"
DROP INDEX `roleoverride_district_id`;
-- reverse: create index "roleoverride_user_id_role" to table: "role_overrides"
DROP INDEX `roleoverride_user_id_role`;
-- reverse: create "role_overrides" table
DROP TABLE `role_overrides`;
-- reverse: create index "localuser_organization_id" to table: "local_users"
DROP INDEX `localuser_organization_id`;
-- reverse: create index "localuser_district_id" to table: "local_users"
DROP INDEX `localuser_district_id`;
-- reverse: create index "localuser_external_id" to table: "local_users"
DROP INDEX `localuser_external_id`;
-- reverse: create "local_users" table
DROP TABLE `local_users`;
-- reverse: create index "localmembership_group_id_local_user_id" to table: "local_memberships"
DROP INDEX `localmembership_group_id_local_user_id`;
-- reverse: create index "localmembership_group_id_user_id" to table: "local_memberships"
DROP INDEX `localmembership_group_id_user_id`;
-- reverse: create index "localmembership_section_id_user_id" to table: "local_memberships"
DROP INDEX `localmembership_section_id_user_id`;
-- reverse: create index "localmembership_local_user_id" to table: "local_memberships"
DROP INDEX `localmembership_local_user_id`;
-- reverse: create index "localmembership_user_id" to table: "local_memberships"
DROP INDEX `localmembership_user_id`;
-- reverse: create index "localmembership_section_id_removed_at" to table: "local_memberships"
DROP INDEX `localmembership_section_id_removed_at`;
-- reverse: create index "localmembership_group_id" to table: "local_memberships"
DROP INDEX `localmembership_group_id`;
-- reverse: create "local_memberships" table
DROP TABLE `local_memberships`;
-- reverse: create index "localgroup_organization_id" to table: "local_groups"
DROP INDEX `localgroup_organization_id`;
-- reverse: create index "localgroup_district_id" to table: "local_groups"
DROP INDEX `localgroup_district_id`;
-- reverse: create index "localgroup_section_id" to table: "local_groups"
DROP INDEX `localgroup_section_id`;
-- reverse: create "local_groups" table
DROP TABLE `local_groups`;
