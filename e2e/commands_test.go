package e2e

import (
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
