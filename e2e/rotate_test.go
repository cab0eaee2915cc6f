package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const basicConfig = `
log: {level: debug, format: json}
state_dir: %DIR%/state
firstline: {base_url: "%URL%", timeout: 5s}
accounts:
  - id: support-bot
    credentials:
      file: {name_file: creds/name, password_file: creds/password}
    token_ttl: 1h
    sinks:
      - {type: file, path: out/token, mode: "0640"}
      - {type: envfile, path: out/app.env, key: FIRSTLINE_TOKEN, dialect: systemd}
`

func TestRotate_ForceTwiceKillsFirstToken(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(basicConfig)
	if err := os.MkdirAll(filepath.Join(e.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	tokenPath := filepath.Join(e.dir, "out/token")

	first := e.run("rotate", "--config", e.config, "--force")
	if first.code != 0 {
		t.Fatalf("first rotate: %s", first)
	}
	token1 := e.readToken(tokenPath)
	if !e.em.Valid(token1) {
		t.Fatalf("the emulator does not accept the token written by rotate")
	}
	if !strings.Contains(first.stdout, "rotated") {
		t.Errorf("rotate output does not say rotated:\n%s", first.stdout)
	}

	second := e.run("rotate", "--config="+e.config, "--force")
	if second.code != 0 {
		t.Fatalf("second rotate: %s", second)
	}
	token2 := e.readToken(tokenPath)
	if token2 == token1 {
		t.Fatal("second rotate wrote the same token")
	}
	if e.em.Valid(token1) || !e.em.Valid(token2) {
		t.Errorf("after the second rotation: first valid=%v, second valid=%v; want false, true",
			e.em.Valid(token1), e.em.Valid(token2))
	}

	env, err := os.ReadFile(filepath.Join(e.dir, "out/app.env"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "FIRSTLINE_TOKEN=\"" + token2 + "\"\n"; string(env) != want {
		t.Errorf("env file holds %q, want the second token line", env)
	}
	info, err := os.Stat(tokenPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("token file mode %o, want 0640", info.Mode().Perm())
	}
	if got := e.em.Stats(canaryName).Logins; got != 2 {
		t.Errorf("emulator saw %d log-ins, want 2", got)
	}
}

func TestRotate_NotDueDoesNotLogIn(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(basicConfig)
	if err := os.MkdirAll(filepath.Join(e.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}

	for i := range 3 {
		if res := e.run("rotate", "--config", e.config); res.code != 0 {
			t.Fatalf("rotate %d: %s", i, res)
		}
	}
	if got := e.em.Stats(canaryName).Logins; got != 1 {
		t.Errorf("three runs of rotate without --force logged in %d times, want 1", got)
	}
}

func TestRotate_ExitCodes(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(strings.Replace(basicConfig, "creds/password", "creds2/password", 1))
	if err := os.MkdirAll(filepath.Join(e.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}

	bad := e.run("rotate", "--config", e.config)
	if bad.code != 1 || !strings.Contains(bad.stderr, "support-bot") ||
		!strings.Contains(bad.stdout+bad.stderr, "401") {
		t.Errorf("rotate with a wrong password: want exit 1 naming the account and 401; %s", bad)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "out/token")); !os.IsNotExist(err) {
		t.Errorf("a failed log-in wrote the token file (err=%v)", err)
	}

	cases := map[string][]string{
		"unknown account": {"rotate", "--config", e.config, "--account", "nobody"},
		"unknown flag":    {"rotate", "--config", e.config, "--frobnicate"},
		"missing config":  {"rotate", "--config", filepath.Join(e.dir, "absent.yaml")},
		"stray argument":  {"rotate", "--config", e.config, "extra"},
	}
	for name, args := range cases {
		if res := e.run(args...); res.code != 2 {
			t.Errorf("%s: want exit 2; %s", name, res)
		}
	}
}

func TestRun_RotatesOnScheduleAndStopsOnSIGTERM(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(strings.Replace(basicConfig, "token_ttl: 1h",
		"token_ttl: 1h\n    schedule: \"@every 2s\"\n    max_logins_per_hour: 3600", 1))
	if err := os.MkdirAll(filepath.Join(e.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}

	d := e.start("run", "--config", e.config)
	deadline := time.Now().Add(20 * time.Second)
	for e.em.Stats(canaryName).Logins < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.em.Stats(canaryName).Logins; got < 3 {
		t.Fatalf("run logged in %d times in 20s with @every 2s, want 3 or more; %s",
			got, d.stop(syscall.SIGKILL))
	}

	sent := time.Now()
	res := d.stop(syscall.SIGTERM)
	if res.code != 0 {
		t.Fatalf("run after SIGTERM: %s", res)
	}
	if took := time.Since(sent); took > 5*time.Second {
		t.Errorf("run took %s to exit after SIGTERM, want under 5s", took)
	}
	if !e.em.Valid(e.readToken(filepath.Join(e.dir, "out/token"))) {
		t.Error("after run the token file does not hold the live token")
	}
}
