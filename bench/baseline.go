package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// errSkipped marks a scenario that could not run on this machine.
var errSkipped = errors.New("skipped")

// way is one way of rotating, measured the same way as the others: the
// outage from the emulator's answer to the file complete (seen with
// inotify), the span the rotating program measures itself, and CPU.
type way struct {
	name    string
	outside spread
	inside  spread
	cpu     time.Duration // per rotation
	note    string
}

// runBaseline measures the shell script, the rotator making every
// rotation in one process (as the daemon does), and the rotator started
// once per rotation (as from cron), each over n rotations.
func (b *bench) runBaseline(n int) ([]way, error) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%w: %s is not installed (apt-get install -y %s)",
				errSkipped, tool, tool)
		}
	}

	script, err := b.scriptWay(n)
	if err != nil {
		return nil, err
	}
	daemonLike, err := b.oneProcessWay(n)
	if err != nil {
		return nil, err
	}
	cronLike, err := b.processPerRotationWay(n)
	if err != nil {
		return nil, err
	}
	return []way{script, daemonLike, cronLike}, nil
}

// scriptWay runs scripts/bench-baseline.sh n times in a row for one
// account. Its CPU is wait4's rusage of bash, which includes the curl and
// jq it waited for.
func (b *bench) scriptWay(n int) (way, error) {
	w := way{name: "shell script (curl, jq, redirect)", note: "file not synced"}
	dir := b.scratch("baseline-script")
	fx, a, watch, err := b.watchedFixture(dir, 1)
	if err != nil {
		return w, err
	}
	defer a.close()
	defer watch.close()

	timing := filepath.Join(dir, "timing")
	token := fx.sinkPath(fx.ids[0], 0)
	env := []string{"FIRSTLINE_URL=" + a.url, "TOKEN_FILE=" + token,
		"FIRSTLINE_NAME_FILE=" + filepath.Join(dir, "creds", fx.ids[0]+".name"),
		"FIRSTLINE_PASSWORD_FILE=" + filepath.Join(dir, "creds", fx.ids[0]+".password"),
		"BENCH_TIMING_FILE=" + timing}

	var cpu time.Duration
	for range n {
		u, err := command{path: "bash", args: []string{b.script}, env: env,
			stderr: filepath.Join(dir, "script.log")}.run()
		if err != nil {
			return w, err
		}
		cpu += u.cpu()
		if err := holdsLive(a, fx.ids[0], token); err != nil {
			return w, err
		}
	}

	w.cpu = cpu / time.Duration(n)
	w.inside, err = scriptTimings(timing, n)
	if err != nil {
		return w, err
	}
	w.outside, err = outages(a.loginLog(), watch, func(string) string { return token }, n)
	return w, err
}

// oneProcessWay runs `rotate` once over n accounts with one file sink
// each, one rotation at a time, and divides its CPU by n.
func (b *bench) oneProcessWay(n int) (way, error) {
	w := way{name: "firstline-rotator, n rotations in one process",
		note: "journal + sink + delivery record, each fsynced"}
	dir := b.scratch("baseline-one-process")
	fx, a, watch, err := b.watchedFixture(dir, n)
	if err != nil {
		return w, err
	}
	defer a.close()
	defer watch.close()

	cfg, out := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "rotate.out")
	err = fx.writeConfig(cfg, configOptions{url: a.url, sinks: 1, concurrency: 1})
	if err != nil {
		return w, err
	}
	u, err := command{path: b.binary, args: []string{"rotate", "--config", cfg},
		stdout: out, stderr: filepath.Join(dir, "rotate.log")}.run()
	if err != nil {
		return w, err
	}
	if err := fx.checkDelivered(a, 1); err != nil {
		return w, err
	}

	w.cpu = u.cpu() / time.Duration(n)
	exposures, err := exposuresIn(out)
	w.inside = spreadOf(exposures)
	if err != nil {
		return w, err
	}
	w.outside, err = outages(a.loginLog(), watch, func(name string) string {
		return fx.sinkPath(name, 0)
	}, n)
	return w, err
}

