// Package proxy serves an account's FIRST LINE API on a local address and
// adds the account's current token to every request on its way out.
// Consumers never hold the token, so a rotation never leaves them with a
// dead one.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Limits of the proxy's own HTTP server and of its requests to FIRST LINE.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10

	// DefaultResponseHeaderTimeout bounds the wait for FIRST LINE's
	// response headers when Options.ResponseHeaderTimeout is zero.
	DefaultResponseHeaderTimeout = 30 * time.Second
	// DefaultWaitTimeout is the token wait when Options.Config leaves
	// WaitTimeout unset.
	DefaultWaitTimeout = 2 * time.Second
	// DefaultMaxConnections caps open client connections when
	// Options.Config leaves MaxConnections unset.
	DefaultMaxConnections = 256
)

// TokenSource gives the token to inject and its generation. While a
// rotation is in flight it should wait for the new token until ctx ends,
// then return the newest it has; rotator.TokenSource does so.
type TokenSource interface {
	Token(ctx context.Context) (secret.String, uint64, error)
}

// Recorder receives the proxy's measurements; *metrics.Metrics implements
// it. Results are the Result* words.
type Recorder interface {
	ProxyRequest(account, result string)
	ProxyRetry(account string)
	ProxyWait(account string, d time.Duration)
}

// Options configures one account's proxy.
type Options struct {
	// Account is the account id, used in logs and metrics.
	Account string
	// Config is the account's proxy block.
	Config config.Proxy
	// Upstream is the account's FIRST LINE base_url: https, or http for a
	// loopback host only.
	Upstream string
	// CAFile is an extra PEM CA bundle trusted for Upstream on top of the
	// system roots; certificates are always verified.
	CAFile string
	// ResponseHeaderTimeout bounds the wait for FIRST LINE's response
	// headers; zero means DefaultResponseHeaderTimeout.
	ResponseHeaderTimeout time.Duration
	// Source gives the current token.
	Source TokenSource
	// Metrics receives measurements; nil records nothing.
	Metrics Recorder
	// Logger receives the access log (Debug) and warnings; the proxy adds
	// component=proxy and account.
	Logger zerolog.Logger
}

// Server is one account's running proxy. It drops any token a client sent
// (the Authorization header and ?token=), sends "Authorization: Bearer"
// with the current token, waits up to wait_timeout for the new token while
// a rotation is in flight, and sends a request once more when FIRST LINE
// answers 401 after the token changed while it was out (bodies up to
// MaxReplayBody). Requests to FIRST LINE's token endpoints (/api/v1/auth
// and below) are refused, since a log-in, refresh or log-out sent through
// the proxy would kill the token every consumer shares.
type Server struct {
	account  string
	addr     string
	log      zerolog.Logger
	rec      Recorder
	http     *http.Server
	proxy    *httputil.ReverseProxy
	upstream *url.URL
	listener *listener
	done     chan struct{}

	// live holds what a reload may change without closing the listener.
	live atomic.Pointer[settings]
}

// settings are the parts of a Server a reload swaps in place.
type settings struct {
	source TokenSource
	client clientToken
	wait   time.Duration
}

// Start checks opts, opens the listener (a TCP address, or a unix socket
// with Config.SocketMode, replacing a stale socket file left by a dead
// process) and serves in the background until Shutdown.
func Start(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}

	ln, err := listen(opts.Config.Listen, socketMode(opts.Config), maxConnections(opts.Config))
	if err != nil {
		return nil, fmt.Errorf("start proxy of account %s: %w", opts.Account, err)
	}
	s.listener, s.addr = ln, ln.address
	s.done = make(chan struct{})

	go s.serve()
	s.log.Info().Str("listen", s.addr).Str("upstream", s.upstream.Redacted()).
		Msg("proxy started")
	return s, nil
}

