package main

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	ingestkafka "github.com/atod-project/atod/ingest/kafka"
)

// runMetrics are the Prometheus metrics of atod run. They live in a
// registry of their own, passed in, never in the client library's global
// one.
type runMetrics struct {
	processed  prometheus.Counter
	alerts     *prometheus.CounterVec
	late       prometheus.Counter
	early      prometheus.Counter
	reapplied  prometheus.Counter
	duplicates prometheus.Counter
	conflicts  prometheus.Counter
	errors     *prometheus.CounterVec
	held       *prometheus.GaugeVec
	watermark  *prometheus.GaugeVec
	latency    prometheus.Histogram
	alertDelay prometheus.Histogram
	batch      prometheus.Histogram
}

func newRunMetrics(reg prometheus.Registerer, consumer *ingestkafka.Consumer) *runMetrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &runMetrics{
		processed: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_events_processed_total",
			Help: "Events the detector has run the rules on (events out)."}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atod_alerts_total",
			Help: "Alerts published, by rule and action."}, []string{"rule", "action"}),
		early: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_early_events_total",
			Help: "Events more than 5 minutes ahead of this clock (below kafka.max_future): evaluated at once, out of order, without moving event time."}),
		late: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_late_events_total",
			Help: "Events that arrived after later events of their partition were released: evaluated, out of order."}),
		reapplied: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_events_reapplied_total",
			Help: "Records delivered again after a crash or rebalance whose events the state already held: skipped, not counted twice."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_events_duplicate_total",
			Help: "Failed sign-ins whose event id their account already held (a source that delivered a record twice): counted once."}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{Name: "atod_state_conflicts_total",
			Help: "Batches run again because another instance had changed detector state they read (Redis compare-and-set refused)."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atod_errors_total",
			Help: "Failed attempts, retried: redis (state), outbox, kafka_publish (alerts), hooks_queue (handing alerts to hooks and sinks)."}, []string{"component"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atod_held_events",
			Help: "Events held back for event-time order, by partition."}, []string{"partition"}),
		watermark: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atod_watermark_seconds",
			Help: "Event time (Unix seconds) up to which a partition's events have been released to the rules."}, []string{"partition"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "atod_processing_latency_seconds",
			Help:    "From a record's Kafka timestamp to the moment its events were detected on and their alerts published.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}),
		alertDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "atod_alert_delay_seconds",
			Help:    "From the event time of an alert's triggering event to the decision (detected_at).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600}}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "atod_batch_events",
			Help: "Events per batch the rules ran on: kafka.batch_events or fewer while partitions keep up, " +
				"up to its part of kafka.catch_up_events while one works off a backlog (with Redis state each batch loads and saves each account and address it touches once).",
			Buckets: prometheus.ExponentialBuckets(1, 8, 7)}),
	}
	for _, c := range []prometheus.Collector{m.processed, m.alerts, m.late, m.early, m.reapplied, m.duplicates, m.conflicts, m.errors, m.held, m.watermark, m.latency, m.alertDelay, m.batch,
		consumerCollector{consumer}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	for _, c := range []string{"redis", "outbox", "kafka_publish"} {
		m.errors.WithLabelValues(c)
	}
	return m
}

// forget drops the series of a partition that left this instance.
func (m *runMetrics) forget(partition string) {
	m.held.DeleteLabelValues(partition)
	m.watermark.DeleteLabelValues(partition)
}

// consumerCollector reads the consumer's counters at scrape time.
type consumerCollector struct{ c *ingestkafka.Consumer }

var (
	descRecords     = prometheus.NewDesc("atod_kafka_records_total", "Records read from the events topic.", nil, nil)
	descEventsIn    = prometheus.NewDesc("atod_events_in_total", "Events decoded from the records read (events in).", nil, nil)
	descDeadLetters = prometheus.NewDesc("atod_dead_letters_total", "Records that could not be decoded, sent to the dead-letter topic.", nil, nil)
	descCommits     = prometheus.NewDesc("atod_kafka_commits_total", "Offset commits.", nil, nil)
	descCommitErrs  = prometheus.NewDesc("atod_kafka_commit_errors_total", "Failed offset commits (retried).", nil, nil)
	descDLQErrs     = prometheus.NewDesc("atod_kafka_dlq_errors_total", "Failed writes to the dead-letter topic (retried).", nil, nil)
	descGenerations = prometheus.NewDesc("atod_kafka_generations_total", "Consumer group generations joined (rebalances).", nil, nil)
	descLag         = prometheus.NewDesc("atod_kafka_lag", "Records between the last one read and the end of the partition.", []string{"partition"}, nil)
	descHeld        = prometheus.NewDesc("atod_kafka_uncommitted_records", "Records read but not yet committable, by partition.", []string{"partition"}, nil)
	descCommitted   = prometheus.NewDesc("atod_kafka_committed_offset", "Last committed offset, by partition.", []string{"partition"}, nil)
)

func (consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecords, descEventsIn, descDeadLetters, descCommits,
		descCommitErrs, descDLQErrs, descGenerations, descLag, descHeld, descCommitted} {
		ch <- d
	}
}

func (cc consumerCollector) Collect(ch chan<- prometheus.Metric) {
	s := cc.c.Stats()
	for _, v := range []struct {
		d *prometheus.Desc
		n int64
	}{{descRecords, s.Records}, {descEventsIn, s.Events}, {descDeadLetters, s.DeadLetters},
		{descCommits, s.Commits}, {descCommitErrs, s.CommitErrors}, {descDLQErrs, s.DLQErrors}, {descGenerations, s.Generations}} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.CounterValue, float64(v.n))
	}
	for p, ps := range s.Partitions {
		label := strconv.Itoa(int(p))
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(ps.Lag), label)
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(ps.Held), label)
		if ps.Committed >= 0 {
			ch <- prometheus.MustNewConstMetric(descCommitted, prometheus.GaugeValue, float64(ps.Committed), label)
		}
	}
}
