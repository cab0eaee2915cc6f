package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// idleParams shapes the idle scenario.
type idleParams struct {
	accounts int
	duration time.Duration // the measured idle window
	every    time.Duration // how often RSS is sampled
	scrapes  int           // /metrics scrapes timed after the window
	settle   time.Duration // wait after READY and after the first scrape
}

// idleResult is what an idle daemon cost.
type idleResult struct {
	accounts    int
	ready       time.Duration
	cpu         time.Duration // over the window
	window      time.Duration
	goroutines  [2]float64 // at the start and end of the window
	unscraped   int64      // VmRSS after READY, before any scrape
	rss         []int64    // sampled through the window
	threads     [2]int
	hwm         int64
	scrapeCPU   time.Duration // per /metrics scrape, after the window
	scrapeBytes int
	scrapedRSS  int64 // VmRSS after those scrapes
	logins      int   // log-ins during the window: 0 when idle
}

// runIdle rotates every account once, starts the daemon, and measures it
// while nothing is due. /metrics is scraped only outside the window.
func (b *bench) runIdle(p idleParams) (idleResult, error) {
	res := idleResult{accounts: p.accounts}
	dir := b.scratch(fmt.Sprintf("idle-%d", p.accounts))
	pr, err := b.prepare(dir, p.accounts)
	if err != nil {
		return res, err
	}
	defer pr.api.close()

	n, err := listenNotify(dir)
	if err != nil {
		return res, err
	}
	defer n.close()
	d, ready, err := startDaemon(b.binary, pr.config, n, filepath.Join(dir, "run.log"))
	if err != nil {
		return res, err
	}
	res.ready = ready

	err = watchIdle(d, pr, p, &res)
	if _, stopErr := d.stop(); err == nil {
		err = stopErr
	}
	return res, err
}

// prepared is a fixture whose every account holds a fresh token, its
// emulator, its configuration file and the daemon's http.listen address.
type prepared struct {
	fx     *fixture
	api    *api
	config string
	addr   string
}

// prepare writes a fixture with an http listener, and rotates every
// account once so that a daemon finds fresh tokens.
func (b *bench) prepare(dir string, accounts int) (*prepared, error) {
	fx, err := newFixture(dir, accounts)
	if err != nil {
		return nil, err
	}
	a, err := startAPI(fx.users)
	if err != nil {
		return nil, err
	}

	pr := &prepared{fx: fx, api: a, config: filepath.Join(dir, "config.yaml")}
	pr.addr, err = freeAddr()
	if err == nil {
		err = fx.writeConfig(pr.config, configOptions{url: a.url, sinks: 2, listen: pr.addr})
	}
	if err == nil {
		_, err = command{path: b.binary, args: []string{"rotate", "--config", pr.config},
			stderr: filepath.Join(dir, "rotate.log")}.run()
	}
	if err == nil && a.logins() != accounts {
		err = fmt.Errorf("initial rotation: %d log-ins for %d accounts", a.logins(), accounts)
	}
	if err != nil {
		a.close()
		return nil, err
	}
	return pr, nil
}

// watchIdle samples the daemon: its memory before anything touched it,
// then CPU, memory and threads through the window (goroutines scraped at
// either end, outside it), then what scrapes of /metrics cost.
func watchIdle(d *daemon, pr *prepared, p idleParams, res *idleResult) error {
	time.Sleep(p.settle)
	m, err := procMemory(d.pid())
	if err != nil {
		return err
	}
	res.unscraped = m.rss

	if res.goroutines[0], err = goroutines(pr.addr); err != nil {
		return err
	}
	time.Sleep(p.settle)
	if err := idleWindow(d.pid(), pr.api, p, res); err != nil {
		return err
	}
	if res.goroutines[1], err = goroutines(pr.addr); err != nil {
		return err
	}

	res.scrapeCPU, res.scrapeBytes, err = scrapeCost(d.pid(), pr.addr, p.scrapes)
	if err == nil {
		m, err = procMemory(d.pid())
		res.scrapedRSS = m.rss
	}
	return err
}

// goroutines returns the fewest go_goroutines of three scrapes: a scrape
// counts the goroutines serving it and gathering the metrics too, a few
// more when the daemon is busy with it.
func goroutines(addr string) (float64, error) {
	least := 0.0
	for i := range 3 {
		n, _, err := scrape(addr, "go_goroutines")
		if err != nil {
			return 0, err
		}
		if i == 0 || n < least {
			least = n
		}
	}
	return least, nil
}

// idleWindow measures CPU, memory and log-ins over the window.
func idleWindow(pid int, a *api, p idleParams, res *idleResult) error {
	loginsBefore := a.logins()
	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	started := time.Now()
	if err := sampleMemory(pid, p, res); err != nil {
		return err
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return err
	}
	res.cpu, res.window = cpu1-cpu0, time.Since(started)
	res.logins = a.logins() - loginsBefore
	return nil
}

// sampleMemory reads RSS and threads every p.every for p.duration.
func sampleMemory(pid int, p idleParams, res *idleResult) error {
	deadline := time.Now().Add(p.duration)
	for first := true; ; first = false {
		m, err := procMemory(pid)
		if err != nil {
			return err
		}
		res.rss = append(res.rss, m.rss)
		res.hwm = m.hwm
		if first {
			res.threads[0] = m.threads
		}
		res.threads[1] = m.threads

		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(p.every, left))
	}
}

// scrapeCost scrapes /metrics n times and returns the daemon's CPU per
// scrape and the page size.
func scrapeCost(pid int, addr string, n int) (time.Duration, int, error) {
	if n <= 0 {
		return 0, 0, nil
	}
	before, err := procCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	size := 0
	for range n {
		if _, size, err = scrape(addr, "go_goroutines"); err != nil {
			return 0, 0, err
		}
	}
	after, err := procCPU(pid)
	return (after - before) / time.Duration(n), size, err
}
