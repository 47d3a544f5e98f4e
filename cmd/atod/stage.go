package main

import (
	"context"
	"sync"

	"github.com/atod-project/atod/enrich"
)

// stage runs the detector on a goroutine of its own, fed with batches of
// enriched events, so that reading and enriching the next batch overlaps
// with detecting the last one: replay uses both cores. Order is kept: one
// producer, one consumer, a FIFO channel.
type stage struct {
	push    func(context.Context, enrich.Event) error
	batches chan []enrich.Event
	free    chan []enrich.Event // recycled batch buffers
	cur     []enrich.Event

	done chan struct{}
	once sync.Once
	err  error // set by the consumer before done is closed
}

const stageBatch = 1024

func newStage(ctx context.Context, push func(context.Context, enrich.Event) error) *stage {
	s := &stage{
		push:    push,
		batches: make(chan []enrich.Event, 4),
		free:    make(chan []enrich.Event, 6),
		done:    make(chan struct{}),
	}
	go s.consume(ctx)
	return s
}

func (s *stage) consume(ctx context.Context) {
	defer close(s.done)
	for batch := range s.batches {
		if s.err == nil {
			for i := range batch {
				if err := s.push(ctx, batch[i]); err != nil {
					s.err = err
					break
				}
			}
		}
		clear(batch)
		select {
		case s.free <- batch[:0]:
		default:
		}
	}
}

// add queues one event; it returns the consumer's error once there is one.
func (s *stage) add(e enrich.Event) error {
	if s.cur == nil {
		select {
		case s.cur = <-s.free:
		default:
			s.cur = make([]enrich.Event, 0, stageBatch)
		}
	}
	s.cur = append(s.cur, e)
	if len(s.cur) < stageBatch {
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

// close hands over the last batch and waits for the consumer; it returns the
// consumer's first error. The producer must not call add afterwards.
func (s *stage) close() error {
	s.once.Do(func() {
		if len(s.cur) > 0 {
			select {
			case s.batches <- s.cur:
			case <-s.done:
			}
		}
		close(s.batches)
	})
	<-s.done
	return s.err
}
