package rotator

import (
	"context"

	"github.com/firstline-rotator/firstline-rotator/hooks"
	"github.com/firstline-rotator/firstline-rotator/state"
)

// runHooks runs the hooks once per generation, after every sink holds it.
// A crash while hooks run makes them run again after restart: hooks are
// at-least-once, so they should be safe to repeat (a reload is).
func (a *account) runHooks(ctx context.Context, st state.Account) state.Account {
	if st.HooksGeneration >= st.Generation || st.Token.Empty() ||
		len(st.Lagging(a.sinkNames())) > 0 {
		return st
	}
	if len(a.hooks) == 0 {
		// Nothing to run, nothing worth a durable save: a hook added later
		// runs once for the then current generation.
		st.HooksGeneration = st.Generation
		return st
	}

	ev := hooks.Event{Account: a.cfg.ID, Generation: st.Generation, Token: st.Token,
		ExpiresAt: st.ExpiresAt}
	for _, h := range a.hooks {
		log := a.log.With().Str("hook", h.Name()).Uint64("generation", st.Generation).Logger()
		if err := h.Run(ctx, ev); err != nil {
			a.rec.HookResult(a.cfg.ID, h.Name(), "failure")
			log.Error().Err(err).Msg("hook failed; the delivered token stays")
			continue
		}
		a.rec.HookResult(a.cfg.ID, h.Name(), "success")
		log.Debug().Msg("hook ran")
	}

	st.HooksGeneration = st.Generation
	if err := a.store.Save(a.cfg.ID, st); err != nil {
		a.log.Error().Err(err).Msg("record hooks run; they run again on the next pass")
	}
	a.setSnapshot(st)
	return st
}
