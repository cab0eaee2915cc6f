package e2e

import (
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

// daemon is a running firstline-rotator process.
type daemon struct {
	e      *env
	cmd    *exec.Cmd
	stdout *testutil.Buffer
	stderr *testutil.Buffer
	done   chan error
}

// start runs the binary in the background; the test must stop it.
func (e *env) start(args ...string) *daemon {
	e.t.Helper()
	d := &daemon{e: e, stdout: &testutil.Buffer{}, stderr: &testutil.Buffer{},
		done: make(chan error, 1)}
	d.cmd = exec.Command(binary, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	d.cmd.Env = append(os.Environ(), "FIRSTLINE_ROTATOR_CONFIG=")
	if err := d.cmd.Start(); err != nil {
		e.t.Fatalf("start %v: %v", args, err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	e.t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	return d
}

// stop sends sig and waits (at most 30 s) for the process to exit.
func (d *daemon) stop(sig syscall.Signal) result {
	d.e.t.Helper()
	_ = d.cmd.Process.Signal(sig)

	var err error
	select {
	case err = <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		err = <-d.done
	}

	res := result{stdout: d.stdout.String(), stderr: d.stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.code = 128 + int(ws.Signal())
		}
	}
	d.e.assertNoSecrets(res.stdout + res.stderr)
	return res
}
