package vaultx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// TestClient_RenewsToken lets the library's lifetime watcher renew a
// 3-second token on its real-time schedule, then moves the server's clock
// past the token's original expiry: the token still works only because
// it was renewed.
func TestClient_RenewsToken(t *testing.T) {
	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	srv.AddAppRole("rotator", "role-1", "secret-1", vaulttest.TokenOptions{
		Policies: []string{kvPolicy}, TTL: 3 * time.Second, Renewable: true, MaxTTL: time.Hour,
	})
	auth := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, t.TempDir(), "secret-id", "secret-1")}
	c := newClient(t, srv.URL(), auth, nil)
	start(t, c)

	// The watcher renews at once, then after about two thirds of the TTL.
	firstExpiry := c.TokenExpiry()
	srv.AdvanceClock(2 * time.Second)
	eventually(t, "the token is renewed on schedule", func() bool {
		return srv.Requests("auth/token/renew-self") >= 2
	})
	eventually(t, "the renewal moves the expiry", func() bool {
		return c.TokenExpiry().After(firstExpiry)
	})

	// Issued at T, renewed at T+2s for 3s: valid at T+4s, unlike the
	// original lease.
	srv.AdvanceClock(2 * time.Second)
	if _, err := c.MergeKV(context.Background(), "secret", "app", 0,
		map[string]any{"k": "v"}, nil); err != nil {
		t.Fatalf("write with the renewed token: %v", err)
	}
	if srv.Logins() != 1 {
		t.Errorf("server counted %d logins, want 1 (renewal, not login)", srv.Logins())
	}
}

// TestClient_RenewalRefused gives tokens a policy without renew-self: the
// client must warn once, stop renewing, and log in again at two thirds of
// each token's TTL, measured on an injected clock.
func TestClient_RenewalRefused(t *testing.T) {
	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	srv.AddAppRole("rotator", "role-1", "secret-1", vaulttest.TokenOptions{
		Policies: []string{kvPolicy}, TTL: time.Minute, Renewable: true, DenyRenewSelf: true,
	})
	auth := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, t.TempDir(), "secret-id", "secret-1")}
	clock := newFakeClock()
	logs := &logBuffer{}
	c := newClient(t, srv.URL(), auth, logs, vaultx.WithClock(clock))
	start(t, c)

	for login := 1; login <= 3; login++ {
		loggedInAt := clock.Now()
		eventually(t, "the client waits to log in again", func() bool {
			return len(clock.pending()) == 1
		})
		if at := clock.pending()[0]; !at.Equal(loggedInAt.Add(40 * time.Second)) {
			t.Fatalf("login %d: next login at +%v, want +40s (2/3 of 60s)", login,
				at.Sub(loggedInAt))
		}

		srv.AdvanceClock(39 * time.Second)
		clock.Advance(39 * time.Second)
		if got := srv.Logins(); got != login {
			t.Fatalf("after 39s: %d logins, want %d", got, login)
		}

		srv.AdvanceClock(time.Second)
		clock.Advance(time.Second)
		eventually(t, "the client logs in again at 2/3 of the TTL", func() bool {
			return srv.Logins() == login+1
		})
	}

	if got := srv.Requests("auth/token/renew-self"); got < 1 || got > 3 {
		t.Errorf("renew-self tried %d times, want 1 to 3", got)
	}
	if got := logs.count("warn", "refused to renew"); got != 1 {
		t.Errorf("%d warnings about the refused renewal, want exactly 1", got)
	}
	if !c.Ready() {
		t.Error("Ready() = false")
	}
}

