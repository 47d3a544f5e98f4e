package main

import (
	"net"
	"os"
	"testing"
	"time"
)

// benchRedisAddr is addr, or with ATOD_BENCH_REDIS_RTT set (e.g. "1ms")
// a proxy in front of it that adds that round-trip time: Redis on another
// machine, which this kernel cannot simulate (no netem).
func benchRedisAddr(tb testing.TB, addr string) string {
	tb.Helper()
	v := os.Getenv("ATOD_BENCH_REDIS_RTT")
	if v == "" {
		return addr
	}
	rtt, err := time.ParseDuration(v)
	if err != nil {
		tb.Fatalf("ATOD_BENCH_REDIS_RTT: %v", err)
	}
	return startDelayProxy(tb, addr, rtt/2)
}

// startDelayProxy listens on a free loopback port and forwards each
// connection to target, delivering every chunk delay after it was read in
// either direction. Chunks are queued, not slept on one by one, so the
// delay adds latency without capping throughput.
func startDelayProxy(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go delayCopy(s, c, delay)
			go delayCopy(c, s, delay)
		}
	}()
	return ln.Addr().String()
}

type delayedChunk struct {
	due  time.Time
	data []byte
}

// delayCopy copies src to dst, each chunk delay late, and closes both
// when src ends.
func delayCopy(dst, src net.Conn, delay time.Duration) {
	q := make(chan delayedChunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- delayedChunk{due: time.Now().Add(delay), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		dst.Close()
		src.Close() // ends the reader, which closes q
		for range q {
		}
	}()
	for ch := range q {
		time.Sleep(time.Until(ch.due))
		if _, err := dst.Write(ch.data); err != nil {
			return
		}
	}
}
