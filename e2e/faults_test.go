package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
)

// faultCase is one fault the suite injects. The flow is: a first rotate
// puts a good token everywhere; arm injects the fault and `rotate --force`
// runs into it; heal removes it; plain `rotate` restarts until the
// account converges. After every run every sink must hold the last good
// token or one issued since, complete; at the end every sink holds the
// live token, logins match rotations, and hooks ran per generation.
type faultCase struct {
	name  string
	world worldOptions
	// arm injects the fault and says how to start the faulty run.
	arm func(t *testing.T, w *faultWorld) runOpts
	// heal removes the fault; nil for a one-shot fault.
	heal func(t *testing.T, w *faultWorld)
	// wantCode and wantOutput show the faulty run met the fault.
	wantCode   int
	wantOutput string
	// oldStaysValid: FIRST LINE never acted, so the last good token lives.
	oldStaysValid bool
	// extraLogins are log-ins whose token could never reach a sink (an
	// answer lost on the wire or with the process): each must be
	// superseded by the rotation that completes.
	extraLogins int
	// hooksAgain allows the hook to run twice for the faulty generation.
	hooksAgain bool
	// targetTaken: the fault itself takes the target sink's file away.
	targetTaken bool
	// lagging names the one sink the fault breaks: the faulty run must
	// leave it behind, say so, and still deliver to every other sink.
	lagging string
	// refused: the fault is visible before logging in, so the rotator
	// must not log in at all and the last good token must stay live.
	refused bool
	// daemon cases run `run` instead, from no token at all.
	daemon bool
	// setup prepares the world before the first rotate.
	setup func(t *testing.T, w *faultWorld)
	// check makes case-specific assertions at the end.
	check func(t *testing.T, w *faultWorld)
}

// faultTally is what the suite counts across cases.
type faultTally struct {
	injected, survived, lost int
}

func TestFaults(t *testing.T) {
	var tally faultTally
	for _, c := range faultCases() {
		skipped := false
		passed := t.Run(c.name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			w := newFaultWorld(t, c.world)
			if c.setup != nil {
				c.setup(t, w)
			}
			defer func() { tally.lost += w.lostTokens() }()
			if c.daemon {
				runDaemonFault(t, w, c)
				return
			}
			runFault(t, w, c)
		})
		if skipped {
			continue
		}
		tally.injected++
		if passed {
			tally.survived++
		}
	}

	line := fmt.Sprintf("faults: %d injected, %d survived, %d tokens lost",
		tally.injected, tally.survived, tally.lost)
	fmt.Println(line)
	t.Log(line)
}

// runFault is the flow of a rotate case.
func runFault(t *testing.T, w *faultWorld, c faultCase) {
	if res := w.runFault(runOpts{}, "rotate"); res.code != 0 {
		t.Fatalf("first rotate: %s", res)
	}
	if ok, why := w.converged(); !ok {
		t.Fatalf("first rotate did not converge: %s", why)
	}
	w.checkSinks("after the first rotate", "", 0, nil)
	lastGood := w.em.Current(canaryName)
	since := len(w.em.IssuedTokens(canaryName))
	mayBeAbsent := map[string]bool{"target": c.targetTaken}

	faulty := w.runFault(c.arm(t, w), "rotate", "--force")
	t.Logf("faulty run: %s", faulty.stdout)
	if faulty.code != c.wantCode || !strings.Contains(faulty.stdout+faulty.stderr,
		c.wantOutput) {
		t.Errorf("faulty run: want exit %d and output containing %q; %s", c.wantCode,
			c.wantOutput, faulty)
	}
	reads := w.checkSinks("after the faulty run", lastGood, since, mayBeAbsent)
	if c.lagging != "" {
		checkOnlyLagging(t, w, c.lagging, reads, faulty)
	}
	if c.refused && (len(w.em.IssuedTokens(canaryName)) != since || !w.em.Valid(lastGood)) {
		t.Error("the rotator logged in although a sink could not take the token, " +
			"killing the token its consumers held")
	}
	if c.oldStaysValid && !w.em.Valid(lastGood) {
		t.Error("FIRST LINE never acted, yet the last good token is dead")
	}

	if c.heal != nil {
		c.heal(t, w)
	}
	restartUntilConverged(t, w, lastGood, since, mayBeAbsent)
	checkOutcome(t, w, c, true)
}

// checkOnlyLagging asserts the faulty run left exactly the broken sink
// behind, said so, and did not hold the others back.
func checkOnlyLagging(t *testing.T, w *faultWorld, broken string, reads map[string]sinkRead,
	faulty result) {
	t.Helper()
	current := w.em.Current(canaryName)
	for name, got := range reads {
		switch {
		case name == broken && got.token == current:
			t.Errorf("sink %s holds the new token although the fault should stop it", name)
		case name != broken && got.token != current:
			t.Errorf("the fault on sink %s held back sink %s", broken, name)
		}
	}
	if !strings.Contains(faulty.stdout, broken+" holds generation 1, 1 behind") {
		t.Errorf("rotate does not say that sink %s lags and by how much:\n%s", broken,
			faulty.stdout)
	}
}

