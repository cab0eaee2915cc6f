package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// faultAccount is the one account of the fault-injection suite.
const faultAccount = "support-bot"

// The Vault secrets the suite uses: the account's credentials and the
// vault_kv sink.
const (
	credsSecret = "firstline/support-bot"
	sinkSecret  = "apps/support-bot"
)

// worldOptions says what a fault case needs besides the two file sinks.
type worldOptions struct {
	vault      bool   // a Vault, a vault_kv sink named "vault"
	vaultCreds bool   // credentials read from Vault rather than files
	target     string // path of an extra file sink "target" (%DIR% replaced), or ""
	owner      string // owner of the target sink
	timeout    string // firstline.timeout; default 5s
}

// faultWorld is one case's world: an emulator behind a recording front, an
// optional test Vault behind a front that can interleave another writer,
// and a config with file, envfile and optional vault_kv sinks and an exec
// hook that appends each generation it sees to hooks.log.
type faultWorld struct {
	*env
	opts  worldOptions
	vault *vaultTestFront

	mu          sync.Mutex
	loginTimes  []time.Time // every POST to the auth path, answered or not
	afterLogin  func()      // called once after the next log-in is answered
	seenTokens  map[string]bool
	seenOrder   []string
	hookLogPath string
}

// vaultTestFront is the test Vault and what sits in front of it.
type vaultTestFront struct {
	srv *vaulttest.Server
	url string

	mu sync.Mutex
	// beforeSinkWrite runs before a write to the sink secret reaches
	// Vault: the place for a concurrent writer.
	beforeSinkWrite func()
}

func newFaultWorld(t *testing.T, opts worldOptions) *faultWorld {
	t.Helper()
	w := &faultWorld{env: newEnv(t), seenTokens: map[string]bool{}}
	opts.target = strings.ReplaceAll(opts.target, "%DIR%", w.dir)
	w.opts = opts
	w.hookLogPath = filepath.Join(w.dir, "hooks.log")

	front := httptest.NewServer(w.emulatorFront(w.em.Handler()))
	t.Cleanup(front.Close)
	w.url = front.URL

	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if opts.vault || opts.vaultCreds {
		w.startVault(t)
	}
	w.writeConfig(w.configText())
	return w
}

// emulatorFront records log-in attempts and runs afterLogin once a log-in
// has been answered.
func (w *faultWorld) emulatorFront(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		login := r.URL.Path == emulator.AuthPath && r.Method == http.MethodPost
		if login {
			w.mu.Lock()
			w.loginTimes = append(w.loginTimes, time.Now())
			w.mu.Unlock()
		}

		next.ServeHTTP(rw, r)

		if login {
			w.mu.Lock()
			after := w.afterLogin
			w.afterLogin = nil
			w.mu.Unlock()
			if after != nil {
				after()
			}
		}
	})
}

func (w *faultWorld) startVault(t *testing.T) {
	t.Helper()
	v := &vaultTestFront{srv: vaulttest.Start(t)}
	sinkPath := "/v1/" + kvMount + "/data/" + sinkSecret
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sinkPath && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			v.mu.Lock()
			before := v.beforeSinkWrite
			v.mu.Unlock()
			if before != nil {
				before()
			}
		}
		v.srv.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)
	v.url = front.URL
	w.vault = v

	tokenFile := filepath.Join(w.dir, "vault-token")
	if err := os.WriteFile(tokenFile, []byte(v.srv.RootToken()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := v.srv.KVPut(kvMount, credsSecret,
		map[string]any{"name": canaryName, "password": canaryPassword})
	if err != nil {
		t.Fatal(err)
	}
}

// setBeforeSinkWrite installs (or with nil removes) the concurrent writer.
func (v *vaultTestFront) setBeforeSinkWrite(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.beforeSinkWrite = f
}

func (w *faultWorld) setAfterLogin(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.afterLogin = f
}

// loginAttempts returns the times of the log-in requests so far.
func (w *faultWorld) loginAttempts() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.loginTimes)
}

func (w *faultWorld) configText() string {
	var b strings.Builder
	timeout := w.opts.timeout
	if timeout == "" {
		timeout = "5s"
	}
	fmt.Fprintf(&b, "log: {level: debug, format: json}\nstate_dir: %%DIR%%/state\n"+
		"firstline: {base_url: \"%%URL%%\", timeout: %s}\n", timeout)
	if w.vault != nil {
		fmt.Fprintf(&b, "vault: {address: %q, auth: {method: token, "+
			"token_file: %%DIR%%/vault-token}}\n", w.vault.url)
	}

	b.WriteString("accounts:\n  - id: " + faultAccount + "\n    credentials:\n")
	if w.opts.vaultCreds {
		b.WriteString("      vault: {mount: secret, path: " + credsSecret + "}\n")
	} else {
		b.WriteString("      file: {name_file: creds/name, password_file: creds/password}\n")
	}
	b.WriteString("    token_ttl: 1h\n    max_logins_per_hour: 60\n    sinks:\n" +
		"      - {type: file, name: token, path: out/token, mode: \"0640\"}\n" +
		"      - {type: envfile, name: envfile, path: out/app.env, key: FIRSTLINE_TOKEN}\n")
	if w.opts.vault {
		b.WriteString("      - {type: vault_kv, name: vault, mount: secret, path: " +
			sinkSecret + "}\n")
	}
	if w.opts.target != "" {
		fmt.Fprintf(&b, "      - {type: file, name: target, path: %q", w.opts.target)
		if w.opts.owner != "" {
			fmt.Fprintf(&b, ", owner: %q", w.opts.owner)
		}
		b.WriteString("}\n")
	}
	fmt.Fprintf(&b, "    hooks:\n      - type: exec\n"+
		"        command: [/bin/sh, -c, 'echo \"$FIRSTLINE_GENERATION\" >> \"$HOOK_LOG\"']\n"+
		"        env: {HOOK_LOG: %q}\n        timeout: 10s\n", w.hookLogPath)
	return b.String()
}

// sinkNames are the names of the world's sinks, in config order.
func (w *faultWorld) sinkNames() []string {
	names := []string{"token", "envfile"}
	if w.opts.vault {
		names = append(names, "vault")
	}
	if w.opts.target != "" {
		names = append(names, "target")
	}
	return names
}

// runOpts says how to start the binary for one run.
type runOpts struct {
	failpoint string   // FIRSTLINE_ROTATOR_FAILPOINT
	prefix    []string // a command that runs the binary, e.g. setpriv
}

// execBinary runs the binary to completion and reports a kill by signal
// as 128 plus the signal, like a shell. It never calls t.Fatal, so it may
// run on any goroutine; the caller checks the output for secrets.
func execBinary(config string, o runOpts, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	argv := append(slices.Clone(o.prefix), binary)
	argv = append(argv, args...)
	if config != "" {
		argv = append(argv, "--config", config)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "FIRSTLINE_ROTATOR_CONFIG=",
		failpoint.EnvVar+"="+o.failpoint)
	err := cmd.Run()

	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		res.code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.code = 128 + int(ws.Signal())
		}
		err = nil
	}
	return res, err
}

// runFault runs a command of the binary against the world's config.
func (w *faultWorld) runFault(o runOpts, args ...string) result {
	w.t.Helper()
	res, err := execBinary(w.config, o, args...)
	if err != nil {
		w.t.Fatalf("run %v: %v", args, err)
	}
	w.assertNoSecrets(res.stdout + res.stderr)
	return res
}
