package vaulttest

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
)

const casMismatch = "check-and-set parameter did not match the current version"

func TestKV2_ReadModifyWriteWithCAS(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())

	secret, err := writeKV2(c, "secret/data/apps/bot", map[string]any{"other": "keep"}, 0)
	if err != nil {
		t.Fatalf("first write with cas 0: %v", err)
	}
	if v, _ := secret.Data["version"].(json.Number).Int64(); v != 1 {
		t.Fatalf("first write version = %v, want 1", secret.Data["version"])
	}

	_, err = writeKV2(c, "secret/data/apps/bot", map[string]any{"token": "x"}, 0)
	wantStatus(t, err, http.StatusBadRequest, casMismatch)

	// Read the current version and data, merge, write with cas = version.
	got, err := c.Logical().Read("secret/data/apps/bot")
	if err != nil || got == nil {
		t.Fatalf("read: secret %v, error %v", got, err)
	}
	data := got.Data["data"].(map[string]any)
	meta := got.Data["metadata"].(map[string]any)
	version, _ := meta["version"].(json.Number).Int64()
	data["token"] = "fresh"

	if _, err := writeKV2(c, "secret/data/apps/bot", data, int(version)); err != nil {
		t.Fatalf("write with cas %d: %v", version, err)
	}

	stored, md, err := s.KVGet("secret", "apps/bot")
	if err != nil {
		t.Fatalf("KVGet: %v", err)
	}
	if stored["other"] != "keep" || stored["token"] != "fresh" || md.CurrentVersion != 2 {
		t.Fatalf("stored %v at version %d, want other=keep token=fresh at 2",
			stored, md.CurrentVersion)
	}
}

func TestKV2_CASRequired(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())
	if err := s.SetCASRequired("secret", true); err != nil {
		t.Fatalf("SetCASRequired: %v", err)
	}

	_, err := writeKV2(c, "secret/data/app", map[string]any{"k": "v"}, -1)
	wantStatus(t, err, http.StatusBadRequest, "check-and-set parameter required for this call")

	if _, err := writeKV2(c, "secret/data/app", map[string]any{"k": "v"}, 0); err != nil {
		t.Fatalf("write with cas 0 on a cas_required mount: %v", err)
	}

	if v, err := s.KVPut("secret", "app", map[string]any{"k": "w"}); err != nil || v != 2 {
		t.Fatalf("KVPut on a cas_required mount = %d, %v; want 2, nil", v, err)
	}

	config, err := c.Logical().Read("secret/config")
	if err != nil || config.Data["cas_required"] != true {
		t.Fatalf("secret/config = %v, %v; want cas_required true", config, err)
	}

	if err := s.MountKV("kv1", 1); err != nil {
		t.Fatalf("MountKV: %v", err)
	}
	if err := s.SetCASRequired("kv1", true); err == nil {
		t.Fatal("SetCASRequired on a KV v1 mount succeeded, want an error")
	}
}

func TestKV2_SoftDeletedLatestVersion(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())
	for _, value := range []string{"one", "two"} {
		if _, err := s.KVPut("secret", "apps/x", map[string]any{"token": value}); err != nil {
			t.Fatalf("KVPut: %v", err)
		}
	}
	if err := s.KVSoftDelete("secret", "apps/x"); err != nil {
		t.Fatalf("KVSoftDelete: %v", err)
	}

	md, err := c.Logical().Read("secret/metadata/apps/x")
	if err != nil || md == nil {
		t.Fatalf("read metadata: %v, %v", md, err)
	}
	if v, _ := md.Data["current_version"].(json.Number).Int64(); v != 2 {
		t.Fatalf("current_version = %v, want 2", md.Data["current_version"])
	}
	v2 := md.Data["versions"].(map[string]any)["2"].(map[string]any)
	if v2["deletion_time"] == "" {
		t.Fatal("version 2 has no deletion_time after a soft delete")
	}

	// Vault answers the deleted version with 404 and its metadata; the
	// client returns that as a secret without data.
	got, err := c.Logical().Read("secret/data/apps/x")
	if err != nil || got == nil || got.Data["data"] != nil {
		t.Fatalf("read deleted version = %v, %v; want metadata without data", got, err)
	}

	_, err = writeKV2(c, "secret/data/apps/x", map[string]any{"token": "three"}, 0)
	wantStatus(t, err, http.StatusBadRequest, casMismatch)
	if _, err := writeKV2(c, "secret/data/apps/x", map[string]any{"token": "3"}, 2); err != nil {
		t.Fatalf("write with cas = soft-deleted version 2: %v", err)
	}

	_, meta, err := s.KVGet("secret", "apps/x")
	if err != nil || meta.CurrentVersion != 3 || meta.Versions[2].DeletionTime.IsZero() {
		t.Fatalf("KVGet meta = %+v, %v; want version 3 and 2 deleted", meta, err)
	}
}

