package vaultx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// tokenSniffer forwards to the test Vault and remembers every token a
// client sent in X-Vault-Token: login tokens, wrapping tokens, all.
type tokenSniffer struct {
	mu     sync.Mutex
	tokens map[string]bool
}

func newTokenSniffer(t *testing.T, srv *vaulttest.Server) (*tokenSniffer, string) {
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}

	s := &tokenSniffer{tokens: map[string]bool{}}
	forward := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token := r.Header.Get("X-Vault-Token"); token != "" {
			s.mu.Lock()
			s.tokens[token] = true
			s.mu.Unlock()
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return s, front.URL
}

func (s *tokenSniffer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	var out []string
	for token := range s.tokens {
		out = append(out, token)
	}
	return out
}

// TestClient_SecretsNeverShow runs logins (wrapped AppRole, a refused
// renewal, a login again, a failing login) and failing KV requests with
// debug logging, then checks that no token, secret ID or wrapping token
// appears in any log line or error text.
func TestClient_SecretsNeverShow(t *testing.T) {
	const secretID = "CANARY-secret-id-2f6a"
	const wrongSecretID = "CANARY-wrong-secret-id-93c0"
	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	srv.AddAppRole("rotator", "role-1", secretID, vaulttest.TokenOptions{
		Policies: []string{kvPolicy}, TTL: time.Minute, Renewable: true, DenyRenewSelf: true,
	})
	wrap := srv.WrapSecretID("rotator", time.Minute)
	sniffer, address := newTokenSniffer(t, srv)
	dir := t.TempDir()
	logs := &logBuffer{}
	clock := newFakeClock()

	auth := config.VaultAuth{Method: "approle", RoleID: "role-1", Wrapped: true,
		SecretIDFile: writeFile(t, dir, "wrapped", wrap)}
	c := newClient(t, address, auth, logs, vaultx.WithClock(clock))
	start(t, c)

	// A second token by logging in again with the unwrapped secret ID.
	eventually(t, "the refused renewal", func() bool { return len(clock.pending()) == 1 })
	srv.AdvanceClock(40 * time.Second)
	clock.Advance(40 * time.Second)
	eventually(t, "the second login", func() bool { return srv.Logins() == 2 })
	if got := srv.Requests("sys/wrapping/unwrap"); got != 1 {
		t.Errorf("unwrapped %d times, want 1 (the secret ID is kept for later logins)", got)
	}

	errs := failingRequests(t, c, srv)

	bad := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, dir, "wrong", wrongSecretID)}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	errs = append(errs, newClient(t, address, bad, logs).Start(ctx))

	tokens := sniffer.seen()
	if len(tokens) < 3 {
		t.Fatalf("saw %d tokens on the wire, want the wrapping token and two logins",
			len(tokens))
	}
	secrets := append(tokens, secretID, wrongSecretID, wrap)
	for _, err := range errs {
		if err == nil {
			t.Fatal("a failing request succeeded")
		}
		assertHidden(t, "error", err.Error(), secrets)
	}
	assertHidden(t, "log", logs.String(), secrets)
	if !strings.Contains(logs.String(), `"fingerprint"`) {
		t.Error("the log names no token by fingerprint")
	}
}

// failingRequests provokes KV errors of every kind.
func failingRequests(t *testing.T, c *vaultx.Client, srv *vaulttest.Server) []error {
	t.Helper()

	ctx := context.Background()
	var errs []error
	_, err := c.ReadKV(ctx, "secret", "missing", 2)
	errs = append(errs, err)
	_, err = c.ReadKV(ctx, "forbidden", "x", 1)
	errs = append(errs, err)

	srv.Seal()
	_, err = c.MergeKV(ctx, "secret", "apps/x", 2, map[string]any{"a": "b"}, nil)
	errs = append(errs, err)
	srv.Unseal()
	return errs
}

func assertHidden(t *testing.T, where, text string, secrets []string) {
	t.Helper()

	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%.6s...): %s", where, s, text)
		}
	}
}
