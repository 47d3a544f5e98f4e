package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// TestHelperAtodRun is not a test: it is atod run in a process of its own,
// started by the tests below with ATOD_HELPER_CONFIG set, so that they can
// kill it with SIGKILL as a crash would.
func TestHelperAtodRun(t *testing.T) {
	path := os.Getenv("ATOD_HELPER_CONFIG")
	if path == "" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	fmt.Fprintln(os.Stderr, signalsHandled)
	level := os.Getenv("ATOD_HELPER_LOG_LEVEL")
	if level == "" {
		level = "info"
	}
	if f := os.Getenv("ATOD_HELPER_CPUPROFILE"); f != "" { // see BenchmarkRunSteadyCPU
		out, err := os.Create(f)
		if err == nil {
			err = pprof.StartCPUProfile(out)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	code := run(ctx, []string{"run", "--config", path, "--log-level", level}, nil, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile() // before os.Exit, which runs no deferred call
	os.Exit(code)
}

// atodProc is atod run as a child process.
type atodProc struct {
	cmd  *exec.Cmd
	done chan error
	log  string // the log file's path
}

// startAtod starts atod run with the config at path and env added to its
// environment; its log goes to a file in the test's directory, shown when
// the test fails.
func startAtod(t testing.TB, path, name string, env ...string) *atodProc {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(path), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAtodRun$")
	cmd.Env = append(append(os.Environ(), "ATOD_HELPER_CONFIG="+path), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &atodProc{cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, log)
		}
	})
	return p
}

// waitLog waits until the process has logged text.
func (p *atodProc) waitLog(t testing.TB, text string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if log, _ := os.ReadFile(p.log); strings.Contains(string(log), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not logged within 30s", text)
		}
	}
}

// kill ends the process with SIGKILL: no shutdown, no last commit.
func (p *atodProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	p.done <- nil // later calls return at once
}

// signalsHandled is what the helper process logs once SIGTERM stops it
// gracefully: sent before, the signal killed it outright (a test whose
// first instance had done all the work stopped the second at once).
const signalsHandled = "helper: signals handled"

// stop asks for a graceful stop and returns the exit error.
func (p *atodProc) stop() error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if log, _ := os.ReadFile(p.log); strings.Contains(string(log), signalsHandled) {
			break
		}
		select {
		case err := <-p.done: // ended already
			p.done <- err
			return err
		default:
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	err := <-p.done
	p.done <- err
	return err
}

// redisServer is a redis-server of the test's own on a free loopback port.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed (scripts/test installs it)")
		}
		t.Skip("redis-server is not installed (Debian package redis-server)")
	}
	dir := t.TempDir()
	port := freePort(t)
	s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: s.addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(30000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// writeRunConfig writes a config for atod run against broker and redis.
func writeRunConfig(t *testing.T, broker, redisAddr string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atod.yaml")
	cfg := fmt.Sprintf(`kafka:
  brokers: [%s]
  session_timeout: 2s
  heartbeat_interval: 200ms
  rebalance_timeout: 5s
redis:
  addrs: [%s]
  allow_plain_keys: true
  retry_backoff_min: 10ms
  retry_backoff_max: 200ms
ops:
  listen: ""
  shutdown_timeout: 10s
`, broker, redisAddr)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// staggered returns brute-force bursts against n accounts, one account
// after another, so that alerts come out all along the stream rather than
// at its end: a kill lands among them.
func staggered(n int, start time.Time) [][]byte {
	var out [][]byte
	for u := range n {
		burst := bruteForce(1, 12, start.Add(time.Duration(u)*30*time.Second))
		for _, line := range burst {
			out = append(out, []byte(replaceUser(string(line), u)))
		}
	}
	return out
}

func replaceUser(line string, u int) string {
	return stringsReplace(line, "user0000@", fmt.Sprintf("user%04d@", u),
		`198.18.0.1"`, fmt.Sprintf(`198.19.%d.%d"`, u/250, 1+u%250), `"id":"e0-`, fmt.Sprintf(`"id":"e%d-`, u))
}

// waitAlerts waits until the alerts topic holds want distinct ids and
// every partition of the events topic is committed to its end, so that no
// late duplicate can still come; it returns the alerts read.
func waitDone(t *testing.T, broker, group string, want int) []topicRecord {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker)}
	deadline := time.Now().Add(45 * time.Second)
	for {
		recs, err := readAll(client, testAlerts)
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := alertIDs(alertsOf(t, recs))
		if len(ids) >= want && allCommitted(t, client, group) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts, committed to the end: %v", len(ids), want, allCommitted(t, client, group))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func allCommitted(t testing.TB, client *kafka.Client, group string) bool {
	ctx := context.Background()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{testTopic}})
	if err != nil {
		return false
	}
	var parts []int
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{testTopic: reqs}})
	if err != nil {
		return false
	}
	com, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{testTopic: parts}})
	if err != nil || com.Error != nil {
		return false
	}
	end := map[int]int64{}
	for _, po := range ends.Topics[testTopic] {
		end[po.Partition] = po.LastOffset
	}
	for _, c := range com.Topics[testTopic] {
		if c.CommittedOffset < end[c.Partition] {
			return false
		}
	}
	return true
}
