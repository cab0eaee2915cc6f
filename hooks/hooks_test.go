package hooks

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

const canaryToken = "eyJhbGciOiJIUzI1NiJ9.hook-canary-payload.c2lnbmF0dXJl"

func event() Event {
	return Event{Account: "support-bot", Generation: 7, Token: secret.New(canaryToken),
		ExpiresAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
}

func newHook(t *testing.T, spec config.Hook) Hook {
	t.Helper()
	if !spec.Timeout.IsSet() {
		spec.Timeout = config.NewDuration(5 * time.Second)
	}
	h, err := New(spec, zerolog.Nop())
	if err != nil {
		t.Fatalf("new hook: %v", err)
	}
	return h
}

func TestExec_TokenOnlyWhereAsked(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := "echo \"$@|$FIRSTLINE_ACCOUNT|$FIRSTLINE_GENERATION|$FIRSTLINE_FINGERPRINT|" +
		"$HOOK_TOKEN|$(cat)\" > " + out

	cases := []struct {
		name, via, env, want string
	}{
		{"not passed", "", "", "arg|support-bot|7|" + secret.Fingerprint(canaryToken) + "||"},
		{"stdin", "stdin", "", "arg|support-bot|7|" + secret.Fingerprint(canaryToken) + "||" +
			canaryToken},
		{"env", "env", "HOOK_TOKEN", "arg|support-bot|7|" + secret.Fingerprint(canaryToken) +
			"|" + canaryToken + "|"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHook(t, config.Hook{Type: "exec", TokenVia: c.via, TokenEnv: c.env,
				Command: []string{"/bin/sh", "-c", script, "sh", "arg"}})
			if err := h.Run(context.Background(), event()); err != nil {
				t.Fatalf("run: %v", err)
			}

			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != c.want {
				t.Errorf("hook saw %q, want %q", got, c.want)
			}
		})
	}
}

func TestExec_FailureAndTimeoutNeverShowTheToken(t *testing.T) {
	h := newHook(t, config.Hook{Type: "exec", TokenVia: "stdin",
		Command: []string{"/bin/sh", "-c", "echo got $(cat); exit 3"}})
	err := h.Run(context.Background(), event())
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("failing hook: err %v, want exit status 3", err)
	}
	if strings.Contains(err.Error(), canaryToken) || !strings.Contains(err.Error(),
		"withheld") {
		t.Errorf("the error shows the token or does not say output was withheld: %v", err)
	}

	// A hook that prints the token cut into lines still leaks nothing.
	folded := newHook(t, config.Hook{Type: "exec", TokenVia: "stdin",
		Command: []string{"/bin/sh", "-c", "fold -w 10; exit 3"}})
	err = folded.Run(context.Background(), event())
	if err == nil || secret.Quotes(err.Error(), secret.New(canaryToken)) {
		t.Errorf("folded token output: err %v", err)
	}

	plain := newHook(t, config.Hook{Type: "exec",
		Command: []string{"/bin/sh", "-c", "echo reload refused; exit 4"}})
	if err := plain.Run(context.Background(), event()); err == nil ||
		!strings.Contains(err.Error(), "reload refused") {
		t.Errorf("output without the token should be shown: %v", err)
	}

	slow := newHook(t, config.Hook{Type: "exec", Timeout: config.NewDuration(
		100 * time.Millisecond), Command: []string{"/bin/sleep", "10"}})
	if err := slow.Run(context.Background(), event()); err == nil ||
		!strings.Contains(err.Error(), "timed out") {
		t.Errorf("slow hook: err %v, want a timeout", err)
	}
}

func TestSignal_PIDFile(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "app.pid")
	hook := newHook(t, config.Hook{Type: "signal", PIDFile: pidFile, Signal: "USR1"})

	if err := hook.Run(context.Background(), event()); err == nil {
		t.Error("a missing pid file was not an error")
	}

	// A shell that reports the signal it receives.
	marker := filepath.Join(dir, "got-usr1")
	child := exec.Command("/bin/sh", "-c", "trap 'touch "+marker+"; exit 0' USR1; "+
		"while :; do sleep 0.05; done")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	time.Sleep(100 * time.Millisecond) // let the shell install its trap

	writePID(t, pidFile, child.Process.Pid)
	if err := hook.Run(context.Background(), event()); err != nil {
		t.Fatalf("signal a live process: %v", err)
	}
	waitForFile(t, marker)

	_ = child.Wait()
	if err := hook.Run(context.Background(), event()); err == nil ||
		!strings.Contains(err.Error(), "not running") {
		t.Errorf("signal after the process died: err %v, want not running", err)
	}
}

func TestSignal_StalePIDFileIsNotSignalled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	stranger := exec.Command("/bin/sleep", "10")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stranger.Process.Kill(); _ = stranger.Wait() })

	// The pid file claims to be older than the process it names: the
	// pid was reused by a process started after the file was written.
	writePID(t, pidFile, stranger.Process.Pid)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(pidFile, old, old); err != nil {
		t.Fatal(err)
	}

	hook := newHook(t, config.Hook{Type: "signal", PIDFile: pidFile, Signal: "TERM"})
	err := hook.Run(context.Background(), event())
	if err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("stale pid file: err %v, want stale", err)
	}
	if err := stranger.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the stranger process was signalled: %v", err)
	}
}

func TestWebhook_SignedRetriedAndTokenOnlyWhenAsked(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("webhook-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var calls atomic.Int32
	var lastBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		want := Sign([]byte("webhook-key"), r.Header.Get(TimestampHeader), body)
		if !hmac.Equal([]byte(want), []byte(r.Header.Get(SignatureHeader))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if calls.Add(1) == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		lastBody.Store(string(body))
	}))
	t.Cleanup(srv.Close)

	for _, include := range []bool{false, true} {
		calls.Store(0)
		hook := newHook(t, config.Hook{Type: "webhook", URL: srv.URL, SecretFile: keyFile,
			IncludeToken: include})
		if err := hook.Run(context.Background(), event()); err != nil {
			t.Fatalf("include_token=%v: %v", include, err)
		}
		if calls.Load() != 2 {
			t.Errorf("include_token=%v: %d calls, want 2 (one 503, one retry)", include,
				calls.Load())
		}

		var body map[string]any
		if err := json.Unmarshal([]byte(lastBody.Load().(string)), &body); err != nil {
			t.Fatal(err)
		}
		if body["account"] != "support-bot" || body["generation"] != float64(7) ||
			body["fingerprint"] != secret.Fingerprint(canaryToken) {
			t.Errorf("body %v", body)
		}
		if _, has := body["token"]; has != include {
			t.Errorf("include_token=%v but token present=%v", include, has)
		}
	}
}

func TestWebhook_ClientErrorIsNotRetried(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)

	hook := newHook(t, config.Hook{Type: "webhook", URL: srv.URL, SecretFile: keyFile})
	err := hook.Run(context.Background(), event())
	if err == nil || !strings.Contains(err.Error(), "404") || calls.Load() != 1 {
		t.Errorf("404: err %v after %d calls; want an error after 1 call", err, calls.Load())
	}
}

func writePID(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for range 100 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}
