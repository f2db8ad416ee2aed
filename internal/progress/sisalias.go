package progress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// reIDedQuery finds, in a district (its first parameter), the pairs (former, current) of students that its SIS id
// links: former is archived, current is shared and entered the mirror after former did, and their
// student roles carry the same non-empty sis_id. A pair is left out when it is ambiguous — another
// shared student has that SIS id, or another archived one not yet a former id — when former is a former
// id already (an alias there stands), when current is itself a former id, and when an admin unlinked
// former (unlinkFormerCleverId): their decision stands too.
const reIDedQuery = `
WITH s AS (
	SELECT r.user_id, r.sis_id, u.archived_at, u.created_at,
		EXISTS (SELECT 1 FROM clever_id_aliases a WHERE a.former_clever_id = r.user_id) AS aliased
	FROM user_roles r JOIN users u ON u.clever_id = r.user_id
	WHERE r.district_id = ? AND r.role = 'STUDENT' AND r.sis_id <> ''
)
SELECT f.user_id, n.user_id
FROM s f JOIN s n ON n.sis_id = f.sis_id AND n.user_id <> f.user_id
WHERE f.archived_at IS NOT NULL AND NOT f.aliased
	AND n.archived_at IS NULL AND NOT n.aliased
	AND n.created_at > f.created_at
	AND (SELECT COUNT(*) FROM s x WHERE x.sis_id = f.sis_id AND x.archived_at IS NULL) = 1
	AND (SELECT COUNT(*) FROM s x WHERE x.sis_id = f.sis_id AND x.archived_at IS NOT NULL AND NOT x.aliased) = 1
	AND NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.action = ? AND e.target = f.user_id)
ORDER BY f.user_id`

// AliasReIDedStudents links, in districtID, every archived student's Clever id to the shared student
// who has their district SIS id and came into the mirror after them (Clever re-IDs a student after a
// long absence or a changed SIS id): SIS_ID aliases, so that the progress recorded under the old id
// reads under the new one. It never links when the SIS id does not say who (two archived students with
// it, or two shared ones, or the old id shared again), never overrides an alias or an admin's unlink,
// and is idempotent. It returns how many aliases it added. The sync runs it after each run that
// created, restored or archived users (Syncer).
func (s *Service) AliasReIDedStudents(ctx context.Context, districtID string) (int, error) {
	added, skipped := 0, 0
	err := s.inTx(ctx, func(tx *txn) error {
		q := reIDedQuery
		if s.pg() {
			// Two replicas finishing runs of the district at once add the same aliases one after the other.
			if _, err := tx.bulk.Tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "progress-alias:"+districtID); err != nil {
				return fmt.Errorf("lock district aliases: %w", err)
			}
		}
		rows, err := tx.bulk.Tx.QueryContext(ctx, tx.bulk.Rebind(q), districtID, audit.UnlinkFormerCleverID)
		if err != nil {
			return fmt.Errorf("find re-IDed students: %w", err)
		}
		var pairs [][2]string
		for rows.Next() {
			var p [2]string
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				rows.Close()
				return fmt.Errorf("find re-IDed students: %w", err)
			}
			pairs = append(pairs, p)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("find re-IDed students: %w", err)
		}
		for _, p := range pairs {
			ok, err := AddSISAlias(ctx, tx.Client, districtID, p[0], p[1])
			switch {
			case errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound):
				skipped++ // the query rules these out; the checks of link stay the last word
			case err != nil:
				return fmt.Errorf("alias re-IDed student: %w", err)
			case ok:
				added++
			default:
				skipped++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if added > 0 || skipped > 0 {
		s.log.InfoContext(ctx, "former Clever ids linked by SIS id", slog.String("district", districtID),
			slog.Int("added", added), slog.Int("skipped", skipped))
	}
	return added, nil
}

// Syncer is the sync engine the SIS-id aliases follow (*mirror.Engine, or a wrapper of it).
type Syncer interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
}

// Syncer wraps a sync engine so that every run (full or events) that created, restored or archived
// users of the district, and succeeded or was held with the rest applied, is followed by
// AliasReIDedStudents. An alias step that fails is logged; the sync's result stands, and the next such
// run tries again.
func (s *Service) Syncer(next Syncer) Syncer { return &syncer{svc: s, next: next} }

type syncer struct {
	svc  *Service
	next Syncer
}

func (y *syncer) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	res, err := y.next.SyncDistrict(ctx, districtID, opts)
	users := res.Counts["users"]
	if err == nil && !opts.DryRun && (res.Status == mirror.StatusSucceeded || res.Status == mirror.StatusHeld) &&
		users.Created+users.Restored+users.Archived > 0 {
		y.svc.aliasAfter(ctx, districtID)
	}
	return res, err
}

// AfterApproval follows an admin's approval of a held run (approveHeldSync) whose held archives
// included users: their former ids are archived only then, so AliasReIDedStudents runs again. A
// failure is logged; the approval stands.
func (s *Service) AfterApproval(ctx context.Context, res mirror.Result) {
	if res.Status == mirror.StatusApproved && len(res.Held["users"]) > 0 {
		s.aliasAfter(ctx, res.DistrictID)
	}
}

func (s *Service) aliasAfter(ctx context.Context, districtID string) {
	if _, err := s.AliasReIDedStudents(ctx, districtID); err != nil {
		s.log.WarnContext(ctx, "link re-IDed students after a sync", slog.String("district", districtID), slog.String("error", err.Error()))
	}
}
