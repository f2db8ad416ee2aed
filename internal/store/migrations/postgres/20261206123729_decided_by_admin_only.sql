-- +goose Up
-- modify "sync_runs" table
ALTER TABLE "sync_runs" ALTER COLUMN "decided_by" DROP NOT NULL;

-- +goose Down
-- reverse: modify "sync_runs" table
ALTER TABLE "sync_runs" ALTER COLUMN "decided_by" SET NOT NULL;
