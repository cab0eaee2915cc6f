// Package vaultx is the rotator's own Vault client. It logs in (token,
// AppRole or Kubernetes), keeps its token alive, and reads and writes KV
// secrets of either engine version, with check-and-set writes on KV v2.
package vaultx

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Client talks to one Vault server with a token it obtains and renews
// itself. All methods are safe for concurrent use.
type Client struct {
	api    *api.Client
	auth   authenticator
	log    zerolog.Logger
	clock  Clock
	redact *redactor
	retry  loginBackoff

	mu           sync.Mutex
	token        secret.String
	issuedAt     time.Time
	ttl          time.Duration // 0: the token does not expire
	expiry       time.Time     // zero: the token does not expire
	renewRefused bool          // Vault refused renewal; only log in again
	renewWarned  bool
	kvVersions   map[string]int
	started      bool
	done         chan struct{}

	notRenewableNoted bool
}

// loginBackoff bounds the waits between failed login attempts.
type loginBackoff struct {
	initial time.Duration
	max     time.Duration
}

// Option changes a Client built by New.
type Option func(*Client)

// WithClock makes the Client tell time with clock; tests use a fake one.
// The library's lifetime watcher, which schedules renewals, keeps using
// the real time.
func WithClock(clock Clock) Option {
	return func(c *Client) { c.clock = clock }
}

// WithLoginBackoff sets the first and the largest wait between failed
// login attempts (defaults 1s and 60s; each wait is jittered).
func WithLoginBackoff(initial, maxWait time.Duration) Option {
	return func(c *Client) { c.retry = loginBackoff{initial: initial, max: maxWait} }
}

// New builds a Client for cfg without contacting Vault. The address comes
// from cfg or else VAULT_ADDR. Call Start to log in.
func New(cfg config.Vault, logger zerolog.Logger, opts ...Option) (*Client, error) {
	apiClient, err := newAPIClient(cfg)
	if err != nil {
		return nil, err
	}

	c := &Client{
		api:        apiClient,
		log:        logger.With().Str("component", "vault").Logger(),
		clock:      systemClock{},
		redact:     newRedactor(),
		retry:      loginBackoff{initial: time.Second, max: time.Minute},
		kvVersions: make(map[string]int),
		done:       make(chan struct{}),
	}
	for _, opt := range opts {
		opt(c)
	}

	c.auth, err = newAuthenticator(cfg.Auth, c.redact)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newAPIClient configures the Vault library's client: address, TLS,
// namespace, and no token until a login succeeds.
func newAPIClient(cfg config.Vault) (*api.Client, error) {
	conf := api.DefaultConfig()
	if conf.Error != nil {
		return nil, fmt.Errorf("read VAULT_* environment: %w", conf.Error)
	}

	conf.Address = cfg.Address
	if conf.Address == "" {
		conf.Address = os.Getenv(api.EnvVaultAddress)
	}
	if conf.Address == "" {
		return nil, errors.New("configure vault: no address; set vault.address or VAULT_ADDR")
	}

	// Callers retry with their own backoff; a sealed Vault must fail fast.
	conf.MaxRetries = 0

	if cfg.CAFile != "" || cfg.TLSServerName != "" {
		tlsConf := &api.TLSConfig{CACert: cfg.CAFile, TLSServerName: cfg.TLSServerName}
		if err := conf.ConfigureTLS(tlsConf); err != nil {
			return nil, fmt.Errorf("configure vault TLS (ca_file %q): %w", cfg.CAFile, err)
		}
	}

	client, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("configure vault client for %s: %w", conf.Address, err)
	}

	client.SetToken("")
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	return client, nil
}

// Ready reports whether the client holds a token that has not expired.
func (c *Client) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.token.Empty() {
		return false
	}
	return c.expiry.IsZero() || c.clock.Now().Before(c.expiry)
}

// TokenExpiry returns when the current token expires; the zero time means
// there is no token yet or it never expires.
func (c *Client) TokenExpiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.expiry
}

// Done is closed when the keep-alive loop started by Start has ended,
// which happens after Start's context ends.
func (c *Client) Done() <-chan struct{} {
	return c.done
}

// bareClient returns a copy of the library client with the same address,
// TLS and namespace but no token, for logins and unwrapping.
func (c *Client) bareClient() (*api.Client, error) {
	clone, err := c.api.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("copy vault client: %w", err)
	}

	clone.SetToken("")
	return clone, nil
}

// loggedIn returns the library client to use for a request, or
// ErrNotLoggedIn before the first login.
func (c *Client) loggedIn() (*api.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.token.Empty() {
		return nil, ErrNotLoggedIn
	}
	return c.api, nil
}

// fail wraps a library error as an *Error naming op and path.
func (c *Client) fail(op, path string, err error) error {
	if errors.Is(err, ErrNotLoggedIn) {
		return fmt.Errorf("%s %s: %w", op, path, err)
	}
	return newError(op, path, err, c.redact)
}
