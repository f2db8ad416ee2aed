package apprecord

import (
	"context"
	"fmt"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/apprecord"
	"github.com/rostermirror/rostermirror/ent/matchsuggestion"
	"github.com/rostermirror/rostermirror/ent/school"
	"github.com/rostermirror/rostermirror/ent/section"
	"github.com/rostermirror/rostermirror/ent/userrole"
	"github.com/rostermirror/rostermirror/internal/audit"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/match"
)

// MethodManual is the method of a record an admin matched with matchRecord.
const MethodManual = "manual"

// MatchRecord matches the app record to the Clever record (admin). The decision is sticky: no import,
// sync or rematch changes it. The Clever record must be one of the record's district, of its kind (a
// user with the type's role, a school, a section), archived or not. A Clever record that another app
// record holds by an admin's decision is refused (unmatch that one first); one that another app record
// was matched to automatically is taken from it (that record goes back to matching).
func (s *Service) MatchRecord(ctx context.Context, appRecordID, cleverID string) (*ent.AppRecord, error) {
	return s.decideRecord(ctx, appRecordID, audit.MatchRecord, func(tx *txn, r *ent.AppRecord, actor string) (string, error) {
		if err := s.assign(ctx, tx, r, cleverID, MethodManual, "matched by "+actor, actor); err != nil {
			return "", err
		}
		return "matched to " + cleverID, nil
	})
}

// UnmatchRecord takes the app record's match away (admin): it is UNMATCHED by decision, so no rematch
// matches it again until an admin matches it (matchRecord, acceptSuggestion). The pair it had is
// recorded as rejected.
func (s *Service) UnmatchRecord(ctx context.Context, appRecordID string) (*ent.AppRecord, error) {
	return s.decideRecord(ctx, appRecordID, audit.UnmatchRecord, func(tx *txn, r *ent.AppRecord, actor string) (string, error) {
		c := tx.Client
		was := "no match"
		if r.CleverID != nil {
			was = *r.CleverID
			if err := c.MatchSuggestion.Create().SetAppRecordID(r.ID).SetDistrictID(r.DistrictID).
				SetType(matchsuggestion.Type(r.Type)).SetCleverID(*r.CleverID).SetScore(r.Score).SetWeight(0).
				SetMethod(r.Method).SetExplanation(r.Explanation).SetStatus(matchsuggestion.StatusREJECTED).
				SetDecidedBy(actor).SetDecidedAt(s.nowUTC()).
				OnConflictColumns(matchsuggestion.FieldAppRecordID, matchsuggestion.FieldCleverID).
				Update(func(u *ent.MatchSuggestionUpsert) { u.UpdateStatus().UpdateDecidedBy().UpdateDecidedAt() }).
				Exec(ctx); err != nil {
				return "", err
			}
		}
		if err := c.MatchSuggestion.Update().Where(matchsuggestion.AppRecordID(r.ID), matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN)).
			SetStatus(matchsuggestion.StatusSUPERSEDED).Exec(ctx); err != nil {
			return "", err
		}
		err := c.AppRecord.UpdateOneID(r.ID).SetStatus(apprecord.StatusUNMATCHED).ClearCleverID().SetMethod(MethodManual).
			SetScore(0).SetExplanation("unmatched by " + actor).SetDecidedBy(actor).SetDecidedAt(s.nowUTC()).Exec(ctx)
		return "unmatched (was " + was + ")", err
	})
}

// AcceptSuggestion matches the suggestion's app record to its Clever record (admin), as MatchRecord
// does; the record's other open suggestions are closed. Only an open suggestion can be accepted.
func (s *Service) AcceptSuggestion(ctx context.Context, id string) (*ent.MatchSuggestion, error) {
	return s.decideSuggestion(ctx, id, audit.AcceptSuggestion, func(tx *txn, sg *ent.MatchSuggestion, r *ent.AppRecord, actor string) (string, error) {
		if err := s.assign(ctx, tx, r, sg.CleverID, sg.Method, sg.Explanation, actor); err != nil {
			return "", err
		}
		return fmt.Sprintf("suggestion %s accepted: matched to %s", sg.ID, sg.CleverID), nil
	}, matchsuggestion.StatusACCEPTED)
}

