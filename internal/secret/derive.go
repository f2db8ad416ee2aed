package secret

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DeriveKey derives an n-byte key for one purpose from key, the value of ROSTERMIRROR_SECRET_KEY, with
// HKDF-SHA256 under info. Each use of the secret key names its own info string (never the Box's), so the
// keys are independent: knowing one tells nothing of the others. Like NewBox it refuses a key shorter
// than MinKeyLen characters.
func DeriveKey(key, info string, n int) ([]byte, error) {
	if c := utf8.RuneCountInString(key); c < MinKeyLen {
		return nil, fmt.Errorf("use secret key: it has %d characters and needs at least %d; make one with `openssl rand -base64 32` and set ROSTERMIRROR_SECRET_KEY to it", c, MinKeyLen)
	}
	if info == "" || info == infoSeal {
		return nil, errors.New("derive key: the info string must name a purpose of its own")
	}
	k, err := hkdf.Key(sha256.New, []byte(key), nil, info, n)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	return k, nil
}
