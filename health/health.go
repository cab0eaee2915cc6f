// Package health serves the rotator's liveness, readiness and metrics
// endpoints over HTTP. It answers /healthz, /readyz and /metrics and nothing
// else, so it is safe to expose to a cluster's probes and scrapers.
package health

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Limits of the HTTP server: probes and scrapes are small and quick, so a
// client that is slower than this is broken or hostile.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	scrapeTimeout     = 20 * time.Second
	scrapesInFlight   = 4
)

// ReadyFunc reports whether the rotator is ready and, either way, a short
// reason for people: which account or sink is not ready yet. The reason is
// served to anyone who can reach the listener, so it must never hold a
// secret. It is called on every /readyz request and must be quick.
type ReadyFunc func() (ready bool, reason string)

// Server is the health and metrics HTTP server.
type Server struct {
	listen string
	logger zerolog.Logger
	http   *http.Server

	mu       sync.Mutex
	listener net.Listener
	done     chan struct{}
}

// NewServer returns a server that will listen on listen (host:port) and
// serve /healthz, /readyz from ready, and /metrics from reg. A nil ready
// always reports ready; a nil reg serves an empty /metrics.
func NewServer(listen string, reg prometheus.Gatherer, ready func() (bool, string),
	logger zerolog.Logger) *Server {
	logger = logger.With().Str("component", "health").Logger()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}

	s := &Server{listen: listen, logger: logger}
	s.http = &http.Server{
		Handler:           newMux(reg, ready, logger),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(warnWriter{logger}, "", 0),
	}
	return s
}

// Start opens the listener and serves in the background. It returns an
// error when the address is empty, taken or not allowed, and when the
// server was started before.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.listener != nil {
		return fmt.Errorf("start health server on %s: already started", s.listen)
	}
	if strings.TrimSpace(s.listen) == "" {
		return errors.New("start health server: http.listen is empty; " +
			"set it to host:port, e.g. 127.0.0.1:9464")
	}

	listener, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("start health server on %s (http.listen): %w", s.listen, err)
	}
	s.listener = listener
	s.done = make(chan struct{})

	go s.serve(listener, s.done)
	s.logger.Info().Str("listen", listener.Addr().String()).Msg("health server started")
	return nil
}

func (s *Server) serve(listener net.Listener, done chan<- struct{}) {
	defer close(done)

	err := s.http.Serve(listener)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error().Err(err).Msg("health server stopped")
	}
}

// Addr returns the address the server listens on, with the port the system
// chose when listen asked for port 0. Before Start it returns the address
// it was given.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.listener == nil {
		return s.listen
	}
	return s.listener.Addr().String()
}

// Shutdown stops accepting connections and waits until the requests in
// flight are answered or ctx ends. Shutdown of a server never started does
// nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()

	if done == nil {
		return nil
	}

	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down health server on %s: %w", s.Addr(), err)
	}

	select {
	case <-done:
		s.logger.Info().Msg("health server stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down health server on %s: %w", s.Addr(), ctx.Err())
	}
}

// warnWriter turns the standard library's server error log into zerolog
// warnings.
type warnWriter struct {
	logger zerolog.Logger
}

func (w warnWriter) Write(p []byte) (int, error) {
	w.logger.Warn().Msg(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