// RejectSuggestion rejects an open suggestion (admin): the pair is never suggested or matched again.
// The record's status follows its remaining suggestions (UNMATCHED when none is left).
func (s *Service) RejectSuggestion(ctx context.Context, id string) (*ent.MatchSuggestion, error) {
	return s.decideSuggestion(ctx, id, audit.RejectSuggestion, func(tx *txn, sg *ent.MatchSuggestion, r *ent.AppRecord, actor string) (string, error) {
		if err := s.summarise(ctx, tx.Client, r); err != nil {
			return "", err
		}
		return fmt.Sprintf("suggestion %s (%s) rejected", sg.ID, sg.CleverID), nil
	}, matchsuggestion.StatusREJECTED)
}

// decideRecord runs an admin's decision on an app record in one transaction with its audit entry.
func (s *Service) decideRecord(ctx context.Context, id, action string, do func(tx *txn, r *ent.AppRecord, actor string) (string, error)) (*ent.AppRecord, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	var out *ent.AppRecord
	err := s.inTx(ctx, func(tx *txn) error {
		r, err := s.lockedRecord(ctx, tx, id)
		if err != nil {
			return err
		}
		outcome, err := do(tx, r, actor)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client, audit.Entry{Actor: actor, Action: action, Target: r.ID,
			Outcome: fmt.Sprintf("%s record %s of district %s: %s", matchType(r.Type), r.ExternalID, r.DistrictID, outcome)}); err != nil {
			return err
		}
		out, err = tx.Client.AppRecord.Get(ctx, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.db.Client.AppRecord.Get(ctx, out.ID)
}

// decideSuggestion settles an open suggestion as status and carries out what follows (then), with its
// audit entry, in one transaction.
func (s *Service) decideSuggestion(ctx context.Context, id, action string,
	then func(tx *txn, sg *ent.MatchSuggestion, r *ent.AppRecord, actor string) (string, error), status matchsuggestion.Status) (*ent.MatchSuggestion, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	actor := auth.Actor(ctx)
	err := s.inTx(ctx, func(tx *txn) error {
		c := tx.Client
		sg, err := c.MatchSuggestion.Get(ctx, id)
		if ent.IsNotFound(err) {
			return fmt.Errorf("%w: no suggestion %q", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		r, err := s.lockedRecord(ctx, tx, sg.AppRecordID)
		if err != nil {
			return err
		}
		if sg, err = c.MatchSuggestion.Get(ctx, id); err != nil { // as it is now that the type is locked
			return err
		}
		if sg.Status != matchsuggestion.StatusOPEN {
			return fmt.Errorf("%w: suggestion %s is %s, not OPEN", ErrInvalid, id, sg.Status)
		}
		if err := c.MatchSuggestion.UpdateOneID(id).SetStatus(status).SetDecidedBy(actor).SetDecidedAt(s.nowUTC()).Exec(ctx); err != nil {
			return err
		}
		outcome, err := then(tx, sg, r, actor)
		if err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{Actor: actor, Action: action, Target: r.ID,
			Outcome: fmt.Sprintf("%s record %s of district %s: %s", matchType(r.Type), r.ExternalID, r.DistrictID, outcome)})
	})
	if err != nil {
		return nil, err
	}
	return s.db.Client.MatchSuggestion.Get(ctx, id)
}

// lockedRecord reads an app record after locking its district's records of its type.
func (s *Service) lockedRecord(ctx context.Context, tx *txn, id string) (*ent.AppRecord, error) {
	r, err := tx.Client.AppRecord.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no app record %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.lockType(ctx, tx, r.DistrictID, matchType(r.Type)); err != nil {
		return nil, err
	}
	return tx.Client.AppRecord.Get(ctx, id)
}

// assign matches r to cleverID by an admin's decision.
func (s *Service) assign(ctx context.Context, tx *txn, r *ent.AppRecord, cleverID, method, explanation, actor string) error {
	c := tx.Client
	typ := matchType(r.Type)
	if err := checkClever(ctx, c, r.DistrictID, typ, cleverID); err != nil {
		return err
	}
	holders, err := c.AppRecord.Query().Where(apprecord.DistrictID(r.DistrictID), apprecord.TypeEQ(r.Type),
		apprecord.CleverID(cleverID), apprecord.StatusEQ(apprecord.StatusMATCHED), apprecord.IDNEQ(r.ID)).All(ctx)
	if err != nil {
		return err
	}
	for _, h := range holders {
		if decided(h) {
			return fmt.Errorf("%w: Clever record %s is already matched to app record %s (by %s); unmatch that one first",
				ErrInvalid, cleverID, h.ExternalID, h.DecidedBy)
		}
	}
	now := s.nowUTC()
	if err := c.AppRecord.UpdateOneID(r.ID).SetStatus(apprecord.StatusMATCHED).SetCleverID(cleverID).SetMethod(method).
		SetScore(1).SetExplanation(explanation).SetDecidedBy(actor).SetDecidedAt(now).Exec(ctx); err != nil {
		return err
	}
	if err := c.MatchSuggestion.Update().Where(matchsuggestion.AppRecordID(r.ID), matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN),
		matchsuggestion.CleverIDNEQ(cleverID)).SetStatus(matchsuggestion.StatusSUPERSEDED).Exec(ctx); err != nil {
		return err
	}
	if err := c.MatchSuggestion.Update().Where(matchsuggestion.AppRecordID(r.ID), matchsuggestion.CleverID(cleverID),
		matchsuggestion.StatusIn(matchsuggestion.StatusOPEN, matchsuggestion.StatusSUPERSEDED, matchsuggestion.StatusREJECTED)).
		SetStatus(matchsuggestion.StatusACCEPTED).SetDecidedBy(actor).SetDecidedAt(now).Exec(ctx); err != nil {
		return err
	}
	// The records that held it automatically lose it, and keep it as a suggestion that says whose it is.
	for _, h := range holders {
		note := fmt.Sprintf("%s; the Clever record is already matched to app record %s", h.Explanation, r.ExternalID)
		if err := c.MatchSuggestion.Create().SetAppRecordID(h.ID).SetDistrictID(h.DistrictID).SetType(matchsuggestion.Type(h.Type)).
			SetCleverID(cleverID).SetScore(h.Score).SetWeight(0).SetMethod(h.Method).SetExplanation(note).
			OnConflictColumns(matchsuggestion.FieldAppRecordID, matchsuggestion.FieldCleverID).
			Update(func(u *ent.MatchSuggestionUpsert) { u.UpdateStatus().UpdateExplanation() }).Exec(ctx); err != nil {
			return err
		}
		if err := c.AppRecord.UpdateOneID(h.ID).ClearCleverID().SetStatus(apprecord.StatusSUGGESTED).Exec(ctx); err != nil {
			return err
		}
		if err := s.summarise(ctx, c, h); err != nil {
			return err
		}
	}
	return nil
}

// summarise sets an undecided SUGGESTED record's status, method, score and explanation from its open
// suggestions (UNMATCHED when none is left), as a rematch would.
func (s *Service) summarise(ctx context.Context, c *ent.Client, r *ent.AppRecord) error {
	r, err := c.AppRecord.Get(ctx, r.ID)
	if err != nil || decided(r) || r.Status != apprecord.StatusSUGGESTED {
		return err
	}
	open, err := c.MatchSuggestion.Query().Where(matchsuggestion.AppRecordID(r.ID), matchsuggestion.StatusEQ(matchsuggestion.StatusOPEN)).
		Order(ent.Desc(matchsuggestion.FieldScore), ent.Asc(matchsuggestion.FieldCleverID)).All(ctx)
	if err != nil {
		return err
	}
	u := c.AppRecord.UpdateOneID(r.ID)
	if len(open) == 0 {
		return u.SetStatus(apprecord.StatusUNMATCHED).SetMethod("").SetScore(0).SetExplanation("").Exec(ctx)
	}
	best := open[0]
	expl := fmt.Sprintf("best suggestion %s (%.2f): %s", best.CleverID, best.Score, best.Explanation)
	if len(open) > 1 {
		expl += fmt.Sprintf("; %d more", len(open)-1)
	}
	return u.SetMethod(best.Method).SetScore(best.Score).SetExplanation(expl).Exec(ctx)
}

// checkClever makes sure cleverID is a record of the district of the type's kind.
func checkClever(ctx context.Context, c *ent.Client, districtID string, typ match.Type, cleverID string) error {
	var ok bool
	var err error
	switch typ {
	case match.School:
		ok, err = c.School.Query().Where(school.ID(cleverID), school.DistrictID(districtID)).Exist(ctx)
	case match.Section:
		ok, err = c.Section.Query().Where(section.ID(cleverID), section.DistrictID(districtID)).Exist(ctx)
	default:
		ok, err = c.UserRole.Query().Where(userrole.UserID(cleverID), userrole.DistrictID(districtID), userrole.RoleIn(rolesOf(typ)...)).Exist(ctx)
	}
	if err != nil {
		return err
	}
	if !ok {
		what := map[match.Type]string{match.School: "school", match.Section: "section", match.Student: "student",
			match.Teacher: "teacher", match.Staff: "staff member or district admin"}[typ]
		return fmt.Errorf("%w: no %s %q in district %s", ErrNotFound, what, cleverID, districtID)
	}
	return nil
}
