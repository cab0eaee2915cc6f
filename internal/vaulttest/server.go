package vaulttest

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Version is the Vault version the server reports in sys/health and
// sys/seal-status.
const Version = "1.21.4+vaulttest"

// defaultTTL is Vault's default and maximum lease TTL (768h, 32 days).
const defaultTTL = 768 * time.Hour

// Options configures a Server.
type Options struct {
	// Logger receives one line per request (method, API path, status) and the
	// KV engine's warnings; nil discards them. Tokens, secret IDs and secret
	// data are never written to it.
	Logger io.Writer
}

// Server is a running test Vault. All its methods are safe for concurrent
// use.
type Server struct {
	http      *httptest.Server
	logOut    *lockedWriter
	kvLogger  hclog.Logger
	rootToken string
	clusterID string

	mu         sync.Mutex
	sealed     bool
	clock      time.Time
	namespace  string
	mounts     map[string]*kvMount
	authMounts map[string]string
	policies   map[string][]Rule
	tokens     map[string]*tokenEntry
	wraps      map[string]*wrappedResponse
	appRoles   map[string]*appRole
	kubeRoles  map[string]*kubeRole
	failures   []*failure
	requests   map[string]int
	logins     int
}

// Start starts a Server on 127.0.0.1 with "secret/" mounted as KV v2 and
// closes it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()

	s, err := New(Options{})
	if err != nil {
		t.Fatalf("start test vault: %v", err)
	}

	t.Cleanup(s.Close)
	return s
}

// New starts a Server on 127.0.0.1 with "secret/" mounted as KV v2. The
// caller must call Close.
func New(opts Options) (*Server, error) {
	s := &Server{
		rootToken:  newTokenID(),
		clusterID:  newUUID(),
		clock:      time.Now().UTC().Truncate(time.Second),
		mounts:     map[string]*kvMount{},
		authMounts: map[string]string{"approle/": methodAppRole, "kubernetes/": methodKubernetes},
		policies:   map[string][]Rule{"default": defaultPolicy()},
		tokens:     map[string]*tokenEntry{},
		wraps:      map[string]*wrappedResponse{},
		appRoles:   map[string]*appRole{},
		kubeRoles:  map[string]*kubeRole{},
		requests:   map[string]int{},
	}
	if opts.Logger != nil {
		s.logOut = &lockedWriter{w: opts.Logger}
	}
	s.kvLogger = newKVLogger(s.logOut)
	s.tokens[s.rootToken] = s.rootEntry()

	if err := s.MountKV("secret", 2); err != nil {
		return nil, fmt.Errorf("mount secret/ as kv v2: %w", err)
	}

	s.http = httptest.NewServer(s)
	return s, nil
}

// URL returns the server's base address, e.g. http://127.0.0.1:41234, for
// api.Config.Address or VAULT_ADDR.
func (s *Server) URL() string {
	return s.http.URL
}

// RootToken returns a token with the root policy that never expires.
func (s *Server) RootToken() string {
	return s.rootToken
}

// Close stops the HTTP server and the KV engines.
func (s *Server) Close() {
	s.http.Close()

	s.mu.Lock()
	mounts := s.mounts
	s.mounts = map[string]*kvMount{}
	s.mu.Unlock()

	for _, m := range mounts {
		m.backend.Cleanup(context.Background())
	}
}

// Seal makes every endpoint except sys/health and sys/seal-status answer 503
// {"errors":["Vault is sealed"]}, as a sealed Vault does. sys/health answers
// 503 with its health body and sys/seal-status 200 with "sealed": true.
func (s *Server) Seal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = true
}

// Unseal ends the sealed mode. Tokens and data survive a seal.
func (s *Server) Unseal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = false
}

// Now returns the server's clock, which token and wrapping TTLs are measured
// against. It starts at the wall-clock time of New (whole seconds) and only
// moves with AdvanceClock, so TTLs read back exactly.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock
}

// AdvanceClock moves the server's clock forward by d: tokens and wrapping
// tokens whose TTL has run out are rejected from then on. KV version
// timestamps (created_time, deletion_time) come from the KV engine and use
// the wall clock.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = s.clock.Add(d)
}

// RequireNamespace makes every request other than sys/health and
// sys/seal-status carry X-Vault-Namespace equal to ns (leading and trailing
// slashes ignored), else it answers 403. By default, like Vault Community
// Edition, the server ignores the header; an empty ns restores that.
func (s *Server) RequireNamespace(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespace = trimSlashes(ns)
}

// logf writes one line to the configured logger.
func (s *Server) logf(format string, args ...any) {
	if s.logOut == nil {
		return
	}

	fmt.Fprintf(s.logOut, "vaulttest: "+format+"\n", args...)
}

// newKVLogger returns the logger handed to the KV engines.
func newKVLogger(w *lockedWriter) hclog.Logger {
	if w == nil {
		return hclog.NewNullLogger()
	}

	return hclog.New(&hclog.LoggerOptions{Name: "vaulttest.kv", Output: w, Level: hclog.Warn})
}

// lockedWriter serialises writes from the request log and the KV engines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write implements io.Writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
