package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/metrics"
	"github.com/firstline-rotator/firstline-rotator/proxy"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

var _ proxy.Recorder = (*metrics.Metrics)(nil)

const (
	testUser     = "proxy-test-agent"
	testPassword = "Pw-proxy-canary-5c1e"
	account      = "support-bot"
)

// echoPath is served by the test upstream itself: it checks the token
// with the emulator and answers the size and hash of the body it read.
const echoPath = "/echo"

// seen is one request as the upstream received it.
type seen struct {
	Method, Path, RawQuery string
	Authorization          string
	ProxyToken             string
	BodyBytes              int
	BodySHA                string
}

// upstream is the emulator behind a real loopback server that records
// every request and may act just before handling one.
type upstream struct {
	em  *emulator.Emulator
	srv *httptest.Server

	mu     sync.Mutex
	seen   []seen
	before func(n int) // called with the request's number, from 1
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{em: emulator.New(emulator.Options{Users: []emulator.User{
		{Name: testUser, Password: testPassword, Role: emulator.RoleAgent},
	}})}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	u.mu.Lock()
	u.seen = append(u.seen, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"),
		ProxyToken:    r.Header.Get(proxy.ClientTokenHeader),
		BodyBytes:     len(body), BodySHA: hex.EncodeToString(sum[:])})
	n, before := len(u.seen), u.before
	u.mu.Unlock()
	if before != nil {
		before(n)
	}

	if r.URL.Path == echoPath {
		u.echo(w, r, len(body))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	u.em.Handler().ServeHTTP(w, r)
}

func (u *upstream) echo(w http.ResponseWriter, r *http.Request, size int) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Content-Type", "application/json")
	if !u.em.Valid(token) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Unauthenticated."}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]int{"bytes": size})
}

func (u *upstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.seen...)
}

func (u *upstream) setBefore(f func(n int)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.before = f
}

// newToken issues a token by hand, killing the previous one.
func (u *upstream) newToken(t *testing.T) string {
	t.Helper()
	tok, err := u.em.LoginByHand(testUser)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// source is a token source the test controls: it can be made to block
// until released, as rotator.TokenSource does during a log-in.
type source struct {
	mu      sync.Mutex
	token   string
	gen     uint64
	err     error
	block   chan struct{}
	entered chan struct{} // receives once per Token call while blocked
}

func newSource(token string) *source {
	return &source{token: token, gen: 1, entered: make(chan struct{}, 16)}
}

func (s *source) Token(ctx context.Context) (secret.String, uint64, error) {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		s.entered <- struct{}{}
		select {
		case <-block:
		case <-ctx.Done():
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return secret.New(s.token), s.gen, s.err
}

// set installs a new token as the next generation.
func (s *source) set(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	s.gen++
}

// hold makes Token block until the returned function is called.
func (s *source) hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	block := make(chan struct{})
	s.block = block
	return func() {
		s.mu.Lock()
		s.block = nil
		s.mu.Unlock()
		close(block)
	}
}

// recorder counts what the proxy records. The proxy records a request
// after its answer is written, so tests await the count before checking.
type recorder struct {
	mu       sync.Mutex
	requests map[string]int
	total    int
	retries  int
	waits    []time.Duration
	changed  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{requests: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) ProxyRequest(account, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[account+"/"+result]++
	r.total++
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) ProxyRetry(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
}

func (r *recorder) ProxyWait(_ string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
}

// await blocks until n requests are recorded; a proxy that never records
// them fails the test.
func (r *recorder) await(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		total := r.total
		r.mu.Unlock()
		if total >= n {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("%d requests recorded, want %d", total, n)
		}
	}
}

func (r *recorder) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[account+"/"+result]
}

func (r *recorder) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.requests)
}

func (r *recorder) retried() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries
}

func (r *recorder) waited() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.waits)
}

// fixture is a proxy in front of an upstream, with its metrics and log.
type fixture struct {
	up  *upstream
	src *source
	rec *recorder
	log *testutil.Buffer
	srv *proxy.Server
}

// startProxy starts a proxy on 127.0.0.1:0 (unless cfg says otherwise)
// for a source holding a fresh token.
func startProxy(t *testing.T, up *upstream, cfg config.Proxy) *fixture {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	f := &fixture{up: up, src: newSource(up.newToken(t)), rec: newRecorder(),
		log: &testutil.Buffer{}}
	srv, err := proxy.Start(proxy.Options{
		Account: account, Config: cfg, Upstream: up.srv.URL, Source: f.src,
		Metrics: f.rec, Logger: zerolog.New(f.log).Level(zerolog.DebugLevel),
	})
	if err != nil {
		t.Fatalf("start proxy: %v", err)
	}
	t.Cleanup(func() { shutdown(t, srv) })
	f.srv = srv
	return f
}

func shutdown(t *testing.T, srv *proxy.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shut down proxy: %v", err)
	}
}

// answer is a response read in full.
type answer struct {
	status int
	body   string
}

// do sends a request through the proxy at addr (host:port or unix:/path).
func do(t *testing.T, addr string, req *http.Request) answer {
	t.Helper()
	client := &http.Client{Transport: clientTransport(addr)}
	if strings.HasPrefix(addr, "unix:") {
		req.URL.Host = "proxy.sock"
	} else {
		req.URL.Host = addr
	}
	req.URL.Scheme = "http"

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request through the proxy: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return answer{status: resp.StatusCode, body: string(body)}
}

// clientTransport dials the proxy, over its unix socket when it has one.
func clientTransport(addr string) *http.Transport {
	tr := &http.Transport{}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
	}
	return tr
}

func get(t *testing.T, addr, target string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://placeholder"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, addr, req)
}

// messageOf returns the "message" of a JSON answer.
func messageOf(t *testing.T, a answer) string {
	t.Helper()
	var body struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil {
		t.Fatalf("answer %d %q is not JSON: %v", a.status, a.body, err)
	}
	return body.Message
}
