package rotator

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// redeliveries is how many times a one-shot pass retries sinks that
// failed, from the journal, before giving up.
const redeliveries = 3

// passWithRedelivery is a pass for one-shot use: sinks left behind are
// retried a few times with backoff, never by logging in again.
func (a *account) passWithRedelivery(ctx context.Context, force bool) Result {
	res := a.pass(ctx, force)

	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 250 * time.Millisecond
	for i := 0; i < redeliveries && res.Outcome != Failed && len(res.Lagging) > 0; i++ {
		select {
		case <-ctx.Done():
			return res
		case <-time.After(b.NextBackOff()):
		}

		retry := a.pass(ctx, false)
		if res.Outcome == Rotated {
			retry.Outcome = Rotated
		}
		res = retry
	}
	return res
}

// finish logs a pass's outcome and records its metrics.
func (a *account) finish(res Result, took time.Duration) {
	st := a.snapshot()
	a.rec.RotationFinished(a.cfg.ID, metricResult(res), took)
	left := a.cfg.MaxLoginsPerHour - len(st.RecentLogins(a.now(), loginWindow))
	a.rec.LoginBudget(a.cfg.ID, left)

	ev := a.log.Info()
	if res.Err != nil {
		ev = a.log.Error().Err(res.Err)
	} else if res.Outcome == Skipped {
		ev = a.log.Debug()
	}
	ev = ev.Str("outcome", string(res.Outcome)).
		Uint64("generation", res.Generation).
		Str("fingerprint", res.Fingerprint).
		Strs("sinks", a.sinkNames()).
		Dur("duration", took)
	if len(res.Lagging) > 0 {
		ev = ev.Strs("lagging", res.Lagging)
	}
	if res.Exposure > 0 {
		ev = ev.Dur("exposure", res.Exposure)
	}
	if !res.ExpiresAt.IsZero() {
		ev = ev.Time("expires_at", res.ExpiresAt)
	}
	if res.Err == nil {
		ev = ev.Time("next_run", a.nextDue(st))
	}
	ev.Msg("rotation pass finished")
}

// metricResult is the result label of a pass: success when it obtained or
// delivered a token and left no sink behind, skipped when there was
// nothing to do, failure otherwise.
func metricResult(res Result) string {
	switch {
	case res.Err != nil:
		return "failure"
	case res.Outcome == Skipped:
		return "skipped"
	}
	return "success"
}
