// Package rotator keeps FIRST LINE tokens fresh. It rotates each account
// when its schedule fires or its token enters the renew_before window,
// journals every new token before any sink sees it, and drives every sink to
// the journal's generation.
package rotator

import (
	"context"
	"fmt"
	"slices"
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

	results := make([]Result, len(selected))
	sem := make(chan struct{}, r.cfg.FirstLine.Concurrency)
	var wg sync.WaitGroup
	for i, a := range selected {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = a.passWithRedelivery(ctx, force)
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

// Ready reports whether every account holds an unexpired token that every
// one of its sinks has; when not, the reason names the first account that
// is not.
func (r *Rotator) Ready() (bool, string) {
	now := r.now()
	if r.vault != nil && !r.vault.Ready() {
		return false, "not logged in to Vault"
	}
	for _, a := range r.accounts {
		st := a.snapshot()
		switch {
		case st.Token.Empty():
			return false, "account " + a.cfg.ID + ": no token yet"
		case !now.Before(st.ExpiresAt):
			return false, "account " + a.cfg.ID + ": token expired at " +
				st.ExpiresAt.UTC().Format(time.RFC3339)
		}
		if lag := st.Lagging(a.sinkNames()); len(lag) > 0 {
			return false, fmt.Sprintf("account %s: sinks behind generation %d: %v",
				a.cfg.ID, st.Generation, lag)
		}
	}
	return true, "ok"
}
