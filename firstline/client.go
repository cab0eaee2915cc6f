// Package firstline is the HTTP client for the FIRST LINE token API: log
// in, refresh, revoke and probe. Every failure is an *Error whose Kind
// says whether the old token may already be dead, and no error or log line
// ever carries a password or a token.
package firstline

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
)

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Options configures a Client.
type Options struct {
	// BaseURL is https://host (optionally with a path prefix); plain
	// http:// is accepted only for a loopback host (127.0.0.0/8, ::1,
	// localhost).
	BaseURL string
	// Timeout bounds each request, body included; default DefaultTimeout.
	Timeout time.Duration
	// PutAsPost sends every PUT as a POST with "_method": "put" in the
	// JSON body, which Laravel's method spoofing honours for JSON bodies.
	PutAsPost bool
	// CAFile is an extra PEM CA bundle trusted on top of the system roots.
	CAFile string
	// Limiter, when set, is waited on before each request.
	Limiter *rate.Limiter
	// HTTPClient replaces the client's own (for tests). CAFile is then
	// not applied, but Timeout still bounds each call. Redirects are never
	// followed either way.
	HTTPClient *http.Client
	// Logger receives debug lines for each request and warnings; the
	// client adds component=firstline.
	Logger zerolog.Logger
	// Clock gives the time a token answer arrives; default time.Now.
	Clock func() time.Time
}

// Client talks to one FIRST LINE API host. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	timeout   time.Duration
	putAsPost bool
	limiter   *rate.Limiter
	http      *http.Client
	log       zerolog.Logger
	now       func() time.Time
}

// New checks opts and builds a Client.
func New(opts Options) (*Client, error) {
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}

	if opts.Timeout < 0 {
		return nil, fmt.Errorf("check timeout: %s is negative", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}

	hc, err := httpClient(opts)
	if err != nil {
		return nil, err
	}

	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Client{
		base:      base,
		timeout:   opts.Timeout,
		putAsPost: opts.PutAsPost,
		limiter:   opts.Limiter,
		http:      hc,
		log:       opts.Logger.With().Str("component", "firstline").Logger(),
		now:       opts.Clock,
	}, nil
}

// parseBaseURL accepts https URLs, and http only for loopback hosts, so
// that credentials never cross a network in clear text.
func parseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("check base URL: it is empty; write e.g. https://01.firstline.cc")
	}

	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("check base URL %q: %w", raw, err)
	}

	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("check base URL %q: scheme must be https", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("check base URL %q: no host; write e.g. "+
			"https://01.firstline.cc", raw)
	case u.User != nil:
		return nil, fmt.Errorf("check base URL: remove the user information from it")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("check base URL %q: remove the query or fragment", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("check base URL %q: plain http is allowed only for a "+
			"loopback host (127.0.0.0/8, ::1, localhost); use https", raw)
	}

	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// httpClient returns the HTTP client to use. It never follows redirects:
// a redirect from a token API is an unusable answer, and following it
// could resend credentials somewhere else.
func httpClient(opts Options) (*http.Client, error) {
	if opts.HTTPClient != nil {
		hc := *opts.HTTPClient
		hc.CheckRedirect = refuseRedirect
		return &hc, nil
	}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CAFile != "" {
		pool, err := fileutil.CertPool(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	return &http.Client{Transport: transport, CheckRedirect: refuseRedirect}, nil
}

func refuseRedirect(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}
