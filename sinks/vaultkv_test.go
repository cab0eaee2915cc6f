package sinks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/sinks"
	"github.com/firstline-rotator/firstline-rotator/sinks/sinktest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// canarySecretID is the AppRole secret ID of the sink tests' Vault client.
const canarySecretID = "CANARY-secret-id-41b9"

// vaultSinkEnv is a test Vault, a started client logged in by AppRole with
// write access to secret/apps/* and kv1/apps/*, and the debug log of both
// the client and the sinks.
type vaultSinkEnv struct {
	srv  *vaulttest.Server
	deps sinks.Deps
	logs *testutil.Buffer
}

func newVaultSinkEnv(t *testing.T) *vaultSinkEnv {
	t.Helper()

	srv := vaulttest.Start(t)
	if err := srv.MountKV("kv1", 1); err != nil {
		t.Fatal(err)
	}
	rw := []string{"create", "read", "update"}
	srv.SetPolicy("sink", []vaulttest.Rule{
		{Path: "secret/data/apps/*", Capabilities: rw},
		{Path: "secret/metadata/apps/*", Capabilities: rw},
		{Path: "kv1/apps/*", Capabilities: rw},
	})
	srv.AddAppRole("rotator", "role-1", canarySecretID,
		vaulttest.TokenOptions{Policies: []string{"sink"}, Renewable: true})

	file := filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(file, []byte(canarySecretID), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := &testutil.Buffer{}
	logger := zerolog.New(logs).Level(zerolog.DebugLevel)
	client, err := vaultx.New(config.Vault{Address: srv.URL(), Auth: config.VaultAuth{
		Method: "approle", RoleID: "role-1", SecretIDFile: file}}, logger)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); <-client.Done() })
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &vaultSinkEnv{srv: srv, deps: sinks.Deps{Logger: logger, Vault: client}, logs: logs}
}

func (e *vaultSinkEnv) sink(t *testing.T, spec config.Sink) sinks.Sink {
	t.Helper()

	spec.Type = "vault_kv"
	s, err := sinks.New(spec, e.deps)
	if err != nil {
		t.Fatalf("build vault_kv sink: %v", err)
	}
	return s
}

func TestVaultKVSink_Conformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) sinktest.Subject {
		env := newVaultSinkEnv(t)
		s := env.sink(t, config.Sink{Path: "apps/bot"})
		return sinktest.Subject{
			Sink: s,
			Read: func() (string, error) {
				data, _, err := env.srv.KVGet("secret", "apps/bot")
				if err != nil {
					return "", err
				}
				token, ok := data["token"].(string)
				if !ok {
					return "", fmt.Errorf("secret has no string token: %v", data)
				}
				return token, nil
			},
			Break: func(*testing.T) { env.srv.Seal() },
		}
	}})
}

func TestVaultKVSink_WritesKeysAndMetadata(t *testing.T) {
	env := newVaultSinkEnv(t)
	if _, err := env.srv.KVPut("secret", "apps/bot", map[string]any{"db": "keep"}); err != nil {
		t.Fatal(err)
	}
	s := env.sink(t, config.Sink{Name: "app vault", Mount: "secret", Path: "apps/bot",
		Key: "firstline_token"})
	tok := sinktest.Token(7, "")

	if err := s.Write(context.Background(), tok); err != nil {
		t.Fatal(err)
	}

	data, meta, err := env.srv.KVGet("secret", "apps/bot")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"db":              "keep",
		"firstline_token": tok.Value.Reveal(),
		"expires_at":      "2030-01-03T03:04:05Z",
		"account":         "support-bot",
	}
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Errorf("secret = %v, want %v", data, want)
	}
	if meta.CustomMetadata["fingerprint"] != tok.Value.Fingerprint() ||
		meta.CustomMetadata["rotated_at"] != "2030-01-02T03:04:05Z" ||
		meta.CustomMetadata["generation"] != "7" {
		t.Errorf("custom metadata = %v", meta.CustomMetadata)
	}
	if s.Name() != "app vault" {
		t.Errorf("Name() = %q, want the configured name", s.Name())
	}
}

func TestVaultKVSink_KVv1(t *testing.T) {
	env := newVaultSinkEnv(t)
	if _, err := env.srv.KVPut("kv1", "apps/bot", map[string]any{"db": "keep"}); err != nil {
		t.Fatal(err)
	}
	s := env.sink(t, config.Sink{Mount: "kv1", Path: "apps/bot", KVVersion: 1})
	tok := sinktest.Token(1, "")

	if err := s.Write(context.Background(), tok); err != nil {
		t.Fatal(err)
	}

	data, _, err := env.srv.KVGet("kv1", "apps/bot")
	if err != nil {
		t.Fatal(err)
	}
	if data["token"] != tok.Value.Reveal() || data["db"] != "keep" {
		t.Errorf("secret = %v, want the token with db kept", data)
	}
	if got := env.srv.Requests("sys/internal/ui/mounts/*"); got != 0 {
		t.Errorf("kv_version 1 set, yet the version was detected (%d requests)", got)
	}
}

func TestVaultKVSink_NeedsVaultAndPath(t *testing.T) {
	_, err := sinks.New(config.Sink{Type: "vault_kv", Name: "v", Path: "apps/x"},
		sinks.Deps{})
	if err == nil || !strings.Contains(err.Error(), "sink v") ||
		!strings.Contains(err.Error(), "vault block") {
		t.Errorf("without a Vault client: %v", err)
	}

	env := newVaultSinkEnv(t)
	_, err = sinks.New(config.Sink{Type: "vault_kv", Name: "v"}, env.deps)
	if err == nil || !strings.Contains(err.Error(), "path") {
		t.Errorf("without a path: %v", err)
	}
}

// TestVaultKVSink_FailuresHideSecrets makes the sink fail in the ways
// Vault can fail it and checks that no error or debug log line shows the
// FIRST LINE token or the AppRole secret ID.
func TestVaultKVSink_FailuresHideSecrets(t *testing.T) {
	env := newVaultSinkEnv(t)
	ctx := context.Background()
	tok := sinktest.Token(1, "")
	var errs []error

	forbidden := env.sink(t, config.Sink{Path: "elsewhere/bot", KVVersion: 2})
	errs = append(errs, forbidden.Write(ctx, tok))

	ok := env.sink(t, config.Sink{Path: "apps/bot"})
	if err := ok.Write(ctx, tok); err != nil {
		t.Fatal(err)
	}
	env.srv.FailPath("secret/data/apps/bot", 500, 1)
	errs = append(errs, ok.Write(ctx, tok))
	env.srv.Seal()
	errs = append(errs, ok.Write(ctx, tok))

	wantIs := []error{vaultx.ErrPermissionDenied, nil, vaultx.ErrSealed}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("failure %d: Write succeeded", i)
		}
		if wantIs[i] != nil && !errors.Is(err, wantIs[i]) {
			t.Errorf("failure %d: %v, want it to match %v", i, err, wantIs[i])
		}
		checkHidden(t, "error", err.Error(), tok)
	}
	checkHidden(t, "log", env.logs.String(), tok)
	if !strings.Contains(env.logs.String(), tok.Value.Fingerprint()) {
		t.Error("the debug log does not name the token by fingerprint")
	}
}

func checkHidden(t *testing.T, where, text string, tok sinks.Token) {
	t.Helper()

	for _, s := range []string{sinktest.Canary, tok.Value.Reveal(), canarySecretID} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows a secret: %s", where, text)
		}
	}
}
