package link

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/ent/syncrun"
	"github.com/rostermirror/rostermirror/sync/mirror"
	"github.com/rostermirror/rostermirror/sync/schedule"
)

// Districts lists the districts Clever connects to the app (*tokens.Store).
type Districts interface {
	Connected(ctx context.Context) ([]string, error)
}

// Fetcher writes a district's own record into the mirror ahead of its first sync (*mirror.Engine).
type Fetcher interface {
	Discover(ctx context.Context, districtID string) error
}

// Discovery is the scheduler's list of districts with onboarding on top: every district Clever lists
// gets its link row (DISCOVERED) and its record at once, its computed signals evaluated, and its first
// full sync started without waiting for the schedule (by StartSync, when set); districts whose token
// went are DISCONNECTED, and come back as they were when it returns. Paused districts are left out of
// the list, so that the scheduler drops their jobs.
type Discovery struct {
	svc       *Service
	districts Districts
	fetch     Fetcher
	// StartSync, when set, starts a district's first full sync in the background.
	StartSync func(districtID string)
}

// Discovery wraps districts (the token store) for the scheduler; fetch may be nil.
func (s *Service) Discovery(districts Districts, fetch Fetcher) *Discovery {
	return &Discovery{svc: s, districts: districts, fetch: fetch}
}

// Connected lists the connected districts that are not paused, after recording what the listing says.
// Onboarding's own failures are logged, never returned: they must not stop the districts' syncs.
func (d *Discovery) Connected(ctx context.Context) ([]string, error) {
	ids, err := d.districts.Connected(ctx)
	if err != nil {
		return nil, err
	}
	paused, err := d.svc.Discover(ctx, ids, d.fetch, d.StartSync)
	if err != nil {
		d.svc.log.ErrorContext(ctx, "record discovered districts", slog.String("error", err.Error()))
	}
	return slices.DeleteFunc(ids, func(id string) bool { return paused[id] }), nil
}

// Discover records the districts Clever lists (ids) and those whose token went: new districts get a
// link row, their record (fetch, when not nil) and their first sync (start, when not nil and the
// district never synced); the computed signals of new and fetched districts are evaluated. It returns
// the paused districts among ids.
func (s *Service) Discover(ctx context.Context, ids []string, fetch Fetcher, start func(string)) (map[string]bool, error) {
	c := s.cfg.DB.Client
	revoked, err := c.DistrictToken.Query().Where(districttoken.StatusEQ(districttoken.StatusRevoked)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	isRevoked := map[string]bool{}
	for _, id := range revoked {
		isRevoked[id] = true
	}
	listed := map[string]bool{}
	for _, id := range ids {
		listed[id] = true
	}
	var fresh []string
	paused := map[string]bool{}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		fresh, paused = nil, map[string]bool{}
		tc := tx.Client()
		have, err := tc.DistrictLink.Query().All(ctx)
		if err != nil {
			return err
		}
		byDistrict := map[string]*ent.DistrictLink{}
		for _, l := range have {
			byDistrict[l.DistrictID] = l
		}
		for _, id := range ids {
			if byDistrict[id] == nil {
				l, err := ensure(ctx, tc, id)
				if err != nil {
					return err
				}
				byDistrict[id] = l
				fresh = append(fresh, id)
			}
		}
		for _, id := range revoked {
			if !listed[id] && byDistrict[id] == nil { // a district disconnected before onboarding existed
				l, err := ensure(ctx, tc, id)
				if err != nil {
					return err
				}
				byDistrict[id] = l
			}
		}
		// Only a change of connection changes a state here (proposals and links settle their own), so a
		// refresh of an unchanged list writes nothing.
		for id, l := range byDistrict {
			connected := listed[id] || (l.Connected && !isRevoked[id])
			if connected != l.Connected {
				if l, err = l.Update().SetConnected(connected).Save(ctx); err != nil {
					return err
				}
				if l, err = settle(ctx, tc, l); err != nil {
					return err
				}
			}
			if l.PausedAt != nil {
				paused[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The records of districts discovered now, or listed before their record could be read.
	knownIDs, err := c.District.Query().Where(district.IDIn(ids...)).IDs(ctx)
	if err != nil {
		return paused, err
	}
	known := map[string]bool{}
	for _, id := range knownIDs {
		known[id] = true
	}
	var errs []error
	evaluate := slices.Clone(fresh)
	isFresh := map[string]bool{}
	for _, id := range fresh {
		isFresh[id] = true
	}
	for _, id := range ids {
		if known[id] || fetch == nil {
			continue
		}
		if err := fetch.Discover(ctx, id); err != nil && !errors.Is(err, mirror.ErrBusy) {
			errs = append(errs, err)
			continue
		}
		if !isFresh[id] {
			evaluate = append(evaluate, id)
		}
	}
	if err := s.Evaluate(ctx, evaluate...); err != nil {
		errs = append(errs, err)
	}
	if start != nil {
		for _, id := range fresh {
			synced, err := c.SyncRun.Query().Where(syncrun.DistrictID(id)).Exist(ctx)
			if err != nil {
				errs = append(errs, err)
			} else if !synced && !paused[id] {
				start(id)
			}
		}
	}
	if len(fresh) > 0 {
		s.log.InfoContext(ctx, "districts discovered", slog.Any("districts", fresh))
	}
	return paused, errors.Join(errs...)
}

// Syncer is what runs a district's sync (*mirror.Engine).
type Syncer interface {
	SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error)
}

// StatusPaused is the Result status of a scheduled run skipped because the district is paused.
const StatusPaused = "PAUSED"

// Syncer wraps a sync engine for onboarding: a scheduled run (full or events) of a paused district is skipped (another
// replica may not have dropped the job yet), and a run that read the district evaluates its computed
// signals afterwards (e-mail domains need its users).
func (s *Service) Syncer(next Syncer) Syncer { return &syncer{svc: s, next: next} }

type syncer struct {
	svc  *Service
	next Syncer
}

func (y *syncer) SyncDistrict(ctx context.Context, districtID string, opts mirror.Options) (mirror.Result, error) {
	if opts.Trigger == schedule.Trigger || opts.Trigger == schedule.TriggerEvents {
		paused, err := y.svc.Paused(ctx, districtID)
		if err != nil {
			return mirror.Result{}, err
		}
		if paused {
			return mirror.Result{DistrictID: districtID, Status: StatusPaused}, nil
		}
	}
	res, err := y.next.SyncDistrict(ctx, districtID, opts)
	// An events run that changed nothing (the events interval's usual run) has nothing new to evaluate.
	read := res.Kind != string(syncrun.KindEvents) || res.Counts.Changed()
	if err == nil && !opts.DryRun && read && (res.Status == mirror.StatusSucceeded || res.Status == mirror.StatusHeld) {
		if _, eerr := ensure(ctx, y.svc.cfg.DB.Client, districtID); eerr != nil {
			y.svc.log.WarnContext(ctx, "record synced district", slog.String("district", districtID), slog.String("error", eerr.Error()))
		}
		if eerr := y.svc.Evaluate(ctx, districtID); eerr != nil {
			y.svc.log.WarnContext(ctx, "evaluate link signals after a sync", slog.String("district", districtID), slog.String("error", eerr.Error()))
		}
	}
	return res, err
}
