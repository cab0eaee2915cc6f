package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

// waitFor polls cond every 50 ms for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (e *env) mkdir(name string) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Join(e.dir, name), 0o755); err != nil {
		e.t.Fatal(err)
	}
}

func TestRun_ReloadKeepsOldConfigWhenNewIsInvalid(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	e.writeConfig(basicConfig)
	d := e.start("run", "--config", e.config)
	waitFor(t, "the first token", func() bool {
		_, err := os.Stat(filepath.Join(e.dir, "out/token"))
		return err == nil
	})

	e.writeConfig(basicConfig + "  - id: [broken\n")
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refused reload", func() bool {
		return strings.Contains(d.stderr.String(), "reload refused")
	})

	e.writeConfig(strings.Replace(basicConfig, "out/token,", "out/token2,", 1))
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the new sink", func() bool {
		_, err := os.Stat(filepath.Join(e.dir, "out/token2"))
		return err == nil
	})

	res := d.stop(syscall.SIGTERM)
	if res.code != 0 {
		t.Fatalf("run: %s", res)
	}
	if !e.em.Valid(e.readToken(filepath.Join(e.dir, "out/token2"))) {
		t.Error("the sink added by the reload does not hold the live token")
	}
	if logins := e.em.Stats(canaryName).Logins; logins != 1 {
		t.Errorf("reloads logged in again: %d log-ins, want 1", logins)
	}
}

func TestRun_RevokeOnShutdown(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	e.writeConfig(strings.Replace(basicConfig, "token_ttl: 1h",
		"token_ttl: 1h\n    revoke_on_shutdown: true", 1))
	d := e.start("run", "--config", e.config)
	waitFor(t, "the first token", func() bool { return e.em.Stats(canaryName).Logins == 1 })
	waitFor(t, "the sink", func() bool {
		_, err := os.Stat(filepath.Join(e.dir, "out/token"))
		return err == nil
	})
	token := e.readToken(filepath.Join(e.dir, "out/token"))

	// A reload is not a shutdown: the token stays.
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool {
		return strings.Contains(d.stderr.String(), "configuration reloaded")
	})
	if !e.em.Valid(token) {
		t.Fatal("a reload revoked the token")
	}

	if res := d.stop(syscall.SIGTERM); res.code != 0 {
		t.Fatalf("run: %s", res)
	}
	if e.em.Valid(token) || e.em.Stats(canaryName).Revokes != 1 {
		t.Errorf("after shutdown with revoke_on_shutdown: valid=%v revokes=%d; want false, 1",
			e.em.Valid(token), e.em.Stats(canaryName).Revokes)
	}
}

func TestRun_HealthReadinessAndMetrics(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	addr := freePort(t)
	e.writeConfig(strings.Replace(basicConfig, "state_dir:", "http: {listen: \""+addr+
		"\"}\nstate_dir:", 1))
	d := e.start("run", "--config", e.config)
	defer d.stop(syscall.SIGTERM)

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitFor(t, "/readyz to answer 200", func() bool {
		code, _ := get("/readyz")
		return code == http.StatusOK
	})

	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz answered %d", code)
	}
	code, metrics := get("/metrics")
	for _, want := range []string{
		`firstline_rotator_rotations_total{account="support-bot"`,
		`firstline_rotator_token_expiry_timestamp_seconds{account="support-bot"}`,
		`firstline_rotator_sink_delivered_generation{account="support-bot",sink="file:`,
		`firstline_rotator_login_budget_remaining{account="support-bot"} 5`,
	} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (status %d) lacks %s", code, want)
		}
	}
	e.assertNoSecrets(metrics)
}

func TestStatus_ReadsStateOnly(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	e.writeConfig(basicConfig)
	if res := e.run("rotate", "--config", e.config); res.code != 0 {
		t.Fatalf("rotate: %s", res)
	}

	table := e.run("status", "--config", e.config)
	if table.code != 0 || !strings.Contains(table.stdout, "support-bot") ||
		!strings.Contains(table.stdout, "success") || !strings.Contains(table.stdout, "file:") {
		t.Fatalf("status: %s", table)
	}

	res := e.run("status", "--config", e.config, "--json")
	var accounts []struct {
		Account     string `json:"account"`
		Generation  int    `json:"generation"`
		Fingerprint string `json:"fingerprint"`
		Sinks       []struct {
			Name       string `json:"name"`
			Generation int    `json:"generation"`
			Behind     int    `json:"behind"`
		} `json:"sinks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &accounts); err != nil {
		t.Fatalf("status --json: %v\n%s", err, res)
	}
	if len(accounts) != 1 || accounts[0].Generation != 1 || len(accounts[0].Sinks) != 2 ||
		accounts[0].Sinks[0].Behind != 0 || len(accounts[0].Fingerprint) != 8 {
		t.Errorf("status --json: %+v", accounts)
	}
	if logins := e.em.Stats(canaryName).Logins; logins != 1 {
		t.Errorf("status logged in: %d log-ins, want 1", logins)
	}
}

func TestRun_RetriesFailedRotationWithBackoff(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	e.writeConfig(basicConfig)
	e.em.Inject(emulator.Fault{Path: "/api/v1/auth", Status: http.StatusServiceUnavailable,
		Times: 2})

	d := e.start("run", "--config", e.config)
	waitFor(t, "the token after two refused log-ins", func() bool {
		_, err := os.Stat(filepath.Join(e.dir, "out/token"))
		return err == nil
	})

	res := d.stop(syscall.SIGTERM)
	if res.code != 0 {
		t.Fatalf("run: %s", res)
	}
	if got := strings.Count(res.stderr, "retrying after backoff"); got != 2 {
		t.Errorf("%d backoff retries logged, want 2:\n%s", got, res.stderr)
	}
	if !e.em.Valid(e.readToken(filepath.Join(e.dir, "out/token"))) {
		t.Error("the sink does not hold the live token")
	}
}
