package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func (b *bench) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format, args...)
}

// reportMachine prints what the figures ran on.
func (b *bench) reportMachine() error {
	b.printf("- cores: %d (runtime.NumCPU)\n", runtime.NumCPU())
	b.printf("- CPU: %s\n", firstField("/proc/cpuinfo", "model name"))
	b.printf("- memory: total %s, available %s (/proc/meminfo)\n",
		firstField("/proc/meminfo", "MemTotal"), firstField("/proc/meminfo", "MemAvailable"))
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	b.printf("- kernel: %s\n", strings.TrimSpace(string(kernel)))
	df, _ := exec.Command("df", "-hT", b.work).Output()
	b.printf("- disk of the work directory (df -hT):\n\n```\n%s```\n", df)
	goVersion, _ := exec.Command("go", "version", b.binary).Output()
	version, _ := exec.Command(b.binary, "version").Output()
	b.printf("- binary: %s  (%s)\n", strings.TrimSpace(string(goVersion)),
		strings.TrimSpace(string(version)))
	return nil
}

// firstField returns the value of the first "key: value" line of a
// /proc file with that key.
func firstField(path, key string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// reportSize prints the size of the binary.
func (b *bench) reportSize() error {
	info, err := os.Stat(b.binary)
	if err != nil {
		return err
	}
	b.printf("- %s: %d bytes (%s)\n", b.binary, info.Size(), mib(info.Size()))
	return nil
}

// reportReady prints start-up times without network, for one account and
// for the scale size.
func (b *bench) reportReady() error {
	for _, c := range []struct{ accounts, runs int }{{1, b.o.runs},
		{b.o.accounts, max(1, b.o.runs/4)}} {
		res, err := b.runReady(c.accounts, c.runs)
		if err != nil {
			return err
		}
		s := spreadOf(res.times)
		b.printf("- %d account(s), fork to READY=1 over %d start-ups: min %s, %s; "+
			"VmRSS at READY %s\n", res.accounts, len(res.times), ms(slicesMin(res.times)), s,
			mib(res.rss))
	}
	return nil
}

func slicesMin(d []time.Duration) time.Duration {
	m := d[0]
	for _, v := range d {
		m = min(m, v)
	}
	return m
}

// reportIdle prints the idle daemon's cost at the scale size and with
// one account.
func (b *bench) reportIdle() error {
	for _, accounts := range []int{b.o.accounts, 1} {
		res, err := b.runIdle(idleParams{accounts: accounts, duration: b.o.idleFor,
			every: max(b.o.idleFor/12, time.Second), scrapes: 5, settle: 5 * time.Second})
		if err != nil {
			return err
		}
		b.printIdle(res)
	}
	return nil
}

func (b *bench) printIdle(r idleResult) {
	lo, hi := r.rss[0], r.rss[0]
	for _, v := range r.rss {
		lo, hi = min(lo, v), max(hi, v)
	}
	b.printf("- %d account(s): READY after %s; VmRSS %s before any /metrics scrape\n",
		r.accounts, ms(r.ready), mib(r.unscraped))
	b.printf("  - over %s idle: CPU %s (%.3f%% of one core), log-ins %d\n",
		r.window.Round(time.Millisecond), ms(r.cpu), 100*r.cpu.Seconds()/r.window.Seconds(),
		r.logins)
	b.printf("  - goroutines %g -> %g, threads %d -> %d\n", r.goroutines[0], r.goroutines[1],
		r.threads[0], r.threads[1])
	b.printf("  - VmRSS over %d samples: first %s, last %s, min %s, max %s; VmHWM %s\n",
		len(r.rss), mib(r.rss[0]), mib(r.rss[len(r.rss)-1]), mib(lo), mib(hi), mib(r.hwm))
	b.printf("  - after the window, one /metrics scrape: CPU %s, %d bytes; VmRSS after "+
		"the scrapes %s\n", ms(r.scrapeCPU), r.scrapeBytes, mib(r.scrapedRSS))
}

// reportScale prints one `rotate` over every account, all due at once.
func (b *bench) reportScale() error {
	res, err := b.runScale(scaleParams{accounts: b.o.accounts, sinks: 2,
		concurrency: b.o.concurrency})
	if err != nil {
		return err
	}
	b.printScale(res)
	return nil
}

func (b *bench) printScale(r scaleResult) {
	conc := "default (16)"
	if r.params.concurrency > 0 {
		conc = strconv.Itoa(r.params.concurrency)
	}
	b.printf("- %d accounts x %d file sinks, concurrency %s: wall %s, "+
		"%.0f rotations/s\n", r.params.accounts, r.params.sinks, conc,
		r.usage.wall.Round(time.Millisecond), float64(r.params.accounts)/r.usage.wall.Seconds())
	b.printf("  - rotator CPU user %s + system %s = %s (%s per account); peak RSS %s\n",
		r.usage.user.Round(time.Millisecond), r.usage.system.Round(time.Millisecond),
		r.usage.cpu().Round(time.Millisecond), ms(r.usage.cpu()/time.Duration(r.params.accounts)),
		mib(r.usage.maxRSS))
	b.printf("  - emulator log-ins %d (want %d); every sink holds its live token\n",
		r.logins, r.params.accounts)
	b.printf("  - exposure under this load (Result.Exposure): %s\n", r.exposure)
	b.printf("  - meanwhile the emulator (this process) used CPU %s, and the rest of the "+
		"machine (other processes, kernel threads) %s\n", r.apiCPU.Round(time.Millisecond),
		r.otherCPU.Round(10*time.Millisecond))
}

// reportRate prints a rate-limited run and what the emulator saw.
func (b *bench) reportRate() error {
	res, err := b.runScale(scaleParams{accounts: b.o.rateN, sinks: 2,
		concurrency: b.o.concurrency, rateLimit: b.o.rate})
	if err != nil {
		return err
	}
	b.printScale(res)

	c := checkRate(res)
	b.printf("  - rate_limit %g (burst %d): wall %s, at least %s expected\n", b.o.rate, c.burst,
		res.usage.wall.Round(time.Millisecond), c.minWall.Round(time.Millisecond))
	b.printf("  - most log-ins in any 1 s window: %d (the bucket allows %d); after the "+
		"first second: %d; sustained %.1f/s\n", c.maxAnyWindow, c.allowed, c.maxAfterBurst,
		c.sustained)
	return nil
}

// reportGrowth prints `rotate` and daemon start-up at each size.
func (b *bench) reportGrowth() error {
	b.printf("| accounts | rotate wall | wall/account | rotate CPU | CPU/account | " +
		"rotate peak RSS | daemon READY | daemon VmRSS at READY |\n")
	b.printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, field := range strings.Split(b.o.sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return fmt.Errorf("sizes: %q is not a positive number", field)
		}
		res, err := b.runScale(scaleParams{accounts: n, sinks: 2, concurrency: b.o.concurrency})
		if err != nil {
			return err
		}
		ready, err := b.runReady(n, 1)
		if err != nil {
			return err
		}
		b.printf("| %d | %s | %s | %s | %s | %s | %s | %s |\n", n,
			res.usage.wall.Round(time.Millisecond), ms(res.usage.wall/time.Duration(n)),
			res.usage.cpu().Round(time.Millisecond), ms(res.usage.cpu()/time.Duration(n)),
			mib(res.usage.maxRSS), ms(ready.times[0]), mib(ready.rss))
	}
	return nil
}

// reportBaseline prints the script against the rotator.
func (b *bench) reportBaseline() error {
	ways, err := b.runBaseline(b.o.rotations)
	if errors.Is(err, errSkipped) {
		b.printf("- baseline not measured: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}

	b.printf("| way | outage, answer to file complete (inotify) | outage as the program " +
		"measures it | CPU per rotation | note |\n|---|---|---|---:|---|\n")
	for _, w := range ways {
		b.printf("| %s | %s | %s | %s | %s |\n", w.name, w.outside, w.inside, ms(w.cpu), w.note)
	}
	script := ways[0]
	for _, w := range ways[1:] {
		b.printf("\n- script / %s: outage p50 %s, p99 %s; CPU %s\n", w.name,
			ratio(script.outside.p50, w.outside.p50), ratio(script.outside.p99, w.outside.p99),
			ratio(script.cpu, w.cpu))
	}
	return nil
}
