// Command bench measures the firstline-rotator binary as a whole process
// against the FIRST LINE emulator, which it serves itself on loopback so
// that it can count log-ins: scale, rate limit, growth, idle cost,
// start-up time, binary size, and the shell-script baseline. BENCHMARKS.md
// lists its figures and the commands that reproduce them.
//
// Usage, from the repository root after `make build`:
//
//	go run ./bench [flags] scenario...
//
// Scenarios: machine, size, ready, idle, scale, ratelimit, growth,
// baseline, all.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bench holds the settings every scenario shares.
type bench struct {
	binary string
	script string
	work   string
	out    io.Writer
	o      options
}

// options are the sizes of the scenarios, set by flags.
type options struct {
	accounts    int
	concurrency int
	rate        float64
	rateN       int
	idleFor     time.Duration
	rotations   int
	runs        int
	sizes       string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	b, scenarios, keep, err := parseFlags(args, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if !keep {
		defer os.RemoveAll(b.work)
	}

	for _, name := range scenarios {
		if err := b.scenario(name); err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v (work directory %s)\n", name, err, b.work)
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stdout, stderr io.Writer) (*bench, []string, bool, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	b := &bench{out: stdout}
	fs.StringVar(&b.binary, "binary", "./firstline-rotator", "binary to measure (make build)")
	fs.StringVar(&b.script, "script", "scripts/bench-baseline.sh", "the baseline script")
	fs.StringVar(&b.work, "work", "", "work directory (default: a new one under $TMPDIR)")
	keep := fs.Bool("keep", false, "keep the work directory")
	fs.IntVar(&b.o.accounts, "accounts", 10000, "accounts for scale and idle")
	fs.IntVar(&b.o.concurrency, "concurrency", 0, "firstline.concurrency (0: the default)")
	fs.Float64Var(&b.o.rate, "rate", 500, "firstline.rate_limit for ratelimit")
	fs.IntVar(&b.o.rateN, "rate-accounts", 2000, "accounts for ratelimit")
	fs.DurationVar(&b.o.idleFor, "idle", time.Minute, "idle window")
	fs.IntVar(&b.o.rotations, "rotations", 1000, "rotations for baseline")
	fs.IntVar(&b.o.runs, "runs", 20, "start-ups for ready")
	fs.StringVar(&b.o.sizes, "sizes", "100,1000,10000", "account counts for growth")
	if err := fs.Parse(args); err != nil {
		return nil, nil, false, err
	}
	if fs.NArg() == 0 {
		return nil, nil, false, errors.New("name a scenario: machine, size, ready, idle, " +
			"scale, ratelimit, growth, baseline or all")
	}

	if err := b.setup(); err != nil {
		return nil, nil, false, err
	}
	return b, fs.Args(), *keep, nil
}

// setup makes the paths absolute and creates the work directory.
func (b *bench) setup() error {
	var err error
	if b.binary, err = filepath.Abs(b.binary); err != nil {
		return err
	}
	if _, err := os.Stat(b.binary); err != nil {
		return fmt.Errorf("binary %s: %w (run make build first, or pass -binary)", b.binary, err)
	}
	if b.script, err = filepath.Abs(b.script); err != nil {
		return err
	}
	if b.work == "" {
		b.work, err = os.MkdirTemp("", "firstline-bench-")
		return err
	}
	return os.MkdirAll(b.work, 0o700)
}

// scratch returns a new directory for one run of a scenario.
func (b *bench) scratch(name string) string {
	dir, err := os.MkdirTemp(b.work, name+"-")
	if err != nil {
		panic(fmt.Sprintf("create scratch directory: %v", err))
	}
	return dir
}

// scenario runs one scenario and prints its report.
func (b *bench) scenario(name string) error {
	scenarios := map[string]func() error{
		"machine": b.reportMachine, "size": b.reportSize, "ready": b.reportReady,
		"idle": b.reportIdle, "scale": b.reportScale, "ratelimit": b.reportRate,
		"growth": b.reportGrowth, "baseline": b.reportBaseline,
	}
	if name == "all" {
		for _, each := range []string{"machine", "size", "ready", "idle", "scale",
			"ratelimit", "growth", "baseline"} {
			if err := b.scenario(each); err != nil {
				return fmt.Errorf("%s: %w", each, err)
			}
		}
		return nil
	}

	f, ok := scenarios[name]
	if !ok {
		return fmt.Errorf("unknown scenario %q", name)
	}
	fmt.Fprintf(b.out, "\n## %s (load average before: %s)\n\n", name, loadAverage())
	err := f()
	fmt.Fprintf(b.out, "\n(load average after: %s)\n", loadAverage())
	return err
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	return strings.Join(fields[:min(3, len(fields))], " ")
}