// restartUntilConverged runs plain rotate, at most three times, until the
// account converges, checking the sinks after each run.
func restartUntilConverged(t *testing.T, w *faultWorld, lastGood string, since int,
	mayBeAbsent map[string]bool) {
	t.Helper()
	why := ""
	for i := 1; i <= 3; i++ {
		res := w.runFault(runOpts{}, "rotate")
		w.checkSinks(fmt.Sprintf("after restart %d", i), lastGood, since, mayBeAbsent)
		var ok bool
		if ok, why = w.converged(); ok && res.code == 0 {
			return
		}
		t.Logf("restart %d: not converged (%s); %s", i, why, res)
	}
	t.Fatalf("three restarts after the fault did not converge: %s; %d live token(s) "+
		"that not every sink holds", why, w.lostTokens())
}

// checkOutcome asserts the suite's invariants once the account converged.
func checkOutcome(t *testing.T, w *faultWorld, c faultCase, rotateCase bool) {
	t.Helper()
	st := w.state()
	logins := w.em.Stats(canaryName).Logins
	defer func() {
		t.Logf("generation %d, log-ins %d, tokens seen in sinks %d, hook runs %v",
			st.Generation, logins, len(w.seenOrder), w.hookRuns())
	}()
	if want := int(st.Generation) + c.extraLogins; logins != want {
		t.Errorf("the emulator saw %d log-ins for %d completed rotations; want %d "+
			"(extra log-ins whose answer was lost: %d)", logins, st.Generation, want,
			c.extraLogins)
	}
	if rotateCase && len(w.seenOrder) != int(st.Generation) {
		t.Errorf("%d distinct tokens reached the sinks, but the journal is at "+
			"generation %d", len(w.seenOrder), st.Generation)
	}
	if lost := w.lostTokens(); lost != 0 {
		t.Errorf("%d token(s) lost: live at FIRST LINE but not in every sink", lost)
	}

	runs := w.hookRuns()
	for g := uint64(1); g <= st.Generation; g++ {
		switch n := runs[g]; {
		case n == 0:
			t.Errorf("the hook never ran for generation %d", g)
		case n > 1 && !(c.hooksAgain && g == st.Generation):
			t.Errorf("the hook ran %d times for generation %d, want once", n, g)
		}
	}
	for g := range maps.Keys(runs) {
		if g > st.Generation || g == 0 {
			t.Errorf("the hook ran for generation %d, which was never journaled", g)
		}
	}

	if c.check != nil {
		c.check(t, w)
	}
}

// runDaemonFault is the flow of a daemon case: `run` meets the fault on
// its first log-in and must converge by itself.
func runDaemonFault(t *testing.T, w *faultWorld, c faultCase) {
	c.arm(t, w)
	d := w.start("run", "--config", w.config)

	deadline := time.Now().Add(30 * time.Second)
	ok, why := w.converged()
	for ; !ok && time.Now().Before(deadline); ok, why = w.converged() {
		w.checkSinks("while run retries", "", 0, map[string]bool{"token": true,
			"envfile": true})
		time.Sleep(100 * time.Millisecond)
	}
	res := d.stop(syscall.SIGTERM)
	if !ok {
		t.Fatalf("run did not converge within 30s: %s; %s", why, res)
	}
	if res.code != 0 || !strings.Contains(res.stdout+res.stderr, c.wantOutput) {
		t.Errorf("run: want exit 0 after SIGTERM and output containing %q; %s",
			c.wantOutput, res)
	}
	w.checkSinks("after run", "", 0, nil)
	checkOutcome(t, w, c, false)
}

// faultCases lists the faults, one per case.
func faultCases() []faultCase {
	var cases []faultCase
	cases = append(cases, killCases()...)
	cases = append(cases, apiCases()...)
	cases = append(cases, vaultCases()...)
	return append(cases, fileSystemCases()...)
}

// killAt arms a failpoint: the faulty run kills itself with SIGKILL.
func killAt(step string) func(*testing.T, *faultWorld) runOpts {
	return func(*testing.T, *faultWorld) runOpts { return runOpts{failpoint: step} }
}

func killCases() []faultCase {
	const killed = 128 + int(syscall.SIGKILL)
	return []faultCase{
		// The answer dies with the process before the journal holds it:
		// the old token is dead and the new one unknown, so the restart
		// must log in again, superseding the lost token.
		{name: "kill-9/after-answer", arm: killAt(failpoint.AfterAnswer),
			wantCode: killed, extraLogins: 1},
		// From here on the journal holds the token: no new log-in.
		{name: "kill-9/after-journal", arm: killAt(failpoint.AfterJournal),
			wantCode: killed},
		{name: "kill-9/between-sinks", arm: killAt(failpoint.AfterFirstSink),
			wantCode: killed},
		{name: "kill-9/before-rename", arm: killAt(failpoint.BeforeRename + ":token"),
			wantCode: killed},
		{name: "kill-9/during-hook", arm: killAt(failpoint.DuringHook),
			wantCode: killed, hooksAgain: true},
	}
}

