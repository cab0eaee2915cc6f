package rotator

import (
	"context"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline"
)

// driftWarning explains a probe's 401 to the operator.
const driftWarning = "FIRST LINE rejected the current token: someone else obtained a new " +
	"token for this account (a log-in by hand, another tool or rotator, or the admin's " +
	"Generate button), which killed ours; rotating now"

// probe checks the current token with an authenticated GET, and rotates at
// once (within the login budget) when FIRST LINE no longer accepts it.
func (a *account) probe(ctx context.Context) Result {
	st := a.freshSnapshot()
	if a.cfg.Probe == nil || st.Token.Empty() {
		return Result{Account: a.cfg.ID, Outcome: Skipped}
	}

	err := a.client.Probe(ctx, st.Token, a.cfg.Probe.Path)
	switch {
	case err == nil:
		a.log.Debug().Str("fingerprint", st.Token.Fingerprint()).Msg("probe accepted the token")
		return Result{Account: a.cfg.ID, Outcome: Skipped}
	case firstline.KindOf(err) != firstline.KindBadCredentials:
		a.log.Warn().Err(err).Msg("probe failed; keeping the token")
		return Result{Account: a.cfg.ID, Outcome: Skipped}
	}

	if a.freshSnapshot().Generation != st.Generation {
		// A rotation replaced the token while the probe was out.
		return Result{Account: a.cfg.ID, Outcome: Skipped}
	}
	a.log.Warn().Str("fingerprint", st.Token.Fingerprint()).Msg(driftWarning)
	a.tokenDead.Store(true)
	defer a.tokenDead.Store(false)
	return a.pass(ctx, true)
}

// probeInterval is how often the account's token is probed; zero without
// a probe.
func (a *account) probeInterval() time.Duration {
	if a.cfg.Probe == nil {
		return 0
	}
	return a.cfg.Probe.Interval.Value()
}

// checkNewToken probes a token right after delivery, so that a token that
// does not work is reported at once rather than by consumers.
func (a *account) checkNewToken(ctx context.Context) {
	if a.cfg.Probe == nil {
		return
	}

	st := a.snapshot()
	if err := a.client.Probe(ctx, st.Token, a.cfg.Probe.Path); err != nil {
		a.log.Error().Err(err).Str("fingerprint", st.Token.Fingerprint()).
			Msg("the new token failed its probe")
	}
}
