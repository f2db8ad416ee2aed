package mirror

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/rostermirror/rostermirror/sync/clever"
)

// batchReader reads one record type from Clever in a goroutine of its own and hands it to the writer in
// batches, so that reading the next records overlaps writing the previous ones. The hand-over holds one
// batch: besides the batch being written, the reader holds at most that one and the one it fills (and
// the client's prefetched page), which bounds memory whatever the size of the list.
//
// With a lookup (on Postgres), the reader also reads what the mirror holds of each batch's records, so
// that the writer only writes. It may do so outside the writer's transaction because the run holds the
// district's lock — no one else writes the district's records — and a record comes once in a read: its
// state when the run began is its state when its batch is written.
//
// The writer ranges over c; when c closes, err says how the read ended: nil only when Clever's list was
// read to the end. stop must be called when the writer is done, early or not: it cancels the read and
// waits for the goroutine to end.
type batchReader struct {
	c      <-chan batch
	err    error // written before c closes: read it only after c is closed
	cancel context.CancelFunc
	done   chan struct{}
}

// batch is a batch of records read, with what the mirror holds of them (nil when the reader has no
// lookup).
type batch struct {
	items []item
	have  map[string]state
}

// readBatches starts reading kind from rd (records of districtID only; see read), in batches of size,
// each looked up with lookup if it is not nil.
func readBatches(ctx context.Context, rd Reader, districtID, kind string, now time.Time, size int,
	lookup func(context.Context, []string) (map[string]state, error)) *batchReader {
	ctx, cancel := context.WithCancel(ctx)
	c := make(chan batch, 1)
	b := &batchReader{c: c, cancel: cancel, done: make(chan struct{})}
	send := func(items []item) error {
		out := batch{items: items}
		if lookup != nil {
			ids := make([]string, len(items))
			for i, it := range items {
				ids[i] = it.rec.id
			}
			var err error
			if out.have, err = lookup(ctx, ids); err != nil {
				return err
			}
		}
		if ctx.Err() == nil {
			select {
			case c <- out:
				return nil
			case <-ctx.Done():
			}
		}
		return fmt.Errorf("list %s: %w", kind, cmp.Or(context.Cause(ctx), context.Canceled))
	}
	go func() {
		defer close(b.done)
		defer close(c)
		b.err = func() error {
			batch := make([]item, 0, size)
			for it, err := range read(ctx, rd, kind, now) {
				if err != nil {
					return err
				}
				if it.rec.districtID != districtID {
					return fmt.Errorf("%s %s belongs to district %q, not %s: %w", kind, it.rec.id, it.rec.districtID, districtID, clever.ErrMalformed)
				}
				if batch = append(batch, it); len(batch) == size {
					if err := send(batch); err != nil {
						return err
					}
					batch = make([]item, 0, size)
				}
			}
			if len(batch) > 0 {
				return send(batch)
			}
			return nil
		}()
	}()
	return b
}

// stop cancels the read, if it still runs, and waits until its goroutine has ended. A batch left in the
// hand-over is dropped with the channel.
func (b *batchReader) stop() {
	b.cancel()
	<-b.done
}
