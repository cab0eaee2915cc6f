package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// usage is what one finished child process cost: its CPU, itself and
// every descendant it waited for (wait4's rusage), and its peak resident
// set (VmHWM, polled while it ran).
type usage struct {
	wall   time.Duration
	user   time.Duration
	system time.Duration
	maxRSS int64 // bytes
}

// cpu returns user plus system time.
func (u usage) cpu() time.Duration {
	return u.user + u.system
}

// command is a child process to run: its arguments, extra environment,
// and the files its output goes to (discarded when empty).
type command struct {
	path   string
	args   []string
	env    []string
	stdout string
	stderr string
}

// build makes the exec.Cmd, with the output files opened.
func (c command) build() (*exec.Cmd, error) {
	cmd := exec.Command(c.path, c.args...)
	cmd.Env = append(os.Environ(), "FIRSTLINE_ROTATOR_CONFIG=")
	cmd.Env = append(cmd.Env, c.env...)

	var err error
	if cmd.Stdout, err = openOutput(c.stdout); err != nil {
		return nil, err
	}
	if cmd.Stderr, err = openOutput(c.stderr); err != nil {
		closeOutputs(cmd)
		return nil, err
	}
	return cmd, nil
}

// openOutput creates the file at path, or returns nil (output discarded)
// for an empty path.
func openOutput(path string) (io.Writer, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create output file: %w", err)
	}
	return f, nil
}

// run runs the command to completion and returns what it cost; a non-zero
// exit is an error naming the stderr file.
func (c command) run() (usage, error) {
	cmd, err := c.build()
	if err != nil {
		return usage{}, err
	}
	defer closeOutputs(cmd)

	started := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, fmt.Errorf("start %s: %w", c.path, err)
	}
	peak := watchPeak(cmd.Process.Pid)
	err = cmd.Wait()
	u := usageOf(cmd.ProcessState, time.Since(started))
	u.maxRSS = peak()
	if err != nil {
		return u, fmt.Errorf("run %s %s: %w (see %s)", c.path, strings.Join(c.args, " "), err,
			c.stderr)
	}
	return u, nil
}

// peakPoll is how often watchPeak reads VmHWM.
const peakPoll = 5 * time.Millisecond

// watchPeak polls the VmHWM of a running process and returns a function
// that stops polling and returns the highest value seen. wait4's
// ru_maxrss cannot serve: Go starts children with vfork, and Linux then
// counts the parent's resident set (here the emulator's) in the child's
// maximum.
func watchPeak(pid int) func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(peakPoll)
		defer tick.Stop()
		for {
			if m, err := procMemory(pid); err == nil {
				peak = max(peak, m.hwm)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-done
	}
}

func closeOutputs(cmd *exec.Cmd) {
	for _, w := range []any{cmd.Stdout, cmd.Stderr} {
		if f, ok := w.(*os.File); ok {
			_ = f.Close()
		}
	}
}

func usageOf(ps *os.ProcessState, wall time.Duration) usage {
	return usage{wall: wall, user: ps.UserTime(), system: ps.SystemTime()}
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// which is 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPU returns the user plus system time a running process has used,
// all threads included, from /proc/<pid>/stat (10 ms resolution).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process stat: %w", err)
	}

	// The command name in parentheses may hold spaces; fields start after it.
	rest := string(data[bytes.LastIndexByte(data, ')')+2:])
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0, fmt.Errorf("read process stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read process stat: utime %q, stime %q", fields[11], fields[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// memory is a process's resident set now and at its peak, and its
// thread count.
type memory struct {
	rss, hwm int64 // bytes
	threads  int
}

// procMemory reads VmRSS, VmHWM and Threads from /proc/<pid>/status.
func procMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("read process status: %w", err)
	}
	defer f.Close()

	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch key {
		case "VmRSS":
			m.rss = n * 1024
		case "VmHWM":
			m.hwm = n * 1024
		case "Threads":
			m.threads = int(n)
		}
	}
	return m, sc.Err()
}

// machineBusy returns the CPU time every core of the machine spent on
// anything but idling, from the first line of /proc/stat: user, nice,
// system, irq, softirq and steal.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}

	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(fields[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}
