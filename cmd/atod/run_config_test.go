package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kafka.batch_events and catch_up_events are read from the file, default
// to the Pipeline's batch and defaultCatchUpEvents, and a value out of range stops
// atod run with the key named.
func TestRunBatchEvents(t *testing.T) {
	cfg := testRunConfig("127.0.0.1:9092")
	if err := cfg.validateRun(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.Kafka.BatchEvents != 512 {
		t.Errorf("default batch_events %d, want 512", cfg.Kafka.BatchEvents)
	}
	for _, n := range []int{0, -1, maxBatchEvents + 1} {
		cfg.Kafka.BatchEvents = n
		err := cfg.validateRun()
		if err == nil || !strings.Contains(err.Error(), "kafka.batch_events") {
			t.Errorf("batch_events %d: %v, want an error naming kafka.batch_events", n, err)
		}
	}

	cfg.Kafka.BatchEvents = 512
	if cfg.Kafka.CatchUpEvents != defaultCatchUpEvents {
		t.Errorf("default catch_up_events %d, want %d", cfg.Kafka.CatchUpEvents, defaultCatchUpEvents)
	}
	for _, n := range []int{0, -1, maxCatchUpEvents + 1} {
		cfg.Kafka.CatchUpEvents = n
		err := cfg.validateRun()
		if err == nil || !strings.Contains(err.Error(), "kafka.catch_up_events") {
			t.Errorf("catch_up_events %d: %v, want an error naming kafka.catch_up_events", n, err)
		}
	}

	path := filepath.Join(t.TempDir(), "atod.yaml")
	if err := os.WriteFile(path, []byte("kafka:\n  brokers: [127.0.0.1:9092]\n  batch_events: 2048\n  catch_up_events: 131072\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kafka.BatchEvents != 2048 || got.Kafka.CatchUpEvents != 131072 {
		t.Errorf("batch_events and catch_up_events from the file: %d, %d; want 2048, 131072", got.Kafka.BatchEvents, got.Kafka.CatchUpEvents)
	}
}
