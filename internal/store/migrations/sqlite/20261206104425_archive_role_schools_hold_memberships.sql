-- +goose Up
-- add column "archived_at" to table: "role_schools"
ALTER TABLE `role_schools` ADD COLUMN `archived_at` datetime NULL;
-- add column "held_memberships" to table: "sync_runs"
ALTER TABLE `sync_runs` ADD COLUMN `held_memberships` json NULL;
-- archive the roles of users archived before roles were archived with their user, and the school
-- memberships of every archived role (before, an unshared student's role data stayed readable)
UPDATE user_roles SET archived_at = (SELECT u.archived_at FROM users u WHERE u.clever_id = user_roles.user_id)
  WHERE archived_at IS NULL AND EXISTS (SELECT 1 FROM users u WHERE u.clever_id = user_roles.user_id AND u.archived_at IS NOT NULL);
UPDATE role_schools SET archived_at = (SELECT r.archived_at FROM user_roles r WHERE r.id = role_schools.role_id)
  WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.id = role_schools.role_id AND r.archived_at IS NOT NULL);

-- +goose Down
-- reverse: add column "held_memberships" to table: "sync_runs"
ALTER TABLE `sync_runs` DROP COLUMN `held_memberships`;
-- reverse: add column "archived_at" to table: "role_schools"
ALTER TABLE `role_schools` DROP COLUMN `archived_at`;