// processPerRotationWay starts `rotate --force --account ID` n times, as
// a cron job would, spreading the rotations over accounts so that none
// exceeds 50 log-ins an hour.
func (b *bench) processPerRotationWay(n int) (way, error) {
	w := way{name: "firstline-rotator rotate, one process per rotation",
		note: "includes process start-up"}
	dir := b.scratch("baseline-process-per-rotation")
	accounts := (n + 49) / 50
	fx, a, watch, err := b.watchedFixture(dir, accounts)
	if err != nil {
		return w, err
	}
	defer a.close()
	defer watch.close()

	cfg := filepath.Join(dir, "config.yaml")
	err = fx.writeConfig(cfg, configOptions{url: a.url, sinks: 1, maxLogins: 60})
	if err != nil {
		return w, err
	}

	cpu, exposures, err := b.rotateEach(cfg, dir, fx.ids[:accounts], n)
	if err != nil {
		return w, err
	}
	if err := fx.checkDelivered(a, 1); err != nil {
		return w, err
	}

	w.cpu, w.inside = cpu/time.Duration(n), spreadOf(exposures)
	w.outside, err = outages(a.loginLog(), watch, func(name string) string {
		return fx.sinkPath(name, 0)
	}, n)
	return w, err
}

// rotateEach starts `rotate --force --account ID` n times, the accounts
// in turn, and returns the CPU of all the processes and the exposure each
// printed.
func (b *bench) rotateEach(cfg, dir string, ids []string, n int) (time.Duration,
	[]time.Duration, error) {
	out := filepath.Join(dir, "rotate.out")
	var cpu time.Duration
	var exposures []time.Duration
	for i := range n {
		args := []string{"rotate", "--force", "--config", cfg, "--account", ids[i%len(ids)]}
		u, err := command{path: b.binary, args: args, stdout: out,
			stderr: filepath.Join(dir, "rotate.log")}.run()
		if err != nil {
			return 0, nil, err
		}
		cpu += u.cpu()
		found, err := exposuresIn(out)
		if err != nil || len(found) != 1 {
			return 0, nil, fmt.Errorf("rotation %d: read exposure: %v (%d found)", i, err,
				len(found))
		}
		exposures = append(exposures, found[0])
	}
	return cpu, exposures, nil
}

// watchedFixture is a fixture of n accounts, its emulator, and a watch on
// the directory of its first sinks.
func (b *bench) watchedFixture(dir string, n int) (*fixture, *api, *fileWatch, error) {
	fx, err := newFixture(dir, n)
	if err != nil {
		return nil, nil, nil, err
	}
	sinkDir := filepath.Dir(fx.sinkPath(fx.ids[0], 0))
	if err := os.MkdirAll(sinkDir, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("create sink directory: %w", err)
	}
	a, err := startAPI(fx.users)
	if err != nil {
		return nil, nil, nil, err
	}
	watch, err := watchDir(sinkDir)
	if err != nil {
		a.close()
		return nil, nil, nil, err
	}
	return fx, a, watch, nil
}

// outages pairs each answered log-in with the first time after it that
// the account's file was completed.
func outages(log []answer, watch *fileWatch, fileFor func(string) string,
	want int) (spread, error) {
	if len(log) != want {
		return spread{}, fmt.Errorf("emulator answered %d log-ins, want %d", len(log), want)
	}
	var windows []time.Duration
	for _, an := range log {
		times := watch.times(filepath.Base(fileFor(an.name)))
		i := sort.Search(len(times), func(i int) bool { return times[i].After(an.at) })
		if i == len(times) {
			return spread{}, fmt.Errorf("no write of %s seen after its log-in", fileFor(an.name))
		}
		windows = append(windows, times[i].Sub(an.at))
	}
	return spreadOf(windows), nil
}

// scriptTimings reads the script's "<answered_us> <written_us>" lines.
func scriptTimings(path string, want int) (spread, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return spread{}, fmt.Errorf("read script timings: %w", err)
	}
	var windows []time.Duration
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return spread{}, fmt.Errorf("read script timings: line %q", line)
		}
		answered, err1 := strconv.ParseInt(fields[0], 10, 64)
		written, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 != nil || err2 != nil {
			return spread{}, fmt.Errorf("read script timings: line %q", line)
		}
		windows = append(windows, time.Duration(written-answered)*time.Microsecond)
	}
	if len(windows) != want {
		return spread{}, fmt.Errorf("script timed %d rotations, want %d", len(windows), want)
	}
	return spreadOf(windows), nil
}

// holdsLive checks that path holds the account's live token.
func holdsLive(a *api, id, path string) error {
	data, err := os.ReadFile(path)
	live := a.em.Current(id)
	if err != nil || live == "" || strings.TrimSpace(string(data)) != live {
		return fmt.Errorf("check %s: it does not hold the live token (%v)", path, err)
	}
	return nil
}
