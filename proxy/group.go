package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
)

// Sources finds an account's token source by its id. For a
// *rotator.Rotator:
//
//	func(id string) (proxy.TokenSource, bool) { return rot.TokenSource(id) }
type Sources func(account string) (TokenSource, bool)

// Group runs the proxies of every account that configures one, and keeps
// them listening across configuration reloads. It is safe for concurrent
// use.
type Group struct {
	rec Recorder
	log zerolog.Logger

	mu      sync.Mutex
	running map[string]*member
}

// member is one running proxy and the settings it was started with that
// cannot change without a new listener or transport.
type member struct {
	server *Server
	fixed  fixedSettings
}

type fixedSettings struct {
	listen     string
	socketMode string
	maxConns   int
	upstream   string
	caFile     string
}

// NewGroup returns a group running no proxy; Apply starts them. rec may
// be nil.
func NewGroup(rec Recorder, log zerolog.Logger) *Group {
	return &Group{rec: rec, log: log, running: make(map[string]*member)}
}

// Apply makes the running proxies match accounts. It starts the proxies
// of new accounts; restarts a proxy whose listen, socket_mode,
// max_connections, base_url or ca_file changed; gives every other one the
// new token source, client token and wait_timeout without closing its
// listener; and stops the proxies of accounts that no longer have one.
// ctx bounds the shutdown of the proxies it stops. The error names every
// account whose proxy could not be started; the others run.
func (g *Group) Apply(ctx context.Context, accounts []config.Account, sources Sources) error {
	g.mu.Lock()
	defer g.mu.Unlock()

	wanted := make(map[string]bool, len(accounts))
	var errs []error
	for _, a := range accounts {
		if a.Proxy == nil {
			continue
		}
		wanted[a.ID] = true
		if err := g.applyOne(ctx, a, sources); err != nil {
			errs = append(errs, err)
		}
	}

	for id, m := range g.running {
		if !wanted[id] {
			g.stop(ctx, id, m)
		}
	}
	return errors.Join(errs...)
}

// applyOne starts, restarts or updates the proxy of one account.
func (g *Group) applyOne(ctx context.Context, a config.Account, sources Sources) error {
	source, ok := sources(a.ID)
	if !ok {
		return fmt.Errorf("start proxy of account %s: no token source for it", a.ID)
	}
	if a.FirstLine == nil {
		return fmt.Errorf("start proxy of account %s: no firstline block", a.ID)
	}

	opts := Options{Account: a.ID, Config: *a.Proxy, Upstream: a.FirstLine.BaseURL,
		CAFile: a.FirstLine.CAFile, Source: source, Metrics: g.rec, Logger: g.log}
	fixed := fixedSettings{listen: a.Proxy.Listen, socketMode: a.Proxy.SocketMode.String(),
		maxConns: a.Proxy.MaxConnections, upstream: opts.Upstream, caFile: opts.CAFile}

	old := g.running[a.ID]
	if old != nil && old.fixed == fixed {
		return old.server.update(opts)
	}
	if old != nil {
		g.stop(ctx, a.ID, old)
	}

	s, err := Start(opts)
	if err != nil {
		return err
	}
	g.running[a.ID] = &member{server: s, fixed: fixed}
	return nil
}

// stop shuts one proxy down; a failure is logged, since the proxy is
// being dropped either way.
func (g *Group) stop(ctx context.Context, id string, m *member) {
	delete(g.running, id)
	if err := m.server.Shutdown(ctx); err != nil {
		g.log.Warn().Err(err).Str("account", id).Msg("proxy did not stop cleanly")
	}
}

// Addr returns the address of the account's proxy, or "" when it runs
// none.
func (g *Group) Addr(account string) string {
	g.mu.Lock()
	defer g.mu.Unlock()

	if m := g.running[account]; m != nil {
		return m.server.Addr()
	}
	return ""
}

// Shutdown stops every proxy, letting requests in flight finish until ctx
// ends.
func (g *Group) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()

	var errs []error
	for id, m := range g.running {
		delete(g.running, id)
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
