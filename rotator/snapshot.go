package rotator

import (
	"os"
	"time"

	"github.com/firstline-rotator/firstline-rotator/state"
)

// setSnapshot publishes a copy of st: passes keep changing their own copy
// while readiness, status and the proxy read the snapshot.
func (a *account) setSnapshot(st state.Account) {
	st = st.Clone()
	a.snapMu.Lock()
	a.snap = st
	a.snapMu.Unlock()
}

func (a *account) snapshot() state.Account {
	a.snapMu.Lock()
	defer a.snapMu.Unlock()
	return a.snap
}

// freshCheckEvery bounds how often freshSnapshot looks at the state file:
// the proxy asks on every request.
const freshCheckEvery = 200 * time.Millisecond

// freshSnapshot is snapshot, first re-read from the state file when
// another process (a `rotate` run beside the daemon) has changed it.
func (a *account) freshSnapshot() state.Account {
	now := time.Now().UnixNano()
	if last := a.stateChecked.Load(); now-last < int64(freshCheckEvery) {
		return a.snapshot()
	}
	a.stateChecked.Store(now)

	info, err := os.Stat(a.store.Path(a.cfg.ID))
	if err != nil {
		return a.snapshot()
	}

	a.snapMu.Lock()
	changed := !info.ModTime().Equal(a.snapTime)
	a.snapMu.Unlock()
	if !changed {
		return a.snapshot()
	}

	st, err := a.store.Load(a.cfg.ID)
	if err != nil || st.Generation < a.snapshot().Generation {
		return a.snapshot()
	}
	a.snapMu.Lock()
	a.snap, a.snapTime = st, info.ModTime()
	a.snapMu.Unlock()
	return st
}
