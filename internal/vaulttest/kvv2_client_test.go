package vaulttest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// TestKVv2Client runs api.Client's KV v2 helper against the server: CAS
// put, custom metadata, merge patch and metadata read.
func TestKVv2Client(t *testing.T) {
	s := Start(t)
	kv := newClient(t, s, s.RootToken()).KVv2("secret")
	ctx := context.Background()

	put, err := kv.Put(ctx, "apps/bot", map[string]any{"a": "1"}, api.WithCheckAndSet(0))
	if err != nil || put.VersionMetadata.Version != 1 {
		t.Fatalf("put = %+v, %v; want version 1", put, err)
	}

	custom := map[string]any{"fingerprint": "0a1b2c3d"}
	input := api.KVMetadataPutInput{CustomMetadata: custom}
	if err := kv.PutMetadata(ctx, "apps/bot", input); err != nil {
		t.Fatalf("put metadata: %v", err)
	}

	if _, err := kv.Patch(ctx, "apps/bot", map[string]any{"b": "2"}); err != nil {
		t.Fatalf("merge patch: %v", err)
	}

	got, err := kv.Get(ctx, "apps/bot")
	if err != nil || got.Data["a"] != "1" || got.Data["b"] != "2" {
		t.Fatalf("get = %+v, %v; want a=1 b=2", got, err)
	}
	if got.VersionMetadata.Version != 2 || got.CustomMetadata["fingerprint"] != "0a1b2c3d" {
		t.Fatalf("metadata = %+v %v, want version 2 and the fingerprint",
			got.VersionMetadata, got.CustomMetadata)
	}

	_, err = kv.Put(ctx, "apps/bot", map[string]any{"a": "x"}, api.WithCheckAndSet(1))
	wantStatus(t, err, http.StatusBadRequest, casMismatch)
}

func TestPatch_NeedsPatchCapability(t *testing.T) {
	s := Start(t)
	if _, err := s.KVPut("secret", "apps/bot", map[string]any{"a": "1"}); err != nil {
		t.Fatalf("KVPut: %v", err)
	}
	s.SetPolicy("rw", []Rule{{Path: "secret/data/*", Capabilities: []string{"read", "update"}}})
	c := newClient(t, s, s.CreateToken(TokenOptions{Policies: []string{"rw"}, TTL: time.Hour}))

	_, err := c.KVv2("secret").Patch(context.Background(), "apps/bot", map[string]any{"b": "2"})
	wantStatus(t, err, http.StatusForbidden, "permission denied")
}

func TestWrapTTLHeader_Refused(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())
	c.SetWrappingLookupFunc(func(string, string) string { return "5m" })

	_, err := c.Logical().Read("secret/data/x")
	wantStatus(t, err, http.StatusBadRequest, "X-Vault-Wrap-TTL")
}
