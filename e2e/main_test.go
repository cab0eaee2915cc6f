// Package e2e drives the built firstline-rotator binary against the FIRST
// LINE emulator over loopback, as an operator would.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/testutil"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

// binary is the firstline-rotator built once for all tests.
var binary string

func TestMain(m *testing.M) {
	built, cleanup, err := testutil.BuildBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = built

	code := m.Run()
	cleanup()
	os.Exit(code)
}

// Canary credentials: tests assert they never appear in any output.
const (
	canaryName     = "canary-agent"
	canaryPassword = "Pw-canary-5e1f9b27c4"
)

// env is one test's world: an emulator, a directory, a config file.
type env struct {
	t      *testing.T
	em     *emulator.Emulator
	url    string
	dir    string
	config string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	em := emulator.New(emulator.Options{Users: []emulator.User{
		{Name: canaryName, Password: canaryPassword, Role: emulator.RoleAgent, ID: 7},
		{Name: "second-agent", Password: "Pw-second-8a7d", Role: emulator.RoleAgent, ID: 8},
	}})
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	for name, value := range map[string]string{
		"creds/name": canaryName, "creds/password": canaryPassword,
		"creds2/name": "second-agent", "creds2/password": "Pw-second-8a7d",
	} {
		testutil.WriteFile(t, dir, name, value+"\n")
	}
	return &env{t: t, em: em, url: srv.URL, dir: dir, config: filepath.Join(dir, "config.yaml")}
}

// writeConfig writes the config file; %URL% and %DIR% are replaced.
func (e *env) writeConfig(body string) {
	e.t.Helper()
	body = strings.ReplaceAll(body, "%URL%", e.url)
	body = strings.ReplaceAll(body, "%DIR%", e.dir)
	if err := os.WriteFile(e.config, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// result is what one run of the binary printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the binary to completion, with a time limit.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "FIRSTLINE_ROTATOR_CONFIG=")
	err := cmd.Run()

	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run %v: %v", args, err)
	}
	e.assertNoSecrets(res.stdout + res.stderr)
	return res
}

// assertNoSecrets fails when output holds the password, or any current or
// past token of the canary account, or any 8-character piece of them.
func (e *env) assertNoSecrets(output string) {
	e.t.Helper()
	secrets := []string{canaryPassword}
	secrets = append(secrets, e.em.IssuedTokens(canaryName)...)
	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if piece := s[i : i+8]; strings.Contains(output, piece) {
				e.t.Fatalf("output contains the 8-character piece %q of a secret", piece)
			}
		}
	}
}

// readToken reads a raw token file.
func (e *env) readToken(path string) string {
	e.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatalf("read token file: %v", err)
	}
	return strings.TrimSpace(string(data))
}
