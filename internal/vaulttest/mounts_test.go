package vaulttest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// uiMount is the part of a sys/internal/ui/mounts answer `vault kv` reads.
type uiMount struct {
	Data struct {
		Type    string            `json:"type"`
		Path    string            `json:"path"`
		Options map[string]string `json:"options"`
	} `json:"data"`
	MountType string `json:"mount_type"`
}

func TestUIMounts_VersionDetection(t *testing.T) {
	s := Start(t)
	if err := s.MountKV("kv1", 1); err != nil {
		t.Fatalf("MountKV: %v", err)
	}

	tests := []struct {
		path, wantPath, wantVersion string
	}{
		{"secret/firstline/bot", "secret/", "2"},
		{"secret", "secret/", "2"},
		{"kv1/apps/x", "kv1/", "1"},
	}
	for _, tt := range tests {
		status, body := rawGet(t, s, s.RootToken(), "sys/internal/ui/mounts/"+tt.path)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d, body %s", tt.path, status, body)
		}

		var got uiMount
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: decode %s: %v", tt.path, body, err)
		}
		if got.Data.Type != "kv" || got.Data.Path != tt.wantPath ||
			got.Data.Options["version"] != tt.wantVersion {
			t.Errorf("%s: got %+v, want kv at %s version %s", tt.path, got.Data,
				tt.wantPath, tt.wantVersion)
		}
	}
}

func TestUIMounts_Refusals(t *testing.T) {
	s := Start(t)
	s.SetPolicy("other", []Rule{{Path: "other/*", Capabilities: []string{"read"}}})
	s.SetPolicy("app", appPolicy)
	other := s.CreateToken(TokenOptions{Policies: []string{"other"}, TTL: time.Hour})
	app := s.CreateToken(TokenOptions{Policies: []string{"app"}, TTL: time.Hour})

	tests := []struct {
		name, token, path string
		status            int
	}{
		{"no token", "", "secret/x", http.StatusForbidden},
		{"no access under the mount", other, "secret/x", http.StatusForbidden},
		{"unknown mount", s.RootToken(), "nothing/x", http.StatusForbidden},
		{"access to one key is enough", app, "secret/x", http.StatusOK},
	}
	for _, tt := range tests {
		status, body := rawGet(t, s, tt.token, "sys/internal/ui/mounts/"+tt.path)
		if status != tt.status {
			t.Errorf("%s: status %d (%s), want %d", tt.name, status, body, tt.status)
		}
	}
}

func TestSysMounts_EnableAndList(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())

	input := &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}
	if err := c.Sys().Mount("team", input); err != nil {
		t.Fatalf("enable kv v2 at team/: %v", err)
	}
	err := c.Sys().Mount("team", input)
	wantStatus(t, err, http.StatusBadRequest, "path is already in use at team/")

	mounts, err := c.Sys().ListMounts()
	if err != nil {
		t.Fatalf("list mounts: %v", err)
	}
	if m := mounts["team/"]; m == nil || m.Type != "kv" || m.Options["version"] != "2" {
		t.Fatalf("team/ = %+v, want kv version 2", m)
	}

	if _, err := writeKV2(c, "team/data/x", map[string]any{"k": "v"}, 0); err != nil {
		t.Fatalf("write to the new mount: %v", err)
	}

	app := newClient(t, s, s.CreateToken(TokenOptions{TTL: time.Hour}))
	_, err = app.Sys().ListMounts()
	wantStatus(t, err, http.StatusForbidden, "permission denied")
}
