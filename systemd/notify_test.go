package systemd_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

const (
	notifyAccount  = "notify-agent"
	notifyPassword = "Pw-notify-canary-3b8e61"
	// notifyWait bounds every wait for a message; the daemon normally
	// answers within milliseconds.
	notifyWait = 30 * time.Second
)

// buildDaemon builds the firstline-rotator binary into a temporary
// directory.
func buildDaemon(t *testing.T) string {
	t.Helper()

	bin := filepath.Join(t.TempDir(), "firstline-rotator")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	if err != nil {
		t.Fatalf("build firstline-rotator: %v\n%s", err, out)
	}
	return bin
}

// notifyWorld starts an emulator and writes a config for one account; it
// returns the config path.
func notifyWorld(t *testing.T) string {
	t.Helper()

	em := emulator.New(emulator.Options{Users: []emulator.User{
		{Name: notifyAccount, Password: notifyPassword, Role: emulator.RoleAgent, ID: 9},
	}})
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	files := map[string]string{
		"name":     notifyAccount + "\n",
		"password": notifyPassword + "\n",
		"config.yaml": fmt.Sprintf(`log: {level: debug, format: json}
state_dir: %s/state
firstline: {base_url: %q, timeout: 5s}
accounts:
  - id: %s
    credentials: {file: {name_file: name, password_file: password}}
    token_ttl: 1h
    sinks: [{type: file, path: token}]
`, dir, srv.URL, notifyAccount),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	return filepath.Join(dir, "config.yaml")
}

// notifySocket listens where the daemon sends sd_notify datagrams and
// delivers each one on the returned channel.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()

	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })

	messages := make(chan string, 1024)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(messages)
				return
			}
			messages <- string(buf[:n])
		}
	}()
	return path, messages
}

// await reads messages until one holds the line want, and returns it.
func await(t *testing.T, messages <-chan string, want string, seen *[]string) string {
	t.Helper()

	timeout := time.After(notifyWait)
	for {
		select {
		case msg, ok := <-messages:
			if !ok {
				t.Fatalf("notify socket closed while waiting for %s; got %q", want, *seen)
			}
			*seen = append(*seen, msg)
			for _, line := range strings.Split(msg, "\n") {
				if line == want {
					return msg
				}
			}
		case <-timeout:
			t.Fatalf("no %s within %s; got %q", want, notifyWait, *seen)
		}
	}
}

func TestRun_SpeaksSdNotify(t *testing.T) {
	bin := buildDaemon(t)
	config := notifyWorld(t)
	socket, messages := notifySocket(t)

	cmd := exec.Command(bin, "run", "--config", config)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+socket, "WATCHDOG_USEC=300000",
		"FIRSTLINE_ROTATOR_CONFIG=")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start run: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var seen []string
	ready := await(t, messages, "READY=1", &seen)
	if !strings.Contains(ready, "STATUS=") {
		t.Errorf("READY=1 came without a STATUS= line: %q", ready)
	}
	await(t, messages, "WATCHDOG=1", &seen)

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("send SIGHUP: %v", err)
	}
	await(t, messages, "RELOADING=1", &seen)
	await(t, messages, "READY=1", &seen)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	await(t, messages, "STOPPING=1", &seen)

	if err := cmd.Wait(); err != nil {
		t.Errorf("run after SIGTERM: %v\n%s", err, stderr.String())
	}
	token, err := os.ReadFile(filepath.Join(filepath.Dir(config), "token"))
	if err != nil || len(bytes.TrimSpace(token)) == 0 {
		t.Fatalf("the daemon wrote no token: %v", err)
	}
	secrets := []string{notifyPassword, string(bytes.TrimSpace(token))}
	for _, msg := range append(seen, stderr.String()) {
		for _, secret := range secrets {
			if strings.Contains(msg, secret) {
				t.Errorf("a secret appears in notify message or log %q", msg)
			}
		}
	}
}
