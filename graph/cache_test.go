package graph

import (
	"strings"
	"testing"
)

// TestBoundedCacheBoundsBytes: an entry over maxEntry is not kept; adding past maxTotal drops the least
// recently used entries until the new one fits; the count bound holds too.
func TestBoundedCacheBoundsBytes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newBoundedCache(3, 100, 250, func(key string, _ int) int { return len(key) })
	c.Add(ctx, strings.Repeat("x", 101), 1)
	if c.Len() != 0 {
		t.Fatalf("an entry over maxEntry was kept: %d entries", c.Len())
	}
	a, b, d := strings.Repeat("a", 100), strings.Repeat("b", 100), strings.Repeat("d", 100)
	c.Add(ctx, a, 1)
	c.Add(ctx, b, 2)
	c.Get(ctx, a) // a is now the most recently used
	c.Add(ctx, d, 3)
	if _, ok := c.Get(ctx, b); ok {
		t.Error("the least recently used entry was kept past the byte bound")
	}
	if _, ok := c.Get(ctx, a); !ok {
		t.Error("a recently used entry was dropped")
	}
	if c.Bytes() != 200 || c.Len() != 2 {
		t.Errorf("%d entries, %d bytes; want 2 and 200", c.Len(), c.Bytes())
	}
	c.Add(ctx, a, 4) // replacing an entry does not count it twice
	if c.Bytes() != 200 {
		t.Errorf("after replacing an entry: %d bytes, want 200", c.Bytes())
	}
	for _, k := range []string{"e", "f", "g"} {
		c.Add(ctx, k, 5)
	}
	if c.Len() != 3 {
		t.Errorf("%d entries, want the count bound of 3", c.Len())
	}
}
