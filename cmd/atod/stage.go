package main

import (
	"context"
	"runtime/pprof"
	"sync"

	"github.com/atod-project/atod/detector"
	"github.com/atod-project/atod/enrich"
)

// stage splits a Pipeline over two goroutines, so that replay uses both
// cores: the caller's goroutine orders the enriched events (add), and a
// goroutine of its own runs the rules on each batch the ordering releases,
// while the next batch is read, enriched and ordered. Order is kept: one
// producer, one consumer, a FIFO channel. The batches are the ones
// Pipeline.Push would process, so the alerts are the same.
type stage struct {
	pipe    *detector.Pipeline
	batches chan []enrich.Event
	free    chan []enrich.Event // recycled batch buffers
	cur     []enrich.Event

	done chan struct{}
	once sync.Once
	err  error // set by the consumer before done is closed
}

// stageBuffers is how many batches may wait for the consumer.
const stageBuffers = 4

func newStage(ctx context.Context, pipe *detector.Pipeline) *stage {
	s := &stage{
		pipe:    pipe,
		batches: make(chan []enrich.Event, stageBuffers),
		free:    make(chan []enrich.Event, stageBuffers+2),
		done:    make(chan struct{}),
	}
	go pprof.Do(ctx, pprof.Labels("stage", "detect"), s.consume)
	return s
}

func (s *stage) consume(ctx context.Context) {
	defer close(s.done)
	for batch := range s.batches {
		if s.err == nil {
			s.err = s.pipe.Process(ctx, batch)
		}
		// The buffer's old events stay referenced until the producer
		// overwrites them: a few batches' worth, bounded.
		select {
		case s.free <- batch[:0]:
		default:
		}
	}
}

// add orders one event and hands over the batch it completes; it returns
// the consumer's error once there is one.
func (s *stage) add(e *enrich.Event) error {
	if s.cur == nil {
		select {
		case s.cur = <-s.free:
		default:
			// A little over a batch: growing one by appending copied
			// it a dozen times, a third of the CPU of a replay with
			// 8,192-event batches.
			s.cur = make([]enrich.Event, 0, s.pipe.BatchSize()+s.pipe.BatchSize()/8)
		}
	}
	var due bool
	if s.cur, due = s.pipe.Order(e, s.cur); !due {
		return nil
	}
	return s.send()
}

func (s *stage) send() error {
	select {
	case s.batches <- s.cur:
		s.cur = nil
		return nil
	case <-s.done:
		return s.err
	}
}

// close waits until the consumer has run the rules on every batch handed
// over, and returns its first error. The producer must not call add
// afterwards.
func (s *stage) close() error {
	s.once.Do(func() { close(s.batches) })
	<-s.done
	return s.err
}

// flush releases every held event and runs the rules on them and on what
// was released but not yet handed over, on the caller's goroutine: the end
// of the input, after close.
func (s *stage) flush(ctx context.Context) error {
	s.cur = s.pipe.OrderFlush(s.cur)
	err := s.pipe.Process(ctx, s.cur)
	clear(s.cur)
	s.cur = s.cur[:0]
	if err != nil {
		return err
	}
	return s.pipe.Settle(ctx)
}
