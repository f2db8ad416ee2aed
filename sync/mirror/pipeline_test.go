package mirror_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// endlessUsers is the district's reader, but its users list never ends: it yields new users as fast as
// they are taken, so the engine's reader is always ahead of its writer, blocked on the hand-over.
type endlessUsers struct {
	mirror.Reader
	districtID string
	fail       func(i int) error // when it returns an error, the list fails with it at user i
	repeat     int               // user repeat has the id of user 0 (a paging bug): its write fails
	yielded    atomic.Int64
	stopped    chan struct{} // closed when the list returns
}

func endlessUserID(i int) string { return fmt.Sprintf("e%023x", i) }

func (r *endlessUsers) Users(ctx context.Context, _ ...clever.Role) iter.Seq2[clever.User, error] {
	return func(yield func(clever.User, error) bool) {
		defer close(r.stopped)
		for i := 0; ; i++ {
			if r.fail != nil {
				if err := r.fail(i); err != nil {
					yield(clever.User{}, err)
					return
				}
			}
			id := endlessUserID(i)
			if i == r.repeat && i > 0 {
				id = endlessUserID(0)
			}
			u := clever.User{ID: id, District: r.districtID}
			u.Raw = json.RawMessage(`{"id":"` + id + `","district":"` + r.districtID + `"}`)
			r.yielded.Add(1)
			if !yield(u, nil) {
				return
			}
		}
	}
}

// TestPipelineStopsOnEitherSide: the users list is read in a goroutine ahead of the writes. When the
// writer fails, the read fails or the run is cancelled, the run reports it, the users type commits
// nothing, and the read has stopped by the time SyncDistrict returns — having run at most a few batches
// ahead of the writer (memory stays bounded). The package's TestMain checks that no goroutine outlives
// the tests.
func TestPipelineStopsOnEitherSide(t *testing.T) {
	t.Parallel()
	const batch = 25
	errList := errors.New("list users: page 7: boom")
	for _, tc := range []struct {
		name    string
		reader  func(r *endlessUsers)
		cancel  bool   // cancel the run once the first users batch is written
		wantErr string // in the run's users error
	}{
		{name: "writer fails while the reader waits", reader: func(r *endlessUsers) { r.repeat = batch + 3 }, wantErr: "note seen users"},
		{name: "reader fails mid-type", reader: func(r *endlessUsers) {
			r.fail = func(i int) error {
				if i == 3*batch+7 {
					return errList
				}
				return nil
			}
		}, wantErr: errList.Error()},
		{name: "run cancelled", cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{})
			h.mustSucceed()
			before := snapshot(t, h.db)
			r := &endlessUsers{districtID: h.districtID, stopped: make(chan struct{})}
			if tc.reader != nil {
				tc.reader(r)
			}
			e, err := mirror.New(mirror.Config{DB: h.db, Tokens: h.tokens, BatchSize: batch,
				Reader: func(tok clever.Token) mirror.Reader { r.Reader = h.client.WithToken(tok); return r }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			written := 0
			res, err := e.SyncDistrict(ctx, h.districtID, mirror.Options{Mode: mirror.ModeFull, Progress: func(p mirror.Progress) {
				if p.Kind == "users" && !p.Done {
					written = p.Read
					if tc.cancel {
						cancel()
					}
				}
			}})
			select {
			case <-r.stopped:
			default:
				t.Fatal("the users list is still being read after SyncDistrict returned")
			}
			if tc.cancel {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if res.Status != mirror.StatusFailed || !slices.ContainsFunc(res.Errors, func(e string) bool {
				return strings.HasPrefix(e, "users: ") && strings.Contains(e, tc.wantErr)
			}) {
				t.Errorf("status %s, errors %q; want failed with a users error containing %q", res.Status, res.Errors, tc.wantErr)
			}
			if written == 0 {
				t.Error("no users batch was written before the run stopped")
			}
			// Ahead of the writes by at most: the batch in hand-over and the one being filled.
			if n := int(r.yielded.Load()); n > written+2*batch+1 {
				t.Errorf("read %d users while %d were written: the reader ran more than two batches ahead", n, written)
			}
			if got := h.rows("SELECT count(*) FROM users WHERE clever_id LIKE 'e%'"); got[0] != "0" {
				t.Errorf("%s users of the failed read were committed", got[0])
			}
			after := snapshot(t, h.db)
			for _, table := range []string{"users", "user_roles", "role_schools", "contact_relationships"} {
				if !slices.Equal(after[table], before[table]) {
					t.Errorf("%s changed by a users sync that failed", table)
				}
			}
		})
	}
}
