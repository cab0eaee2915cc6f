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

// renewAt is the start of the token's renew_before window.
func (a *account) renewAt(st state.Account) time.Time {
	lifetime := st.ExpiresAt.Sub(st.IssuedAt)
	return st.ExpiresAt.Add(-a.cfg.RenewBefore.Window(lifetime))
}
