package vaulttest

import (
	"context"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"
)

// kvMountType is the mount_type of KV answers.
const kvMountType = "kv"

// serveKV forwards a request under a KV mount to Vault's KV engine the way
// Vault's core does: it checks the token, turns a write to a missing key
// into a create (so the ACL needs "create" there and "update" on existing
// keys), checks the ACL on the full API path (secret/data/x for KV v2) and
// writes the engine's answer with Vault's envelope and status codes.
func (s *Server) serveKV(w http.ResponseWriter, req *apiRequest, m *kvMount) {
	te, ok := s.authenticate(w, req)
	if !ok {
		return
	}

	lreq := s.kvRequest(req, m, te)
	ctx := req.http.Context()
	if lreq.Operation == logical.UpdateOperation {
		lreq.Operation = existenceOperation(ctx, m.backend, lreq)
	}

	if !s.checkACL(w, te, req.path, lreq.Operation) {
		return
	}

	resp, err := m.backend.HandleRequest(ctx, lreq)
	respondLogical(w, lreq, resp, err, kvMountType)
}

// kvRequest builds the engine's request: the path relative to the mount
// and the client's identity.
func (s *Server) kvRequest(req *apiRequest, m *kvMount, te *tokenEntry) *logical.Request {
	s.mu.Lock()
	displayName := te.displayName
	s.mu.Unlock()

	return &logical.Request{
		ID:          req.id,
		Operation:   req.op,
		Path:        strings.TrimPrefix(req.path, m.path),
		Data:        req.data,
		Storage:     m.storage,
		ClientToken: req.token,
		DisplayName: displayName,
		MountPoint:  m.path,
		MountType:   kvMountType,
		Connection:  &logical.Connection{RemoteAddr: req.http.RemoteAddr},
	}
}

// existenceOperation returns CreateOperation when the engine says the
// target of a write does not exist yet, else UpdateOperation; paths without
// an existence check and unknown paths stay updates, as in Vault.
func existenceOperation(ctx context.Context, b logical.Backend,
	req *logical.Request,
) logical.Operation {
	checked, exists, err := b.HandleExistenceCheck(ctx, req)
	if err == nil && checked && !exists {
		return logical.CreateOperation
	}

	return logical.UpdateOperation
}

// SetCASRequired sets cas_required in the configuration of the KV v2 mount:
// when true every write to it must carry options.cas.
func (s *Server) SetCASRequired(mount string, required bool) error {
	m, err := s.mountByName(mount)
	if err != nil {
		return err
	}
	if m.version != 2 {
		return errNotV2(m)
	}

	data := map[string]any{"cas_required": required}
	_, err = m.call(logical.UpdateOperation, "config", data)
	return err
}
