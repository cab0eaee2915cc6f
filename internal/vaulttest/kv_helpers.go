package vaulttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// ErrNotFound is returned by KVGet and KVSoftDelete for a secret that does
// not exist.
var ErrNotFound = errors.New("secret not found")

// Metadata is what KVGet reports about a KV v2 secret; it is empty for KV
// v1.
type Metadata struct {
	CurrentVersion int
	CustomMetadata map[string]string
	Versions       map[int]VersionInfo
}

// VersionInfo describes one version of a KV v2 secret.
type VersionInfo struct {
	CreatedTime  time.Time
	DeletionTime time.Time // zero unless soft-deleted
	Destroyed    bool
}

// KVPut writes data at path under the KV mount, bypassing tokens and ACLs.
// On KV v2 it writes a new version with cas set to the current version (so
// cas_required mounts accept it) and returns that version number; on KV v1
// it replaces the secret and returns 0.
func (s *Server) KVPut(mount, path string, data map[string]any) (int, error) {
	m, err := s.mountByName(mount)
	if err != nil {
		return 0, fmt.Errorf("put kv secret %q: %w", path, err)
	}

	if m.version == 1 {
		_, err := m.call(logical.UpdateOperation, path, data)
		return 0, wrapKVError("put", m, path, err)
	}

	meta, err := m.metadata(path)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, wrapKVError("put", m, path, err)
	}

	body := map[string]any{"data": data, "options": map[string]any{"cas": meta.CurrentVersion}}
	resp, err := m.call(logical.UpdateOperation, "data/"+path, body)
	if err != nil {
		return 0, wrapKVError("put", m, path, err)
	}

	version, _ := resp.Data["version"].(uint64)
	return int(version), nil
}

// KVGet reads the secret at path under the KV mount, bypassing tokens and
// ACLs. On KV v2 data is the current version's data, nil when that version
// is deleted or destroyed, and meta describes every version.
func (s *Server) KVGet(mount, path string) (map[string]any, Metadata, error) {
	m, err := s.mountByName(mount)
	if err != nil {
		return nil, Metadata{}, fmt.Errorf("get kv secret %q: %w", path, err)
	}

	if m.version == 1 {
		resp, err := m.call(logical.ReadOperation, path, nil)
		if err == nil && resp == nil {
			err = ErrNotFound
		}
		if err != nil {
			return nil, Metadata{}, wrapKVError("get", m, path, err)
		}
		return resp.Data, Metadata{}, nil
	}

	meta, err := m.metadata(path)
	if err != nil {
		return nil, Metadata{}, wrapKVError("get", m, path, err)
	}

	resp, err := m.call(logical.ReadOperation, "data/"+path, nil)
	if err != nil {
		return nil, Metadata{}, wrapKVError("get", m, path, err)
	}

	data, _ := resp.Data["data"].(map[string]any)
	return data, meta, nil
}

// KVSoftDelete deletes the secret at path, bypassing tokens and ACLs: on KV
// v2 it soft-deletes the current version (its data can be undeleted), on KV
// v1 it removes the secret.
func (s *Server) KVSoftDelete(mount, path string) error {
	m, err := s.mountByName(mount)
	if err != nil {
		return fmt.Errorf("delete kv secret %q: %w", path, err)
	}

	target := path
	if m.version == 2 {
		if _, err := m.metadata(path); err != nil {
			return wrapKVError("delete", m, path, err)
		}
		target = "data/" + path
	}

	_, err = m.call(logical.DeleteOperation, target, nil)
	return wrapKVError("delete", m, path, err)
}

// metadata reads a KV v2 secret's metadata.
func (m *kvMount) metadata(path string) (Metadata, error) {
	resp, err := m.call(logical.ReadOperation, "metadata/"+path, nil)
	if err != nil {
		return Metadata{}, err
	}
	if resp == nil {
		return Metadata{}, ErrNotFound
	}

	current, _ := resp.Data["current_version"].(uint64)
	custom, _ := resp.Data["custom_metadata"].(map[string]string)
	meta := Metadata{
		CurrentVersion: int(current),
		CustomMetadata: custom,
		Versions:       map[int]VersionInfo{},
	}

	versions, _ := resp.Data["versions"].(map[string]any)
	for key, raw := range versions {
		n, err := strconv.Atoi(key)
		fields, ok := raw.(map[string]any)
		if err != nil || !ok {
			return Metadata{}, fmt.Errorf("decode version %q of the metadata", key)
		}
		meta.Versions[n] = versionInfo(fields)
	}

	return meta, nil
}

// versionInfo decodes one entry of the engine's "versions" map.
func versionInfo(fields map[string]any) VersionInfo {
	created, _ := fields["created_time"].(string)
	deleted, _ := fields["deletion_time"].(string)
	destroyed, _ := fields["destroyed"].(bool)

	info := VersionInfo{Destroyed: destroyed}
	info.CreatedTime, _ = time.Parse(time.RFC3339Nano, created)
	info.DeletionTime, _ = time.Parse(time.RFC3339Nano, deleted)
	return info
}

// call runs one request on the engine directly and turns error responses
// into errors.
func (m *kvMount) call(op logical.Operation, path string,
	data map[string]any,
) (*logical.Response, error) {
	req := &logical.Request{
		ID:          newUUID(),
		Operation:   op,
		Path:        path,
		Data:        data,
		Storage:     m.storage,
		DisplayName: "vaulttest",
		MountPoint:  m.path,
		MountType:   kvMountType,
	}

	resp, err := m.backend.HandleRequest(context.Background(), req)
	if resp.IsError() {
		return nil, resp.Error()
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// wrapKVError names the operation and secret in err; nil stays nil.
func wrapKVError(verb string, m *kvMount, path string, err error) error {
	if err == nil {
		return nil
	}

	return fmt.Errorf("%s kv secret %s%s: %w", verb, m.path, path, err)
}

// errNotV2 is the error for a KV v2 feature asked of a KV v1 mount.
func errNotV2(m *kvMount) error {
	return fmt.Errorf("kv mount %q is version %d; cas_required needs version 2",
		m.path, m.version)
}
