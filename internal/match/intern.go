package match

import (
	"sync"
	"unsafe"
)

// strtab numbers the distinct values of one Match call that many records share — names, grades,
// references, e-mail domains, schools' names — both sides together: equal values get equal numbers,
// so that comparing two values is comparing two integers and counting a value's frequency is indexing
// a slice. It also keeps one copy of each value (its canonical string), shared by the records that
// have it. 0 is the empty string. Preparation asks it only about values its own caches haven't seen
// (preparer).
//
// It is safe for concurrent use. The numbers depend on the order in which values arrive, so nothing
// may depend on them but equality: never sort by them.
type strtab struct {
	mu   sync.Mutex
	ids  map[string]uint32
	strs []string // by number - 1
}

func newStrtab() *strtab { return &strtab{ids: map[string]uint32{}} }

// intern returns the canonical copy of s and its number; s itself becomes the canonical copy when it
// is new.
func (t *strtab) intern(s string) (string, uint32) {
	if s == "" {
		return "", 0
	}
	t.mu.Lock()
	id, ok := t.ids[s]
	if !ok {
		t.strs = append(t.strs, s)
		id = uint32(len(t.strs))
		t.ids[s] = id
	}
	s = t.strs[id-1]
	t.mu.Unlock()
	return s, id
}

// size bounds the numbers given: every number is below it. It must not run concurrently with intern.
func (t *strtab) size() int { return len(t.strs) + 1 }

// arena hands out strings copied into large shared blocks: one allocation per block instead of one
// per string, and no pointers for the collector to follow. A block is never written again where a
// string has been handed out.
type arena struct {
	buf []byte
}

const arenaBlock = 32 << 10

// str returns a string with the bytes of b.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.buf)-len(a.buf) {
		if len(b) > arenaBlock/8 {
			return string(b)
		}
		a.buf = make([]byte, 0, arenaBlock)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}
