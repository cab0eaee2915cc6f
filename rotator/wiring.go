package rotator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/credentials"
	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/hooks"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/state"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// wiring builds accounts from configuration, sharing one FIRST LINE client
// among accounts with the same API settings.
type wiring struct {
	opts    Options
	log     zerolog.Logger
	store   *state.Store
	limiter *rate.Limiter
	clients map[clientKey]*firstline.Client
	vault   *vaultx.Client
	owner   string
	close   func()
}

type clientKey struct {
	baseURL   string
	timeout   time.Duration
	putAsPost bool
	caFile    string
}

func newWiring(cfg *config.Config, opts Options, log zerolog.Logger) (*wiring, error) {
	store, err := state.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}

	w := &wiring{
		opts:    opts,
		log:     log,
		store:   store,
		clients: make(map[clientKey]*firstline.Client),
		owner:   newOwnerID(),
		close:   func() {},
	}
	if rps := cfg.FirstLine.RateLimit; rps > 0 {
		w.limiter = rate.NewLimiter(rate.Limit(rps), max(1, int(rps)))
	}
	if cfg.Vault != nil {
		if w.vault, err = vaultx.New(*cfg.Vault, opts.Logger); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *wiring) account(ac config.Account) (*account, error) {
	log := w.log.With().Str("account", ac.ID).Logger()
	// Sinks, hooks and leases name their own component.
	base := w.opts.Logger.With().Str("account", ac.ID).Logger()

	client, err := w.client(*ac.FirstLine)
	if err != nil {
		return nil, err
	}

	source, err := w.source(ac.Credentials)
	if err != nil {
		return nil, err
	}

	a := &account{
		cfg: ac, client: client, source: source, store: w.store, log: log,
		rec: w.opts.Recorder, now: w.opts.Now, onEvent: w.opts.OnRotated,
	}
	if ac.Schedule != "" {
		if a.schedule, err = config.ParseSchedule(ac.Schedule); err != nil {
			return nil, fmt.Errorf("parse schedule: %w", err)
		}
	}

	for _, spec := range ac.Sinks {
		s, err := sinks.New(spec, sinks.Deps{Logger: base, Vault: w.vault})
		if err != nil {
			return nil, err
		}
		a.sinks = append(a.sinks, s)
	}

	if ac.Lock.Type == "vault" {
		a.lease = &vaultLease{client: w.vault, mount: ac.Lock.Mount, path: ac.Lock.Path,
			ttl: ac.Lock.TTL.Value(), owner: w.owner, now: w.opts.Now,
			log: base.With().Str("component", "lease").Logger()}
	}

	for _, spec := range ac.Hooks {
		h, err := hooks.New(spec, base)
		if err != nil {
			return nil, err
		}
		a.hooks = append(a.hooks, h)
	}

	// An unreadable state file fails this account's passes, with the
	// error, but must not stop the other accounts.
	if a.snap, err = w.store.Load(ac.ID); err != nil {
		log.Error().Err(err).Msg("read state; this account fails until it is fixed")
	}
	a.recordLoaded()
	return a, nil
}

func (w *wiring) client(fl config.FirstLine) (*firstline.Client, error) {
	key := clientKey{fl.BaseURL, fl.Timeout.Value(), *fl.PutAsPost, fl.CAFile}
	if c := w.clients[key]; c != nil {
		return c, nil
	}

	c, err := firstline.New(firstline.Options{
		BaseURL: fl.BaseURL, Timeout: fl.Timeout.Value(), PutAsPost: *fl.PutAsPost,
		CAFile: fl.CAFile, Limiter: w.limiter, Logger: w.opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("set up FIRST LINE client: %w", err)
	}
	w.clients[key] = c
	return c, nil
}

func (w *wiring) source(c config.Credentials) (credentials.Source, error) {
	switch {
	case c.File != nil:
		return credentials.FileSource{NameFile: c.File.NameFile,
			PasswordFile: c.File.PasswordFile}, nil
	case c.Env != nil:
		return credentials.EnvSource{NameVar: c.Env.Name, PasswordVar: c.Env.Password}, nil
	case c.Vault != nil && w.vault != nil:
		return vaultGate{w.vault, credentials.NewVaultSource(w.vault, *c.Vault)}, nil
	}
	return nil, fmt.Errorf("set up credentials: no source configured")
}

// vaultGate fails fast, with a message that says why, while the rotator
// has no Vault token yet, rather than letting Vault answer "permission
// denied".
type vaultGate struct {
	client *vaultx.Client
	credentials.Source
}

func (g vaultGate) Load(ctx context.Context) (credentials.Credentials, error) {
	if !g.client.Ready() {
		return credentials.Credentials{}, errors.New("not logged in to Vault yet " +
			"(see the component=vault log lines for why)")
	}
	return g.Source.Load(ctx)
}

// recordLoaded publishes what the state says before any pass, so that
// expiry and lag alerts work straight after a restart.
func (a *account) recordLoaded() {
	st := a.snap
	a.rec.AccountConfigured(a.cfg.ID, a.sinkNames())
	a.rec.LoginBudget(a.cfg.ID, a.cfg.MaxLoginsPerHour-len(st.RecentLogins(a.now(), loginWindow)))
	if st.Generation == 0 {
		return
	}

	a.rec.JournalGeneration(a.cfg.ID, st.Generation)
	a.rec.TokenExpiry(a.cfg.ID, st.ExpiresAt)
	for _, name := range a.sinkNames() {
		if held := st.Sinks[name]; held.Generation > 0 {
			a.rec.SinkDelivered(a.cfg.ID, name, held.Generation, held.DeliveredAt)
		}
	}
}