// injectOnce arms a one-shot emulator fault on the log-in.
func injectOnce(f emulator.Fault) func(*testing.T, *faultWorld) runOpts {
	return func(_ *testing.T, w *faultWorld) runOpts {
		f.Method, f.Path = http.MethodPost, emulator.AuthPath
		w.em.Inject(f)
		return runOpts{}
	}
}

func apiCases() []faultCase {
	return []faultCase{
		{name: "api/5xx", arm: injectOnce(emulator.Fault{Status: 503}),
			wantCode: 1, wantOutput: "503", oldStaysValid: true},
		{name: "api/429-retry-after", daemon: true, wantOutput: "429",
			arm:   injectOnce(emulator.Fault{Status: 429, RetryAfter: 3 * time.Second}),
			check: checkRetryAfter(3 * time.Second)},
		{name: "api/timeout", world: worldOptions{timeout: "1s"},
			arm:      injectOnce(emulator.Fault{Delay: 4 * time.Second}),
			wantCode: 1, wantOutput: "ambiguous", oldStaysValid: true},
		{name: "api/dropped-after-issue", arm: injectOnce(emulator.Fault{DropAfterIssue: true}),
			wantCode: 1, wantOutput: "ambiguous", extraLogins: 1},
		{name: "api/html-body", arm: injectOnce(emulator.Fault{HTML: true}),
			wantCode: 1, wantOutput: "HTML page", oldStaysValid: true},
		{name: "api/200-without-token", arm: injectOnce(emulator.Fault{NoToken: true}),
			wantCode: 1, wantOutput: "no access_token", oldStaysValid: true},
	}
}

// checkRetryAfter asserts the retry after a 429 waited Retry-After.
func checkRetryAfter(wait time.Duration) func(*testing.T, *faultWorld) {
	return func(t *testing.T, w *faultWorld) {
		attempts := w.loginAttempts()
		if len(attempts) != 2 {
			t.Fatalf("%d log-in attempts, want the refused one and one retry", len(attempts))
		}
		// Retry-After is sent in whole seconds; allow the sub-second part.
		if gap := attempts[1].Sub(attempts[0]); gap < wait-time.Second {
			t.Errorf("run retried %s after a 429 with Retry-After %s", gap, wait)
		}
	}
}

func vaultCases() []faultCase {
	return []faultCase{
		{name: "vault/sealed", world: worldOptions{vault: true},
			arm: func(_ *testing.T, w *faultWorld) runOpts {
				w.setAfterLogin(w.vault.srv.Seal)
				return runOpts{}
			},
			heal:     func(_ *testing.T, w *faultWorld) { w.vault.srv.Unseal() },
			wantCode: 1, wantOutput: "sealed", lagging: "vault"},
		{name: "vault/403-credentials", world: worldOptions{vault: true, vaultCreds: true},
			arm: func(_ *testing.T, w *faultWorld) runOpts {
				w.vault.srv.FailPath(kvMount+"/data/"+credsSecret, http.StatusForbidden, 0)
				return runOpts{}
			},
			heal:     func(_ *testing.T, w *faultWorld) { w.vault.srv.ClearFailures() },
			wantCode: 1, wantOutput: "permission denied", oldStaysValid: true},
		{name: "vault/cas-conflict", world: worldOptions{vault: true},
			arm: func(t *testing.T, w *faultWorld) runOpts {
				w.vault.setBeforeSinkWrite(concurrentWriter(t, w))
				return runOpts{}
			},
			heal: func(_ *testing.T, w *faultWorld) { w.vault.setBeforeSinkWrite(nil) },
			// A writer that wins every race exhausts the retries.
			wantCode: 1, wantOutput: "check-and-set", lagging: "vault",
			check: checkOtherWriterKept},
	}
}

// concurrentWriter is another writer of the sink's secret that slips in
// between the rotator's read and its check-and-set write, keeping the
// keys it does not own as a well-behaved writer does.
func concurrentWriter(t *testing.T, w *faultWorld) func() {
	n := 0
	return func() {
		data, _, err := w.vault.srv.KVGet(kvMount, sinkSecret)
		if err != nil {
			t.Errorf("concurrent writer: read: %v", err)
			return
		}
		n++
		data["other"] = fmt.Sprintf("write-%d", n)
		if _, err := w.vault.srv.KVPut(kvMount, sinkSecret, data); err != nil {
			t.Errorf("concurrent writer: write: %v", err)
		}
	}
}

// checkOtherWriterKept asserts the rotator merged rather than clobbered.
func checkOtherWriterKept(t *testing.T, w *faultWorld) {
	data, _, err := w.vault.srv.KVGet(kvMount, sinkSecret)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := data["other"].(string); !strings.HasPrefix(other, "write-") {
		t.Errorf("the other writer's key is gone from the secret: keys %v", keysOf(data))
	}
}
