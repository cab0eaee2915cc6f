package health_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/health"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

func start(t *testing.T, reg prometheus.Gatherer, ready func() (bool, string),
	logs io.Writer) *health.Server {
	t.Helper()

	s := health.NewServer("127.0.0.1:0", reg, ready, zerolog.New(logs))
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()

	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, url, err)
	}
	return resp.StatusCode, string(body)
}

func TestServer_Endpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "firstline_rotator_test_total", Help: "A test counter.",
	})
	reg.MustRegister(counter)
	counter.Add(3)

	var ready atomic.Bool
	readyFunc := func() (bool, string) {
		if ready.Load() {
			return true, "all 2 accounts delivered"
		}
		return false, "account support: sink file:/run/token lags (generation 3 < 4)"
	}
	base := "http://" + start(t, reg, readyFunc, io.Discard).Addr()

	tests := []struct {
		name       string
		method     string
		path       string
		ready      bool
		wantStatus int
		wantBody   string
	}{
		{"healthz", "GET", "/healthz", false, 200, "ok\n"},
		{"healthz head", "HEAD", "/healthz", false, 200, ""},
		{"readyz not ready", "GET", "/readyz", false, 503,
			"account support: sink file:/run/token lags (generation 3 < 4)\n"},
		{"readyz ready", "GET", "/readyz", true, 200, "all 2 accounts delivered\n"},
		{"metrics", "GET", "/metrics", false, 200, "firstline_rotator_test_total 3\n"},
		{"post healthz", "POST", "/healthz", false, 405, ""},
		{"unknown path", "GET", "/debug/pprof/", false, 404, ""},
		{"root", "GET", "/", false, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)

			status, body := do(t, tt.method, base+tt.path)

			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", status, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", body, tt.wantBody)
			}
		})
	}
}

func TestServer_ReadyzWithoutReasonOrFunc(t *testing.T) {
	tests := []struct {
		name       string
		ready      func() (bool, string)
		wantStatus int
		wantBody   string
	}{
		{"nil func", nil, 200, "ok\n"},
		{"ready without reason", func() (bool, string) { return true, "" }, 200, "ok\n"},
		{"not ready without reason", func() (bool, string) { return false, "" },
			503, "not ready\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "http://" + start(t, nil, tt.ready, io.Discard).Addr()

			status, body := do(t, "GET", base+"/readyz")

			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestServer_MetricsWithNilGathererIsEmpty(t *testing.T) {
	base := "http://" + start(t, nil, nil, io.Discard).Addr()

	status, body := do(t, "GET", base+"/metrics")

	if status != 200 || body != "" {
		t.Errorf("got %d %q, want 200 and an empty body", status, body)
	}
}

// brokenCollector yields one good and one invalid metric.
type brokenCollector struct {
	good *prometheus.Desc
}

func (c brokenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.good }

func (c brokenCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.good, prometheus.GaugeValue, 1)
	ch <- prometheus.NewInvalidMetric(c.good, errors.New("collector broke"))
}

func TestServer_MetricsErrorIsLoggedAndTheRestServed(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(brokenCollector{
		good: prometheus.NewDesc("firstline_rotator_good", "A good gauge.", nil, nil),
	})
	logs := &testutil.Buffer{}
	base := "http://" + start(t, reg, nil, logs).Addr()

	status, body := do(t, "GET", base+"/metrics")

	if status != 200 || !strings.Contains(body, "firstline_rotator_good 1") {
		t.Errorf("got %d %q, want 200 with the good gauge", status, body)
	}
	if !strings.Contains(logs.String(), "collector broke") ||
		!strings.Contains(logs.String(), `"component":"health"`) {
		t.Errorf("log %q lacks the collector error or the component", logs.String())
	}
}

func TestServer_StartErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer taken.Close()

	tests := []struct {
		name    string
		listen  string
		wantErr string
	}{
		{"empty", "", "http.listen is empty"},
		{"taken", taken.Addr().String(), taken.Addr().String()},
		{"bad port", "127.0.0.1:99999", "127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := health.NewServer(tt.listen, nil, nil, zerolog.Nop())

			err := s.Start()

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestServer_StartTwiceFails(t *testing.T) {
	s := start(t, nil, nil, io.Discard)

	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("second Start() = %v, want an already started error", err)
	}
}

func TestServer_ShutdownClosesTheListener(t *testing.T) {
	logs := &testutil.Buffer{}
	s := health.NewServer("127.0.0.1:0", nil, nil, zerolog.New(logs))
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	addr := s.Addr()

	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	conn, err := net.Dial("tcp", addr)
	if err == nil {
		conn.Close()
		t.Errorf("dial %s after shutdown succeeded", addr)
	}
	if !strings.Contains(logs.String(), "health server stopped") {
		t.Errorf("log %q lacks the stop message", logs.String())
	}
}

func TestServer_ShutdownBeforeStartDoesNothing(t *testing.T) {
	s := health.NewServer("127.0.0.1:0", nil, nil, zerolog.Nop())

	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown() before Start = %v, want nil", err)
	}
	if s.Addr() != "127.0.0.1:0" {
		t.Errorf("Addr() before Start = %q, want the configured address", s.Addr())
	}
}
