package vaulttest

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
)

// appPolicy allows reading the credentials of one app.
var appPolicy = []Rule{{Path: "secret/data/apps/*", Capabilities: []string{"read"}}}

// appToken is what an app's login gives: the app policy for an hour.
var appToken = TokenOptions{Policies: []string{"app"}, TTL: time.Hour}

func TestAppRoleLogin(t *testing.T) {
	s := Start(t)
	s.SetPolicy("app", appPolicy)
	s.AddAppRole("bot", "role-1", "secret-1", appToken)

	tests := []struct {
		name     string
		secretID string
		status   int
		message  string
	}{
		{name: "right secret id", secretID: "secret-1"},
		{
			name: "wrong secret id", secretID: "nope",
			status: 400, message: "invalid role or secret ID",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, "")
			secretID := &approle.SecretID{FromString: tt.secretID}
			auth, err := approle.NewAppRoleAuth("role-1", secretID)
			if err != nil {
				t.Fatalf("new approle auth: %v", err)
			}

			secret, err := c.Auth().Login(context.Background(), auth)
			if tt.status != 0 {
				wantStatus(t, err, tt.status, tt.message)
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			wantLoginToken(t, s, c, secret, []string{"app", "default"})
		})
	}

	if s.Logins() != 1 {
		t.Fatalf("Logins() = %d, want 1", s.Logins())
	}
}

// wantLoginToken checks a login's auth block and that the client now uses
// a token that works.
func wantLoginToken(t *testing.T, s *Server, c *api.Client, secret *api.Secret,
	policies []string,
) {
	t.Helper()

	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken != c.Token() {
		t.Fatalf("login answer %+v does not carry the client's token", secret)
	}
	if secret.Auth.LeaseDuration != 3600 || !slices.Equal(secret.Auth.Policies, policies) {
		t.Fatalf("auth = %+v, want lease 3600 and policies %v", secret.Auth, policies)
	}

	if _, err := s.KVPut("secret", "apps/bot", map[string]any{"password": "p"}); err != nil {
		t.Fatalf("KVPut: %v", err)
	}
	if got, err := c.Logical().Read("secret/data/apps/bot"); err != nil || got == nil {
		t.Fatalf("read with the login token = %v, %v", got, err)
	}
}

func TestAppRoleLogin_WrappedSecretID(t *testing.T) {
	s := Start(t)
	s.SetPolicy("app", appPolicy)
	s.AddAppRole("bot", "role-1", "unused", appToken)
	wrapping := s.WrapSecretID("bot", time.Minute)

	login := func() (*api.Client, *api.Secret, error) {
		c := newClient(t, s, "")
		auth, err := approle.NewAppRoleAuth("role-1", &approle.SecretID{FromString: wrapping},
			approle.WithWrappingToken())
		if err != nil {
			t.Fatalf("new approle auth: %v", err)
		}
		secret, err := c.Auth().Login(context.Background(), auth)
		return c, secret, err
	}

	c, secret, err := login()
	if err != nil {
		t.Fatalf("login with a wrapped secret id: %v", err)
	}
	wantLoginToken(t, s, c, secret, []string{"app", "default"})

	_, _, err = login()
	wantStatus(t, err, http.StatusBadRequest, "wrapping token is not valid or does not exist")

	wrapping = s.WrapSecretID("bot", time.Minute)
	s.AdvanceClock(time.Minute)
	_, _, err = login()
	wantStatus(t, err, http.StatusBadRequest, "wrapping token is not valid or does not exist")
}

func TestUnwrap_TokenInBody(t *testing.T) {
	s := Start(t)
	s.AddAppRole("bot", "role-1", "unused", TokenOptions{})
	c := newClient(t, s, s.CreateToken(TokenOptions{TTL: time.Hour}))

	got, err := c.Logical().Unwrap(s.WrapSecretID("bot", 0))
	if err != nil || got == nil || got.Data["secret_id"] == "" {
		t.Fatalf("unwrap with a token in the body = %v, %v; want a secret id", got, err)
	}
}

func TestKubernetesLogin(t *testing.T) {
	s := Start(t)
	s.SetPolicy("app", appPolicy)
	opts := TokenOptions{Policies: []string{"app"}, TTL: time.Hour, Renewable: true}
	s.AddKubernetesRole("bot", "jwt-1", opts)

	tests := []struct {
		name, role, jwt string
		status          int
		message         string
	}{
		{name: "right jwt", role: "bot", jwt: "jwt-1"},
		{name: "wrong jwt", role: "bot", jwt: "jwt-2", status: 403, message: "permission denied"},
		{
			name: "unknown role", role: "x", jwt: "jwt-1",
			status: 400, message: `invalid role name "x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, "")
			auth, err := kubernetes.NewKubernetesAuth(tt.role,
				kubernetes.WithServiceAccountToken(tt.jwt))
			if err != nil {
				t.Fatalf("new kubernetes auth: %v", err)
			}

			secret, err := c.Auth().Login(context.Background(), auth)
			if tt.status != 0 {
				wantStatus(t, err, tt.status, tt.message)
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			wantLoginToken(t, s, c, secret, []string{"app", "default"})
		})
	}

	if s.Logins() != 1 {
		t.Fatalf("Logins() = %d, want 1", s.Logins())
	}
}

func TestMountAuth_CustomMountPath(t *testing.T) {
	s := Start(t)
	if err := s.MountAuth("approle-ci", "approle"); err != nil {
		t.Fatalf("MountAuth: %v", err)
	}
	if err := s.MountAuth("x", "ldap"); err == nil {
		t.Fatal("MountAuth with method ldap succeeded, want an error")
	}
	s.AddAppRole("bot", "role-1", "secret-1", TokenOptions{TTL: time.Hour})

	c := newClient(t, s, "")
	auth, err := approle.NewAppRoleAuth("role-1", &approle.SecretID{FromString: "secret-1"},
		approle.WithMountPath("approle-ci"))
	if err != nil {
		t.Fatalf("new approle auth: %v", err)
	}
	if _, err := c.Auth().Login(context.Background(), auth); err != nil {
		t.Fatalf("login at auth/approle-ci: %v", err)
	}
}
