package schema

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// newID returns an id for rows that Clever does not key: 8 bytes of milliseconds then 8 random bytes, hex —
// unique, and sorting by creation time like Clever's own ids.
func newID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli()))
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}
