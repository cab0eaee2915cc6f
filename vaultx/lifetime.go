package vaultx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/vault/api"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// renewSelfPath ends the URL path of a token renewal request.
const renewSelfPath = "/v1/auth/token/renew-self"

// Start logs in, retrying with capped, jittered backoff while ctx lives,
// and then keeps the token alive in the background until ctx ends: it
// renews the token on the schedule of the library's lifetime watcher and
// logs in again when the token cannot be renewed any more.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("start vault client: already started")
	}
	c.started = true
	c.mu.Unlock()

	first, err := c.loginWithRetry(ctx)
	if err != nil {
		close(c.done)
		return err
	}

	go c.keepAlive(ctx, first)
	return nil
}

// loginWithRetry logs in until it succeeds or ctx ends. Each failure is
// logged with the wait before the next attempt.
func (c *Client) loginWithRetry(ctx context.Context) (*api.Secret, error) {
	policy := &backoff.ExponentialBackOff{
		InitialInterval:     c.retry.initial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.retry.max,
	}

	var last error
	attempt := func() (*api.Secret, error) {
		answer, err := c.login(ctx)
		last = err
		return answer, err
	}
	notify := func(err error, next time.Duration) {
		c.log.Warn().Str("method", c.auth.method()).Str("error", err.Error()).
			Time("next_run", time.Now().Add(next)).Msg("vault login failed; trying again")
	}

	answer, err := backoff.Retry(ctx, attempt, backoff.WithBackOff(policy),
		backoff.WithMaxElapsedTime(0), backoff.WithNotify(notify))
	if err != nil {
		return nil, fmt.Errorf("log in to vault with %s: %w (last attempt: %v)",
			c.auth.method(), err, last)
	}
	return answer, nil
}

// login runs the auth method once and adopts the token it yields.
func (c *Client) login(ctx context.Context) (*api.Secret, error) {
	answer, err := c.auth.login(ctx, c.bareClient)
	if err != nil {
		return nil, err
	}

	c.adopt(answer.Auth)
	return answer, nil
}

// adopt makes a fresh token the one every request uses.
func (c *Client) adopt(auth *api.SecretAuth) {
	token := secret.New(auth.ClientToken)
	c.redact.remember(kindToken, token)
	c.api.SetToken(token.Reveal())

	c.mu.Lock()
	same := token.Equal(c.token)
	c.token = token
	c.setLease(auth.LeaseDuration)
	c.mu.Unlock()

	event := c.log.Info()
	if same {
		event = c.log.Debug()
	}
	event.Str("method", c.auth.method()).Str("fingerprint", token.Fingerprint()).
		Dur("ttl", seconds(auth.LeaseDuration)).Bool("renewable", auth.Renewable).
		Msg("logged in to vault")
}

// setLease records a lease of the given seconds starting now; c.mu is held.
func (c *Client) setLease(leaseSeconds int) {
	c.issuedAt = c.clock.Now()
	c.ttl = seconds(leaseSeconds)
	c.expiry = time.Time{}
	if c.ttl > 0 {
		c.expiry = c.issuedAt.Add(c.ttl)
	}
}

func seconds(n int) time.Duration {
	return time.Duration(n) * time.Second
}

// keepAlive holds each token until it must be replaced, then logs in
// again, until ctx ends.
func (c *Client) keepAlive(ctx context.Context, current *api.Secret) {
	defer close(c.done)

	for {
		c.hold(ctx, current)
		if ctx.Err() != nil {
			return
		}

		next, err := c.loginWithRetry(ctx)
		if err != nil {
			return
		}
		current = next
	}
}

// hold returns when the token in current should be replaced or ctx ends.
func (c *Client) hold(ctx context.Context, current *api.Secret) {
	c.mu.Lock()
	refused := c.renewRefused
	c.mu.Unlock()

	switch {
	case current.Auth.LeaseDuration <= 0:
		<-ctx.Done()
		return
	case !current.Auth.Renewable:
		c.noteNotRenewable()
	case !refused:
		if !c.watch(ctx, current) {
			return
		}
	}
	c.waitTwoThirds(ctx)
}

