package hooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
)

// signals maps the names the configuration accepts to signals.
var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"WINCH": syscall.SIGWINCH, "CONT": syscall.SIGCONT,
}

// ParseSignal turns "HUP" or "SIGHUP" into the signal.
func ParseSignal(name string) (syscall.Signal, error) {
	sig, ok := signals[strings.TrimPrefix(strings.ToUpper(name), "SIG")]
	if !ok {
		return 0, fmt.Errorf("unknown signal %q (use HUP, USR1, USR2, TERM, INT, QUIT, "+
			"WINCH or CONT)", name)
	}
	return sig, nil
}

// signalHook signals the process named by a pid file, read afresh every
// time, or asks systemd to signal or reload a unit.
type signalHook struct {
	pidFile string
	unit    string
	signal  string
	sig     syscall.Signal
	timeout time.Duration
}

func newSignal(spec config.Hook) (*signalHook, error) {
	h := &signalHook{pidFile: spec.PIDFile, unit: spec.Unit, signal: spec.Signal,
		timeout: spec.Timeout.Value()}
	if spec.Unit != "" && strings.EqualFold(spec.Signal, "reload") {
		return h, nil
	}

	sig, err := ParseSignal(spec.Signal)
	if err != nil {
		return nil, fmt.Errorf("set up signal hook: %w", err)
	}
	h.sig = sig
	return h, nil
}

func (h *signalHook) Name() string {
	if h.unit != "" {
		return "signal:" + h.unit
	}
	return "signal:" + h.pidFile
}

func (h *signalHook) Run(ctx context.Context, _ Event) error {
	if h.unit != "" {
		return h.signalUnit(ctx)
	}

	pid, err := livePID(h.pidFile)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, h.sig); err != nil {
		return fmt.Errorf("send %s to pid %d from %s: %w", h.signal, pid, h.pidFile, err)
	}
	return nil
}

func (h *signalHook) signalUnit(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	args := []string{"kill", "--signal=" + h.signal, "--", h.unit}
	if strings.EqualFold(h.signal, "reload") {
		args = []string{"reload", "--", h.unit}
	}
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return nil
}

// livePID reads a pid file and checks that the process it names is alive
// and started before the file was written; a process started later has
// reused the pid of a dead one and must not be signalled.
func livePID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}

	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("read pid file %s: %q is not a process id", path,
			strings.TrimSpace(string(data)))
	}

	started, err := processStart(pid)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("pid file %s names pid %d, which is not running (stale pid "+
			"file?)", path, pid)
	}
	if err != nil {
		return 0, fmt.Errorf("inspect pid %d from %s: %w", pid, path, err)
	}
	if started.After(info.ModTime().Add(time.Second)) {
		return 0, fmt.Errorf("pid file %s is stale: pid %d started at %s, after the file "+
			"was written; not signalling a process that reused the pid", path, pid,
			started.UTC().Format(time.RFC3339))
	}
	return pid, nil
}
