package graph

import (
	"context"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// boundedCache is a least-recently-used cache of query documents (parsed, or the text of persisted
// queries) bounded by the bytes of query text it holds, not only by its number of entries: a parsed
// document takes tens of times its text in memory (3 MB for an 83 KB document of id lists), so a
// thousand large documents held the server at gigabytes. Entries over maxEntry bytes are not kept at
// all (they are parsed again when they come again; the budget bounds that work); the least recently
// used go when the total would pass maxTotal. It is safe for concurrent use.
type boundedCache[T any] struct {
	maxEntry, maxTotal int
	size               func(key string, value T) int

	mu    sync.Mutex
	lru   *simplelru.LRU[string, T]
	total int
}

// newBoundedCache returns a cache of at most entries entries, each of at most maxEntry bytes and
// maxTotal bytes in all, as size counts them.
func newBoundedCache[T any](entries, maxEntry, maxTotal int, size func(key string, value T) int) *boundedCache[T] {
	c := &boundedCache[T]{maxEntry: maxEntry, maxTotal: maxTotal, size: size}
	c.lru, _ = simplelru.NewLRU(entries, func(key string, value T) { c.total -= size(key, value) })
	return c
}

// Get returns the value of key, if cached.
func (c *boundedCache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// Add caches value under key, unless it is larger than maxEntry.
func (c *boundedCache[T]) Add(_ context.Context, key string, value T) {
	n := c.size(key, value)
	if n > c.maxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		c.lru.Remove(key)
	}
	for c.total+n > c.maxTotal && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
	c.lru.Add(key, value)
	c.total += n
}

// Len is the number of cached entries; Bytes their size in all.
func (c *boundedCache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *boundedCache[T]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}
