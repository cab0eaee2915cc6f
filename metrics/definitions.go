package metrics

import "github.com/prometheus/client_golang/prometheus"

// The only label names the rotator uses.
const (
	labelAccount = "account"
	labelSink    = "sink"
	labelHook    = "hook"
	labelResult  = "result"
)

// rotationBuckets spans a quick login (tens of milliseconds) to a rotation
// that waited out retries and slow sinks (minutes).
var rotationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// waitBuckets spans a proxied request that found a token at once to one
// that waited for a whole rotation.
var waitBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10}

func newRotations() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "rotations_total",
		Help: "Finished token rotations by account and result " +
			"(success, failure, skipped).",
	}, []string{labelAccount, labelResult})
}

func newRotationDuration() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "rotation_duration_seconds",
		Help: "Time from the start of a rotation to the last sink holding " +
			"the new token, by result, over all accounts (a histogram per " +
			"account would cost 15 series each).",
		Buckets: rotationBuckets,
	}, []string{labelResult})
}

func newTokenExpiry() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "token_expiry_timestamp_seconds",
		Help: "Unix time at which the current FIRST LINE token of the account " +
			"expires; 0 when it has no known expiry.",
	}, []string{labelAccount})
}

func newSinkGeneration() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "sink_delivered_generation",
		Help: "Token generation the sink last received; lower than " +
			"firstline_rotator_journal_generation while the sink lags.",
	}, []string{labelAccount, labelSink})
}

func newSinkDeliveredAt() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "sink_delivered_timestamp_seconds",
		Help:      "Unix time of the last successful delivery to the sink.",
	}, []string{labelAccount, labelSink})
}

func newSinkErrors() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "sink_errors_total",
		Help:      "Failed attempts to write the token of the account to the sink.",
	}, []string{labelAccount, labelSink})
}

func newHookRuns() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "hook_runs_total",
		Help:      "Runs of the hooks of the account after a delivery, by result.",
	}, []string{labelAccount, labelHook, labelResult})
}

func newLoginBudget() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "login_budget_remaining",
		Help: "Logins the account may still make within the current hour " +
			"(max_logins_per_hour minus the logins already made).",
	}, []string{labelAccount})
}

func newBudgetExhausted() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "login_budget_exhausted_total",
		Help:      "Logins of the account refused because its hourly budget was used up.",
	}, []string{labelAccount})
}

func newJournalGeneration() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "journal_generation",
		Help:      "Newest token generation recorded in the journal of the account.",
	}, []string{labelAccount})
}

func newVaultTokenExpiry() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "vault_token_expiry_timestamp_seconds",
		Help: "Unix time at which the rotator's own Vault token expires; " +
			"0 when it does not expire.",
	})
}

func newProxyRequests() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "proxy_requests_total",
		Help: "Requests served by the token proxy of the account, by result: ok, " +
			"upstream_401, upstream_error, no_token, refused or canceled.",
	}, []string{labelAccount, labelResult})
}

func newProxyRetries() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "proxy_retries_total",
		Help:      "Proxied requests of the account sent again with a newer token.",
	}, []string{labelAccount})
}

func newProxyWait() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "proxy_token_wait_seconds",
		Help:      "Time a proxied request of the account waited for a usable token.",
		Buckets:   waitBuckets,
	}, []string{labelAccount})
}
