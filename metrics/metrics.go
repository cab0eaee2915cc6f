// Package metrics defines the Prometheus metrics the rotator exports and the
// calls that update them. Labels carry only account IDs, sink and hook names
// and fixed result words, so no secret can ever reach a scrape.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric name of the rotator.
const Namespace = "firstline_rotator"

// Result words for RotationFinished.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultSkipped = "skipped"
)

// Metrics holds every metric of the rotator. A nil *Metrics is valid and
// records nothing, so code under test can pass nil.
type Metrics struct {
	rotations        *prometheus.CounterVec
	rotationDuration *prometheus.HistogramVec
	tokenExpiry      *prometheus.GaugeVec
	sinkGeneration   *prometheus.GaugeVec
	sinkDeliveredAt  *prometheus.GaugeVec
	sinkErrors       *prometheus.CounterVec
	hookRuns         *prometheus.CounterVec
	loginBudget      *prometheus.GaugeVec
	budgetExhausted  *prometheus.CounterVec
	journalGen       *prometheus.GaugeVec
	vaultTokenExpiry prometheus.Gauge
	proxyRequests    *prometheus.CounterVec
	proxyRetries     *prometheus.CounterVec
	proxyWait        *prometheus.HistogramVec
}

// New creates the metrics and registers them with reg. A nil reg leaves
// them unregistered. It panics when a metric of the same name is already
// registered with reg, which is a programming error.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rotations:        newRotations(),
		rotationDuration: newRotationDuration(),
		tokenExpiry:      newTokenExpiry(),
		sinkGeneration:   newSinkGeneration(),
		sinkDeliveredAt:  newSinkDeliveredAt(),
		sinkErrors:       newSinkErrors(),
		hookRuns:         newHookRuns(),
		loginBudget:      newLoginBudget(),
		budgetExhausted:  newBudgetExhausted(),
		journalGen:       newJournalGeneration(),
		vaultTokenExpiry: newVaultTokenExpiry(),
		proxyRequests:    newProxyRequests(),
		proxyRetries:     newProxyRetries(),
		proxyWait:        newProxyWait(),
	}

	if reg != nil {
		reg.MustRegister(m.collectors()...)
	}
	return m
}

// NewRegistry returns a registry holding the Go runtime and process
// collectors, ready for New and for the /metrics handler.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.rotations, m.rotationDuration, m.tokenExpiry,
		m.sinkGeneration, m.sinkDeliveredAt, m.sinkErrors,
		m.hookRuns, m.loginBudget, m.budgetExhausted, m.journalGen,
		m.vaultTokenExpiry, m.proxyRequests, m.proxyRetries, m.proxyWait,
	}
}

// AccountConfigured creates an account's counters at zero, so that the
// first failure already shows as an increase, and the series of its sinks.
// Call it for every configured account at start and after a reload.
func (m *Metrics) AccountConfigured(account string, sinks []string) {
	if m == nil {
		return
	}

	for _, result := range []string{ResultSuccess, ResultFailure, ResultSkipped} {
		m.rotations.WithLabelValues(account, result)
	}
	m.budgetExhausted.WithLabelValues(account)
	for _, sink := range sinks {
		m.sinkErrors.WithLabelValues(account, sink)
	}
}

// AccountRemoved deletes every series of an account that left the
// configuration, so alerts do not fire on stale values.
func (m *Metrics) AccountRemoved(account string) {
	if m == nil {
		return
	}

	only := prometheus.Labels{labelAccount: account}
	for _, c := range m.collectors() {
		if vec, ok := c.(interface {
			DeletePartialMatch(prometheus.Labels) int
		}); ok {
			vec.DeletePartialMatch(only)
		}
	}
}

// RotationFinished counts a finished rotation of account with its result
// (ResultSuccess, ResultFailure or ResultSkipped) and records how long it
// took.
func (m *Metrics) RotationFinished(account, result string, d time.Duration) {
	if m == nil {
		return
	}

	m.rotations.WithLabelValues(account, result).Inc()
	m.rotationDuration.WithLabelValues(result).Observe(d.Seconds())
}

// TokenExpiry records when the account's current token expires. The zero
// time records 0, meaning the token has no known expiry.
func (m *Metrics) TokenExpiry(account string, t time.Time) {
	if m == nil {
		return
	}

	m.tokenExpiry.WithLabelValues(account).Set(unixSeconds(t))
}

// SinkDelivered records that sink of account holds the token of generation
// since at.
func (m *Metrics) SinkDelivered(account, sink string, generation uint64, at time.Time) {
	if m == nil {
		return
	}

	m.sinkGeneration.WithLabelValues(account, sink).Set(float64(generation))
	m.sinkDeliveredAt.WithLabelValues(account, sink).Set(unixSeconds(at))
}

// SinkError counts a failed write of account's token to sink.
func (m *Metrics) SinkError(account, sink string) {
	if m == nil {
		return
	}

	m.sinkErrors.WithLabelValues(account, sink).Inc()
}

// HookResult counts a run of hook for account with its result.
func (m *Metrics) HookResult(account, hook, result string) {
	if m == nil {
		return
	}

	m.hookRuns.WithLabelValues(account, hook, result).Inc()
}

// LoginBudget records how many logins account may still make in the
// current hour.
func (m *Metrics) LoginBudget(account string, left int) {
	if m == nil {
		return
	}

	m.loginBudget.WithLabelValues(account).Set(float64(left))
}

// LoginBudgetExhausted counts a login of account refused because its
// hourly budget was used up.
func (m *Metrics) LoginBudgetExhausted(account string) {
	if m == nil {
		return
	}

	m.budgetExhausted.WithLabelValues(account).Inc()
}

// JournalGeneration records the newest token generation the journal of
// account holds; sinks lag when their delivered generation is lower.
func (m *Metrics) JournalGeneration(account string, generation uint64) {
	if m == nil {
		return
	}

	m.journalGen.WithLabelValues(account).Set(float64(generation))
}

// VaultTokenExpiry records when the rotator's own Vault token expires. The
// zero time records 0, meaning the token does not expire.
func (m *Metrics) VaultTokenExpiry(t time.Time) {
	if m == nil {
		return
	}

	m.vaultTokenExpiry.Set(unixSeconds(t))
}

// ProxyRequest counts a request the token proxy of account served, by
// result.
func (m *Metrics) ProxyRequest(account, result string) {
	if m == nil {
		return
	}

	m.proxyRequests.WithLabelValues(account, result).Inc()
}

// ProxyRetry counts a proxied request of account that was sent again with
// a newer token.
func (m *Metrics) ProxyRetry(account string) {
	if m == nil {
		return
	}

	m.proxyRetries.WithLabelValues(account).Inc()
}

// ProxyWait records how long a proxied request of account waited for a
// usable token.
func (m *Metrics) ProxyWait(account string, d time.Duration) {
	if m == nil {
		return
	}

	m.proxyWait.WithLabelValues(account).Observe(d.Seconds())
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
