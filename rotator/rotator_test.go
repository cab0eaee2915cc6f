package rotator

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/state"
)

const (
	testUser     = "rotator-test-agent"
	testPassword = "Pw-rotator-canary-93be"
)

// world is an emulator, a directory and a log buffer for one test.
type world struct {
	t   *testing.T
	em  *emulator.Emulator
	url string
	dir string
	log *testutil.Buffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	em := emulator.New(emulator.Options{Users: []emulator.User{
		{Name: testUser, Password: testPassword, Role: emulator.RoleAgent, ID: 3},
	}})
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(srv.Close)

	w := &world{t: t, em: em, url: srv.URL, dir: t.TempDir(), log: &testutil.Buffer{}}
	w.write("creds/name", testUser)
	w.write("creds/password", testPassword)
	return w
}

func (w *world) write(name, content string) {
	w.t.Helper()
	testutil.WriteFile(w.t, w.dir, name, content)
}

// config parses an account block (indented under accounts:) into a
// validated configuration.
func (w *world) config(account string) *config.Config {
	w.t.Helper()
	return w.configWith("", account)
}

// configWith is config with extra top-level YAML before the accounts.
func (w *world) configWith(global, account string) *config.Config {
	w.t.Helper()
	doc := "state_dir: " + w.dir + "/state\nfirstline: {base_url: \"" + w.url +
		"\", timeout: 2s}\n" + global + "accounts:\n" + account
	cfg, err := config.Parse(filepath.Join(w.dir, "config.yaml"), []byte(doc),
		config.LoadOptions{ExpandEnv: false})
	if err != nil {
		w.t.Fatalf("parse config: %v", err)
	}
	return cfg
}

func (w *world) rotator(cfg *config.Config, now func() time.Time) *Rotator {
	w.t.Helper()
	logger := zerolog.New(w.log).Level(zerolog.DebugLevel)
	r, err := New(cfg, Options{Logger: logger, Now: now})
	if err != nil {
		w.t.Fatalf("new rotator: %v", err)
	}
	w.t.Cleanup(r.Close)
	return r
}

func (w *world) token(name string) string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		w.t.Fatalf("read sink: %v", err)
	}
	return strings.TrimSpace(string(data))
}

const oneFileSink = `  - id: bot
    credentials: {file: {name_file: creds/name, password_file: creds/password}}
    token_ttl: 1h
    sinks: [{type: file, path: out/token}]
`

func once(t *testing.T, r *Rotator, force bool) Result {
	t.Helper()
	results, err := r.RotateOnce(context.Background(), nil, force)
	if err != nil {
		t.Fatalf("rotate once: %v", err)
	}
	return results[0]
}

func TestRotator_JournalsBeforeSinksAndRedeliversWithoutLogIn(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(oneFileSink)
	r := w.rotator(cfg, nil)

	// The sink's directory does not exist yet: delivery fails after the
	// log-in, and the token must wait in the journal.
	res := once(t, r, false)
	if res.Outcome != Rotated || !errors.Is(res.Err, ErrSinksBehind) {
		t.Fatalf("first pass: outcome %s, err %v; want rotated with sinks behind",
			res.Outcome, res.Err)
	}
	st, err := state.OpenExisting(cfg.StateDir).Load("bot")
	if err != nil {
		t.Fatal(err)
	}
	if st.Generation != 1 || !w.em.Valid(st.Token.Reveal()) {
		t.Fatalf("journal holds generation %d (valid=%v), want the live token as 1",
			st.Generation, w.em.Valid(st.Token.Reveal()))
	}

	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	res = once(t, r, false)
	if res.Outcome != Completed || res.Err != nil {
		t.Fatalf("second pass: outcome %s, err %v; want completed", res.Outcome, res.Err)
	}
	if got := w.token("out/token"); got != st.Token.Reveal() {
		t.Error("the sink does not hold the journaled token")
	}
	if logins := w.em.Stats(testUser).Logins; logins != 1 {
		t.Errorf("emulator saw %d log-ins, want 1: redelivery must not log in", logins)
	}
}

func TestRotator_LoginBudget(t *testing.T) {
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    max_logins_per_hour: 2", 1))
	now := time.Now()
	r := w.rotator(cfg, func() time.Time { return now })

	for i := range 2 {
		if res := once(t, r, true); res.Err != nil {
			t.Fatalf("forced rotation %d: %v", i, res.Err)
		}
	}
	res := once(t, r, true)
	if !errors.Is(res.Err, ErrBudgetExhausted) {
		t.Fatalf("third forced rotation in an hour: err %v, want budget exhausted", res.Err)
	}
	if !strings.Contains(res.Err.Error(), "next log-in allowed at") ||
		!res.RetryAfter.Equal(now.Add(time.Hour)) {
		t.Errorf("budget error %q, retry after %s; want the next allowed time", res.Err,
			res.RetryAfter)
	}
	if logins := w.em.Stats(testUser).Logins; logins != 2 {
		t.Errorf("emulator saw %d log-ins, want 2", logins)
	}

	// The budget survives a restart: a new rotator over the same state.
	r2 := w.rotator(cfg, func() time.Time { return now.Add(time.Minute) })
	if res := once(t, r2, true); !errors.Is(res.Err, ErrBudgetExhausted) {
		t.Errorf("after restart: err %v, want budget exhausted", res.Err)
	}

	later := w.rotator(cfg, func() time.Time { return now.Add(61 * time.Minute) })
	if res := once(t, later, true); res.Err != nil {
		t.Errorf("an hour later: %v", res.Err)
	}
}

