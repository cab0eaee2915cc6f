package rotator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotator_ProbeSeesTokenTakenByHandAndRotates(t *testing.T) {
	w := newWorld(t)
	w.write("out/.keep", "")
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    probe: {path: /api/v1/me, interval: 10s}", 1))
	r := w.rotator(cfg, nil)
	if res := once(t, r, false); res.Err != nil {
		t.Fatal(res.Err)
	}

	a := r.byID["bot"]
	if res := a.probe(context.Background()); res.Outcome != Skipped {
		t.Fatalf("probe of a live token: outcome %s, want skipped", res.Outcome)
	}

	if _, err := w.em.LoginByHand(testUser); err != nil {
		t.Fatal(err)
	}
	res := a.probe(context.Background())
	if res.Outcome != Rotated || res.Err != nil {
		t.Fatalf("probe after a log-in by hand: outcome %s, err %v; want rotated",
			res.Outcome, res.Err)
	}
	if !w.em.Valid(w.token("out/token")) {
		t.Error("the sink does not hold a live token after the drift rotation")
	}
	if !strings.Contains(w.log.String(), "someone else obtained a new token") {
		t.Error("the log does not explain the drift")
	}
}

func TestRotator_HooksRunOncePerGenerationAfterEverySink(t *testing.T) {
	w := newWorld(t)
	runs := filepath.Join(w.dir, "runs")
	cfg := w.config(strings.Replace(oneFileSink, "sinks:",
		"hooks: [{type: exec, command: [/bin/sh, -c, 'echo $FIRSTLINE_GENERATION >> "+runs+
			"']}]\n    sinks:", 1))
	r := w.rotator(cfg, nil)

	// The sink's directory is missing: no hook until the sink has the token.
	once(t, r, false)
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Fatalf("a hook ran before every sink held the token (err=%v)", err)
	}

	w.write("out/.keep", "")
	once(t, r, false)
	once(t, r, false)
	once(t, r, true)

	got, err := os.ReadFile(runs)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "1\n2\n" {
		t.Errorf("hook runs %q, want one per generation: 1 then 2", got)
	}
}
