// Package secret seals small secrets at rest — the districts' Clever tokens — with AES-256-GCM. The key is
// derived with HKDF-SHA256 from one operator-supplied secret (ROSTERMIRROR_SECRET_KEY) under a fixed
// info string, so another use of the same secret can derive its own key without sharing key material.
//
// A sealed value is
//
//	version (1 byte, currently 1) | nonce (12 random bytes) | AES-256-GCM ciphertext and tag
//
// and the version byte is authenticated together with the caller's additional data, so a future format
// can be introduced without ambiguity.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MinKeyLen is the shortest secret key NewBox accepts, in characters.
const MinKeyLen = 32

// infoSeal is the key-derivation info string of the sealing key. Changing it makes every stored secret
// unreadable.
const infoSeal = "rostermirror v1 secret.Box seal: AES-256-GCM key for district tokens at rest"

// version1 is the format byte of values sealed by this version of the package.
const version1 byte = 1

// nonceSize is the size of the GCM nonce (the standard 96 bits).
const nonceSize = 12

// ErrOpen is returned by Open for a value that cannot be opened: sealed under another key or another
// additional data, altered, truncated, or of an unknown format.
var ErrOpen = errors.New("open sealed secret: wrong key, wrong context, or damaged value")

// Box seals and opens secrets under a key derived from one secret key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox derives a Box's key from key, the value of ROSTERMIRROR_SECRET_KEY. The key must be at least
// MinKeyLen characters; any text works, and a random one is made with `openssl rand -base64 32` (or
// GenerateKey).
func NewBox(key string) (*Box, error) {
	if n := utf8.RuneCountInString(key); n < MinKeyLen {
		return nil, fmt.Errorf("use secret key: it has %d characters and needs at least %d; make one with `openssl rand -base64 32` and set ROSTERMIRROR_SECRET_KEY to it", n, MinKeyLen)
	}
	sealKey, err := hkdf.Key(sha256.New, []byte(key), nil, infoSeal, 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("make cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("make cipher: %w", err)
	}
	return &Box{aead: aead}, nil
}

// GenerateKey returns a new random secret key: 32 random bytes in standard base64 (44 characters), for
// the demo and for operators who need one.
func GenerateKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// Seal encrypts plaintext and binds it to aad, a context string that Open must be given again (for
// instance the id of the record the value belongs to, so a sealed value cannot be moved to another
// record). Every call uses a fresh random nonce, so sealing the same plaintext twice gives different
// values.
func (b *Box) Seal(plaintext []byte, aad string) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return b.aead.Seal(out, out[1:1+nonceSize], plaintext, additionalData(version1, aad)), nil
}

// Open decrypts a value made by Seal with the same aad. Any failure — wrong key, wrong aad, altered or
// truncated value, unknown version — is an error matching ErrOpen; it carries no secret material.
func (b *Box) Open(sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < 1+nonceSize+b.aead.Overhead() {
		return nil, fmt.Errorf("%w (%d bytes is too short)", ErrOpen, len(sealed))
	}
	if sealed[0] != version1 {
		return nil, fmt.Errorf("%w (unknown format version %d)", ErrOpen, sealed[0])
	}
	plain, err := b.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], additionalData(sealed[0], aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// additionalData authenticates the format version along with the caller's context.
func additionalData(version byte, aad string) []byte {
	return append([]byte{version}, aad...)
}
