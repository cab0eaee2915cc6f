package rotator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/rotator"
)

// The FIRST LINE users behind accounts "a" and "b"; their credentials live
// in the test Vault at secret/firstline/<account>.
var vaultUsers = map[string]emulator.User{
	"a": {Name: "vault-agent-a", Password: "Pw-vault-a-1c9e", Role: emulator.RoleAgent, ID: 21},
	"b": {Name: "vault-agent-b", Password: "Pw-vault-b-77d2", Role: emulator.RoleAgent, ID: 22},
}

// keptKey is a key the sink secrets hold before any rotation.
const keptKey, keptValue = "db_password", "kept-value-5b0e"

// vaultWorld is a test Vault, an emulator and a directory, for rotators
// whose accounts read credentials from Vault and write a file sink and a
// vault_kv sink each.
type vaultWorld struct {
	t     *testing.T
	srv   *vaulttest.Server
	em    *emulator.Emulator
	flURL string
	dir   string
	logs  *testutil.Buffer

	mu     sync.Mutex
	events []rotator.Event
}

func newVaultWorld(t *testing.T) *vaultWorld {
	t.Helper()
	w := &vaultWorld{t: t, srv: vaulttest.Start(t), dir: t.TempDir(), logs: &testutil.Buffer{}}
	w.em = emulator.New(emulator.Options{Users: []emulator.User{vaultUsers["a"],
		vaultUsers["b"]}})
	fl := httptest.NewServer(w.em.Handler())
	t.Cleanup(fl.Close)
	w.flURL = fl.URL

	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	for id, u := range vaultUsers {
		w.put("firstline/"+id, map[string]any{"name": u.Name, "password": u.Password})
		w.put("apps/"+id, map[string]any{keptKey: keptValue, "token": "previous"})
		w.writeFile("out/"+id+".token", "previous\n")
	}
	return w
}

func (w *vaultWorld) put(path string, data map[string]any) {
	w.t.Helper()
	if _, err := w.srv.KVPut("secret", path, data); err != nil {
		w.t.Fatal(err)
	}
}

func (w *vaultWorld) writeFile(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// rotator starts a rotator for accounts, logged in to Vault with a token
// that may read the credentials of readable only, and use every sink.
func (w *vaultWorld) rotator(accounts []string, readable ...string) *rotator.Rotator {
	w.t.Helper()
	rw := []string{"create", "read", "update"}
	rules := []vaulttest.Rule{
		{Path: "secret/data/apps/*", Capabilities: rw},
		{Path: "secret/metadata/apps/*", Capabilities: rw},
	}
	for _, id := range readable {
		rules = append(rules, vaulttest.Rule{Path: "secret/data/firstline/" + id,
			Capabilities: []string{"read"}})
	}
	w.srv.SetPolicy("rotator", rules)
	w.writeFile("vault-token", w.srv.CreateToken(vaulttest.TokenOptions{
		Policies: []string{"rotator"}, TTL: time.Hour, Renewable: true}))

	r, err := rotator.New(w.config(accounts), rotator.Options{
		Logger:    zerolog.New(w.logs).Level(zerolog.DebugLevel),
		OnRotated: w.record,
	})
	if err != nil {
		w.t.Fatalf("new rotator: %v", err)
	}
	w.t.Cleanup(r.Close)

	ctx, cancel := context.WithCancel(context.Background())
	w.t.Cleanup(cancel)
	if err := r.Start(ctx); err != nil {
		w.t.Fatalf("start rotator: %v", err)
	}
	return r
}

func (w *vaultWorld) config(accounts []string) *config.Config {
	w.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir: %s/state\nfirstline: {base_url: %q, timeout: 2s}\n",
		w.dir, w.flURL)
	fmt.Fprintf(&b, "vault:\n  address: %q\n  auth: {method: token, token_file: %s}\n",
		w.srv.URL(), filepath.Join(w.dir, "vault-token"))
	b.WriteString("accounts:\n")
	for _, id := range accounts {
		fmt.Fprintf(&b, "  - id: %[1]s\n    credentials: {vault: {path: firstline/%[1]s}}\n"+
			"    token_ttl: 1h\n    sinks:\n      - {type: file, path: out/%[1]s.token}\n"+
			"      - {type: vault_kv, path: apps/%[1]s}\n", id)
	}

	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := config.Parse(filepath.Join(w.dir, "config.yaml"), []byte(b.String()),
		config.LoadOptions{LookupEnv: noEnv})
	if err != nil {
		w.t.Fatalf("parse config: %v", err)
	}
	return cfg
}

func (w *vaultWorld) record(ev rotator.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, ev)
}

// rotated returns the accounts of the OnRotated events so far.
func (w *vaultWorld) rotated() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, len(w.events))
	for i, ev := range w.events {
		ids[i] = ev.Account
	}
	return ids
}

// run runs r.Run until the test ends.
func (w *vaultWorld) run(r *rotator.Rotator) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	w.t.Cleanup(func() { cancel(); <-done })
	return done
}

// fileToken returns what account id's file sink holds.
func (w *vaultWorld) fileToken(id string) string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, "out", id+".token"))
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// vaultToken returns the token key of account id's vault sink and the
// secret's current version, checking that the kept key survived.
func (w *vaultWorld) vaultToken(id string) (string, int) {
	w.t.Helper()
	data, meta, err := w.srv.KVGet("secret", "apps/"+id)
	if err != nil {
		w.t.Fatal(err)
	}
	if data[keptKey] != keptValue {
		w.t.Errorf("account %s: the vault sink lost %s", id, keptKey)
	}
	token, _ := data["token"].(string)
	return token, meta.CurrentVersion
}

// logLine is one JSON line of the rotator's log.
type logLine struct {
	Account string
	Message string
	Outcome string
	Sink    string
	Error   string
	NextRun time.Time `json:"next_run"`
}

// lines returns the log lines of account with message.
func (w *vaultWorld) lines(account, message string) []logLine {
	var found []logLine
	scanner := bufio.NewScanner(strings.NewReader(w.logs.String()))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var l logLine
		if json.Unmarshal(scanner.Bytes(), &l) == nil && l.Account == account &&
			l.Message == message {
			found = append(found, l)
		}
	}
	return found
}

// failedPasses counts account's passes that ended failed.
func (w *vaultWorld) failedPasses(account string) int {
	n := 0
	for _, l := range w.lines(account, "rotation pass finished") {
		if l.Outcome == string(rotator.Failed) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func once(t *testing.T, r *rotator.Rotator, force bool) rotator.Result {
	t.Helper()
	results, err := r.RotateOnce(context.Background(), nil, force)
	if err != nil {
		t.Fatalf("rotate once: %v", err)
	}
	return results[0]
}