func TestKV1_PutGet(t *testing.T) {
	s := Start(t)
	if err := s.MountKV("kv1", 1); err != nil {
		t.Fatalf("MountKV: %v", err)
	}
	c := newClient(t, s, s.RootToken())

	if _, err := c.Logical().Write("kv1/apps/bot", map[string]any{"password": "p"}); err != nil {
		t.Fatalf("write: %v", err)
	}

	got, err := c.Logical().Read("kv1/apps/bot")
	if err != nil || got == nil || got.Data["password"] != "p" {
		t.Fatalf("read = %v, %v; want password p", got, err)
	}
	if got.LeaseDuration != 768*3600 || got.LeaseID != "" {
		t.Fatalf("lease = %q %d, want no lease id and Vault's 768h",
			got.LeaseID, got.LeaseDuration)
	}

	data, _, err := s.KVGet("kv1", "apps/bot")
	if err != nil || data["password"] != "p" {
		t.Fatalf("KVGet = %v, %v", data, err)
	}

	if err := s.KVSoftDelete("kv1", "apps/bot"); err != nil {
		t.Fatalf("KVSoftDelete: %v", err)
	}
	if _, _, err := s.KVGet("kv1", "apps/bot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("KVGet after delete: %v, want ErrNotFound", err)
	}
}

func TestRead_MissingSecretIsNilWithoutError(t *testing.T) {
	s := Start(t)
	if err := s.MountKV("kv1", 1); err != nil {
		t.Fatalf("MountKV: %v", err)
	}
	c := newClient(t, s, s.RootToken())

	for _, path := range []string{"secret/data/none", "secret/metadata/none", "kv1/none"} {
		got, err := c.Logical().Read(path)
		if got != nil || err != nil {
			t.Errorf("read %s = %v, %v; want nil, nil", path, got, err)
		}
	}

	status, body := rawGet(t, s, s.RootToken(), "secret/data/none")
	if status != http.StatusNotFound || body != "{\"errors\":[]}\n" {
		t.Fatalf("raw read = %d %q, want 404 {\"errors\":[]}", status, body)
	}

	if _, _, err := s.KVGet("secret", "none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("KVGet of a missing secret: %v, want ErrNotFound", err)
	}
}

func TestKV2_List(t *testing.T) {
	s := Start(t)
	c := newClient(t, s, s.RootToken())
	for _, p := range []string{"apps/a", "apps/b/c"} {
		if _, err := s.KVPut("secret", p, map[string]any{"k": "v"}); err != nil {
			t.Fatalf("KVPut: %v", err)
		}
	}

	got, err := c.Logical().List("secret/metadata/apps")
	if err != nil || got == nil {
		t.Fatalf("list = %v, %v", got, err)
	}
	keys := got.Data["keys"].([]any)
	if len(keys) != 2 || keys[0] != "a" || keys[1] != "b/" {
		t.Fatalf("keys = %v, want [a b/]", keys)
	}

	empty, err := c.Logical().List("secret/metadata/none")
	if empty != nil || err != nil {
		t.Fatalf("list of nothing = %v, %v; want nil, nil", empty, err)
	}
}

func TestKV2_ConcurrentCASWritesOneWins(t *testing.T) {
	s := Start(t)
	if _, err := s.KVPut("secret", "race", map[string]any{"n": "0"}); err != nil {
		t.Fatalf("KVPut: %v", err)
	}

	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		c := newClient(t, s, s.RootToken())
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := writeKV2(c, "secret/data/race", map[string]any{"n": "1"}, 1)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)

	won := 0
	for err := range errs {
		if err == nil {
			won++
			continue
		}
		wantStatus(t, err, http.StatusBadRequest, casMismatch)
	}
	if won != 1 {
		t.Fatalf("%d writers won the cas race, want exactly 1", won)
	}
}
