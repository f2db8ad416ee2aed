package secret_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/internal/secret"
)

// TestDeriveKey: a key per purpose, stable for one secret key, different across purposes and keys; short
// keys and the Box's own info string are refused.
func TestDeriveKey(t *testing.T) {
	t.Parallel()
	const key = "a secret key of at least thirty-two characters"
	a, err := secret.DeriveKey(key, "purpose a", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("derive: %d bytes, %v", len(a), err)
	}
	again, _ := secret.DeriveKey(key, "purpose a", 32)
	b, _ := secret.DeriveKey(key, "purpose b", 32)
	other, _ := secret.DeriveKey(key+"!", "purpose a", 32)
	if !bytes.Equal(a, again) || bytes.Equal(a, b) || bytes.Equal(a, other) {
		t.Error("keys are not one per purpose and secret key")
	}
	if _, err := secret.DeriveKey("short", "purpose a", 32); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short key: %v", err)
	}
	if _, err := secret.DeriveKey(key, "", 32); err == nil {
		t.Error("empty info accepted")
	}
}
