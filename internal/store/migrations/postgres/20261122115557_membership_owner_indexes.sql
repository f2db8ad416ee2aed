-- +goose Up
-- create index "contactrelationship_contact_id" to table: "contact_relationships"
CREATE INDEX "contactrelationship_contact_id" ON "contact_relationships" ("contact_id");
-- create index "roleschool_role_id" to table: "role_schools"
CREATE INDEX "roleschool_role_id" ON "role_schools" ("role_id");
-- create index "sectionstudent_section_id" to table: "section_students"
CREATE INDEX "sectionstudent_section_id" ON "section_students" ("section_id");
-- create index "sectionteacher_section_id" to table: "section_teachers"
CREATE INDEX "sectionteacher_section_id" ON "section_teachers" ("section_id");

-- +goose Down
-- reverse: create index "sectionteacher_section_id" to table: "section_teachers"
DROP INDEX "sectionteacher_section_id";
-- reverse: create index "sectionstudent_section_id" to table: "section_students"
DROP INDEX "sectionstudent_section_id";
-- reverse: create index "roleschool_role_id" to table: "role_schools"
DROP INDEX "roleschool_role_id";
-- reverse: create index "contactrelationship_contact_id" to table: "contact_relationships"
DROP INDEX "contactrelationship_contact_id";
