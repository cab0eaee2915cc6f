package rotator

import (
	"context"
	"errors"
	"fmt"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// ErrNoToken reports an account that has no token yet.
var ErrNoToken = errors.New("no token yet")

// TokenSource hands out an account's current token to in-process
// consumers such as the local proxy.
type TokenSource struct {
	a *account
}

// TokenSource returns the source of an account's current token; ok is
// false for an unknown account.
func (r *Rotator) TokenSource(id string) (TokenSource, bool) {
	a := r.byID[id]
	return TokenSource{a: a}, a != nil
}

// Token returns the current token and its generation. While a log-in for
// the account is in flight (the old token is about to die) it waits for
// the new token, at most until ctx ends, and then returns the newest it
// has.
func (s TokenSource) Token(ctx context.Context) (secret.String, uint64, error) {
	if wait := s.a.inFlight(); wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}

	st := s.a.freshSnapshot()
	if st.Token.Empty() {
		return secret.String{}, 0, fmt.Errorf("account %s: %w", s.a.cfg.ID, ErrNoToken)
	}
	return st.Token, st.Generation, nil
}

// inFlight returns a channel closed when the log-in in flight ends, or
// nil when there is none.
func (a *account) inFlight() <-chan struct{} {
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	return a.flight
}

// beginFlight marks a log-in as in flight; endFlight wakes its waiters.
func (a *account) beginFlight() {
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	if a.flight == nil {
		a.flight = make(chan struct{})
	}
}

func (a *account) endFlight() {
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	if a.flight != nil {
		close(a.flight)
		a.flight = nil
	}
}
