// Package tokens keeps each connected district's Clever token and its health, and gives the sync engine
// the token to use (it implements mirror.Tokens).
//
// Tokens come from two places. Districts that connected the app in Clever are listed by
// GET /oauth/tokens with the app's credentials; Clever rotates those tokens, so Token asks Clever again on
// every call. Tokens copied by hand from the Clever dashboard come from CLEVER_DISTRICT_TOKENS (Static)
// and win over Clever's listing for the same district. Every token the store hands out is written to the
// district_tokens table sealed with a secret.Box, together with its health: ok, revoked (Clever refused
// the token or stopped listing it: the district disconnected the app) or error (Clever could not be
// asked). A row exists for each district the store has held a token for; marking health never creates
// one.
//
// Tokens never reach a log line or an error: clever.Token redacts itself, the sealed bytes are Sensitive
// in ent, and messages name only district ids.
package tokens

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/districttoken"
	"github.com/rostermirror/rostermirror/internal/secret"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// OAuth is what the store needs of Clever's OAuth endpoints. *clever.Client implements it.
type OAuth interface {
	// DistrictTokens lists the app's district tokens, or only districtID's when it is not empty.
	DistrictTokens(ctx context.Context, districtID string) ([]clever.DistrictToken, error)
}

// Config configures a Store. DB and Box are required.
type Config struct {
	// DB holds the district_tokens table.
	DB *store.DB
	// Box seals tokens before they are stored (secret.NewBox of ROSTERMIRROR_SECRET_KEY).
	Box *secret.Box
	// OAuth lists district tokens from Clever. Nil when the app has no CLEVER_CLIENT_ID: only Static
	// tokens are available then.
	OAuth OAuth
	// Static are tokens copied from the Clever dashboard, by district id (CLEVER_DISTRICT_TOKENS, see
	// ParseStatic). A static token wins over Clever's listing for the same district.
	Static map[string]clever.Token
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a line per health change and one per Connected call. Never a token.
	// Default: discard.
	Logger *slog.Logger
}

// Store finds districts' tokens and keeps their health. It is safe for concurrent use.
type Store struct {
	db     *store.DB
	box    *secret.Box
	oauth  OAuth
	static map[string]clever.Token
	now    func() time.Time
	log    *slog.Logger
}

// Store implements the sync engine's view of tokens.
var _ mirror.Tokens = (*Store)(nil)

// ErrUnavailable: Clever's OAuth endpoint could not be asked for a token (network failure, 5xx, the
// app's credentials refused). The district is not known to be disconnected; try again later.
var ErrUnavailable = errors.New("clever token listing unavailable")

// ErrUnknownDistrict: no token was ever stored for the district.
var ErrUnknownDistrict = errors.New("no token recorded for the district")

// Token health statuses, as stored.
const (
	StatusOK      = districttoken.StatusOk
	StatusRevoked = districttoken.StatusRevoked
	StatusError   = districttoken.StatusError
)

// Token sources, as stored.
const (
	SourceOAuth = districttoken.SourceOAuth
	SourceEnv   = districttoken.SourceEnv
)

// Log attribute keys, defined once.
const (
	logDistrict  = "district"
	logStatus    = "status"
	logSource    = "source"
	logError     = "error"
	logConnected = "connected"
	logRevoked   = "revoked"
)

