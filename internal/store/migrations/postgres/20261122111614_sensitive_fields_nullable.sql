-- +goose Up
-- modify "user_roles" table
ALTER TABLE "user_roles" ALTER COLUMN "ell_status" DROP NOT NULL, ALTER COLUMN "ell_status" DROP DEFAULT, ALTER COLUMN "frl_status" DROP NOT NULL, ALTER COLUMN "frl_status" DROP DEFAULT, ALTER COLUMN "iep_status" DROP NOT NULL, ALTER COLUMN "iep_status" DROP DEFAULT, ALTER COLUMN "home_language" DROP NOT NULL, ALTER COLUMN "home_language" DROP DEFAULT;

-- +goose Down
-- reverse: modify "user_roles" table
ALTER TABLE "user_roles" ALTER COLUMN "home_language" SET NOT NULL, ALTER COLUMN "home_language" SET DEFAULT '', ALTER COLUMN "iep_status" SET NOT NULL, ALTER COLUMN "iep_status" SET DEFAULT '', ALTER COLUMN "frl_status" SET NOT NULL, ALTER COLUMN "frl_status" SET DEFAULT '', ALTER COLUMN "ell_status" SET NOT NULL, ALTER COLUMN "ell_status" SET DEFAULT '';
