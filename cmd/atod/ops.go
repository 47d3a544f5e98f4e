package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// opsConfig is the ops section: where atod run serves /metrics, /healthz
// and /readyz, and how long it may take to stop.
type opsConfig struct {
	// Listen is HOST:PORT; loopback by default, since metrics tell who
	// signs in how often. Empty: no server.
	Listen string `yaml:"listen"`
	// ShutdownTimeout bounds a stop on SIGTERM or SIGINT: finishing the
	// events in hand, the last commit, leaving the group. Past it atod
	// exits anyway, with an error; the group reads again what was not
	// committed.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TokenFile holds a bearer token that /metrics then requires (and
	// /readyz, for its reasons); ATOD_OPS_TOKEN may carry it instead. A
	// listen address other machines can reach needs one, or
	// AllowUnauthenticated (a network that already restricts who reaches
	// it, a service mesh): see ops_auth.go.
	TokenFile            string `yaml:"token_file"`
	AllowUnauthenticated bool   `yaml:"allow_unauthenticated"`
}

func defaultOpsConfig() opsConfig {
	return opsConfig{Listen: "127.0.0.1:9477", ShutdownTimeout: 30 * time.Second}
}

func (c *opsConfig) validate() error {
	var errs []error
	if c.Listen != "" {
		_, port, err := net.SplitHostPort(c.Listen)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("ops.listen: %q is not HOST:PORT with a port from 0 (any free one) to 65535", c.Listen))
		}
	}
	if err := c.validateAuth(os.LookupEnv); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownTimeout < 2*time.Second || c.ShutdownTimeout > time.Hour {
		errs = append(errs, fmt.Errorf("ops.shutdown_timeout: must be from 2s to 1h, got %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// opsServer serves the operations endpoints until Close.
type opsServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// startOps listens on cfg.Listen (nil server when empty). /healthz says
// the process is alive; /readyz asks ready, which names what is wrong.
func startOps(cfg opsConfig, reg *prometheus.Registry, ready func() error, log *zap.Logger) (*opsServer, error) {
	if cfg.Listen == "" {
		return nil, nil
	}
	token, err := cfg.token(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("ops.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", requireToken(token, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(); err != nil {
			// The reason may name internal hosts: only for the token.
			msg := "not ready"
			if authorized(token, r) {
				msg += ": " + err.Error()
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// Every wait is bounded: with only ReadHeaderTimeout, an idle
	// keep-alive connection waited for its next request for ever, so one
	// unauthenticated GET per connection could use up the descriptors; a
	// scraper that never reads held a handler.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	s := &opsServer{srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops server stopped", zap.Error(err))
		}
	}()
	log.Info("serving /metrics, /healthz and /readyz", zap.String("addr", ln.Addr().String()))
	return s, nil
}

// Addr returns the address listened on (for a port 0 in tests).
func (s *opsServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for it.
func (s *opsServer) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
