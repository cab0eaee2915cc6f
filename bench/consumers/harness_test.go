package consumers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/proxy"
	"github.com/firstline-rotator/firstline-rotator/rotator"
)

const (
	user     = "consumer-test-agent"
	password = "Pw-consumers-canary-41d7"
	id       = "bot"
)

// budgetStep is how far the rotator's clock moves ahead before each
// rotation. max_logins_per_hour is at most 60, and forced rotations every
// second would exhaust it within a minute; two clock minutes per rotation
// keep at most 30 log-ins in any clock hour. Nothing else the measurement
// depends on reads that clock: tokens are stamped and checked by the
// emulator's own.
const budgetStep = 2 * time.Minute

// Mode is one way consumers get the token.
type Mode string

// The delivery modes measured.
const (
	// Proxy: consumers call the local proxy and never hold the token.
	Proxy Mode = "proxy"
	// FileReread: consumers read the file sink before every request.
	FileReread Mode = "file-reread"
	// FileSignal: consumers keep the token in memory and re-read the file
	// when the rotator's signal hook sends SIGUSR1 to their process.
	FileSignal Mode = "file-signal"
)

// Run is one measurement's size.
type Run struct {
	Rotations int
	Interval  time.Duration
	Consumers int
	Pause     time.Duration // between one consumer's requests
}

// Tally is what one measurement counted.
type Tally struct {
	Mode      Mode
	Rotations int
	// Requests and Failed401 are what the consumers saw; Errors are other
	// failures (transport errors, statuses but 200 and 401).
	Requests, Failed401, Errors int64
	// Superseded is the emulator's count of requests that presented a
	// replaced token; Retries the proxy's requests sent again after one.
	Superseded, Retries int
	// Reloads counts the signals file-signal consumers received.
	Reloads int64
	Logins  int
}

// harness is one emulator, rotator and set of consumers.
type harness struct {
	tb    testing.TB
	mode  Mode
	em    *emulator.Emulator
	dir   string
	rot   *rotator.Rotator
	skew  atomic.Int64
	log   *testutil.Buffer
	hooks hookCounter
	proxy *proxy.Server
	rec   retryCounter

	// baseURL is where consumers send requests: the emulator, or the
	// proxy. token gives the bearer they send, "" for none.
	baseURL string
	token   func() string
	reloads atomic.Int64

	requests, failed, errors atomic.Int64
}

// measure runs consumers against one mode while the account rotates.
func measure(tb testing.TB, mode Mode, run Run) Tally {
	h := newHarness(tb, mode)
	stop := h.startConsumers(run.Consumers, run.Pause)
	rotated := h.rotate(run.Rotations, run.Interval)
	stop()

	st := h.em.Stats(user)
	return Tally{Mode: mode, Rotations: rotated, Requests: h.requests.Load(),
		Failed401: h.failed.Load(), Errors: h.errors.Load(), Superseded: st.SupersededUses,
		Retries: h.rec.count(), Reloads: h.reloads.Load(), Logins: st.Logins}
}

func newHarness(tb testing.TB, mode Mode) *harness {
	tb.Helper()
	h := &harness{tb: tb, mode: mode, dir: tb.TempDir(), log: &testutil.Buffer{},
		em: emulator.New(emulator.Options{Users: []emulator.User{
			{Name: user, Password: password}}})}
	srv := httptest.NewServer(h.em.Handler())
	tb.Cleanup(srv.Close)
	h.baseURL = srv.URL
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("rotator log (warnings and errors):\n%s", h.log.String())
		}
	})

	h.write("creds/name", user)
	h.write("creds/password", password)
	h.write("consumer.pid", strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(filepath.Join(h.dir, "out"), 0o700); err != nil {
		tb.Fatal(err)
	}

	cfg := h.config(srv.URL)
	h.startRotator(cfg)
	h.connect(cfg)
	return h
}

func (h *harness) write(name, content string) {
	h.tb.Helper()
	testutil.WriteFile(h.tb, h.dir, name, content)
}

// config builds the account for the mode: a proxy, or a file sink with or
// without a signal hook.
func (h *harness) config(baseURL string) *config.Config {
	h.tb.Helper()
	delivery := map[Mode]string{
		Proxy:      "    proxy: {listen: \"127.0.0.1:0\"}\n",
		FileReread: "    sinks: [{type: file, path: out/token}]\n",
		FileSignal: "    sinks: [{type: file, path: out/token}]\n" +
			"    hooks: [{type: signal, pid_file: consumer.pid, signal: USR1}]\n",
	}[h.mode]
	doc := "state_dir: state\nfirstline: {base_url: \"" + baseURL + "\", timeout: 5s}\n" +
		"accounts:\n  - id: " + id + "\n" +
		"    credentials: {file: {name_file: creds/name, password_file: creds/password}}\n" +
		"    token_ttl: 1h\n    max_logins_per_hour: 60\n" + delivery

	cfg, err := config.Parse(filepath.Join(h.dir, "config.yaml"), []byte(doc),
		config.LoadOptions{})
	if err != nil {
		h.tb.Fatalf("parse config: %v", err)
	}
	return cfg
}

