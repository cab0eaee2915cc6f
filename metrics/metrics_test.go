package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/firstline-rotator/firstline-rotator/metrics"
)

// exercise calls every recording method once, so every family has a series.
func exercise(m *metrics.Metrics) {
	at := time.Unix(1_700_000_000, 0)
	m.RotationFinished("support", metrics.ResultSuccess, 1500*time.Millisecond)
	m.TokenExpiry("support", at)
	m.SinkDelivered("support", "file:/run/token", 7, at)
	m.SinkError("support", "file:/run/token")
	m.HookResult("support", "exec:reload", "success")
	m.LoginBudget("support", 5)
	m.LoginBudgetExhausted("support")
	m.JournalGeneration("support", 8)
	m.VaultTokenExpiry(at)
	m.ProxyRequest("support", "ok")
	m.ProxyRetry("support")
	m.ProxyWait("support", 20*time.Millisecond)
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}

	byName := make(map[string]*dto.MetricFamily, len(families))
	for _, f := range families {
		byName[f.GetName()] = f
	}
	return byName
}

// value returns the value of the series of name whose labels are exactly
// labels, and whether it exists.
func value(families map[string]*dto.MetricFamily, name string,
	labels map[string]string) (float64, bool) {
	family, ok := families[name]
	if !ok {
		return 0, false
	}

	for _, metric := range family.GetMetric() {
		if !sameLabels(metric.GetLabel(), labels) {
			continue
		}
		switch {
		case metric.Counter != nil:
			return metric.GetCounter().GetValue(), true
		case metric.Gauge != nil:
			return metric.GetGauge().GetValue(), true
		case metric.Histogram != nil:
			return float64(metric.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func sameLabels(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, pair := range pairs {
		if want[pair.GetName()] != pair.GetValue() {
			return false
		}
	}
	return true
}

func TestNew_FamiliesArePrefixedDocumentedAndLabelledSafely(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	exercise(metrics.New(reg))
	families := gather(t, reg)

	if len(families) != 14 {
		t.Errorf("got %d families, want 14", len(families))
	}

	allowed := map[string]bool{"account": true, "sink": true, "hook": true, "result": true}
	for name, family := range families {
		if !strings.HasPrefix(name, "firstline_rotator_") {
			t.Errorf("%s: name lacks the firstline_rotator_ prefix", name)
		}
		help := family.GetHelp()
		if help == "" || !strings.HasSuffix(help, ".") {
			t.Errorf("%s: help %q is empty or lacks a final period", name, help)
		}
		for _, metric := range family.GetMetric() {
			for _, label := range metric.GetLabel() {
				if !allowed[label.GetName()] {
					t.Errorf("%s: label %q is not one of account, sink, hook, result",
						name, label.GetName())
				}
			}
		}
	}
}

func TestMetrics_RecordedValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	exercise(metrics.New(reg))
	families := gather(t, reg)

	account := map[string]string{"account": "support"}
	sink := map[string]string{"account": "support", "sink": "file:/run/token"}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"firstline_rotator_rotations_total",
			map[string]string{"account": "support", "result": "success"}, 1},
		{"firstline_rotator_rotation_duration_seconds",
			map[string]string{"result": "success"}, 1},
		{"firstline_rotator_token_expiry_timestamp_seconds", account, 1_700_000_000},
		{"firstline_rotator_sink_delivered_generation", sink, 7},
		{"firstline_rotator_sink_delivered_timestamp_seconds", sink, 1_700_000_000},
		{"firstline_rotator_sink_errors_total", sink, 1},
		{"firstline_rotator_hook_runs_total", map[string]string{
			"account": "support", "hook": "exec:reload", "result": "success"}, 1},
		{"firstline_rotator_login_budget_remaining", account, 5},
		{"firstline_rotator_login_budget_exhausted_total", account, 1},
		{"firstline_rotator_journal_generation", account, 8},
		{"firstline_rotator_vault_token_expiry_timestamp_seconds", nil, 1_700_000_000},
		{"firstline_rotator_proxy_requests_total",
			map[string]string{"account": "support", "result": "ok"}, 1},
		{"firstline_rotator_proxy_retries_total", account, 1},
		{"firstline_rotator_proxy_token_wait_seconds", account, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := value(families, tt.name, tt.labels)
			if !ok {
				t.Fatalf("no series %s%v", tt.name, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		})
	}
}

func TestMetrics_RotationDurationInSeconds(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.RotationFinished("support", metrics.ResultFailure, 2500*time.Millisecond)
	m.RotationFinished("support", metrics.ResultFailure, 500*time.Millisecond)

	family := gather(t, reg)["firstline_rotator_rotation_duration_seconds"]
	histogram := family.GetMetric()[0].GetHistogram()
	if histogram.GetSampleSum() != 3 || histogram.GetSampleCount() != 2 {
		t.Errorf("sum %v count %d, want 3 and 2",
			histogram.GetSampleSum(), histogram.GetSampleCount())
	}
}

func TestMetrics_ZeroTimeRecordsZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.TokenExpiry("support", time.Unix(1_700_000_000, 0))
	m.TokenExpiry("support", time.Time{})
	m.VaultTokenExpiry(time.Time{})

	families := gather(t, reg)
	got, _ := value(families, "firstline_rotator_token_expiry_timestamp_seconds",
		map[string]string{"account": "support"})
	if got != 0 {
		t.Errorf("token expiry after zero time = %v, want 0", got)
	}
	got, _ = value(families, "firstline_rotator_vault_token_expiry_timestamp_seconds", nil)
	if got != 0 {
		t.Errorf("vault token expiry after zero time = %v, want 0", got)
	}
}

func TestMetrics_AccountConfiguredStartsCountersAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.AccountConfigured("support", []string{"file:/run/token", "vault"})

	families := gather(t, reg)
	for _, want := range []struct {
		name   string
		labels map[string]string
	}{
		{"firstline_rotator_rotations_total", map[string]string{
			"account": "support", "result": "success"}},
		{"firstline_rotator_rotations_total", map[string]string{
			"account": "support", "result": "failure"}},
		{"firstline_rotator_rotations_total", map[string]string{
			"account": "support", "result": "skipped"}},
		{"firstline_rotator_login_budget_exhausted_total", map[string]string{
			"account": "support"}},
		{"firstline_rotator_sink_errors_total", map[string]string{
			"account": "support", "sink": "vault"}},
	} {
		got, ok := value(families, want.name, want.labels)
		if !ok || got != 0 {
			t.Errorf("%s%v = %v (present %v), want 0", want.name, want.labels, got, ok)
		}
	}
}

