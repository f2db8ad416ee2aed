package apprecord

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/match"
)

// Counts is where a district's app records of one type stand.
type Counts struct {
	Type                                     apprecord.Type
	Matched, Suggested, Unmatched, Duplicate int
}

func (c Counts) String() string {
	return fmt.Sprintf("%s: %d matched, %d suggested, %d unmatched, %d duplicate", matchType(c.Type), c.Matched, c.Suggested, c.Unmatched, c.Duplicate)
}

// Rematch matches the district's undecided app records again (admin): of one type, or of every type
// that has records, schools first. Decided records are left as they are.
func (s *Service) Rematch(ctx context.Context, districtID string, typ *apprecord.Type) ([]*Counts, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	var t *match.Type
	if typ != nil {
		mt := matchType(*typ)
		t = &mt
	}
	cs, err := s.RematchAs(ctx, districtID, t, auth.Actor(ctx))
	out := make([]*Counts, len(cs))
	for i := range cs {
		out[i] = &cs[i]
	}
	return out, err
}

// RematchAs is Rematch by actor, recorded in the audit log (the command line, and Syncer with actor "").
func (s *Service) RematchAs(ctx context.Context, districtID string, typ *match.Type, actor string) ([]Counts, error) {
	ok, err := s.db.Client.District.Query().Where(district.ID(districtID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: district %q is not in the mirror", ErrNotFound, districtID)
	}
	types := Types
	if typ != nil {
		t, err := ParseType(string(*typ))
		if err != nil {
			return nil, err
		}
		types = []match.Type{t}
	}
	var out []Counts
	for _, t := range types {
		if typ == nil {
			has, err := s.db.Client.AppRecord.Query().Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(entType(t))).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
		}
		var c Counts
		err := s.inTx(ctx, func(tx *txn) error {
			if err := s.lockType(ctx, tx, districtID, t); err != nil {
				return err
			}
			var err error
			if c, err = s.rematch(ctx, tx, districtID, t); err != nil {
				return err
			}
			if actor == "" {
				return nil
			}
			return audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: audit.RematchAppRecords,
				Target: districtID, Outcome: c.String()})
		})
		if err != nil {
			return nil, fmt.Errorf("rematch %s records of district %s: %w", t, districtID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// decided reports whether an admin decided the record: matching never changes it.
func decided(r *ent.AppRecord) bool { return r.DecidedBy != "" }

// rematch matches the district's app records of one type against its shared Clever records and stores
// the results of the undecided ones; it writes only what changed, so a rematch with nothing new writes
// nothing.
//
// Left as they are: records an admin decided, records the last import no longer had (missingSince),
// and automatic matches whose Clever record is archived (a match outlives an unsharing). The Clever
// records of the decided ones and of those archived matches are taken (an automatic match of a missing
// record is not): another app record's strong match to one becomes a suggestion, its explanation saying
// whose it is. A pair an admin rejected is never matched or suggested again.
func (s *Service) rematch(ctx context.Context, tx *txn, districtID string, typ match.Type) (Counts, error) {
	return s.rematchOf(ctx, tx, districtID, typ, nil)
}

// firstImport is a type's first import: its records staged in freshTable, and their ids and values.
type firstImport struct{ recs []*ent.AppRecord }

// rematchOf is rematch of the records stored for the type, or, when first is not nil, of a first
// import's, which it moves into the table with their results.
func (s *Service) rematchOf(ctx context.Context, tx *txn, districtID string, typ match.Type, first *firstImport) (Counts, error) {
	start := time.Now()
	c := tx.Client
	// On Postgres the mirror's records are read on another connection while the app's are read in the
	// transaction (the mirror is not the transaction's to change); SQLite reads one after the other.
	type read struct {
		recs []cleverRecord
		err  error
	}
	cleverRead := make(chan read, 1)
	if s.db.Dialect == dialect.Postgres {
		go func() {
			recs, err := cleverRecords(ctx, s.db.Client, districtID, typ)
			cleverRead <- read{recs, err}
		}()
	}
	var recs []*ent.AppRecord
	var err error
	if first != nil {
		recs = first.recs
	} else {
		recs, err = c.AppRecord.Query().
			Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(entType(typ))).
			Select(apprecord.FieldID, apprecord.FieldExternalID, apprecord.FieldMatchValues, apprecord.FieldStatus,
				apprecord.FieldCleverID, apprecord.FieldMethod, apprecord.FieldScore, apprecord.FieldExplanation,
				apprecord.FieldDecidedBy, apprecord.FieldMissingSince).All(ctx)
	}
	if err != nil {
		return Counts{}, err
	}
	// In the order of their ids (sorted here: a database's plan may cost more than the sort).
	slices.SortFunc(recs, func(a, b *ent.AppRecord) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	var clever []cleverRecord
	if s.db.Dialect == dialect.Postgres {
		r := <-cleverRead
		clever, err = r.recs, r.err
	} else if len(recs) > 0 {
		clever, err = cleverRecords(ctx, c, districtID, typ)
	}
	if len(recs) == 0 && first == nil {
		return Counts{Type: entType(typ)}, nil
	}
	if err != nil {
		return Counts{}, fmt.Errorf("read the mirror's %s records: %w", typ, err)
	}
	archived := map[string]bool{}
	active := make([]match.Record, 0, len(clever))
	for _, r := range clever {
		if r.archived {
			archived[r.ID] = true
			continue
		}
		active = append(active, r.Record)
	}
	var sugg []*ent.MatchSuggestion
	if first == nil { // a first import's records have none
		sugg, err = c.MatchSuggestion.Query().
			Where(matchsuggestion.DistrictID(districtID), matchsuggestion.TypeEQ(matchsuggestion.Type(entType(typ)))).All(ctx)
		if err != nil {
			return Counts{}, err
		}
	}
	stored := map[string]map[string]*ent.MatchSuggestion{} // app record → Clever id → suggestion
	for _, sg := range sugg {
		if stored[sg.AppRecordID] == nil {
			stored[sg.AppRecordID] = map[string]*ent.MatchSuggestion{}
		}
		stored[sg.AppRecordID][sg.CleverID] = sg
	}

	// What is not rematched, and the Clever records it holds.
	keep := make([]bool, len(recs))
	taken := map[string]string{} // Clever id → the external id of the app record that holds it
	for i, r := range recs {
		switch {
		case decided(r), r.MissingSince != nil:
			keep[i] = true
		case r.Status == apprecord.StatusMATCHED && r.CleverID != nil && archived[*r.CleverID]:
			keep[i] = true
		}
		// A record the app no longer sends holds its Clever record only by an admin's decision: its
		// automatic match is free for the app's current records.
		if keep[i] && r.Status == apprecord.StatusMATCHED && r.CleverID != nil && (decided(r) || r.MissingSince == nil) {
			taken[*r.CleverID] = r.ExternalID
		}
	}

	refs, err := s.appRefs(ctx, c, districtID, typ)
	if err != nil {
		return Counts{}, err
	}
	app := make([]match.Record, 0, len(recs))
	idx := make([]int, 0, len(recs)) // app[k] is recs[idx[k]]
	for i, r := range recs {
		if r.MissingSince != nil {
			continue
		}
		app = append(app, match.Record{ID: r.ExternalID, Values: refs.resolve(r.MatchValues)})
		idx = append(idx, i)
	}
	loaded := time.Now()
	out := match.Match(typ, app, active, s.cfg[typ])
	matched := time.Now()

	w := writes{districtID: districtID, typ: matchsuggestion.Type(entType(typ)), now: s.nowUTC(), fresh: first != nil}
	for k, res := range out.Results {
		r := recs[idx[k]]
		if keep[idx[k]] {
			continue
		}
		d := decide(res, stored[r.ID], taken)
		w.record(r, d)
		w.suggest(r, d, stored[r.ID])
	}
	if err := w.apply(ctx, tx); err != nil {
		return Counts{}, err
	}
	if first != nil {
		if err := w.insertFresh(ctx, tx); err != nil {
			return Counts{}, fmt.Errorf("store app records: %w", err)
		}
	}
	s.log.DebugContext(ctx, "app records rematched", "district", districtID, "type", string(typ), "app_records", len(app),
		"clever_records", len(active), "pairs", out.Stats.Pairs, "results_written", len(w.records),
		"suggestions_written", len(w.created)+len(w.updated), "read", loaded.Sub(start), "match", matched.Sub(loaded),
		"write", time.Since(matched))
	return counts(ctx, c, districtID, typ)
}

// decision is what a rematch makes of one app record.
type decision struct {
	status      apprecord.Status
	cleverID    string
	method      string
	score       float64
	explanation string
	candidates  []match.Candidate // the suggestions to keep open, best first
}

// decide turns match's result for a record into its decision, setting aside the pairs an admin rejected
// and the Clever records other app records hold.
func decide(res match.Result, stored map[string]*ent.MatchSuggestion, taken map[string]string) decision {
	var cands []match.Candidate
	for _, c := range res.Candidates {
		if sg := stored[c.CleverID]; sg != nil && sg.Status == matchsuggestion.StatusREJECTED {
			continue
		}
		if holder, ok := taken[c.CleverID]; ok {
			c.Explanation += "; the Clever record is already matched to app record " + holder
		}
		cands = append(cands, c)
	}
	status := apprecord.Status(res.Status)
	if status == apprecord.StatusMATCHED {
		_, isTaken := taken[res.CleverID]
		if len(cands) == 0 || cands[0].CleverID != res.CleverID || isTaken {
			status = apprecord.StatusSUGGESTED
		}
	}
	if status == apprecord.StatusSUGGESTED && len(cands) == 0 {
		status = apprecord.StatusUNMATCHED
	}
	d := decision{status: status}
	switch status {
	case apprecord.StatusMATCHED:
		best := cands[0]
		d.cleverID, d.method, d.score, d.explanation = best.CleverID, best.Method, round(best.Score), best.Explanation
	case apprecord.StatusSUGGESTED:
		best := cands[0]
		d.method, d.score = best.Method, round(best.Score)
		d.explanation = fmt.Sprintf("best suggestion %s (%.2f): %s", best.CleverID, best.Score, best.Explanation)
		if len(cands) > 1 {
			d.explanation += fmt.Sprintf("; %d more", len(cands)-1)
		}
		d.candidates = cands
	case apprecord.StatusDUPLICATE:
		d.explanation = "the app has this record more than once (also " + strings.Join(res.DuplicateOf, ", ") +
			"): not matched; match the right one by hand"
		if len(cands) > 0 {
			d.score = round(cands[0].Score)
		}
		d.candidates = cands
	}
	return d
}

// round keeps scores to 4 decimals, so that a rematch of the same data compares equal.
func round(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

// writes are a rematch's changes, applied in bulk.
type writes struct {
	records    [][]any // id, status, clever_id, method, score, explanation, updated_at
	created    [][]any // new suggestions, every column (suggestionColumns)
	updated    [][]any // id, score, weight, rank, method, explanation, status, updated_at
	supersede  []string
	fresh      bool // the records are a first import's, in freshTable
	districtID string
	typ        matchsuggestion.Type
	now        time.Time
}

var (
	recordColumns = []string{apprecord.FieldID, apprecord.FieldStatus, apprecord.FieldCleverID, apprecord.FieldMethod,
		apprecord.FieldScore, apprecord.FieldExplanation, apprecord.FieldUpdatedAt}
	suggestionColumns = []string{matchsuggestion.FieldID, matchsuggestion.FieldAppRecordID, matchsuggestion.FieldDistrictID,
		matchsuggestion.FieldType, matchsuggestion.FieldCleverID, matchsuggestion.FieldScore, matchsuggestion.FieldWeight,
		matchsuggestion.FieldRank, matchsuggestion.FieldMethod, matchsuggestion.FieldExplanation, matchsuggestion.FieldStatus,
		matchsuggestion.FieldDecidedBy, matchsuggestion.FieldCreatedAt, matchsuggestion.FieldUpdatedAt}
	suggestionUpdateColumns = []string{matchsuggestion.FieldID, matchsuggestion.FieldScore, matchsuggestion.FieldWeight,
		matchsuggestion.FieldRank, matchsuggestion.FieldMethod, matchsuggestion.FieldExplanation, matchsuggestion.FieldStatus,
		matchsuggestion.FieldUpdatedAt}
)

func (w *writes) record(r *ent.AppRecord, d decision) {
	clever := ""
	if r.CleverID != nil {
		clever = *r.CleverID
	}
	if r.Status == d.status && clever == d.cleverID && r.Method == d.method && r.Score == d.score && r.Explanation == d.explanation {
		return
	}
	var cid any
	if d.cleverID != "" {
		cid = d.cleverID
	}
	w.records = append(w.records, []any{r.ID, string(d.status), cid, d.method, d.score, d.explanation, w.now})
}

func (w *writes) suggest(r *ent.AppRecord, d decision, stored map[string]*ent.MatchSuggestion) {
	open := map[string]bool{}
	for k, c := range d.candidates {
		open[c.CleverID] = true
		sc, rank := round(c.Score), k+1
		sg := stored[c.CleverID]
		switch {
		case sg == nil:
			w.created = append(w.created, []any{matchsuggestion.DefaultID(), r.ID, w.districtID, string(w.typ), c.CleverID, sc, c.Weight,
				rank, c.Method, c.Explanation, string(matchsuggestion.StatusOPEN), "", w.now, w.now})
		case sg.Status == matchsuggestion.StatusOPEN && sg.Score == sc && sg.Rank == rank && sg.Method == c.Method && sg.Explanation == c.Explanation:
			// unchanged
		default:
			w.updated = append(w.updated, []any{sg.ID, sc, c.Weight, rank, c.Method, c.Explanation, string(matchsuggestion.StatusOPEN), w.now})
		}
	}
	for id, sg := range stored {
		if sg.Status == matchsuggestion.StatusOPEN && !open[id] {
			w.supersede = append(w.supersede, sg.ID)
		}
	}
}

// freshResults stages the results of a first import's records (insertFresh).
const freshResults = "stage_fresh_results"

// insertFresh moves a first import's records from freshTable into the table, each with its result: one
// INSERT … SELECT joining the staged records with their staged results.
func (w *writes) insertFresh(ctx context.Context, tx *txn) error {
	if err := tx.bulk.TempLike(ctx, freshResults, apprecord.Table, recordColumns...); err != nil {
		return err
	}
	if err := tx.bulk.Insert(ctx, freshResults, recordColumns, w.records); err != nil {
		return err
	}
	var sel []string
	all := []string{apprecord.FieldID, apprecord.FieldDistrictID, apprecord.FieldType, apprecord.FieldExternalID,
		apprecord.FieldFields, apprecord.FieldMatchValues, apprecord.FieldStatus, apprecord.FieldCleverID,
		apprecord.FieldMethod, apprecord.FieldScore, apprecord.FieldExplanation, apprecord.FieldDecidedBy,
		apprecord.FieldDecidedAt, apprecord.FieldMissingSince, apprecord.FieldCreatedAt, apprecord.FieldUpdatedAt}
	for _, c := range all {
		switch {
		case c == apprecord.FieldCleverID:
			sel = append(sel, "r."+c)
		case slices.Contains(recordColumns[1:], c):
			sel = append(sel, "COALESCE(r."+c+", f."+c+")")
		default:
			sel = append(sel, "f."+c)
		}
	}
	_, err := tx.bulk.Exec(ctx, "INSERT INTO "+apprecord.Table+" ("+strings.Join(all, ", ")+") SELECT "+strings.Join(sel, ", ")+
		" FROM "+freshTable+" AS f LEFT JOIN "+freshResults+" AS r ON r.id = f.id")
	return err
}

func (w *writes) apply(ctx context.Context, tx *txn) error {
	if !w.fresh { // a first import's records are not in the table yet: their results go in with them (insertFresh)
		if err := tx.bulk.Update(ctx, apprecord.Table, recordColumns, w.records); err != nil {
			return fmt.Errorf("store match results: %w", err)
		}
	}
	if err := tx.bulk.Insert(ctx, matchsuggestion.Table, suggestionColumns, w.created); err != nil {
		return fmt.Errorf("store suggestions: %w", err)
	}
	if err := tx.bulk.Update(ctx, matchsuggestion.Table, suggestionUpdateColumns, w.updated); err != nil {
		return fmt.Errorf("store suggestions: %w", err)
	}
	slices.Sort(w.supersede)
	if _, err := tx.bulk.ExecIn(ctx, "UPDATE "+matchsuggestion.Table+" SET status = ?, updated_at = ? WHERE %s",
		[]any{string(matchsuggestion.StatusSUPERSEDED), w.now}, matchsuggestion.FieldID, w.supersede); err != nil {
		return fmt.Errorf("close suggestions: %w", err)
	}
	return nil
}

// counts counts the district's current app records of one type by status (those the last import no
// longer had are left out).
func counts(ctx context.Context, c *ent.Client, districtID string, typ match.Type) (Counts, error) {
	var rows []struct {
		Status apprecord.Status `json:"status"`
		Count  int              `json:"count"`
	}
	err := c.AppRecord.Query().Where(apprecord.DistrictID(districtID), apprecord.TypeEQ(entType(typ)), apprecord.MissingSinceIsNil()).
		GroupBy(apprecord.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return Counts{}, err
	}
	out := Counts{Type: entType(typ)}
	for _, r := range rows {
		switch r.Status {
		case apprecord.StatusMATCHED:
			out.Matched = r.Count
		case apprecord.StatusSUGGESTED:
			out.Suggested = r.Count
		case apprecord.StatusUNMATCHED:
			out.Unmatched = r.Count
		case apprecord.StatusDUPLICATE:
			out.Duplicate = r.Count
		}
	}
	return out, nil
}