func TestRotator_AmbiguousAnswerLogsInAgain(t *testing.T) {
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(oneFileSink)
	r := w.rotator(cfg, nil)
	if res := once(t, r, false); res.Err != nil {
		t.Fatal(res.Err)
	}
	first := w.token("out/token")

	w.em.Inject(emulator.Fault{Method: "POST", Path: "/api/v1/auth", DropAfterIssue: true})
	res := once(t, r, true)
	if res.Outcome != Failed {
		t.Fatalf("dropped answer: outcome %s, want failed", res.Outcome)
	}
	if w.em.Valid(first) {
		t.Fatal("emulator did not kill the old token on the dropped log-in")
	}
	if w.token("out/token") != first {
		t.Error("a failed rotation changed the sink")
	}

	// Not forced: the owed rotation is due by itself.
	res = once(t, r, false)
	if res.Outcome != Rotated || res.Err != nil {
		t.Fatalf("after the ambiguous failure: outcome %s, err %v", res.Outcome, res.Err)
	}
	if !w.em.Valid(w.token("out/token")) {
		t.Error("the sink does not hold a live token after recovery")
	}
}

func TestRotator_RefreshFallsBackToLogin(t *testing.T) {
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    method: refresh", 1))
	r := w.rotator(cfg, nil)

	if res := once(t, r, false); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := once(t, r, true); res.Err != nil {
		t.Fatal(res.Err)
	}
	if s := w.em.Stats(testUser); s.Logins != 1 || s.Refreshes != 1 {
		t.Fatalf("logins %d refreshes %d, want 1 and 1", s.Logins, s.Refreshes)
	}

	if _, err := w.em.LoginByHand(testUser); err != nil {
		t.Fatal(err)
	}
	if res := once(t, r, true); res.Err != nil {
		t.Fatalf("refresh of a token killed by hand: %v", res.Err)
	}
	if s := w.em.Stats(testUser); s.Logins != 2 {
		t.Errorf("after the refresh was refused: logins %d, want 2", s.Logins)
	}
	if !w.em.Valid(w.token("out/token")) {
		t.Error("the sink does not hold a live token")
	}
}

func TestRotator_LogsHoldNoSecrets(t *testing.T) {
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(oneFileSink)
	r := w.rotator(cfg, nil)

	once(t, r, true)
	once(t, r, true)
	w.em.Inject(emulator.Fault{Status: 500})
	once(t, r, true)
	w.em.Inject(emulator.Fault{HTML: true})
	once(t, r, true)
	w.write("creds/password", "wrong-"+testPassword)
	once(t, r, true)

	output := w.log.String()
	if !strings.Contains(output, `"level":"debug"`) {
		t.Fatal("no debug output captured")
	}
	secrets := append([]string{testPassword}, w.em.IssuedTokens(testUser)...)
	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(output, s[i:i+8]) {
				t.Fatalf("log output contains the 8-character piece %q of a secret", s[i:i+8])
			}
		}
	}
}

func TestRotator_NextRunComesFromState(t *testing.T) {
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(strings.Replace(oneFileSink, "token_ttl: 1h",
		"token_ttl: 1h\n    schedule: \"0 * * * *\"", 1))
	start := time.Date(2026, 12, 3, 10, 20, 0, 0, time.UTC)
	r := w.rotator(cfg, func() time.Time { return start })
	if res := once(t, r, false); res.Err != nil {
		t.Fatal(res.Err)
	}

	// A restart half an hour later: the next run is still the next top of
	// the hour after the recorded rotation, not an hour after start.
	restarted := w.rotator(cfg, func() time.Time { return start.Add(30 * time.Minute) })
	a := restarted.byID["bot"]
	st := a.snapshot()
	next := a.nextDue(st)
	issued := st.LastSuccess
	want := issued.Truncate(time.Hour).Add(time.Hour)
	lifetime := st.ExpiresAt.Sub(st.IssuedAt)
	if renew := st.ExpiresAt.Add(-lifetime / 4); renew.Before(want) {
		want = renew
	}
	if !next.Equal(want) {
		t.Errorf("next run %s, want %s", next, want)
	}
}

func TestDue(t *testing.T) {
	issued := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	live := state.Account{Generation: 1, IssuedAt: issued, LastSuccess: issued,
		ExpiresAt: issued.Add(4 * time.Hour), LastResult: "success"}
	live.Token = liveToken()
	a := &account{cfg: config.Account{RenewBefore: config.NewRenewBeforePercent(25)}}

	cases := []struct {
		name string
		st   state.Account
		now  time.Time
		want bool
	}{
		{"no token", state.Account{}, issued, true},
		{"fresh token", live, issued.Add(time.Hour), false},
		{"just before the window", live, issued.Add(3*time.Hour - time.Second), false},
		{"window start", live, issued.Add(3 * time.Hour), true},
		{"expired", live, issued.Add(5 * time.Hour), true},
		{"failure owed", withResult(live, "failure"), issued.Add(time.Minute), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := a.due(c.st, c.now); got != c.want {
				t.Errorf("due = %v, want %v", got, c.want)
			}
		})
	}
}

func withResult(st state.Account, result string) state.Account {
	st.LastResult = result
	return st
}
