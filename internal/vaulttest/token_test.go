package vaulttest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// wantTTL fails unless lookup-self reports ttl seconds.
func wantTTL(t *testing.T, c *api.Client, ttl int64) {
	t.Helper()

	got, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self: %v", err)
	}

	n, _ := got.Data["ttl"].(json.Number).Int64()
	if n != ttl {
		t.Fatalf("lookup-self ttl = %d, want %d", n, ttl)
	}
}

func TestToken_TTLRenewAndExpiry(t *testing.T) {
	s := Start(t)
	opts := TokenOptions{TTL: time.Hour, Renewable: true, MaxTTL: 3 * time.Hour}
	c := newClient(t, s, s.CreateToken(opts))

	wantTTL(t, c, 3600)
	s.AdvanceClock(30 * time.Minute)
	wantTTL(t, c, 1800)

	renewed, err := c.Auth().Token().RenewSelf(0)
	if err != nil || renewed.Auth.LeaseDuration != 3600 || !renewed.Auth.Renewable {
		t.Fatalf("renew-self = %+v, %v; want a renewable 1h lease", renewed, err)
	}
	wantTTL(t, c, 3600)

	// At 1h20 a 2h increment would pass the 3h maximum: capped to 1h40.
	s.AdvanceClock(50 * time.Minute)
	renewed, err = c.Auth().Token().RenewSelf(7200)
	if err != nil || renewed.Auth.LeaseDuration != 6000 {
		t.Fatalf("renew-self past max = %+v, %v; want a 6000s lease", renewed, err)
	}
	if len(renewed.Warnings) != 1 || !strings.Contains(renewed.Warnings[0], "max_ttl") {
		t.Fatalf("warnings = %q, want the max_ttl cap warning", renewed.Warnings)
	}

	s.AdvanceClock(6000 * time.Second)
	_, err = c.Auth().Token().LookupSelf()
	wantStatus(t, err, http.StatusForbidden, "permission denied")
	wantStatus(t, err, http.StatusForbidden, "invalid token")
}

func TestToken_RenewRefused(t *testing.T) {
	s := Start(t)
	tests := []struct {
		name    string
		token   string
		status  int
		message string
	}{
		{
			name:    "not renewable",
			token:   s.CreateToken(TokenOptions{TTL: time.Hour}),
			status:  http.StatusBadRequest,
			message: "lease is not renewable",
		},
		{
			name: "policy without renew-self",
			token: s.CreateToken(TokenOptions{
				TTL: time.Hour, Renewable: true, DenyRenewSelf: true,
			}),
			status:  http.StatusForbidden,
			message: "permission denied",
		},
		{
			name:    "root token",
			token:   s.RootToken(),
			status:  http.StatusBadRequest,
			message: "lease is not renewable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s, tt.token)
			_, err := c.Auth().Token().RenewSelf(0)
			wantStatus(t, err, tt.status, tt.message)

			if _, err := c.Auth().Token().LookupSelf(); err != nil {
				t.Fatalf("lookup-self after a refused renewal: %v", err)
			}
		})
	}
}

func TestToken_MissingOrUnknown(t *testing.T) {
	s := Start(t)
	for _, token := range []string{"", "hvs.unknown"} {
		_, err := newClient(t, s, token).Logical().Read("secret/data/x")
		wantStatus(t, err, http.StatusForbidden, "permission denied")
	}
}

func TestToken_NumUses(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.CreateToken(TokenOptions{TTL: time.Hour, NumUses: 2}))

	for i := range 2 {
		if _, err := c.Auth().Token().LookupSelf(); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}

	_, err := c.Auth().Token().LookupSelf()
	wantStatus(t, err, http.StatusForbidden, "invalid token")
}

func TestToken_CreateEndpoint(t *testing.T) {
	s := Start(t)
	root := newClient(t, s, s.RootToken())

	req := &api.TokenCreateRequest{Policies: []string{"app"}, TTL: "1h", NumUses: 3}
	created, err := root.Auth().Token().Create(req)
	if err != nil || created.Auth.LeaseDuration != 3600 || !created.Auth.Renewable {
		t.Fatalf("create = %+v, %v; want a renewable 1h token", created, err)
	}

	child := newClient(t, s, created.Auth.ClientToken)
	got, err := child.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self of the created token: %v", err)
	}
	policies, _ := got.TokenPolicies()
	if len(policies) != 2 || policies[0] != "app" || policies[1] != "default" {
		t.Fatalf("policies = %v, want [app default]", policies)
	}

	_, err = child.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"admin"}})
	wantStatus(t, err, http.StatusForbidden, "permission denied")

	s.SetPolicy("creator", []Rule{{Path: "auth/token/create", Capabilities: []string{"update"}}})
	creator := newClient(t, s, s.CreateToken(TokenOptions{Policies: []string{"creator"}}))
	_, err = creator.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"admin"}})
	wantStatus(t, err, http.StatusBadRequest, "child policies must be subset of parent")
	if _, err := creator.Auth().Token().Create(&api.TokenCreateRequest{}); err != nil {
		t.Fatalf("create a token with the parent's own policies: %v", err)
	}
}

func TestToken_RevokeSelf(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.CreateToken(TokenOptions{TTL: time.Hour}))

	if err := c.Auth().Token().RevokeSelf(""); err != nil {
		t.Fatalf("revoke-self: %v", err)
	}

	_, err := c.Auth().Token().LookupSelf()
	wantStatus(t, err, http.StatusForbidden, "invalid token")
}
