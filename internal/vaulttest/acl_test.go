package vaulttest

import (
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"secret/data/app", "secret/data/app", true},
		{"secret/data/app", "secret/data/app2", false},
		{"secret/data/app*", "secret/data/app2/x", true},
		{"secret/data/*", "secret/data/", true},
		{"secret/+/app", "secret/data/app", true},
		{"secret/+/app", "secret/data/x/app", false},
		{"secret/+/+/*", "secret/data/a/b/c", true},
		{"*", "anything/at/all", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestAllowed_MostSpecificRuleWins(t *testing.T) {
	s := Start(t)
	s.SetPolicy("p", []Rule{
		{Path: "secret/*", Capabilities: []string{"read", "list"}},
		{Path: "secret/data/locked/*", Capabilities: []string{"deny"}},
		{Path: "secret/data/+/open", Capabilities: []string{"create", "update"}},
		{Path: "secret/data/app", Capabilities: []string{"update"}},
	})
	te := &tokenEntry{policies: []string{"default", "p"}}

	tests := []struct {
		path string
		op   logical.Operation
		want bool
	}{
		{"secret/data/x", logical.ReadOperation, true},
		{"secret/data/x", logical.UpdateOperation, false},
		{"secret/data/locked/x", logical.ReadOperation, false},
		{"secret/data/team/open", logical.CreateOperation, true},
		{"secret/data/team/open", logical.ReadOperation, false},
		{"secret/data/app", logical.ReadOperation, false},
		{"secret/data/app", logical.UpdateOperation, true},
		{"auth/token/lookup-self", logical.ReadOperation, true},
		{"other/x", logical.ReadOperation, false},
	}
	for _, tt := range tests {
		s.mu.Lock()
		got := s.allowed(te, tt.path, tt.op)
		s.mu.Unlock()
		if got != tt.want {
			t.Errorf("allowed(%s %s) = %v, want %v", tt.op, tt.path, got, tt.want)
		}
	}
}

func TestPolicy_DeniesOnePathWhileAnotherWorks(t *testing.T) {
	s := Start(t)
	s.SetPolicy("a-only", []Rule{
		{Path: "secret/data/a/*", Capabilities: []string{"read"}},
		{Path: "secret/data/out/*", Capabilities: []string{"update"}},
	})
	for _, p := range []string{"a/creds", "b/creds", "out/existing"} {
		if _, err := s.KVPut("secret", p, map[string]any{"password": "p"}); err != nil {
			t.Fatalf("KVPut: %v", err)
		}
	}
	c := newClient(t, s, s.CreateToken(TokenOptions{Policies: []string{"a-only"}, TTL: time.Hour}))

	if got, err := c.Logical().Read("secret/data/a/creds"); err != nil || got == nil {
		t.Fatalf("read allowed path = %v, %v", got, err)
	}

	_, err := c.Logical().Read("secret/data/b/creds")
	wantStatus(t, err, http.StatusForbidden, "permission denied")

	// Writing an existing key needs update; creating a new one needs create.
	if _, err := writeKV2(c, "secret/data/out/existing", map[string]any{"k": "v"}, 1); err != nil {
		t.Fatalf("update an existing key with update capability: %v", err)
	}
	_, err = writeKV2(c, "secret/data/out/new", map[string]any{"k": "v"}, 0)
	wantStatus(t, err, http.StatusForbidden, "permission denied")
}

func TestSetPolicy_RejectsBadRules(t *testing.T) {
	s := Start(t)
	tests := map[string][]Rule{
		"unknown capability": {{Path: "secret/*", Capabilities: []string{"write"}}},
		"inner glob":         {{Path: "secret/*/x", Capabilities: []string{"read"}}},
	}
	for name, rules := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("SetPolicy accepted a bad rule")
				}
			}()
			s.SetPolicy("bad", rules)
		})
	}
}
