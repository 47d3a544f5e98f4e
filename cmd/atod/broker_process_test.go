package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// brokerChildEnv, set to a partition count, makes the test binary a Kafka
// broker instead of running tests: see startKafkaProcess.
const brokerChildEnv = "ATOD_TEST_BROKER_PARTITIONS"

func TestMain(m *testing.M) {
	if v := os.Getenv(brokerChildEnv); v != "" {
		os.Exit(runBrokerChild(v, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// runBrokerChild runs kfake with the tests' topics, writes its address as
// one line to out, and stops when in closes (the parent ended).
func runBrokerChild(partitions string, in io.Reader, out io.Writer) int {
	n, err := strconv.ParseInt(partitions, 10, 32)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s: want a partition count, got %q\n", brokerChildEnv, partitions)
		return 2
	}
	c, err := kfake.NewCluster(testBrokerOpts(int32(n))...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting kfake: %v\n", err)
		return 1
	}
	defer c.Close()
	fmt.Fprintln(out, c.ListenAddrs()[0])
	_, _ = io.Copy(io.Discard, in)
	return 0
}

// startKafkaProcess runs the tests' broker in a process of its own, as a
// deployment's broker runs on other machines: a benchmark's process then
// holds, allocates and collects atod's memory only (in-process, kfake kept
// the whole topic in atod's heap and made most of its garbage). Cleanup
// stops it.
func startKafkaProcess(tb testing.TB, partitions int32) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", brokerChildEnv, partitions))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting the broker process: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("broker process: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("reading the broker process's address: %v", err)
	}
	return strings.TrimSpace(line)
}

// The broker process answers like the in-process one.
func TestKafkaProcess(t *testing.T) {
	broker := startKafkaProcess(t, 2)
	events := liveBenchEvents(50, 10, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 100)
	produce(t, broker, events, userKey)
	if got := len(readTopic(t, broker, testTopic, len(events))); got != len(events) {
		t.Fatalf("read %d records back, want %d", got, len(events))
	}
}
