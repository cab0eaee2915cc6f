package rotator

import "time"

// Recorder receives what the rotator measures; the metrics package
// implements it for Prometheus.
type Recorder interface {
	AccountConfigured(account string, sinks []string)
	RotationFinished(account, result string, d time.Duration)
	TokenExpiry(account string, t time.Time)
	SinkDelivered(account, sink string, generation uint64, at time.Time)
	SinkError(account, sink string)
	HookResult(account, hook, result string)
	LoginBudget(account string, left int)
	LoginBudgetExhausted(account string)
	JournalGeneration(account string, generation uint64)
	VaultTokenExpiry(t time.Time)
}

type nopRecorder struct{}

func (nopRecorder) AccountConfigured(string, []string)              {}
func (nopRecorder) RotationFinished(string, string, time.Duration)  {}
func (nopRecorder) TokenExpiry(string, time.Time)                   {}
func (nopRecorder) SinkDelivered(string, string, uint64, time.Time) {}
func (nopRecorder) SinkError(string, string)                        {}
func (nopRecorder) HookResult(string, string, string)               {}
func (nopRecorder) LoginBudget(string, int)                         {}
func (nopRecorder) LoginBudgetExhausted(string)                     {}
func (nopRecorder) JournalGeneration(string, uint64)                {}
func (nopRecorder) VaultTokenExpiry(time.Time)                      {}
