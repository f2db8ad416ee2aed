// Package testlog gives a test a logger whose lines go both to the test's own output (t.Output, where
// t.Log writes: shown when the test fails, or with -v) and to a buffer the test reads to check what was
// logged. Both are safe for the goroutines of the code under test, including those still logging after
// the test ended (their lines then go to the buffer only).
package testlog

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer safe for concurrent writers and readers: what a logger, or a command's output,
// writes while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Len is how many bytes were written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

// Log is what a test's logger wrote: JSON lines, one a record.
type Log struct {
	Buffer
	t    testing.TB
	mu   sync.Mutex // orders writes to the test's output with the end of the test
	done bool       // the test ended: writing to its output would panic
}

// New returns a logger that writes every record (debug included) as a JSON line to t's output and to
// the returned Log.
func New(t testing.TB) (*slog.Logger, *Log) {
	l := &Log{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.done = true
	})
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// Write appends p, one JSON line, to the buffer and, until the test ends, to the test's output.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	if !l.done {
		l.t.Output().Write(p)
	}
	l.mu.Unlock()
	return l.Buffer.Write(p)
}
