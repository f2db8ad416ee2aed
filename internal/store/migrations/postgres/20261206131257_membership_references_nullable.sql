-- +goose Up
-- modify "contact_relationships" table
ALTER TABLE "contact_relationships" ALTER COLUMN "student_id" DROP NOT NULL, ALTER COLUMN "contact_id" DROP NOT NULL;
-- modify "role_schools" table
ALTER TABLE "role_schools" ALTER COLUMN "school_id" DROP NOT NULL;
-- modify "section_students" table
ALTER TABLE "section_students" ALTER COLUMN "section_id" DROP NOT NULL, ALTER COLUMN "user_id" DROP NOT NULL;
-- modify "section_teachers" table
ALTER TABLE "section_teachers" ALTER COLUMN "section_id" DROP NOT NULL, ALTER COLUMN "user_id" DROP NOT NULL;

-- +goose Down
-- reverse: modify "section_teachers" table
ALTER TABLE "section_teachers" ALTER COLUMN "user_id" SET NOT NULL, ALTER COLUMN "section_id" SET NOT NULL;
-- reverse: modify "section_students" table
ALTER TABLE "section_students" ALTER COLUMN "user_id" SET NOT NULL, ALTER COLUMN "section_id" SET NOT NULL;
-- reverse: modify "role_schools" table
ALTER TABLE "role_schools" ALTER COLUMN "school_id" SET NOT NULL;
-- reverse: modify "contact_relationships" table
ALTER TABLE "contact_relationships" ALTER COLUMN "contact_id" SET NOT NULL, ALTER COLUMN "student_id" SET NOT NULL;
