package vaultx_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// kvPolicy is the policy test tokens get: everything under the KV mounts
// the tests use, nothing else.
const kvPolicy = "kv"

// setKVPolicy grants kvPolicy on the test mounts.
func setKVPolicy(srv *vaulttest.Server) {
	caps := []string{"create", "read", "update", "delete", "list"}
	srv.SetPolicy(kvPolicy, []vaulttest.Rule{
		{Path: "secret/*", Capabilities: caps},
		{Path: "kv1/*", Capabilities: caps},
		{Path: "strict/*", Capabilities: caps},
	})
}

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()

	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, fakeWaiter{at: f.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires every wait that is due.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- f.now
	}
	f.waiters = kept
}

// pending returns the times of the waits not yet fired.
func (f *fakeClock) pending() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()

	var out []time.Time
	for _, w := range f.waiters {
		out = append(out, w.at)
	}
	return out
}

// logBuffer collects zerolog JSON lines from several goroutines.
type logBuffer struct {
	testutil.Buffer
}

// count returns how many lines have the level and a message containing
// text.
func (b *logBuffer) count(level, text string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		var entry struct {
			Level   string `json:"level"`
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if entry.Level == level && strings.Contains(entry.Message, text) {
			n++
		}
	}
	return n
}

func (b *logBuffer) logger() zerolog.Logger {
	return zerolog.New(b).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// eventually waits until cond holds, failing the test after 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()

	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newClient builds a client for srv with fast login retries.
func newClient(t *testing.T, address string, auth config.VaultAuth, logs *logBuffer,
	opts ...vaultx.Option,
) *vaultx.Client {
	t.Helper()

	if logs == nil {
		logs = &logBuffer{}
	}
	opts = append([]vaultx.Option{vaultx.WithLoginBackoff(5*time.Millisecond,
		20*time.Millisecond)}, opts...)

	c, err := vaultx.New(config.Vault{Address: address, Auth: auth}, logs.logger(), opts...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// start starts c and stops it when the test ends.
func start(t *testing.T, c *vaultx.Client) {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		<-c.Done()
	})

	if err := c.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// rootClient returns a started client using the server's root token.
func rootClient(t *testing.T, srv *vaulttest.Server, address string) *vaultx.Client {
	t.Helper()

	file := writeFile(t, t.TempDir(), "token", srv.RootToken()+"\n")
	c := newClient(t, address, config.VaultAuth{Method: "token", TokenFile: file}, nil)
	start(t, c)
	return c
}

// tokenAuth is the token method reading file.
func tokenAuth(file string) config.VaultAuth {
	return config.VaultAuth{Method: "token", TokenFile: file}
}
