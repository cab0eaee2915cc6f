package rotator_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/rotator"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

func TestRotatorVault_SealedWhileDueRotatesOneStepAfterUnseal(t *testing.T) {
	w := newVaultWorld(t)
	r := w.rotator([]string{"a"}, "a")
	_, versionBefore := w.vaultToken("a")

	w.srv.Seal()
	sealed := time.Now()
	done := w.run(r)
	nextRun := sealForAboutThreeSeconds(t, w, r)
	w.srv.Unseal()
	unsealed := time.Now()
	failedWhileSealed := w.failedPasses("a")

	select {
	case err := <-done:
		t.Fatalf("Run returned while Vault was sealed: %v", err)
	default:
	}
	logins := w.em.Stats(vaultUsers["a"].Name).Logins
	sinkRequests := w.srv.Requests("secret/+/apps/*")
	if logins != 0 || w.fileToken("a") != "previous" || sinkRequests != 0 {
		t.Fatalf("while sealed: %d log-ins, file sink %q, %d vault sink requests; want "+
			"0, untouched, 0", logins, w.fileToken("a"), sinkRequests)
	}
	if failedWhileSealed < 2 || failedWhileSealed > 6 {
		t.Errorf("%d failed passes in %s sealed, want 2 to 6 (1s backoff growing)",
			failedWhileSealed, unsealed.Sub(sealed).Round(time.Millisecond))
	}

	// next_run is logged in whole seconds: the retry starts within a
	// second of it, and must succeed.
	ready := waitFor(time.Until(nextRun.Add(2*time.Second)), func() bool {
		ok, _ := r.Ready()
		return ok
	})
	t.Logf("%d failed passes while sealed; ready %s after unseal (next_run %s after)",
		failedWhileSealed, time.Since(unsealed).Round(time.Millisecond),
		nextRun.Sub(unsealed).Round(time.Second))
	if !ready || w.failedPasses("a") != failedWhileSealed {
		t.Fatalf("not ready by the first retry after unseal (ready=%v, %d more failed "+
			"passes):\n%s", ready, w.failedPasses("a")-failedWhileSealed, w.logs)
	}
	checkDelivered(t, w, versionBefore+1)
}

// sealForAboutThreeSeconds waits while the sealed Vault makes passes fail,
// checking that the rotator reports not ready, until 3s have passed and a
// retry was just scheduled, so that no pass is in flight. It returns when
// that retry runs.
func sealForAboutThreeSeconds(t *testing.T, w *vaultWorld, r *rotator.Rotator) time.Time {
	t.Helper()
	start := time.Now()
	var retries []logLine
	for time.Since(start) < 3*time.Second || len(retries) == 0 {
		n := len(w.lines("a", "retrying after backoff"))
		if !waitFor(10*time.Second, func() bool {
			retries = w.lines("a", "retrying after backoff")
			return len(retries) > n
		}) {
			t.Fatalf("no retry while sealed:\n%s", w.logs)
		}
		if ok, reason := r.Ready(); ok || !strings.Contains(reason, "account a") {
			t.Fatalf("Ready() = %v, %q while sealed; want not ready naming account a",
				ok, reason)
		}
	}
	return retries[len(retries)-1].NextRun
}

// checkDelivered checks that account a's sinks hold its one live token,
// the vault sink as version want.
func checkDelivered(t *testing.T, w *vaultWorld, want int) {
	t.Helper()
	token := w.fileToken("a")
	vaultToken, version := w.vaultToken("a")
	if !w.em.Valid(token) || vaultToken != token || version != want {
		t.Errorf("file token valid=%v, vault sink same=%v version %d (want %d)",
			w.em.Valid(token), vaultToken == token, version, want)
	}
	if got := w.em.Stats(vaultUsers["a"].Name).Logins; got != 1 {
		t.Errorf("FIRST LINE saw %d log-ins, want 1", got)
	}
}

func TestRotatorVault_DeniedCredentialsFailOnlyThatAccount(t *testing.T) {
	for _, mode := range []string{"RotateOnce", "Run"} {
		t.Run(mode, func(t *testing.T) {
			w := newVaultWorld(t)
			r := w.rotator([]string{"a", "b"}, "b")

			var errA string
			if mode == "RotateOnce" {
				errA = rotateDenied(t, r)
			} else {
				w.run(r)
				if !waitFor(10*time.Second, func() bool {
					return len(w.rotated()) > 0 && w.failedPasses("a") > 0
				}) {
					t.Fatalf("b did not rotate or a did not fail within 10s:\n%s", w.logs)
				}
				errA = w.lines("a", "rotation pass finished")[0].Error
			}

			if !strings.Contains(errA, "secret/firstline/a") || !strings.Contains(errA, "403") {
				t.Errorf("account a's error %q does not name secret/firstline/a and 403", errA)
			}
			checkDeniedAccount(t, w, r)
		})
	}
}