func TestMetrics_AccountRemovedDeletesOnlyItsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	exercise(m)
	m.JournalGeneration("billing", 3)

	m.AccountRemoved("support")

	families := gather(t, reg)
	for name, family := range families {
		for _, metric := range family.GetMetric() {
			for _, label := range metric.GetLabel() {
				if label.GetName() == "account" && label.GetValue() == "support" {
					t.Errorf("%s still has a series of the removed account", name)
				}
			}
		}
	}
	got, ok := value(families, "firstline_rotator_journal_generation",
		map[string]string{"account": "billing"})
	if !ok || got != 3 {
		t.Errorf("billing journal generation = %v (present %v), want 3", got, ok)
	}
}

func TestMetrics_NilRecordsNothingAndDoesNotPanic(t *testing.T) {
	var m *metrics.Metrics

	exercise(m)
	m.AccountConfigured("support", []string{"vault"})
	m.AccountRemoved("support")
}

func TestNew_NilRegistererRegistersNowhere(t *testing.T) {
	exercise(metrics.New(nil))

	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather default registry: %v", err)
	}
	for _, family := range families {
		if strings.HasPrefix(family.GetName(), "firstline_rotator_") {
			t.Errorf("New(nil) registered %s with the default registry", family.GetName())
		}
	}
}

func TestNew_TwiceOnOneRegistryPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg)

	defer func() {
		if recover() == nil {
			t.Error("second New on the same registry did not panic")
		}
	}()
	metrics.New(reg)
}

func TestNewRegistry_HoldsRuntimeCollectors(t *testing.T) {
	reg := metrics.NewRegistry()
	metrics.New(reg)

	families := gather(t, reg)
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := families[name]; !ok {
			t.Errorf("registry lacks %s", name)
		}
	}
}