// TestClient_TokenFileReread gives the token method a token that cannot be
// renewed. When it expires, the client re-reads token_file, and keeps
// re-reading until the file holds a working token.
func TestClient_TokenFileReread(t *testing.T) {
	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	old := srv.CreateToken(vaulttest.TokenOptions{Policies: []string{kvPolicy}, TTL: time.Minute})
	dir := t.TempDir()
	file := writeFile(t, dir, "token", old)
	clock := newFakeClock()
	logs := &logBuffer{}
	c := newClient(t, srv.URL(), config.VaultAuth{Method: "token", TokenFile: file}, logs,
		vaultx.WithClock(clock))
	start(t, c)

	eventually(t, "the client waits to re-read the token", func() bool {
		return len(clock.pending()) == 1
	})
	if got := srv.Requests("auth/token/renew-self"); got != 0 {
		t.Errorf("renew-self tried %d times for a non-renewable token", got)
	}

	// The old token expires on the server; the client finds it dead.
	srv.AdvanceClock(time.Minute)
	clock.Advance(40 * time.Second)
	eventually(t, "the expired token is reported", func() bool {
		return logs.count("warn", "vault login failed") >= 2
	})

	fresh := srv.CreateToken(vaulttest.TokenOptions{Policies: []string{kvPolicy}, TTL: time.Hour})
	writeFile(t, dir, "token", fresh)
	eventually(t, "the new token from the file is used", func() bool {
		_, err := c.MergeKV(context.Background(), "secret", "app", 0,
			map[string]any{"k": "v"}, nil)
		return err == nil
	})
	if !c.Ready() {
		t.Error("Ready() = false with a fresh token")
	}
}

// TestClient_RenewalFailureKeepsToken makes Vault answer 503 to the first
// renewal. With time left on the token, the client keeps it, tries to
// renew again on the watcher's backoff (5 to 15 seconds) and does not log
// in early.
func TestClient_RenewalFailureKeepsToken(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lifetime watcher's first retry (5-15s)")
	}

	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	srv.AddAppRole("rotator", "role-1", "secret-1", vaulttest.TokenOptions{
		Policies: []string{kvPolicy}, TTL: time.Minute, Renewable: true,
	})
	srv.FailPath("auth/token/renew-self", 503, 1)
	auth := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, t.TempDir(), "secret-id", "secret-1")}
	logs := &logBuffer{}
	c := newClient(t, srv.URL(), auth, logs)
	start(t, c)

	eventually(t, "the first renewal fails", func() bool {
		return srv.Requests("auth/token/renew-self") == 1
	})
	if !c.Ready() {
		t.Error("Ready() = false after one failed renewal")
	}

	deadline := time.Now().Add(20 * time.Second)
	for srv.Requests("auth/token/renew-self") < 2 && time.Now().Before(deadline) {
		if srv.Logins() != 1 {
			t.Fatalf("logged in again while the token still had time")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if got := srv.Requests("auth/token/renew-self"); got != 2 {
		t.Fatalf("renew-self tried %d times, want 2 (one retry)", got)
	}
	if srv.Logins() != 1 || logs.count("warn", "refused") != 0 {
		t.Errorf("logins %d, refusal warnings %d; want 1 and 0", srv.Logins(),
			logs.count("warn", "refused"))
	}
}

func TestClient_Sealed(t *testing.T) {
	srv := vaulttest.Start(t)
	c := rootClient(t, srv, srv.URL())
	ctx := context.Background()
	if _, err := srv.KVPut("secret", "firstline/a", map[string]any{"name": "n"}); err != nil {
		t.Fatal(err)
	}

	srv.Seal()
	_, err := c.ReadKV(ctx, "secret", "firstline/a", 0)
	if !errors.Is(err, vaultx.ErrSealed) || vaultx.StatusCode(err) != 503 {
		t.Fatalf("ReadKV while sealed = %v, want ErrSealed with status 503", err)
	}
	assertNames(t, err, "secret/firstline/a", "503")

	_, err = c.MergeKV(ctx, "secret", "firstline/a", 2, map[string]any{"x": "y"}, nil)
	if !errors.Is(err, vaultx.ErrSealed) {
		t.Fatalf("MergeKV while sealed = %v, want ErrSealed", err)
	}

	srv.Unseal()
	data, err := c.ReadKV(ctx, "secret", "firstline/a", 0)
	if err != nil || data["name"] != "n" {
		t.Fatalf("ReadKV after unseal = %v, %v", data, err)
	}
}
