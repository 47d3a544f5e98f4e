package redisstore

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) {
	// The tests kill servers on purpose; go-redis would log every failed
	// dial on stderr.
	redis.SetLogger(ClientLogger(zap.NewNop()))
	os.Exit(m.Run())
}