// startRotator builds the rotator on a clock that runs budgetStep ahead
// per rotation, and obtains the first token.
func (h *harness) startRotator(cfg *config.Config) {
	h.tb.Helper()
	now := func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }
	rot, err := rotator.New(cfg, rotator.Options{Now: now, Recorder: &h.hooks,
		Logger: zerolog.New(h.log).Level(zerolog.WarnLevel)})
	if err != nil {
		h.tb.Fatalf("new rotator: %v", err)
	}
	h.tb.Cleanup(rot.Close)
	h.rot = rot
	h.rotateOnce()
}

// rotateOnce forces one rotation and checks that it reached every sink
// and hook.
func (h *harness) rotateOnce() {
	h.tb.Helper()
	h.skew.Add(int64(budgetStep))
	failedHooks := h.hooks.failed.Load()
	results, err := h.rot.RotateOnce(context.Background(), nil, true)
	if err != nil {
		h.tb.Fatalf("rotate: %v", err)
	}
	if res := results[0]; res.Outcome != rotator.Rotated || res.Err != nil {
		h.tb.Fatalf("rotation %d: outcome %s, error %v", res.Generation, res.Outcome, res.Err)
	}
	if h.hooks.failed.Load() != failedHooks {
		h.tb.Fatal("the signal hook failed; see the rotator log")
	}
}

// rotate forces a rotation every interval, n times, and returns how many
// it made.
func (h *harness) rotate(n int, interval time.Duration) int {
	tick := time.NewTicker(interval)
	defer tick.Stop()

	for range n {
		<-tick.C
		h.rotateOnce()
	}
	return n
}

// connect points the consumers at the mode's delivery.
func (h *harness) connect(cfg *config.Config) {
	h.tb.Helper()
	switch h.mode {
	case Proxy:
		h.startProxy(cfg.Accounts[0])
		h.token = func() string { return "" }
	case FileReread:
		h.token = h.readToken
	case FileSignal:
		var held atomic.Pointer[string]
		reload := func() {
			tok := h.readToken()
			held.Store(&tok)
			h.reloads.Add(1)
		}
		reload()
		h.tb.Cleanup(onSIGUSR1(reload))
		h.token = func() string { return *held.Load() }
	}
}

func (h *harness) startProxy(a config.Account) {
	h.tb.Helper()
	source, _ := h.rot.TokenSource(a.ID)
	srv, err := proxy.Start(proxy.Options{Account: a.ID, Config: *a.Proxy,
		Upstream: a.FirstLine.BaseURL, Source: source, Metrics: &h.rec,
		Logger: zerolog.New(h.log).Level(zerolog.WarnLevel)})
	if err != nil {
		h.tb.Fatalf("start proxy: %v", err)
	}
	h.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	h.proxy = srv
	h.baseURL = "http://" + srv.Addr()
}

func (h *harness) readToken() string {
	data, err := os.ReadFile(filepath.Join(h.dir, "out", "token"))
	if err != nil {
		h.errors.Add(1)
		return ""
	}
	return strings.TrimSpace(string(data))
}

// startConsumers starts k consumers; the returned function stops them
// after their requests in flight are answered, so that every request the
// emulator counted is counted here too.
func (h *harness) startConsumers(k int, pause time.Duration) (stop func()) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: k}}
	var (
		halt atomic.Bool
		wg   sync.WaitGroup
	)
	for range k {
		wg.Go(func() {
			for !halt.Load() {
				h.call(client)
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		})
	}

	var once sync.Once
	stop = func() {
		once.Do(func() {
			halt.Store(true)
			wg.Wait()
			client.CloseIdleConnections()
		})
	}
	h.tb.Cleanup(stop)
	return stop
}

// call makes one consumer request and counts its outcome.
func (h *harness) call(client *http.Client) {
	req, err := http.NewRequest(http.MethodGet, h.baseURL+emulator.TicketsPath, nil)
	if err != nil {
		h.errors.Add(1)
		return
	}
	req.Header.Set("Accept", "application/json")
	if tok := h.token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}

	resp, err := client.Do(req)
	h.requests.Add(1)
	if err != nil {
		h.errors.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		h.failed.Add(1)
	default:
		h.errors.Add(1)
	}
}