// rotateDenied runs one forced pass and returns account a's error.
func rotateDenied(t *testing.T, r *rotator.Rotator) string {
	t.Helper()
	results, err := r.RotateOnce(context.Background(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	a, b := results[0], results[1]
	if b.Outcome != rotator.Rotated || b.Err != nil {
		t.Fatalf("account b: %s, %v; want rotated", b.Outcome, b.Err)
	}
	if a.Outcome != rotator.Failed || !errors.Is(a.Err, vaultx.ErrPermissionDenied) {
		t.Fatalf("account a: %s, %v; want failed with permission denied", a.Outcome, a.Err)
	}
	return a.Err.Error()
}

// checkDeniedAccount checks that b rotated and a published nothing.
func checkDeniedAccount(t *testing.T, w *vaultWorld, r *rotator.Rotator) {
	t.Helper()
	tokenB := w.fileToken("b")
	if vaultB, _ := w.vaultToken("b"); !w.em.Valid(tokenB) || vaultB != tokenB {
		t.Errorf("account b: file token valid=%v, vault sink same=%v; want both",
			w.em.Valid(tokenB), vaultB == tokenB)
	}

	vaultA, version := w.vaultToken("a")
	if w.fileToken("a") != "previous" || vaultA != "previous" || version != 1 {
		t.Errorf("account a: file sink %q, vault sink %q version %d; want both untouched",
			w.fileToken("a"), vaultA, version)
	}
	if got := w.em.Stats(vaultUsers["a"].Name).Logins; got != 0 {
		t.Errorf("account a logged in %d times without its credentials", got)
	}
	if got := w.rotated(); len(got) != 1 || got[0] != "b" {
		t.Errorf("rotation events for %v, want only b", got)
	}
	if ok, reason := r.Ready(); ok || !strings.Contains(reason, "account a") {
		t.Errorf("Ready() = %v, %q; want not ready because of account a", ok, reason)
	}
}

// The data path of account a's vault sink, and the sink's name.
const (
	sinkDataPath = "secret/data/apps/a"
	vaultSink    = "vault_kv:secret/apps/a#token"
)

func TestRotatorVault_SinkDownRotateOnceLeavesItToTheJournal(t *testing.T) {
	w := newVaultWorld(t)
	r := w.rotator([]string{"a"}, "a")
	w.srv.FailPath(sinkDataPath, 503, 0)

	res := once(t, r, true)
	if res.Outcome != rotator.Rotated || !errors.Is(res.Err, rotator.ErrSinksBehind) ||
		len(res.Lagging) != 1 || res.Lagging[0] != vaultSink ||
		!strings.Contains(res.Err.Error(), "503") {
		t.Fatalf("with the vault sink down: %s, lagging %v, %v; want rotated with %s "+
			"behind on 503", res.Outcome, res.Lagging, res.Err, vaultSink)
	}
	token := w.fileToken("a")
	if !w.em.Valid(token) {
		t.Fatal("the file sink does not hold the live token")
	}
	if attempts := w.srv.Requests(sinkDataPath); attempts < 2 {
		t.Errorf("the vault sink was tried %d times, want retries", attempts)
	}

	w.srv.ClearFailures()
	res = once(t, r, false)
	if res.Outcome != rotator.Completed || res.Err != nil {
		t.Fatalf("after vault answers again: %s, %v; want completed", res.Outcome, res.Err)
	}
	checkRedelivered(t, w, r, token)
}

func TestRotatorVault_SinkDownOnceRotateOnceRecovers(t *testing.T) {
	w := newVaultWorld(t)
	r := w.rotator([]string{"a"}, "a")
	w.srv.FailPath(sinkDataPath, 503, 1)

	res := once(t, r, true)
	if res.Outcome != rotator.Rotated || res.Err != nil || len(res.Lagging) != 0 {
		t.Fatalf("after one 503: %s, lagging %v, %v; want rotated", res.Outcome,
			res.Lagging, res.Err)
	}
	checkRedelivered(t, w, r, w.fileToken("a"))
}

func TestRotatorVault_SinkDownRunRetriesUntilItLands(t *testing.T) {
	w := newVaultWorld(t)
	r := w.rotator([]string{"a"}, "a")
	w.srv.FailPath(sinkDataPath, 503, 0)
	w.run(r)

	if !waitFor(15*time.Second, func() bool {
		return len(w.lines("a", "sink write failed")) >= 3
	}) {
		t.Fatalf("the vault sink was not retried 3 times within 15s:\n%s", w.logs)
	}
	token := w.fileToken("a")
	if !w.em.Valid(token) {
		t.Fatal("the file sink does not hold the live token while the vault sink is down")
	}
	if ok, reason := r.Ready(); ok || !strings.Contains(reason, vaultSink) {
		t.Errorf("Ready() = %v, %q; want not ready naming %s", ok, reason, vaultSink)
	}

	w.srv.ClearFailures()
	if !waitFor(15*time.Second, func() bool { v, _ := w.vaultToken("a"); return v == token }) {
		t.Fatalf("the vault sink did not get the token within 15s of vault answering:\n%s",
			w.logs)
	}
	waitFor(time.Second, func() bool { ok, _ := r.Ready(); return ok })
	checkRedelivered(t, w, r, token)
}

// checkRedelivered checks that both sinks hold token, the one log-in's.
func checkRedelivered(t *testing.T, w *vaultWorld, r *rotator.Rotator, token string) {
	t.Helper()
	if w.fileToken("a") != token {
		t.Error("the file sink no longer holds the token of the one log-in")
	}
	checkDelivered(t, w, 2)
	if ok, reason := r.Ready(); !ok {
		t.Errorf("Ready() = false, %q after every sink holds the token", reason)
	}
}

// Readiness is asked from other goroutines (the /readyz handler) while a
// pass delivers; under -race this fails when the two share state.
func TestRotatorVault_ReadyWhileDeliveringIsRaceFree(t *testing.T) {
	w := newVaultWorld(t)
	r := w.rotator([]string{"a"}, "a")
	if res := once(t, r, true); res.Err != nil {
		t.Fatalf("first rotation: %v", res.Err)
	}

	// The second pass starts from state that records the sinks.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				r.Ready()
			}
		}
	}()

	res := once(t, r, true)
	close(stop)
	wg.Wait()
	if res.Outcome != rotator.Rotated || res.Err != nil {
		t.Fatalf("rotate: %s, %v", res.Outcome, res.Err)
	}
	if ok, reason := r.Ready(); !ok {
		t.Errorf("Ready() = false, %q after the rotation", reason)
	}
}
