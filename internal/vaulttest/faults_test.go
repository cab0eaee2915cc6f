package vaulttest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api/auth/approle"
)

func TestSeal_EverythingAnswers503UntilUnseal(t *testing.T) {
	s := Start(t)
	s.AddAppRole("bot", "role-1", "secret-1", TokenOptions{TTL: time.Hour})
	if _, err := s.KVPut("secret", "x", map[string]any{"k": "v"}); err != nil {
		t.Fatalf("KVPut: %v", err)
	}
	c := newClient(t, s, s.RootToken())
	anonymous := newClient(t, s, "")

	calls := map[string]func() error{
		"kv read":     func() error { _, err := c.Logical().Read("secret/data/x"); return err },
		"lookup-self": func() error { _, err := c.Auth().Token().LookupSelf(); return err },
		"ui mounts": func() error {
			_, err := c.Logical().Read("sys/internal/ui/mounts/secret")
			return err
		},
		"approle login": func() error {
			auth, _ := approle.NewAppRoleAuth("role-1", &approle.SecretID{FromString: "secret-1"})
			_, err := anonymous.Auth().Login(context.Background(), auth)
			return err
		},
	}

	s.Seal()
	for name, call := range calls {
		t.Run("sealed "+name, func(t *testing.T) {
			wantStatus(t, call(), http.StatusServiceUnavailable, "Vault is sealed")
		})
	}
	wantHealth(t, s, true, http.StatusServiceUnavailable)

	s.Unseal()
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("unsealed %s: %v", name, err)
		}
	}
	wantHealth(t, s, false, http.StatusOK)
}

// wantHealth checks sys/health, raw and through the client, and
// sys/seal-status.
func wantHealth(t *testing.T, s *Server, sealed bool, status int) {
	t.Helper()

	if got, _ := rawGet(t, s, "", "sys/health"); got != status {
		t.Fatalf("sys/health status = %d, want %d", got, status)
	}

	c := newClient(t, s, "")
	health, err := c.Sys().Health()
	if err != nil || health.Sealed != sealed || !health.Initialized {
		t.Fatalf("health = %+v, %v; want sealed %v", health, err, sealed)
	}

	seal, err := c.Sys().SealStatus()
	if err != nil || seal.Sealed != sealed {
		t.Fatalf("seal-status = %+v, %v; want sealed %v", seal, err, sealed)
	}
}

func TestFailPath_CountedAndCleared(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())
	for _, p := range []string{"apps/a", "other/b"} {
		if _, err := s.KVPut("secret", p, map[string]any{"k": "v"}); err != nil {
			t.Fatalf("KVPut: %v", err)
		}
	}

	s.FailPath("secret/data/apps/*", http.StatusForbidden, 2)
	for range 2 {
		_, err := c.Logical().Read("secret/data/apps/a")
		wantStatus(t, err, http.StatusForbidden, "permission denied")
	}
	if _, err := c.Logical().Read("secret/data/apps/a"); err != nil {
		t.Fatalf("read after the injected failures ran out: %v", err)
	}

	s.FailPath("secret/data/other/+", http.StatusInternalServerError, 0)
	for range 3 {
		_, err := c.Logical().Read("secret/data/other/b")
		wantStatus(t, err, http.StatusInternalServerError, "internal server error")
	}
	if _, err := c.Logical().Read("secret/data/apps/a"); err != nil {
		t.Fatalf("read of a path without failures: %v", err)
	}

	s.ClearFailures()
	if _, err := c.Logical().Read("secret/data/other/b"); err != nil {
		t.Fatalf("read after ClearFailures: %v", err)
	}

	if n := s.Requests("secret/data/apps/*"); n != 4 {
		t.Fatalf("Requests(secret/data/apps/*) = %d, want 4", n)
	}
	if n := s.Requests("secret/data/other/b"); n != 4 {
		t.Fatalf("Requests(secret/data/other/b) = %d, want 4", n)
	}
}

func TestRequireNamespace(t *testing.T) {
	s := Start(t)
	s.RequireNamespace("team/")

	c := newClient(t, s, s.RootToken())
	_, err := c.Auth().Token().LookupSelf()
	wantStatus(t, err, http.StatusForbidden, `namespace "" does not match`)

	c.SetNamespace("team")
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("lookup-self in the required namespace: %v", err)
	}
}

func TestLogger_NoSecretsInLog(t *testing.T) {
	var log bytes.Buffer
	s, err := New(Options{Logger: &log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()

	const secretID, password = "canary-secret-id-3f9a", "canary-password-81c2"
	s.AddAppRole("bot", "canary-role-id-77d1", secretID, TokenOptions{TTL: time.Hour})
	wrapping := s.WrapSecretID("bot", time.Minute)

	c := newClient(t, s, "")
	auth, _ := approle.NewAppRoleAuth("canary-role-id-77d1",
		&approle.SecretID{FromString: wrapping}, approle.WithWrappingToken())
	if _, err := c.Auth().Login(context.Background(), auth); err != nil {
		t.Fatalf("login: %v", err)
	}
	root := newClient(t, s, s.RootToken())
	data := map[string]any{"password": password}
	if _, err := writeKV2(root, "secret/data/x", data, 0); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, err := root.Logical().Read("secret/data/x"); err != nil {
		t.Fatalf("read: %v", err)
	}

	out := log.String()
	if !strings.Contains(out, "PUT /v1/auth/approle/login -> 200") {
		t.Fatalf("log lacks the login line:\n%s", out)
	}
	for _, canary := range []string{secretID, password, wrapping, c.Token(), s.RootToken()} {
		if strings.Contains(out, canary) {
			t.Fatalf("log contains a secret (%d characters):\n%s", len(canary), out)
		}
	}
}
