package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of the test's own, on a free loopback port,
// with its files in a temporary directory; cleanup kills it.
type redisServer struct {
	port int
	dir  string
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
	// all are the processes ever started: two restarts that overlap (an
	// outage while the last one's restart is under way) leave one that
	// kill no longer names, which outlived the test.
	all []*exec.Cmd
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func needRedis(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (Debian package redis-server; scripts/test installs it)", bin)
		}
	}
}

// startRedis starts a server that keeps nothing on disk; extra arguments
// are added to the command line (later ones win).
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	needRedis(t)
	s := &redisServer{port: freePort(t), dir: t.TempDir()}
	s.args = append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(s.dir, "redis.log")}, extra...)
	s.start(t)
	t.Cleanup(s.killAll)
	return s
}

func (s *redisServer) start(t testing.TB) {
	t.Helper()
	if err := s.restart(); err != nil {
		t.Fatal(err)
	}
}

// restart runs the server (again, on the same port and directory) and
// waits until it answers PING, which a server loading its append-only file
// does not.
func (s *redisServer) restart() error {
	cmd := exec.Command("redis-server", s.args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.all = append(s.all, cmd)
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on %s did not answer: %w\n%s", s.addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL, as a crash would, and waits for it.
func (s *redisServer) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// killAll kills every process the server ever started, at the test's end.
func (s *redisServer) killAll() {
	s.kill()
	s.mu.Lock()
	all := s.all
	s.all = nil
	s.mu.Unlock()
	for _, cmd := range all {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// freePort returns a loopback port that is free, and whose Cluster bus
// port (port+10000) is free too.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(30000)
		var ls []net.Listener
		ok := true
		for _, p := range []int{port, port + 10000} {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no free port pair found")
	return 0
}

// startCluster starts three masters with no replicas and joins them into a
// Cluster with redis-cli, then waits until every node reports it ready.
func startCluster(t testing.TB) []string {
	t.Helper()
	needRedis(t)
	var addrs []string
	for range 3 {
		s := startRedis(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		addrs = append(addrs, s.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster node %s not ready: %v %s", a, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return addrs
}

// testConfig returns a config for addrs whose keys start with a prefix no
// other store of the test uses.
func testConfig(addrs []string, prefix string) Config {
	cfg := DefaultConfig()
	cfg.Addrs = addrs
	cfg.KeyPrefix = prefix
	cfg.RetryBackoffMin, cfg.RetryBackoffMax = 10*time.Millisecond, 200*time.Millisecond
	return cfg
}

// testSecret stands in for the environment, with a pseudonym key.
func testSecret(name string) (string, bool) {
	if name == EnvPseudonymKey {
		return "a test key, not secret at all", true
	}
	return "", false
}

// newTestStore returns a Store on addrs with the default retentions;
// cleanup closes it.
func newTestStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg, Options{UserRetention: 30 * 24 * time.Hour, AddrRetention: 24 * time.Hour, LookupEnv: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// prefixes hands out a new key prefix per call.
type prefixes struct {
	mu sync.Mutex
	n  int
}

func (p *prefixes) next(test string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return fmt.Sprintf("t%d:%s:", p.n, strings.NewReplacer("{", "(", "}", ")").Replace(test))
}
