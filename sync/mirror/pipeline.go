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
// The writer ranges over c; when c closes, err says how the read ended: nil only when Clever's list was
// read to the end. stop must be called when the writer is done, early or not: it cancels the read and
// waits for the goroutine to end.
type batchReader struct {
	c      <-chan []item
	err    error // written before c closes: read it only after c is closed
	cancel context.CancelFunc
	done   chan struct{}
}

// readBatches starts reading kind from rd (records of districtID only; see read), in batches of size.
func readBatches(ctx context.Context, rd Reader, districtID, kind string, now time.Time, size int) *batchReader {
	ctx, cancel := context.WithCancel(ctx)
	c := make(chan []item, 1)
	b := &batchReader{c: c, cancel: cancel, done: make(chan struct{})}
	send := func(batch []item) error {
		if ctx.Err() == nil {
			select {
			case c <- batch:
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
