package hooks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
)

// maxOutput bounds how much of a failed command's output goes into the
// error.
const maxOutput = 512

// execHook runs a command without a shell. The token reaches it only on
// stdin or in an environment variable, and only when the configuration
// asks; never in its arguments.
type execHook struct {
	command  []string
	env      []string
	tokenVia string
	tokenEnv string
	timeout  time.Duration
}

func newExec(spec config.Hook) *execHook {
	h := &execHook{
		command: spec.Command, tokenVia: spec.TokenVia, tokenEnv: spec.TokenEnv,
		timeout: spec.Timeout.Value(),
	}
	for k, v := range spec.Env {
		h.env = append(h.env, k+"="+v)
	}
	return h
}

func (h *execHook) Name() string {
	return "exec:" + filepath.Base(h.command[0])
}

func (h *execHook) Run(ctx context.Context, ev Event) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, h.command[0], h.command[1:]...)
	cmd.Env = append(os.Environ(), h.env...)
	cmd.Env = append(cmd.Env,
		"FIRSTLINE_ACCOUNT="+ev.Account,
		"FIRSTLINE_GENERATION="+strconv.FormatUint(ev.Generation, 10),
		"FIRSTLINE_FINGERPRINT="+ev.Token.Fingerprint(),
		"FIRSTLINE_EXPIRES_AT="+ev.ExpiresAt.UTC().Format(time.RFC3339))
	switch h.tokenVia {
	case "stdin":
		cmd.Stdin = strings.NewReader(ev.Token.Reveal())
	case "env":
		cmd.Env = append(cmd.Env, h.tokenEnv+"="+ev.Token.Reveal())
	}
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.WaitDelay = time.Second

	err := cmd.Start()
	if err == nil {
		failpoint.Hit(failpoint.DuringHook)
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("run %s: timed out after %s", h.command[0], h.timeout)
	}
	if err != nil {
		return fmt.Errorf("run %s: %w; output: %q", h.command[0], err,
			tail(redact(output.String(), ev.Token), maxOutput))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
