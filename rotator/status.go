package rotator

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/state"
)

// AccountStatus is what the state directory says about one account.
type AccountStatus struct {
	Account        string       `json:"account"`
	Generation     uint64       `json:"generation"`
	Fingerprint    string       `json:"fingerprint"`
	ExpiresAt      time.Time    `json:"expires_at,omitzero"`
	LastRotation   time.Time    `json:"last_rotation,omitzero"`
	LastResult     string       `json:"last_result,omitempty"`
	LastError      string       `json:"last_error,omitempty"`
	NextRun        time.Time    `json:"next_run"`
	LoginsLastHour int          `json:"logins_last_hour"`
	Sinks          []SinkStatus `json:"sinks"`
}

// SinkStatus is what one sink holds.
type SinkStatus struct {
	Name        string    `json:"name"`
	Generation  uint64    `json:"generation"`
	Behind      uint64    `json:"behind"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// ReadStatus reports every configured account from the state directory
// alone, contacting nothing and changing nothing.
func ReadStatus(cfg *config.Config, now time.Time) ([]AccountStatus, error) {
	store := state.OpenExisting(cfg.StateDir)
	out := make([]AccountStatus, 0, len(cfg.Accounts))
	for _, ac := range cfg.Accounts {
		st, err := store.Load(ac.ID)
		if err != nil {
			return nil, fmt.Errorf("read account %s: %w", ac.ID, err)
		}

		var schedule cron.Schedule
		if ac.Schedule != "" {
			if schedule, err = config.ParseSchedule(ac.Schedule); err != nil {
				return nil, fmt.Errorf("read account %s: %w", ac.ID, err)
			}
		}
		a := &account{cfg: ac, schedule: schedule}
		out = append(out, accountStatus(a, st, now))
	}
	return out, nil
}

func accountStatus(a *account, st state.Account, now time.Time) AccountStatus {
	s := AccountStatus{
		Account: a.cfg.ID, Generation: st.Generation,
		Fingerprint: st.Token.Fingerprint(), ExpiresAt: st.ExpiresAt,
		LastRotation: st.LastSuccess, LastResult: st.LastResult, LastError: st.LastError,
		LoginsLastHour: len(st.RecentLogins(now, loginWindow)),
		NextRun:        now,
	}
	if !a.due(st, now) {
		s.NextRun = a.nextDue(st)
	}

	for _, spec := range a.cfg.Sinks {
		held := st.Sinks[spec.Name]
		s.Sinks = append(s.Sinks, SinkStatus{
			Name: spec.Name, Generation: held.Generation,
			Behind:      st.Generation - min(held.Generation, st.Generation),
			DeliveredAt: held.DeliveredAt, LastError: held.LastError,
		})
	}
	return s
}
