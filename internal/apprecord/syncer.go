package apprecord

import (
	"context"
	"log/slog"

	"github.com/rostermirror/rostermirror/sync/mirror"
)

// Syncer is the sync engine a rematch follows.
type Syncer interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
}

// Syncer wraps a sync engine so that every run that changed the mirror's records (succeeded, or held
// with the rest applied) is followed by a rematch of the district's undecided app records: a student
// added in Clever tonight is matched to the app's pending record at once. A run that changed nothing
// needs none: the last import or rematch saw the same records. A rematch that fails is logged; the
// sync's result stands.
func (s *Service) Syncer(next Syncer) Syncer { return &syncer{svc: s, next: next} }

type syncer struct {
	svc  *Service
	next Syncer
}

func (y *syncer) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	res, err := y.next.SyncDistrict(ctx, districtID, opts)
	if err == nil && !opts.DryRun && (res.Status == mirror.StatusSucceeded || res.Status == mirror.StatusHeld) && res.Counts.Changed() {
		y.svc.rematchAfter(ctx, districtID)
	}
	return res, err
}

// AfterApproval follows an admin's approval of a held run (approveHeldSync): the archives it held are
// applied only then, so the district's undecided app records are matched again. A failure is logged;
// the approval stands.
func (s *Service) AfterApproval(ctx context.Context, res mirror.Result) {
	if res.Status == mirror.StatusApproved && len(res.Held) > 0 {
		s.rematchAfter(ctx, res.DistrictID)
	}
}

func (s *Service) rematchAfter(ctx context.Context, districtID string) {
	counts, err := s.RematchAs(ctx, districtID, nil, "")
	if err != nil {
		s.log.WarnContext(ctx, "rematch app records after a sync", slog.String("district", districtID), slog.String("error", err.Error()))
	}
	for _, c := range counts {
		s.log.InfoContext(ctx, "app records rematched after a sync", slog.String("district", districtID), slog.String("type", string(c.Type)),
			slog.Int("matched", c.Matched), slog.Int("suggested", c.Suggested), slog.Int("unmatched", c.Unmatched))
	}
}
