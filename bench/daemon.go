package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a running `firstline-rotator run`.
type daemon struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan error
	stderr  string
}

// startDaemon starts `run --config path` with NOTIFY_SOCKET set to n and
// returns once it reported READY=1, with the time that took from just
// before the fork.
func startDaemon(binary, config string, n *notifySocket, stderr string) (*daemon,
	time.Duration, error) {
	c := command{path: binary, args: []string{"run", "--config", config},
		env: []string{n.env()}, stderr: stderr}
	cmd, err := c.build()
	if err != nil {
		return nil, 0, err
	}

	d := &daemon{cmd: cmd, done: make(chan error, 1), stderr: stderr}
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		closeOutputs(cmd)
		return nil, 0, fmt.Errorf("start daemon: %w", err)
	}
	go func() {
		d.done <- cmd.Wait()
		closeOutputs(cmd)
	}()

	at, err := n.waitFor("READY=1", 2*time.Minute)
	if err != nil {
		_, _ = d.stop()
		return nil, 0, fmt.Errorf("%w (see %s)", err, stderr)
	}
	return d, at.Sub(d.started), nil
}

func (d *daemon) pid() int {
	return d.cmd.Process.Pid
}

// stop sends SIGTERM and waits at most a minute for the exit.
func (d *daemon) stop() (usage, error) {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		u := usageOf(d.cmd.ProcessState, time.Since(d.started))
		if err != nil {
			return u, fmt.Errorf("daemon exited: %w (see %s)", err, d.stderr)
		}
		return u, nil
	case <-time.After(time.Minute):
		_ = d.cmd.Process.Kill()
		<-d.done
		return usage{}, fmt.Errorf("daemon did not stop within a minute of SIGTERM")
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr, nil
}

// scrapeClient opens a new connection for every scrape and closes it
// after, so that no connection of ours stays behind as a goroutine of the
// daemon.
var scrapeClient = &http.Client{Timeout: time.Minute,
	Transport: &http.Transport{DisableKeepAlives: true}}

// scrape fetches /metrics and returns the value of the sample named
// metric and the size of the whole page.
func scrape(addr, metric string) (float64, int, error) {
	resp, err := scrapeClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()

	cr := &countingReader{r: resp.Body}
	value, found := 0.0, false
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), " ")
		if ok && name == metric {
			value, err = strconv.ParseFloat(strings.TrimSpace(rest), 64)
			found = err == nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, cr.n, fmt.Errorf("read metrics: %w", err)
	}
	if !found {
		return 0, cr.n, fmt.Errorf("scrape metrics: no sample %s", metric)
	}
	return value, cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
