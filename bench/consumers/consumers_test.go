package consumers

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Environment variables that size the measurement.
const (
	// envRotations asks for a long run of that many rotations, one per
	// FIRSTLINE_CONSUMER_INTERVAL (default 1s); the goal is 1000.
	envRotations = "FIRSTLINE_CONSUMER_ROTATIONS"
	envInterval  = "FIRSTLINE_CONSUMER_INTERVAL"
	envConsumers = "FIRSTLINE_CONSUMERS"
	// envPause is each consumer's pause between requests (default none),
	// to spare a shared machine during a long run.
	envPause = "FIRSTLINE_CONSUMER_PAUSE"
)

// The short run, which CI makes: a few seconds, rotating faster than the
// long run so that it still sees a dozen rotations.
const (
	shortRotations = 12
	shortInterval  = 250 * time.Millisecond
	defaultK       = 8
)

// TestConsumers_DeliveryModes runs every mode at once and requires that no
// consumer of the proxy ever sees a 401; the other modes' failures are
// reported. Every count is checked against the emulator's.
func TestConsumers_DeliveryModes(t *testing.T) {
	run := runFromEnv(t, Run{Rotations: shortRotations, Interval: shortInterval})
	t.Logf("%d consumers pausing %s between requests, %d rotations, one every %s",
		run.Consumers, run.Pause, run.Rotations, run.Interval)

	for _, mode := range []Mode{Proxy, FileReread, FileSignal} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			got := measure(t, mode, run)
			t.Logf("%-11s %d rotations: %d of %d requests failed with 401 (%.4f%%); "+
				"emulator saw %d uses of a replaced token; proxy retries %d; reloads %d",
				mode, got.Rotations, got.Failed401, got.Requests,
				100*float64(got.Failed401)/float64(max(got.Requests, 1)), got.Superseded,
				got.Retries, got.Reloads)
			check(t, got)
		})
	}
}

// check asserts what every mode must show, and zero failures for the
// proxy.
func check(t *testing.T, got Tally) {
	t.Helper()
	if got.Logins != got.Rotations+1 {
		t.Errorf("emulator saw %d log-ins, want %d", got.Logins, got.Rotations+1)
	}
	if got.Requests == 0 || got.Errors != 0 {
		t.Errorf("%d requests, %d errors other than 401; want requests and no errors",
			got.Requests, got.Errors)
	}
	if got.Mode == FileSignal && got.Reloads < 2 {
		t.Errorf("consumers reloaded %d times; the signal hook did not reach them",
			got.Reloads)
	}

	// Each use of a replaced token was either refused to a consumer or,
	// through the proxy, sent again with the new one.
	if int64(got.Superseded) != got.Failed401+int64(got.Retries) {
		t.Errorf("emulator saw %d uses of a replaced token, consumers %d 401s and the "+
			"proxy %d retries; they should add up", got.Superseded, got.Failed401,
			got.Retries)
	}
	if got.Mode == Proxy && got.Failed401 != 0 {
		t.Errorf("%d requests through the proxy failed with 401, want 0", got.Failed401)
	}
}

func BenchmarkConsumers_Proxy(b *testing.B)      { benchmarkMode(b, Proxy) }
func BenchmarkConsumers_FileReread(b *testing.B) { benchmarkMode(b, FileReread) }
func BenchmarkConsumers_FileSignal(b *testing.B) { benchmarkMode(b, FileSignal) }

// benchmarkMode makes b.N rotations, one per second unless
// FIRSTLINE_CONSUMER_INTERVAL says otherwise, e.g.
// go test -run '^$' -bench Consumers -benchtime 60x ./bench/consumers/
func benchmarkMode(b *testing.B, mode Mode) {
	run := runFromEnv(b, Run{Rotations: b.N, Interval: time.Second})
	run.Rotations = b.N

	got := measure(b, mode, run)
	b.ReportMetric(float64(got.Failed401), "401s")
	b.ReportMetric(float64(got.Requests), "requests")
	b.ReportMetric(float64(got.Superseded), "replaced-token-uses")
	if got.Errors != 0 {
		b.Errorf("%d requests failed other than with 401", got.Errors)
	}
}

// runFromEnv applies the environment to a run: FIRSTLINE_CONSUMER_ROTATIONS
// makes a long run at one rotation a second.
func runFromEnv(tb testing.TB, run Run) Run {
	run.Consumers = defaultK
	if n := envInt(tb, envRotations); n > 0 {
		run.Rotations, run.Interval = n, time.Second
	}
	if d := envDuration(tb, envInterval); d > 0 {
		run.Interval = d
	}
	run.Pause = envDuration(tb, envPause)
	if k := envInt(tb, envConsumers); k > 0 {
		run.Consumers = k
	}
	return run
}

func envDuration(tb testing.TB, name string) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a positive duration such as 1s", name, v)
	}
	return d
}

func envInt(tb testing.TB, name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a whole number of at least 1", name, v)
	}
	return n
}
