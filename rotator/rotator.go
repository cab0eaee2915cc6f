// Package rotator keeps FIRST LINE tokens fresh. It rotates each account
// when its schedule fires or its token enters the renew_before window,
// journals every new token before any sink sees it, and drives every sink to
// the journal's generation.
package rotator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// Options are the parts of a Rotator that do not come from the
// configuration file.
type Options struct {
	Logger zerolog.Logger
	// Recorder receives metrics; nil records nothing.
	Recorder Recorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnRotated is called after each rotation that reached every sink.
	OnRotated func(Event)
}

// Rotator rotates the tokens of every configured account.
type Rotator struct {
	cfg      *config.Config
	accounts []*account
	byID     map[string]*account
	log      zerolog.Logger
	now      func() time.Time
	closers  []func()
	vault    *vaultx.Client
	rec      Recorder

	// beat is when the scheduler loop last turned, in Unix nanoseconds.
	beat atomic.Int64
	// kick asks the scheduler to retry accounts in backoff at once.
	kick chan struct{}
}

// New builds a Rotator from a validated configuration. It opens the state
// directory and builds every sink, but contacts nothing.
func New(cfg *config.Config, opts Options) (*Rotator, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Recorder == nil {
		opts.Recorder = nopRecorder{}
	}

	r := &Rotator{
		cfg:  cfg,
		byID: make(map[string]*account, len(cfg.Accounts)),
		log:  opts.Logger.With().Str("component", "rotator").Logger(),
		now:  opts.Now,
		rec:  opts.Recorder,
		kick: make(chan struct{}, 1),
	}
	w, err := newWiring(cfg, opts, r.log)
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, w.close)
	r.vault = w.vault

	for _, ac := range cfg.Accounts {
		a, err := w.account(ac)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("set up account %s: %w", ac.ID, err)
		}
		r.accounts = append(r.accounts, a)
		r.byID[ac.ID] = a
	}
	return r, nil
}

// Start logs in to Vault, when configured, and keeps that session alive
// until ctx ends. It returns once logged in, or with an error when ctx ends
// first.
func (r *Rotator) Start(ctx context.Context) error {
	if r.vault == nil {
		return nil
	}
	if err := r.vault.Start(ctx); err != nil {
		return fmt.Errorf("log in to vault: %w", err)
	}
	return nil
}

// StartBackground is Start for the daemon: it returns at once, and until
// the Vault login succeeds, rotations that need Vault fail and are retried
// with backoff while the process stays up and reports not ready.
func (r *Rotator) StartBackground(ctx context.Context) {
	if r.vault == nil {
		return
	}
	go func() {
		if err := r.vault.Start(ctx); err != nil {
			if ctx.Err() == nil {
				r.log.Error().Err(err).Msg("vault session ended")
			}
			return
		}

		// Rotations that failed for want of Vault need not wait out
		// their backoff.
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}()
}

// Shutdown logs out the tokens of accounts with revoke_on_shutdown, for a
// daemon that stops for good. Failures are logged; the tokens then simply
// expire.
func (r *Rotator) Shutdown(ctx context.Context) {
	for _, a := range r.accounts {
		if a.cfg.RevokeOnShutdown {
			a.revoke(ctx)
		}
	}
}

// Close releases what New and Start acquired.
func (r *Rotator) Close() {
	for _, c := range r.closers {
		c()
	}
	r.closers = nil
}

// RotateOnce makes one pass over the named accounts (all when ids is
// empty): each due account logs in, and every lagging sink is written. With
// force every selected account logs in. Results come in configuration
// order.
func (r *Rotator) RotateOnce(ctx context.Context, ids []string, force bool) ([]Result, error) {
	selected, err := r.select_(ids)
	if err != nil {
		return nil, err
	}

	// A pass that started runs to its end even when ctx ends (a signal):
	// abandoning a log-in in flight would lose the token it brings. Passes
	// not started yet are not started.
	work := context.WithoutCancel(ctx)
	results := make([]Result, len(selected))
	sem := make(chan struct{}, r.cfg.FirstLine.Concurrency)
	var wg sync.WaitGroup
	for i, a := range selected {
		sem <- struct{}{}
		if ctx.Err() != nil {
			results[i] = a.failed(Result{Account: a.cfg.ID},
				fmt.Errorf("not started: %w", context.Cause(ctx)))
			<-sem
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = a.passWithRedelivery(work, force)
		}()
	}
	wg.Wait()
	return results, nil
}

func (r *Rotator) select_(ids []string) ([]*account, error) {
	if len(ids) == 0 {
		return r.accounts, nil
	}

	var selected []*account
	for _, a := range r.accounts {
		if slices.Contains(ids, a.cfg.ID) {
			selected = append(selected, a)
		}
	}
	for _, id := range ids {
		if r.byID[id] == nil {
			return nil, fmt.Errorf("select account %q: not in %s", id, r.cfg.Path)
		}
	}
	return selected, nil
}

// maxReasons bounds how many problems Ready lists.
const maxReasons = 20

// Ready reports whether every account holds an unexpired token that every
// one of its sinks has; when not, the reason lists what is wrong, one
// line per account (at most maxReasons).
func (r *Rotator) Ready() (bool, string) {
	var reasons []string
	if r.vault != nil && !r.vault.Ready() {
		reasons = append(reasons, "not logged in to Vault")
	}
	now := r.now()
	for _, a := range r.accounts {
		if why := a.unready(now); why != "" {
			reasons = append(reasons, "account "+a.cfg.ID+": "+why)
		}
	}

	switch {
	case len(reasons) == 0:
		return true, "ok"
	case len(reasons) > maxReasons:
		more := len(reasons) - maxReasons
		reasons = append(reasons[:maxReasons], fmt.Sprintf("and %d more", more))
	}
	return false, strings.Join(reasons, "\n")
}

// unready says why the account is not ready, or "".
func (a *account) unready(now time.Time) string {
	st := a.snapshot()
	switch {
	case st.Token.Empty():
		return "no token yet"
	case !now.Before(st.ExpiresAt):
		return "token expired at " + st.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if lag := st.Lagging(a.sinkNames()); len(lag) > 0 {
		return fmt.Sprintf("sinks behind generation %d: %v", st.Generation, lag)
	}
	return ""
}
