package proxy_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/proxy"
)

func TestProxy_WaitsForTheTokenOfARotation(t *testing.T) {
	up := newUpstream(t)
	f := startProxy(t, up, config.Proxy{WaitTimeout: config.NewDuration(time.Minute)})
	release := f.src.hold()

	answers := make(chan answer, 1)
	go func() { answers <- get(t, f.srv.Addr(), emulator.TicketsPath) }()
	<-f.src.entered

	// The log-in happens while the request waits: the token it would
	// have left with is now dead.
	f.src.set(up.newToken(t))
	release()
	got := <-answers
	f.rec.await(t, 1)

	if got.status != http.StatusOK {
		t.Fatalf("request that waited for the new token: %d %s", got.status, got.body)
	}
	if st := up.em.Stats(testUser); st.SupersededUses != 0 {
		t.Errorf("emulator saw %d uses of a dead token, want 0", st.SupersededUses)
	}
	if f.rec.retried() != 0 {
		t.Error("the request was retried; it should have left with the new token")
	}
	if waits := f.rec.waited(); len(waits) != 1 || waits[0] <= 0 {
		t.Errorf("waits recorded %v, want one positive wait", waits)
	}
}

func TestProxy_WaitTimeout(t *testing.T) {
	cases := []struct {
		name      string
		sourceErr error
		status    int
		result    string
	}{
		// The source hands over what it has once the wait is over.
		{"current token", nil, http.StatusOK, proxy.ResultOK},
		{"no token", errors.New("no token yet"), http.StatusServiceUnavailable,
			proxy.ResultNoToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t)
			f := startProxy(t, up, config.Proxy{
				WaitTimeout: config.NewDuration(20 * time.Millisecond)})
			f.src.err = c.sourceErr
			release := f.src.hold()
			defer release()

			got := get(t, f.srv.Addr(), emulator.TicketsPath)
			f.rec.await(t, 1)

			if got.status != c.status || f.rec.count(c.result) != 1 {
				t.Fatalf("answer %d %s, metrics %v; want %d and result %s", got.status,
					got.body, f.rec.snapshot(), c.status, c.result)
			}
			if c.sourceErr != nil && !strings.Contains(messageOf(t, got),
				"proxy: no token to inject: no token yet") {
				t.Errorf("message %q does not say why", got.body)
			}
			if c.sourceErr == nil && !strings.Contains(f.log.String(), `"wait_timed_out":true`) {
				t.Error("no log line says the wait timed out")
			}
		})
	}
}

// rotateDuringFirst makes the upstream kill the current token just before
// it handles the first request; with advance, the source learns the new
// token, as the rotator's would.
func rotateDuringFirst(t *testing.T, f *fixture, advance bool) {
	f.up.setBefore(func(n int) {
		if n != 1 {
			return
		}
		tok, err := f.up.em.LoginByHand(testUser)
		if err != nil {
			t.Error(err)
			return
		}
		if advance {
			f.src.set(tok)
		}
	})
}

func TestProxy_RetriesOnceWhenTheTokenChangedInFlight(t *testing.T) {
	small := bytes.Repeat([]byte("a"), 512<<10)
	limit := bytes.Repeat([]byte("c"), proxy.MaxReplayBody)
	large := bytes.Repeat([]byte("b"), proxy.MaxReplayBody+1)
	cases := []struct {
		name     string
		method   string
		path     string
		body     []byte
		advance  bool
		status   int
		attempts int
	}{
		{"get", http.MethodGet, emulator.TicketsPath, nil, true, http.StatusOK, 2},
		{"small body", http.MethodPost, echoPath, small, true, http.StatusOK, 2},
		{"body at the limit", http.MethodPost, echoPath, limit, true, http.StatusOK, 2},
		{"large body", http.MethodPost, echoPath, large, true, http.StatusUnauthorized, 1},
		{"large chunked body", http.MethodPost, echoPath, large, true,
			http.StatusUnauthorized, 1},
		{"killed by hand", http.MethodGet, emulator.TicketsPath, nil, false,
			http.StatusUnauthorized, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t)
			f := startProxy(t, up, config.Proxy{})
			rotateDuringFirst(t, f, c.advance)

			var body io.Reader = bytes.NewReader(c.body)
			if strings.Contains(c.name, "chunked") {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequest(c.method, "http://placeholder"+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			got := do(t, f.srv.Addr(), req)
			f.rec.await(t, 1)

			if got.status != c.status {
				t.Fatalf("answer %d %s, want %d", got.status, got.body, c.status)
			}
			checkAttempts(t, up.requests(), c.body, c.attempts)
			if f.rec.retried() != c.attempts-1 {
				t.Errorf("retries recorded %d, want %d", f.rec.retried(), c.attempts-1)
			}
			if c.status == http.StatusUnauthorized && f.rec.count(proxy.ResultUnauthorized) != 1 {
				t.Errorf("metrics %v, want one upstream_401", f.rec.snapshot())
			}
		})
	}
}

// checkAttempts checks that upstream saw the request attempts times,
// each with the whole body.
func checkAttempts(t *testing.T, requests []seen, body []byte, attempts int) {
	t.Helper()
	if len(requests) != attempts {
		t.Fatalf("upstream received %d attempts, want %d", len(requests), attempts)
	}
	sum := sha256.Sum256(body)
	for i, s := range requests {
		if s.BodyBytes != len(body) || s.BodySHA != hex.EncodeToString(sum[:]) {
			t.Errorf("attempt %d carried %d bytes, want the %d sent", i+1, s.BodyBytes,
				len(body))
		}
	}
	if attempts == 2 && requests[0].Authorization == requests[1].Authorization {
		t.Error("the retry carried the same token")
	}
}
