package detector_test

import (
	"testing"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/detector/storetest"
)

// The memory store passes the suite every backend must pass; for it, the
// suite mostly checks the suite.
func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) detector.Store {
		cfg := detector.DefaultConfig()
		return detector.NewMemoryStore(cfg.UserRetention, cfg.AddrRetention)
	})
}
