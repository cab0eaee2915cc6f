package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDemo_ShowsRotationsAndDeadOldTokens(t *testing.T) {
	e := newEnv(t)
	res := e.run("demo", "--rotations", "2", "--interval", "1s")
	if res.code != 0 {
		t.Fatalf("demo: %s", res)
	}

	generations := regexp.MustCompile(`generation (\d+): token [0-9a-f]{8} written to`).
		FindAllStringSubmatch(res.stdout, -1)
	if len(generations) < 2 {
		t.Fatalf("demo showed %d rotations, want 2:\n%s", len(generations), res.stdout)
	}
	if !strings.Contains(res.stdout, "old token") || !strings.Contains(res.stdout, "401") {
		t.Errorf("demo does not show the previous token rejected with 401:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "new token") || !strings.Contains(res.stdout, "200") {
		t.Errorf("demo does not show the new token accepted with 200:\n%s", res.stdout)
	}
}

func TestHelp_EveryCommand(t *testing.T) {
	e := newEnv(t)
	for _, cmd := range []string{"run", "rotate", "validate", "status", "demo", "emulator",
		"version"} {
		res := e.run(cmd, "--help")
		if res.code != 0 || !strings.Contains(res.stdout, "Usage:") {
			t.Errorf("%s --help: %s", cmd, res)
		}
	}

	if res := e.run("version"); res.code != 0 || !strings.HasPrefix(res.stdout,
		"firstline-rotator ") {
		t.Errorf("version: %s", res)
	}
	if res := e.run("no-such-command"); res.code != 2 {
		t.Errorf("unknown command: want exit 2; %s", res)
	}
}

func TestValidate_ListsEveryProblemWithFileAndLine(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(`log: {level: loud, format: json}
state_dir: %DIR%/state
firstline:
  base_url: http://api.example.com
  timeout: 1d
accounts:
  - id: support-bot
    credentials:
      env: {name: FL_NAME, password: FL_PASSWORD}
    schedule: "@every 0s"
    sinks:
      - {type: file, path: out/token, mode: 640}
      - {type: envfile, path: out/app.env, key: FIRSTLINE_TOKEN, dialect: bash}
  - id: Support Bot
    credentials: {}
    sinks:
      - {type: file, path: out/other, mdoe: "0600"}
`)
	res := e.run("validate", "--config", e.config)
	if res.code != 2 {
		t.Fatalf("validate of a broken config: want exit 2; %s", res)
	}

	want := []string{
		`config.yaml:1: log.level: "loud" is not a log level`,
		`config.yaml:4: firstline.base_url: plain http is allowed only for loopback hosts`,
		`config.yaml:5: firstline.timeout: "1d" is not a duration; use "24h"`,
		`config.yaml:10: accounts[0].schedule:`,
		`config.yaml:12: accounts[0].sinks[0].mode: 640 is not an octal mode; write "0640"`,
		`config.yaml:13: accounts[0].sinks[1].dialect: "bash" is not a dialect`,
		`config.yaml:14: accounts[1].id: "Support Bot" is not a valid id`,
		`config.yaml:15: accounts[1].credentials: required`,
		`config.yaml:17: accounts[1].sinks[0].mdoe: unknown key; did you mean "mode"?`,
	}
	for _, w := range want {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("validate output lacks %q:\n%s", w, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state")); !os.IsNotExist(err) {
		t.Errorf("validate created the state directory (err=%v); it must touch nothing", err)
	}

	e.writeConfig(basicConfig)
	if res := e.run("validate", "--config", e.config); res.code != 0 {
		t.Errorf("validate of a good config: %s", res)
	}
}

func TestValidate_ExampleConfig(t *testing.T) {
	e := newEnv(t)
	if res := e.run("validate", "--config", "../config.example.yaml"); res.code != 0 {
		t.Errorf("config.example.yaml does not validate: %s", res)
	}
}

func TestBinary_ShipsNoTestOnlyCode(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}

	for _, banned := range []string{"vault-plugin-secrets-kv", "hashicorp/vault/sdk",
		"santhosh-tekuri/jsonschema", "stretchr/testify"} {
		if strings.Contains(string(out), banned) {
			t.Errorf("the binary contains the test-only module %s", banned)
		}
	}

	syms, err := exec.Command("go", "tool", "nm", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	for _, banned := range []string{"internal/testutil.", "internal/vaulttest."} {
		if strings.Contains(string(syms), banned) {
			t.Errorf("the binary contains %s", banned)
		}
	}
}
