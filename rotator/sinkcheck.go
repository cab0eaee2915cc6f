package rotator

import (
	"errors"
	"fmt"
	"time"

	"github.com/firstline-rotator/firstline-rotator/atomicfile"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/state"
)

// ErrSinkNotWritable reports a sink that a preflight check found could not
// be written, while the current token was still good.
var ErrSinkNotWritable = errors.New("sink cannot be written")

// preflight checks, before logging in, that every sink can take the new
// token. While the current token still works, a sink that cannot be
// written stops the rotation: logging in would kill the token its
// consumers hold and give them nothing instead. When the token is dead or
// missing anyway, the other sinks are served and the failure is logged.
func (a *account) preflight(st state.Account) error {
	var failures []error
	for _, s := range a.sinks {
		if p, ok := s.(sinks.Preflighter); ok {
			if err := p.Preflight(); err != nil {
				failures = append(failures, err)
			}
		}
	}
	if len(failures) == 0 {
		return nil
	}

	err := errors.Join(failures...)
	alive := !st.Token.Empty() && a.now().Before(st.ExpiresAt) &&
		st.LastResult == resultSuccess && !a.tokenDead.Load()
	if alive {
		return fmt.Errorf("%w, so the current token (still valid until %s) is kept: %w",
			ErrSinkNotWritable, st.ExpiresAt.UTC().Format(time.RFC3339), err)
	}
	a.log.Warn().Err(err).Msg("a sink cannot be written; rotating anyway, as the current " +
		"token is no longer valid")
	return nil
}

// verifySinks marks as lagging the sinks recorded as holding the journal's
// token that no longer do (a file deleted or overwritten by someone else),
// so that this pass writes them again from the journal.
func (a *account) verifySinks(st state.Account) state.Account {
	if st.Token.Empty() {
		return st
	}

	tok := sinks.Token{Account: a.cfg.ID, Value: st.Token, Generation: st.Generation}
	for _, s := range a.sinks {
		v, ok := s.(sinks.Verifier)
		held := st.Sinks[s.Name()]
		if !ok || held.Generation != st.Generation {
			continue
		}
		if holds, err := v.Holds(tok); err == nil && holds {
			continue
		}

		a.log.Warn().Str("sink", s.Name()).Uint64("generation", st.Generation).
			Msg("the sink no longer holds the current token (changed outside the " +
				"rotator); writing it again")
		held.Generation = st.Generation - 1
		held.LastError = "changed outside the rotator"
		st.Sinks[s.Name()] = held
	}
	return st
}

// removeLeftovers deletes temporary files that a process killed mid-write
// left beside the sinks and the state file. The account's lock is held, so
// no write of them is in flight.
func (a *account) removeLeftovers() {
	if err := atomicfile.RemoveTemps(a.store.Path(a.cfg.ID)); err != nil {
		a.log.Warn().Err(err).Msg("remove leftover temporary state files")
	}
	for _, s := range a.sinks {
		if r, ok := s.(sinks.LeftoverRemover); ok {
			if err := r.RemoveLeftovers(); err != nil {
				a.log.Warn().Err(err).Str("sink", s.Name()).
					Msg("remove leftover temporary files")
			}
		}
	}
}
