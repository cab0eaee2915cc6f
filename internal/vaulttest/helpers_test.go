package vaulttest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
)

// newClient returns a real Vault API client for s using token ("" for
// none). Retries are off so that 5xx answers come back at once.
func newClient(t *testing.T, s *Server, token string) *api.Client {
	t.Helper()

	cfg := api.DefaultConfig()
	cfg.Address = s.URL()
	cfg.MaxRetries = 0

	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("new vault client: %v", err)
	}

	c.ClearNamespace()
	c.SetToken(token)
	if token == "" {
		c.ClearToken()
	}
	return c
}

// wantStatus fails unless err is an API error with status and, when
// message is not empty, an error text containing message.
func wantStatus(t *testing.T, err error, status int, message string) {
	t.Helper()

	var re *api.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want an API error with status %d", err, status)
	}

	if re.StatusCode != status {
		t.Fatalf("status = %d (errors %q), want %d", re.StatusCode, re.Errors, status)
	}

	if message != "" && !strings.Contains(strings.Join(re.Errors, "\n"), message) {
		t.Fatalf("errors = %q, want one containing %q", re.Errors, message)
	}
}

// rawGet sends GET /v1/<path> with token and returns status and body.
func rawGet(t *testing.T, s *Server, token, path string) (int, string) {
	t.Helper()

	req, err := http.NewRequest(http.MethodGet, s.URL()+"/v1/"+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// writeKV2 writes data to a KV v2 secret with the given cas (-1: none).
func writeKV2(c *api.Client, path string, data map[string]any, cas int) (*api.Secret, error) {
	body := map[string]any{"data": data}
	if cas >= 0 {
		body["options"] = map[string]any{"cas": cas}
	}

	return c.Logical().Write(path, body)
}
