package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

// The smoke test: every scenario at a tiny size, checking what each one
// did (log-ins counted, sinks holding the live token, samples taken),
// never how fast. CI runs it with the other tests; it takes seconds.

// rotatorBinary is firstline-rotator, built once for the tests.
var rotatorBinary string

func TestMain(m *testing.M) {
	built, cleanup, err := testutil.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rotatorBinary = built

	code := m.Run()
	cleanup()
	os.Exit(code)
}

func newTestBench(t *testing.T) (*bench, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	script, err := filepath.Abs("../scripts/bench-baseline.sh")
	if err != nil {
		t.Fatal(err)
	}
	return &bench{binary: rotatorBinary, script: script, work: t.TempDir(), out: out}, out
}

func TestScale_Smoke(t *testing.T) {
	b, _ := newTestBench(t)
	res, err := b.runScale(scaleParams{accounts: 20, sinks: 2, concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.logins != 20 || len(res.answers) != 20 || res.exposure.n != 20 {
		t.Errorf("log-ins %d, answers %d, exposures %d; want 20 each", res.logins,
			len(res.answers), res.exposure.n)
	}
	if res.usage.maxRSS <= 0 || res.usage.wall <= 0 {
		t.Errorf("usage not measured: %+v", res.usage)
	}
}

func TestRateLimit_Smoke(t *testing.T) {
	b, _ := newTestBench(t)
	res, err := b.runScale(scaleParams{accounts: 25, sinks: 1, rateLimit: 10})
	if err != nil {
		t.Fatal(err)
	}

	c := checkRate(res)
	if c.burst != 10 || c.allowed != 20 || c.maxAnyWindow == 0 {
		t.Errorf("rate check %+v; want burst 10, allowed 20 and a counted window", c)
	}
}

func TestIdle_Smoke(t *testing.T) {
	b, _ := newTestBench(t)
	res, err := b.runIdle(idleParams{accounts: 3, duration: time.Second,
		every: 500 * time.Millisecond, scrapes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.logins != 0 {
		t.Errorf("%d log-ins while idle, want 0", res.logins)
	}
	if res.goroutines[0] < 1 || res.goroutines[1] < 1 || len(res.rss) < 2 || res.hwm <= 0 {
		t.Errorf("samples missing: goroutines %v, %d RSS samples, VmHWM %d",
			res.goroutines, len(res.rss), res.hwm)
	}
	if res.scrapeBytes == 0 || res.ready <= 0 {
		t.Errorf("scrape of %d bytes, ready after %v; want both measured",
			res.scrapeBytes, res.ready)
	}
}

func TestReady_Smoke(t *testing.T) {
	b, _ := newTestBench(t)
	res, err := b.runReady(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.times) != 2 || res.rss <= 0 {
		t.Errorf("%d start-ups timed, VmRSS %d; want 2 and a size", len(res.times), res.rss)
	}
}

func TestBaseline_Smoke(t *testing.T) {
	b, _ := newTestBench(t)
	ways, err := b.runBaseline(3)
	if errors.Is(err, errSkipped) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ways) != 3 {
		t.Fatalf("%d ways measured, want 3", len(ways))
	}
	for _, w := range ways {
		if w.outside.n != 3 || w.inside.n != 3 || w.cpu <= 0 {
			t.Errorf("%s: %d outside and %d inside samples, CPU %v; want 3, 3 and some",
				w.name, w.outside.n, w.inside.n, w.cpu)
		}
	}
}

func TestRun_ReportsAndFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	work := t.TempDir()
	code := run([]string{"-binary", rotatorBinary, "-work", work, "-sizes", "3", "machine", "size",
		"growth"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"## machine", "cores:", "## size", "bytes", "| 3 |"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}

	code = run([]string{"-binary", rotatorBinary, "-work", work, "nonsense"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `unknown scenario "nonsense"`) {
		t.Errorf("unknown scenario: exit %d, stderr %q", code, stderr.String())
	}
}
