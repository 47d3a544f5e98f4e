// Package detector decides which sign-ins are account takeovers. It runs
// rules over a stream of enriched events in event time, keeps what the rules
// need per account and per address in a Store (in memory or in Redis), groups
// repeated findings into one incident, and turns each new incident into an
// Alert with a score, reasons, evidence and an action.
//
// Events flow through a Sequencer, which restores event-time order within the
// allowed lateness, then through an Engine in batches. Everything the engine
// writes is a function of the events and the Config, never of the wall clock,
// so replaying the same input gives the same alerts.
package detector
