package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// scaleParams shapes one `rotate` run over many accounts, all due.
type scaleParams struct {
	accounts    int
	sinks       int     // file sinks per account
	concurrency int     // 0: the default
	rateLimit   float64 // 0: none
}

// scaleResult is what the run cost and what the emulator saw.
type scaleResult struct {
	params   scaleParams
	usage    usage
	logins   int
	answers  []answer
	exposure spread        // Result.Exposure as `rotate` printed it
	apiCPU   time.Duration // this process (the emulator) during the run
	// otherCPU is what the rest of the machine used meanwhile: other
	// processes, and kernel threads such as the ext4 journal's.
	otherCPU time.Duration
}

// runScale writes a fixture and a configuration, runs `rotate` once over
// every account, and checks that each logged in once and every sink holds
// its live token.
func (b *bench) runScale(p scaleParams) (scaleResult, error) {
	res := scaleResult{params: p}
	dir := b.scratch(fmt.Sprintf("scale-%d-c%d-r%g", p.accounts, p.concurrency, p.rateLimit))
	fx, err := newFixture(dir, p.accounts)
	if err != nil {
		return res, err
	}
	a, err := startAPI(fx.users)
	if err != nil {
		return res, err
	}
	defer a.close()

	cfg := filepath.Join(dir, "config.yaml")
	err = fx.writeConfig(cfg, configOptions{url: a.url, concurrency: p.concurrency,
		rateLimit: p.rateLimit, sinks: p.sinks})
	if err != nil {
		return res, err
	}

	out := filepath.Join(dir, "rotate.out")
	before, busy := selfCPU(), machineBusy()
	res.usage, err = command{path: b.binary, args: []string{"rotate", "--config", cfg},
		stdout: out, stderr: filepath.Join(dir, "rotate.log")}.run()
	res.apiCPU = selfCPU() - before
	res.otherCPU = max(0, machineBusy()-busy-res.apiCPU-res.usage.cpu())
	if err != nil {
		return res, err
	}
	return res, res.check(a, fx, out)
}

// check fills in what the emulator saw and checks the outcome.
func (res *scaleResult) check(a *api, fx *fixture, out string) error {
	res.logins, res.answers = a.logins(), a.loginLog()
	if res.logins != res.params.accounts {
		return fmt.Errorf("emulator counted %d log-ins for %d accounts", res.logins,
			res.params.accounts)
	}
	if err := fx.checkDelivered(a, res.params.sinks); err != nil {
		return err
	}

	exposures, err := exposuresIn(out)
	if err != nil {
		return err
	}
	if len(exposures) != res.params.accounts {
		return fmt.Errorf("rotate printed %d exposures for %d accounts", len(exposures),
			res.params.accounts)
	}
	res.exposure = spreadOf(exposures)
	return nil
}

// exposuresIn reads the "exposure <duration>" of each line `rotate`
// printed.
func exposuresIn(path string) ([]time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read rotate output: %w", err)
	}
	defer f.Close()

	var found []time.Duration
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), "exposure ")
		if !ok {
			continue
		}
		field, _, _ := strings.Cut(rest, ";")
		d, err := time.ParseDuration(strings.TrimSpace(field))
		if err != nil {
			return nil, fmt.Errorf("read rotate output: exposure %q: %w", field, err)
		}
		found = append(found, d)
	}
	return found, sc.Err()
}

// selfCPU returns this process's user plus system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rateCheck is what the emulator saw under a rate limit, by the time each
// log-in request arrived.
type rateCheck struct {
	maxAnyWindow   int     // most log-ins in any 1 s window
	maxAfterBurst  int     // the same, for windows after the first second
	sustained      float64 // log-ins per second after the first second
	minWall        time.Duration
	burst, allowed int
}

// checkRate reads the answer log of a rate-limited run. The limiter is a
// token bucket with burst max(1, rate): at most burst+rate log-ins fit in
// the first second and rate in any later one; n log-ins need at least
// (n-burst)/rate.
func checkRate(res scaleResult) rateCheck {
	sort.Slice(res.answers, func(i, j int) bool {
		return res.answers[i].arrived.Before(res.answers[j].arrived)
	})
	rate := res.params.rateLimit
	c := rateCheck{burst: max(1, int(rate)), maxAnyWindow: maxInWindow(res.answers, time.Second)}
	c.allowed = c.burst + int(rate)
	c.minWall = time.Duration(float64(res.params.accounts-c.burst) / rate * float64(time.Second))
	if len(res.answers) == 0 {
		return c
	}

	first := res.answers[0].arrived
	var later []answer
	for _, an := range res.answers {
		if an.arrived.Sub(first) >= time.Second {
			later = append(later, an)
		}
	}
	c.maxAfterBurst = maxInWindow(later, time.Second)
	if len(later) > 1 {
		span := later[len(later)-1].arrived.Sub(later[0].arrived).Seconds()
		c.sustained = float64(len(later)-1) / span
	}
	return c
}
