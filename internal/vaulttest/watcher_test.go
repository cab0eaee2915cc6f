package vaulttest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
)

// TestLifetimeWatcher_RenewsLoginToken checks that api.LifetimeWatcher's
// first renewal of a login token goes through renew-self.
func TestLifetimeWatcher_RenewsLoginToken(t *testing.T) {
	s := Start(t)
	opts := TokenOptions{TTL: time.Hour, Renewable: true}
	s.AddAppRole("bot", "role-1", "secret-1", opts)

	c := newClient(t, s, "")
	auth, err := approle.NewAppRoleAuth("role-1", &approle.SecretID{FromString: "secret-1"})
	if err != nil {
		t.Fatalf("new approle auth: %v", err)
	}
	login, err := c.Auth().Login(context.Background(), auth)
	if err != nil {
		t.Fatalf("login: %v", err)
	}

	watcher, err := c.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: login})
	if err != nil {
		t.Fatalf("new lifetime watcher: %v", err)
	}
	go watcher.Start()
	defer watcher.Stop()

	select {
	case renewal := <-watcher.RenewCh():
		if renewal.Secret.Auth.LeaseDuration != 3600 {
			t.Fatalf("renewal lease = %d, want 3600", renewal.Secret.Auth.LeaseDuration)
		}
	case err := <-watcher.DoneCh():
		t.Fatalf("watcher stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no renewal within 10s (a hang guard, not a timing check)")
	}

	if n := s.Requests("auth/token/renew-self"); n != 1 {
		t.Fatalf("Requests(renew-self) = %d, want 1", n)
	}
}