// newServer builds everything but the listener.
func newServer(opts Options) (*Server, error) {
	parts, err := check(opts)
	if err != nil {
		return nil, fmt.Errorf("start proxy of account %s: %w", opts.Account, err)
	}

	logger := opts.Logger.With().Str("component", "proxy").Str("account", opts.Account)
	s := &Server{
		account:  opts.Account,
		log:      logger.Logger(),
		rec:      opts.Metrics,
		upstream: parts.upstream,
	}
	if s.rec == nil {
		s.rec = nopRecorder{}
	}
	s.live.Store(parts.live)

	errorLog := log.New(warnWriter{s.log}, "", 0)
	s.proxy = &httputil.ReverseProxy{
		Rewrite:      s.rewrite,
		Transport:    &tokenTransport{server: s, base: parts.transport},
		ErrorHandler: s.upstreamError,
		ErrorLog:     errorLog,
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}
	return s, nil
}

// checkedOptions are the parts of Options that needed checking or files
// read.
type checkedOptions struct {
	upstream  *url.URL
	live      *settings
	transport *http.Transport
}

func check(opts Options) (checkedOptions, error) {
	var (
		c   checkedOptions
		err error
	)
	if opts.Source == nil {
		return c, errors.New("no token source")
	}
	if c.upstream, err = parseUpstream(opts.Upstream); err != nil {
		return c, err
	}
	if c.live, err = newSettings(opts); err != nil {
		return c, err
	}
	c.transport, err = upstreamTransport(opts)
	return c, err
}

// newSettings reads the client token file and resolves the wait.
func newSettings(opts Options) (*settings, error) {
	client, err := loadClientToken(opts.Config.ClientTokenFile)
	if err != nil {
		return nil, err
	}

	wait := opts.Config.WaitTimeout.Value()
	if !opts.Config.WaitTimeout.IsSet() {
		wait = DefaultWaitTimeout
	}
	return &settings{source: opts.Source, client: client, wait: wait}, nil
}

func (s *Server) serve() {
	defer close(s.done)

	err := s.http.Serve(s.listener)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error().Err(err).Msg("proxy stopped serving")
	}
}

// Addr returns the address consumers use: host:port with the port the
// system chose for port 0, or unix:/path for a socket.
func (s *Server) Addr() string {
	return s.addr
}

// Shutdown stops accepting connections, waits until the requests in
// flight are answered or ctx ends, and removes the unix socket file.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.listener.removeSocket()
	if err != nil {
		return fmt.Errorf("shut down proxy of account %s on %s: %w", s.account, s.addr, err)
	}

	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("shut down proxy of account %s on %s: %w", s.account, s.addr,
			ctx.Err())
	}
	s.log.Info().Str("listen", s.addr).Msg("proxy stopped")
	return nil
}

// update swaps in a new token source, client token and wait from opts,
// keeping the listener and the connections open.
func (s *Server) update(opts Options) error {
	if opts.Source == nil {
		return fmt.Errorf("update proxy of account %s: no token source", s.account)
	}
	live, err := newSettings(opts)
	if err != nil {
		return fmt.Errorf("update proxy of account %s: %w", s.account, err)
	}
	s.live.Store(live)
	return nil
}

// parseUpstream accepts https URLs, and http only for a loopback host, so
// that the token never crosses a network in clear text.
func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("check upstream base_url: %w", err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("check upstream base_url %q: want https://host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("check upstream base_url %q: remove the user, query or "+
			"fragment", u.Redacted())
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("check upstream base_url %q: plain http is allowed only "+
			"for a loopback host; use https", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func socketMode(c config.Proxy) uint32 {
	if !c.SocketMode.IsSet() {
		return 0o660
	}
	return uint32(c.SocketMode.Value())
}

func maxConnections(c config.Proxy) int {
	if c.MaxConnections < 1 {
		return DefaultMaxConnections
	}
	return c.MaxConnections
}

type nopRecorder struct{}

func (nopRecorder) ProxyRequest(string, string)     {}
func (nopRecorder) ProxyRetry(string)               {}
func (nopRecorder) ProxyWait(string, time.Duration) {}

// warnWriter turns the standard library's server and proxy error logs
// into zerolog warnings.
type warnWriter struct {
	log zerolog.Logger
}

func (w warnWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
