package cleversim

import (
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// ObjectIDs issues Clever-style ids: 24 lower-case hex digits, the first 8 the creation time in unix
// seconds, so ids grow with creation time as Clever's do and sort as strings. It is safe for concurrent
// use and deterministic for a given start time and salt.
type ObjectIDs struct {
	mu      sync.Mutex
	seconds uint32
	salt    uint32
	n       uint32
}

// NewObjectIDs returns a generator whose ids start at time t; salt fills the middle four bytes so that two
// generators started at the same second do not collide.
func NewObjectIDs(t time.Time, salt uint32) *ObjectIDs {
	return &ObjectIDs{seconds: uint32(t.Unix()), salt: salt}
}

// Next returns a new id, greater than every id this generator issued before.
func (g *ObjectIDs) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	if g.n == 0 { // counter wrapped: move to the next second
		g.seconds++
		g.n = 1
	}
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], g.seconds)
	binary.BigEndian.PutUint32(b[4:8], g.salt)
	binary.BigEndian.PutUint32(b[8:12], g.n)
	return hex.EncodeToString(b[:])
}

// Advance makes every later id greater than id (an existing Clever id, for instance the newest event of a
// loaded dataset). Ids that are not 24 hex digits are ignored.
func (g *ObjectIDs) Advance(id string) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 12 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := binary.BigEndian.Uint32(b[0:4]); s >= g.seconds {
		g.seconds = s + 1
		g.n = 0
	}
}
