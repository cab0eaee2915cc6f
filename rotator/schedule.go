package rotator

import (
	"time"

	"github.com/firstline-rotator/firstline-rotator/state"
)

// The LastResult values of state.Account.
const (
	resultSuccess = "success"
	// resultPending marks a log-in sent (or about to be) whose token is
	// not journaled yet.
	resultPending = "pending"
	resultFailure = "failure"
)

// due reports whether the account should log in now: it has no token, its
// token is inside the renew_before window, its schedule has fired since the
// last rotation, or the last attempt failed and is still owed.
func (a *account) due(st state.Account, now time.Time) bool {
	if st.Token.Empty() || st.LastResult == resultFailure || st.LastResult == resultPending {
		return true
	}
	return !now.Before(a.nextDue(st))
}

// nextDue is when the account next needs a new token: the earlier of the
// start of the renew_before window and the schedule's next firing after
// the last rotation.
func (a *account) nextDue(st state.Account) time.Time {
	if st.Token.Empty() {
		return time.Time{}
	}

	next := a.renewAt(st)
	if a.schedule != nil {
		if fire := a.schedule.Next(st.LastSuccess); fire.Before(next) {
			next = fire
		}
	}
	return next
}

// maxWindowShare caps the renew_before window at this share of a token's
// lifetime. A fixed renew_before longer than the lifetime FIRST LINE
// actually granted would make every new token due at once: a log-in loop
// that uses up the budget and then leaves the token to expire.
const maxWindowShare = 0.5

// renewAt is the start of the token's renew_before window.
func (a *account) renewAt(st state.Account) time.Time {
	lifetime := st.ExpiresAt.Sub(st.IssuedAt)
	window := a.cfg.RenewBefore.Window(lifetime)
	if limit := time.Duration(float64(lifetime) * maxWindowShare); window > limit {
		if a.windowCapped.CompareAndSwap(false, true) {
			a.log.Warn().Str("renew_before", a.cfg.RenewBefore.String()).
				Dur("lifetime", lifetime).
				Msg("renew_before is longer than half the token's lifetime (FIRST LINE " +
					"granted less than token_ttl?); renewing at half the lifetime instead")
		}
		window = limit
	}
	return st.ExpiresAt.Add(-window)
}
