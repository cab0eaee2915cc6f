package vaulttest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/sdk/logical"
)

// kvPluginVersion is the running_plugin_version Vault reports for its
// built-in KV engine of this release.
const kvPluginVersion = "v0.25.0+builtin"

// reservedMounts are path prefixes a secrets engine cannot use.
var reservedMounts = []string{"sys/", "auth/", "cubbyhole/", "identity/"}

// kvMount is one mounted KV secrets engine.
type kvMount struct {
	path     string // with trailing slash, e.g. "secret/"
	version  int
	uuid     string
	accessor string
	backend  logical.Backend
	storage  *logical.InmemStorage
}

// MountKV mounts a KV secrets engine of version 1 or 2 at path, like
// `vault secrets enable -path=<path> -version=<version> kv`.
func (s *Server) MountKV(path string, version int) error {
	path = trimSlashes(path) + "/"
	if version != 1 && version != 2 {
		return fmt.Errorf("mount kv at %q: version %d is not 1 or 2", path, version)
	}

	s.mu.Lock()
	err := s.checkMountPath(path)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("mount kv at %q: %w", path, err)
	}

	m, err := s.newKVMount(path, version)
	if err != nil {
		return fmt.Errorf("mount kv at %q: %w", path, err)
	}

	// Check again: another mount may have taken the path meanwhile.
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkMountPath(path); err != nil {
		m.backend.Cleanup(context.Background())
		return fmt.Errorf("mount kv at %q: %w", path, err)
	}

	s.mounts[path] = m
	return nil
}

// checkMountPath returns an error when path is empty, reserved or inside or
// around another mount, with Vault's wording. The caller holds s.mu.
func (s *Server) checkMountPath(path string) error {
	if path == "/" {
		return fmt.Errorf("the path is empty")
	}

	for _, r := range reservedMounts {
		if strings.HasPrefix(path, r) {
			return fmt.Errorf("cannot mount under %q: the prefix is reserved", r)
		}
	}

	for other := range s.mounts {
		if strings.HasPrefix(path, other) || strings.HasPrefix(other, path) {
			return fmt.Errorf("path is already in use at %s", other)
		}
	}

	return nil
}

// newKVMount starts Vault's KV engine on fresh in-memory storage.
func (s *Server) newKVMount(path string, version int) (*kvMount, error) {
	m := &kvMount{
		path:     path,
		version:  version,
		uuid:     newUUID(),
		accessor: "kv_" + strings.ToLower(randomBase62(8)),
		storage:  &logical.InmemStorage{},
	}

	ctx := context.Background()
	backend, err := kv.Factory(ctx, &logical.BackendConfig{
		StorageView: m.storage,
		Logger:      s.kvLogger.Named(trimSlashes(path)),
		System: &logical.StaticSystemView{
			DefaultLeaseTTLVal: defaultTTL,
			MaxLeaseTTLVal:     defaultTTL,
			VersionString:      Version,
		},
		BackendUUID: m.uuid,
		Config:      map[string]string{"version": strconv.Itoa(version)},
	})
	if err != nil {
		return nil, fmt.Errorf("start kv engine: %w", err)
	}

	init := &logical.InitializationRequest{Storage: m.storage}
	if err := backend.Initialize(ctx, init); err != nil {
		return nil, fmt.Errorf("initialize kv engine: %w", err)
	}

	m.backend = backend
	return m, nil
}

// kvMountFor returns the mount serving an API path, or nil.
func (s *Server) kvMountFor(path string) *kvMount {
	s.mu.Lock()
	defer s.mu.Unlock()

	for prefix, m := range s.mounts {
		if strings.HasPrefix(path, prefix) || path+"/" == prefix {
			return m
		}
	}
	return nil
}

// mountByName returns the mount at path ("secret" or "secret/").
func (s *Server) mountByName(path string) (*kvMount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	m := s.mounts[trimSlashes(path)+"/"]
	if m == nil {
		return nil, fmt.Errorf("no kv mount at %q; mount it with MountKV", path)
	}
	return m, nil
}

// mountInfo describes a mount as sys/mounts and sys/internal/ui/mounts do.
func (m *kvMount) mountInfo() map[string]any {
	ttl := int64(defaultTTL.Seconds())
	return map[string]any{
		"type":                    "kv",
		"description":             "",
		"accessor":                m.accessor,
		"local":                   false,
		"seal_wrap":               false,
		"external_entropy_access": false,
		"options":                 map[string]any{"version": strconv.Itoa(m.version)},
		"uuid":                    m.uuid,
		"plugin_version":          "",
		"running_plugin_version":  kvPluginVersion,
		"running_sha256":          "",
		"config": map[string]any{
			"default_lease_ttl": ttl,
			"max_lease_ttl":     ttl,
			"force_no_cache":    false,
		},
	}
}

// serveUIMount answers sys/internal/ui/mounts/<path>, which the `vault kv`
// command reads to learn a mount's path and KV version. As in Vault it
// needs a valid token with some access under the mount; otherwise, and for
// an unknown mount, it answers 403 with the preflight message.
func (s *Server) serveUIMount(w http.ResponseWriter, req *apiRequest) {
	if req.op != logical.ReadOperation {
		respondError(w, http.StatusMethodNotAllowed, logical.ErrUnsupportedOperation)
		return
	}

	te, ok := s.authenticate(w, req)
	if !ok {
		return
	}

	path := strings.TrimPrefix(req.path, "sys/internal/ui/mounts/")
	m := s.kvMountFor(path)

	s.mu.Lock()
	access := m != nil && s.hasMountAccess(te, m.path)
	s.mu.Unlock()

	if !access {
		msg := fmt.Sprintf("preflight capability check returned 403, please ensure "+
			"client's policies grant access to path %q", trimSlashes(path)+"/")
		respondMessage(w, http.StatusForbidden, msg)
		return
	}

	data := m.mountInfo()
	data["path"] = m.path
	respondLogical(w, logicalRequest(req), &logical.Response{Data: data}, nil, "system")
}