// noteNotRenewable says once that tokens are replaced instead of renewed.
func (c *Client) noteNotRenewable() {
	c.mu.Lock()
	defer c.mu.Unlock()

	if !c.notRenewableNoted {
		c.notRenewableNoted = true
		c.log.Info().Str("method", c.auth.method()).
			Msg("vault token is not renewable; logging in again at two thirds of its TTL")
	}
}

// waitTwoThirds waits until two thirds of the current token's TTL have
// passed since it was issued, or ctx ends.
func (c *Client) waitTwoThirds(ctx context.Context) {
	c.mu.Lock()
	at := c.issuedAt.Add(c.ttl * 2 / 3)
	wait := at.Sub(c.clock.Now())
	c.mu.Unlock()

	c.log.Debug().Time("next_run", at).Msg("vault token will be replaced")
	select {
	case <-ctx.Done():
	case <-c.clock.After(max(wait, 0)):
	}
}

// watch renews the token with the library's lifetime watcher until the
// watcher gives up (log in again now: it returns false) or Vault refuses a
// renewal (wait for two thirds of the TTL instead: it returns true).
func (c *Client) watch(ctx context.Context, current *api.Secret) bool {
	refusals := make(chan int, 1)
	observed := c.api.WithResponseCallbacks(func(resp *api.Response) {
		if isRefusedRenewal(resp) {
			select {
			case refusals <- resp.StatusCode:
			default:
			}
		}
	})

	watcher, err := observed.NewLifetimeWatcher(&api.LifetimeWatcherInput{
		Secret:        current,
		RenewBehavior: api.RenewBehaviorIgnoreErrors,
	})
	if err != nil {
		c.log.Error().Str("error", err.Error()).Msg("cannot watch vault token; logging in again")
		return false
	}

	go watcher.Start()
	defer watcher.Stop()
	return c.followWatcher(ctx, watcher, refusals)
}

// isRefusedRenewal reports a renew-self answer that will not change by
// asking again: a 4xx other than 429.
func isRefusedRenewal(resp *api.Response) bool {
	if resp == nil || resp.Request == nil {
		return false
	}
	if !strings.HasSuffix(resp.Request.URL.Path, renewSelfPath) {
		return false
	}

	status := resp.StatusCode
	return status >= 400 && status < 500 && status != http.StatusTooManyRequests
}

// followWatcher handles the watcher's events; see watch for the result.
func (c *Client) followWatcher(ctx context.Context, watcher *api.LifetimeWatcher,
	refusals <-chan int,
) bool {
	renewed := false
	for {
		select {
		case <-ctx.Done():
			return false
		case out := <-watcher.RenewCh():
			renewed = true
			c.renewed(out)
		case err := <-watcher.DoneCh():
			c.watcherDone(err)
			return false
		case status := <-refusals:
			return c.refused(status, renewed)
		}
	}
}

// renewed records the lease a successful renewal granted.
func (c *Client) renewed(out *api.RenewOutput) {
	if out == nil || out.Secret == nil || out.Secret.Auth == nil {
		return
	}

	c.mu.Lock()
	c.setLease(out.Secret.Auth.LeaseDuration)
	fingerprint := c.token.Fingerprint()
	c.mu.Unlock()

	c.log.Debug().Str("fingerprint", fingerprint).
		Dur("ttl", seconds(out.Secret.Auth.LeaseDuration)).Msg("renewed vault token")
}

// watcherDone logs why the watcher stopped; the token is replaced next.
func (c *Client) watcherDone(err error) {
	event := c.log.Info()
	if err != nil {
		event = event.Str("error", c.redact.scrub(err.Error()))
	}
	event.Msg("vault token reached the end of its renewable life; logging in again")
}

// refused handles a renewal Vault would not grant. A token renewed before
// and now refused was probably revoked: log in again at once. A first
// refusal means the policy lacks renew-self: stop renewing for good, warn
// once, and replace tokens at two thirds of their TTL.
func (c *Client) refused(status int, renewedBefore bool) bool {
	if renewedBefore {
		c.log.Warn().Int("status", status).
			Msg("vault refused to renew a token it renewed before; logging in again")
		return false
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	c.renewRefused = true
	if !c.renewWarned {
		c.renewWarned = true
		c.log.Warn().Int("status", status).Str("method", c.auth.method()).
			Msg("vault refused to renew the token (does the policy allow " +
				"auth/token/renew-self?); logging in again at two thirds of each token's TTL")
	}
	return true
}
