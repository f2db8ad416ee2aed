package mirror_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the engine reads Clever in goroutines
// of its own (the read ahead of the writes, the client's prefetch), which must end with every run,
// whatever stopped it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
