package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// readyResult is how long the daemon took from fork to READY=1, run after
// run, and how much memory it held then.
type readyResult struct {
	accounts int
	times    []time.Duration
	rss      int64 // VmRSS right after the last READY
}

// runReady measures start-up without network: every token is fresh, the
// emulator is stopped and the API address points at its closed port, so
// nothing the daemon needs before READY can come from the network.
func (b *bench) runReady(accounts, runs int) (readyResult, error) {
	res := readyResult{accounts: accounts}
	dir := b.scratch(fmt.Sprintf("ready-%d", accounts))
	pr, err := b.prepare(dir, accounts)
	if err != nil {
		return res, err
	}
	pr.api.close()
	if err := pr.fx.writeConfig(pr.config, configOptions{url: pr.api.url, sinks: 2}); err != nil {
		return res, err
	}

	n, err := listenNotify(dir)
	if err != nil {
		return res, err
	}
	defer n.close()
	for i := range runs {
		d, took, err := startDaemon(b.binary, pr.config, n,
			filepath.Join(dir, fmt.Sprintf("run-%d.log", i)))
		if err != nil {
			return res, err
		}
		res.times = append(res.times, took)
		if m, err := procMemory(d.pid()); err == nil {
			res.rss = m.rss
		}
		if _, err := d.stop(); err != nil {
			return res, err
		}
	}
	return res, nil
}