// New validates cfg and returns a Store.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.Box == nil {
		return nil, errors.New("new token store: DB and Box are required")
	}
	for id, tok := range cfg.Static {
		if id == "" || tok == "" {
			return nil, errors.New("new token store: a static token has an empty district id or token")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{
		db:     cfg.DB,
		box:    cfg.Box,
		oauth:  cfg.OAuth,
		static: maps.Clone(cfg.Static),
		now:    cfg.Now,
		log:    cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// Token returns the district's current token. A static token is returned as it is. Otherwise Clever is
// asked for the district's token on every call, because Clever rotates them. The token is stored sealed
// with status ok.
//
// When Clever lists no token for the district, the district is marked revoked and the error matches
// mirror.ErrDisconnected. When Clever cannot be asked, the district is marked error and the error matches
// ErrUnavailable — never mirror.ErrDisconnected, so an outage does not look like a disconnection.
func (s *Store) Token(ctx context.Context, districtID string) (clever.Token, error) {
	if tok, ok := s.static[districtID]; ok {
		if err := s.write(ctx, func(tx *ent.Tx, now time.Time) error {
			return s.put(ctx, tx, districtID, tok, SourceEnv, now)
		}); err != nil {
			return "", fmt.Errorf("get token of district %s: %w", districtID, err)
		}
		return tok, nil
	}
	if s.oauth == nil {
		const why = "no token: CLEVER_DISTRICT_TOKENS has none for the district and no Clever app credentials are configured"
		if err := s.markOne(ctx, districtID, StatusRevoked, why); err != nil {
			return "", fmt.Errorf("get token of district %s: %w", districtID, err)
		}
		return "", fmt.Errorf("get token of district %s: %w (%s)", districtID, mirror.ErrDisconnected, why)
	}
	listed, err := s.oauth.DistrictTokens(ctx, districtID)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("get token of district %s: %w", districtID, err)
		}
		err = unavailable(err)
		if merr := s.markOne(ctx, districtID, StatusError, err.Error()); merr != nil {
			return "", fmt.Errorf("get token of district %s: %w (and %w)", districtID, err, merr)
		}
		return "", fmt.Errorf("get token of district %s: %w", districtID, err)
	}
	tok, ok := newest(listed)[districtID]
	if !ok {
		const why = "Clever no longer lists a token for the district: it disconnected the app"
		if err := s.markOne(ctx, districtID, StatusRevoked, why); err != nil {
			return "", fmt.Errorf("get token of district %s: %w", districtID, err)
		}
		return "", fmt.Errorf("get token of district %s: %w", districtID, mirror.ErrDisconnected)
	}
	if err := s.write(ctx, func(tx *ent.Tx, now time.Time) error {
		return s.put(ctx, tx, districtID, tok, SourceOAuth, now)
	}); err != nil {
		return "", fmt.Errorf("get token of district %s: %w", districtID, err)
	}
	return tok, nil
}

// unavailable wraps a failure to list tokens in ErrUnavailable. A 401 from /oauth/tokens means the app's
// own credentials were refused; it is reported as such and no longer matches clever.ErrUnauthorized, which
// callers take to mean that a district's token was refused.
func unavailable(err error) error {
	if errors.Is(err, clever.ErrUnauthorized) {
		return fmt.Errorf("%w: Clever refused the app's credentials (CLEVER_CLIENT_ID, CLEVER_CLIENT_SECRET): %v", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// newest picks each district's token from a listing: the most recently created when Clever lists
// several, the last listed among equals.
func newest(listed []clever.DistrictToken) map[string]clever.Token {
	out := make(map[string]clever.Token, len(listed))
	created := make(map[string]time.Time, len(listed))
	for _, t := range listed {
		id := t.Owner.ID
		if id == "" || t.AccessToken == "" || (t.Owner.Type != "" && t.Owner.Type != "district") {
			continue
		}
		at, _ := t.Created.Time()
		if _, seen := out[id]; seen && at.Before(created[id]) {
			continue
		}
		out[id], created[id] = t.AccessToken, at
	}
	return out
}

// Used records that the district's token worked just now. It does not change the token's status.
func (s *Store) Used(ctx context.Context, districtID string) error {
	now := s.now()
	n, err := s.db.Client.DistrictToken.Update().
		Where(districttoken.ID(districtID)).
		SetLastUsedAt(now).
		SetUpdatedAt(now).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("record use of token of district %s: %w", districtID, err)
	}
	if n == 0 {
		return fmt.Errorf("record use of token of district %s: %w", districtID, ErrUnknownDistrict)
	}
	return nil
}

// Revoked records that Clever refused the district's token (401) or stopped listing it; cause is kept as
// the last error. The next Token call asks Clever again, and marks the token ok if Clever lists one.
func (s *Store) Revoked(ctx context.Context, districtID string, cause error) error {
	why := "Clever refused the token"
	if cause != nil {
		why += ": " + cause.Error()
	}
	var found bool
	err := s.write(ctx, func(tx *ent.Tx, now time.Time) error {
		var err error
		found, err = s.mark(ctx, tx, districtID, StatusRevoked, why, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("record revoked token of district %s: %w", districtID, err)
	}
	if !found {
		return fmt.Errorf("record revoked token of district %s: %w", districtID, ErrUnknownDistrict)
	}
	return nil
}

// Connected lists the districts to sync, sorted: every district Clever lists a token for (one
// GET /oauth/tokens?owner_type=district) plus the static ones. In one transaction it stores each listed
// token sealed with status ok, and marks revoked the stored tokens that are no longer available: oauth
// tokens of districts Clever stopped listing (they disconnected the app) and env tokens no longer in
// Static. Without OAuth only the static districts are listed and stored oauth tokens are left as they are.
//
// When Clever cannot be asked, Connected returns an error matching ErrUnavailable and changes nothing.
func (s *Store) Connected(ctx context.Context) ([]string, error) {
	listed := map[string]clever.Token{}
	if s.oauth != nil {
		all, err := s.oauth.DistrictTokens(ctx, "")
		if err != nil {
			if ctx.Err() == nil {
				err = unavailable(err)
			}
			return nil, fmt.Errorf("list connected districts: %w", err)
		}
		listed = newest(all)
	}
	maps.Copy(listed, s.static) // static wins
	revoked := 0
	err := s.write(ctx, func(tx *ent.Tx, now time.Time) error {
		revoked = 0
		rows, err := lockRows(tx.DistrictToken.Query(), s.db.Dialect).All(ctx)
		if err != nil {
			return fmt.Errorf("read district tokens: %w", err)
		}
		for _, id := range slices.Sorted(maps.Keys(listed)) {
			src := SourceOAuth
			if _, ok := s.static[id]; ok {
				src = SourceEnv
			}
			if err := s.put(ctx, tx, id, listed[id], src, now); err != nil {
				return err
			}
		}
		for _, row := range rows {
			if _, ok := listed[row.ID]; ok || row.Status == StatusRevoked {
				continue
			}
			why := ""
			switch {
			case row.Source == SourceEnv:
				why = "the token was removed from CLEVER_DISTRICT_TOKENS"
			case s.oauth != nil:
				why = "Clever no longer lists a token for the district: it disconnected the app"
			default:
				continue // without app credentials, Clever's listing is unknown
			}
			if _, err := s.mark(ctx, tx, row.ID, StatusRevoked, why, now); err != nil {
				return err
			}
			revoked++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list connected districts: %w", err)
	}
	ids := slices.Sorted(maps.Keys(listed))
	s.log.InfoContext(ctx, "connected districts listed", slog.Int(logConnected, len(ids)), slog.Int(logRevoked, revoked))
	return ids, nil
}

// Health is a district token's state for admins. It never holds the token.
type Health struct {
	// DistrictID is the district's Clever id.
	DistrictID string
	// Status is ok, revoked (Clever refused or stopped listing the token) or error (Clever could not be
	// asked for it).
	Status districttoken.Status
	// Source is oauth (listed by Clever) or env (CLEVER_DISTRICT_TOKENS).
	Source districttoken.Source
	// LastUsedAt is when a sync last reported the token working; zero if never.
	LastUsedAt time.Time
	// LastError says why the status is not ok; empty when it is ok.
	LastError string
	// StatusChangedAt is since when the token has had its status.
	StatusChangedAt time.Time
	// UpdatedAt is when the row was last written.
	UpdatedAt time.Time
}

// Health reports the district's token state. It returns an error matching ErrUnknownDistrict when no
// token was ever stored for the district.
func (s *Store) Health(ctx context.Context, districtID string) (Health, error) {
	row, err := s.db.Client.DistrictToken.Get(ctx, districtID)
	if ent.IsNotFound(err) {
		return Health{}, fmt.Errorf("get token health of district %s: %w", districtID, ErrUnknownDistrict)
	}
	if err != nil {
		return Health{}, fmt.Errorf("get token health of district %s: %w", districtID, err)
	}
	h := Health{
		DistrictID: row.ID,
		Status:     row.Status,
		Source:     row.Source,
		LastError:  row.LastError,
		UpdatedAt:  row.UpdatedAt,
	}
	if row.LastUsedAt != nil {
		h.LastUsedAt = *row.LastUsedAt
	}
	if row.StatusChangedAt != nil {
		h.StatusChangedAt = *row.StatusChangedAt
	}
	return h, nil
}

// aad binds a sealed token to its district, so a ciphertext cannot be moved to another district's row.
func aad(districtID string) string { return "rostermirror district_tokens " + districtID }

// write runs fn in a transaction, with the time of the write.
func (s *Store) write(ctx context.Context, fn func(tx *ent.Tx, now time.Time) error) error {
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx, s.now()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (and roll back: %w)", err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// lockRows makes q lock the rows it reads on Postgres, so that concurrent writers of the same district
// see each other's status. SQLite transactions already take the write lock when they begin.
func lockRows(q *ent.DistrictTokenQuery, d string) *ent.DistrictTokenQuery {
	if d == dialect.Postgres {
		q.Modify(func(s *sql.Selector) { s.ForUpdate() })
	}
	return q
}

// current reads the district's row in tx, or nil when there is none.
func (s *Store) current(ctx context.Context, tx *ent.Tx, districtID string) (*ent.DistrictToken, error) {
	row, err := lockRows(tx.DistrictToken.Query().Where(districttoken.ID(districtID)), s.db.Dialect).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read district token: %w", err)
	}
	return row, nil
}

// put stores the district's token sealed, from src, with status ok.
func (s *Store) put(ctx context.Context, tx *ent.Tx, districtID string, tok clever.Token, src districttoken.Source, now time.Time) error {
	prev, err := s.current(ctx, tx, districtID)
	if err != nil {
		return err
	}
	sealed, err := s.box.Seal([]byte(tok.Reveal()), aad(districtID))
	if err != nil {
		return fmt.Errorf("seal token: %w", err)
	}
	changedAt := now
	if prev != nil && prev.Status == StatusOK && prev.StatusChangedAt != nil {
		changedAt = *prev.StatusChangedAt
	}
	err = tx.DistrictToken.Create().
		SetID(districtID).
		SetCiphertext(sealed).
		SetSource(src).
		SetStatus(StatusOK).
		SetLastError("").
		SetStatusChangedAt(changedAt).
		SetUpdatedAt(now).
		OnConflictColumns(districttoken.FieldID).
		UpdateNewValues().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store district token: %w", err)
	}
	if prev == nil || prev.Status != StatusOK || prev.Source != src {
		s.log.InfoContext(ctx, "district token stored", slog.String(logDistrict, districtID),
			slog.String(logSource, string(src)), slog.String(logStatus, string(StatusOK)))
	}
	return nil
}

// markOne sets the district's status in a transaction of its own; see mark.
func (s *Store) markOne(ctx context.Context, districtID string, status districttoken.Status, why string) error {
	return s.write(ctx, func(tx *ent.Tx, now time.Time) error {
		_, err := s.mark(ctx, tx, districtID, status, why, now)
		return err
	})
}

// mark sets the status and last error of the district's stored token, moving status_changed_at only when
// the status changes. It reports whether there was a row; it never creates one.
func (s *Store) mark(ctx context.Context, tx *ent.Tx, districtID string, status districttoken.Status, why string, now time.Time) (bool, error) {
	prev, err := s.current(ctx, tx, districtID)
	if err != nil || prev == nil {
		return false, err
	}
	upd := tx.DistrictToken.UpdateOneID(districtID).SetStatus(status).SetLastError(why).SetUpdatedAt(now)
	if prev.Status != status {
		upd.SetStatusChangedAt(now)
	}
	if err := upd.Exec(ctx); err != nil {
		return true, fmt.Errorf("mark district token %s: %w", status, err)
	}
	if prev.Status != status {
		s.log.WarnContext(ctx, "district token "+strings.ToLower(string(status)), slog.String(logDistrict, districtID),
			slog.String(logStatus, string(status)), slog.String(logError, why))
	}
	return true, nil
}
