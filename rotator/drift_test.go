package rotator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
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

func TestRotator_SeesRotationByAnotherProcess(t *testing.T) {
	w := newWorld(t)
	w.write("out/.keep", "")
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    probe: {path: /api/v1/me, interval: 10s}", 1))
	daemon := w.rotator(cfg, nil)
	if res := once(t, daemon, false); res.Err != nil {
		t.Fatal(res.Err)
	}

	// `rotate --force` from a shell: another Rotator over the same state.
	if res := once(t, w.rotator(cfg, nil), true); res.Err != nil {
		t.Fatal(res.Err)
	}

	a := daemon.byID["bot"]
	if res := a.probe(context.Background()); res.Outcome != Skipped {
		t.Errorf("probe after a rotation by another process: outcome %s, want skipped "+
			"(no false drift)", res.Outcome)
	}
	src, _ := daemon.TokenSource("bot")
	tok, gen, err := src.Token(context.Background())
	if err != nil || gen != 2 || !w.em.Valid(tok.Reveal()) {
		t.Errorf("token source after the other rotation: generation %d, valid %v, err %v",
			gen, w.em.Valid(tok.Reveal()), err)
	}
	if logins := w.em.Stats(testUser).Logins; logins != 2 {
		t.Errorf("%d log-ins, want 2", logins)
	}
}

func TestRotator_OutageDoesNotUseLoginBudget(t *testing.T) {
	w := newWorld(t)
	w.write("out/.keep", "")
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    max_logins_per_hour: 2", 1))
	r := w.rotator(cfg, nil)

	w.em.Inject(emulator.Fault{Path: "/api/v1/auth", Status: 503, Times: 5})
	for range 5 {
		if res := once(t, r, false); res.Outcome != Failed {
			t.Fatalf("log-in during the outage: %s", res.Outcome)
		}
	}
	if res := once(t, r, false); res.Err != nil {
		t.Fatalf("after five 503s the budget of 2 was used up: %v", res.Err)
	}
}

func TestRotator_KeepsLiveTokenWhenASinkCannotBeWritten(t *testing.T) {
	w := newWorld(t)
	w.write("out/.keep", "")
	cfg := w.config(oneFileSink)
	r := w.rotator(cfg, nil)
	if res := once(t, r, false); res.Err != nil {
		t.Fatal(res.Err)
	}
	live := w.token("out/token")

	if err := os.Chmod(filepath.Join(w.dir, "out"), 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(w.dir, "out"), 0o700) })
	if os.Geteuid() == 0 {
		// Root ignores directory modes; make the directory a file instead.
		if err := os.RemoveAll(filepath.Join(w.dir, "out")); err != nil {
			t.Fatal(err)
		}
		w.write("out", "not a directory")
	}

	res := once(t, r, true)
	if !errors.Is(res.Err, ErrSinkNotWritable) {
		t.Fatalf("forced rotation with an unwritable sink: err %v, want ErrSinkNotWritable",
			res.Err)
	}
	if !w.em.Valid(live) || w.em.Stats(testUser).Logins != 1 {
		t.Errorf("the live token was killed (valid=%v, log-ins=%d)", w.em.Valid(live),
			w.em.Stats(testUser).Logins)
	}
}

func TestRotator_RenewBeforeLongerThanLifetimeDoesNotLoop(t *testing.T) {
	w := newWorld(t)
	w.write("out/.keep", "")
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    renew_before: 50m\n    max_logins_per_hour: 60", 1))
	r := w.rotator(cfg, nil)

	for range 3 {
		if res := once(t, r, false); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if logins := w.em.Stats(testUser).Logins; logins != 1 {
		t.Errorf("%d log-ins in three passes, want 1: the window must be capped", logins)
	}
	st := r.byID["bot"].snapshot()
	half := st.ExpiresAt.Sub(st.IssuedAt) / 2
	if next := r.byID["bot"].nextDue(st); !next.Equal(st.ExpiresAt.Add(-half)) {
		t.Errorf("next run %s, want half way through the token's life", next)
	}
	if !strings.Contains(w.log.String(), "renewing at half the lifetime") {
		t.Error("the cap was not reported")
	}
}
