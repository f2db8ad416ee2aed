package secret_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/secret"
)

const (
	testKey  = "0123456789abcdef0123456789abcdef"
	otherKey = "fedcba9876543210fedcba9876543210"
)

func newBox(t *testing.T, key string) *secret.Box {
	t.Helper()
	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t, testKey)
	for _, plain := range [][]byte{[]byte("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"), {}, bytes.Repeat([]byte{0xff}, 4096)} {
		sealed, err := b.Seal(plain, "district_tokens/d1")
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if len(plain) > 8 && bytes.Contains(sealed, plain) {
			t.Errorf("sealed value contains the plaintext")
		}
		got, err := b.Open(sealed, "district_tokens/d1")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
	// The same key string gives the same keys: a restarted server opens what it sealed.
	sealed, _ := b.Seal([]byte("tok"), "x")
	if got, err := newBox(t, testKey).Open(sealed, "x"); err != nil || string(got) != "tok" {
		t.Errorf("Open with a second Box of the same key = %q, %v", got, err)
	}
}

func TestSealDiffers(t *testing.T) {
	t.Parallel()
	b := newBox(t, testKey)
	s1, _ := b.Seal([]byte("same token"), "d")
	s2, _ := b.Seal([]byte("same token"), "d")
	if bytes.Equal(s1, s2) {
		t.Error("two seals of the same plaintext are equal; the nonce must be random")
	}
	if s1[0] != 1 {
		t.Errorf("version byte = %d, want 1", s1[0])
	}
}

func TestOpenFails(t *testing.T) {
	t.Parallel()
	const plain = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	b := newBox(t, testKey)
	sealed, err := b.Seal([]byte(plain), "district_tokens/d1")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		box    *secret.Box
		sealed []byte
		aad    string
	}{
		{"wrong key", newBox(t, otherKey), sealed, "district_tokens/d1"},
		{"wrong aad", b, sealed, "district_tokens/d2"},
		{"empty aad", b, sealed, ""},
		{"tampered version", b, flip(0), "district_tokens/d1"},
		{"tampered nonce", b, flip(5), "district_tokens/d1"},
		{"tampered ciphertext", b, flip(20), "district_tokens/d1"},
		{"tampered tag", b, flip(len(sealed) - 1), "district_tokens/d1"},
		{"truncated by one", b, sealed[:len(sealed)-1], "district_tokens/d1"},
		{"header only", b, sealed[:13], "district_tokens/d1"},
		{"one byte", b, sealed[:1], "district_tokens/d1"},
		{"empty", b, nil, "district_tokens/d1"},
		{"extended", b, append(bytes.Clone(sealed), 0), "district_tokens/d1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, tt.aad)
			if err == nil {
				t.Fatalf("Open succeeded with %q", got)
			}
			if !errors.Is(err, secret.ErrOpen) {
				t.Errorf("error %v does not match ErrOpen", err)
			}
			if strings.Contains(err.Error(), plain) || strings.Contains(err.Error(), testKey) {
				t.Errorf("error reveals secret material: %v", err)
			}
		})
	}
}

func TestNewBoxKeyLength(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "short", strings.Repeat("k", 31), strings.Repeat("é", 31)} {
		_, err := secret.NewBox(key)
		if err == nil {
			t.Errorf("NewBox(%d chars) succeeded", len(key))
			continue
		}
		if !strings.Contains(err.Error(), "openssl rand -base64 32") {
			t.Errorf("error does not say how to make a key: %v", err)
		}
		if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("error contains the key: %v", err)
		}
	}
	if _, err := secret.NewBox(strings.Repeat("k", 32)); err != nil {
		t.Errorf("NewBox(32 chars): %v", err)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	k1, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := secret.GenerateKey()
	if len(k1) != 44 || k1 == k2 {
		t.Errorf("GenerateKey = %q, %q: want two different 44-character keys", k1, k2)
	}
	newBox(t, k1) // accepted by NewBox
}
