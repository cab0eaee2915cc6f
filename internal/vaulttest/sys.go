package vaulttest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"
)

// clusterName is the cluster name the server reports.
const clusterName = "vaulttest-cluster"

// serveHealth answers sys/health without a token: 200 when unsealed, 503
// when sealed, each replaceable by the activecode and sealedcode query
// parameters as in Vault (api.Client asks for 299 instead of 503).
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		respondError(w, http.StatusMethodNotAllowed, nil)
		return
	}

	s.mu.Lock()
	sealed, now := s.sealed, s.clock
	s.mu.Unlock()

	status := statusParam(r, "activecode", http.StatusOK)
	if sealed {
		status = statusParam(r, "sealedcode", http.StatusServiceUnavailable)
	}

	body := map[string]any{
		"initialized":                  true,
		"sealed":                       sealed,
		"standby":                      false,
		"performance_standby":          false,
		"replication_performance_mode": "disabled",
		"replication_dr_mode":          "disabled",
		"server_time_utc":              now.Unix(),
		"version":                      Version,
		"enterprise":                   false,
		"echo_duration_ms":             0,
		"clock_skew_ms":                0,
		"removed_from_cluster":         false,
	}
	if !sealed {
		body["cluster_name"] = clusterName
		body["cluster_id"] = s.clusterID
	}

	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// statusParam reads a status code query parameter, or returns def.
func statusParam(r *http.Request, name string, def int) int {
	code, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || code < 100 || code > 599 {
		return def
	}
	return code
}

// serveSealStatus answers sys/seal-status without a token, always 200.
func (s *Server) serveSealStatus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		respondError(w, http.StatusMethodNotAllowed, nil)
		return
	}

	s.mu.Lock()
	sealed := s.sealed
	s.mu.Unlock()

	body := map[string]any{
		"type":          "shamir",
		"initialized":   true,
		"sealed":        sealed,
		"t":             1,
		"n":             1,
		"progress":      0,
		"nonce":         "",
		"version":       Version,
		"build_date":    "",
		"migration":     false,
		"recovery_seal": false,
		"storage_type":  "inmem",
	}
	if !sealed {
		body["cluster_name"] = clusterName
		body["cluster_id"] = s.clusterID
	}

	writeJSON(w, http.StatusOK, body)
}

// serveMounts answers sys/mounts (GET: list the KV mounts) and
// sys/mounts/<path> (GET: describe; POST: enable a kv or kv-v2 engine).
func (s *Server) serveMounts(w http.ResponseWriter, req *apiRequest) {
	if _, ok := s.authorize(w, req, req.op); !ok {
		return
	}

	path := trimSlashes(strings.TrimPrefix(req.path, "sys/mounts"))
	switch {
	case path == "" && req.op == logical.ReadOperation:
		s.listMounts(w, req)
	case path != "" && req.op == logical.ReadOperation:
		s.readMount(w, req, path)
	case path != "" && req.op == logical.UpdateOperation:
		s.enableMount(w, req, path)
	default:
		respondError(w, http.StatusMethodNotAllowed, logical.ErrUnsupportedOperation)
	}
}

// listMounts writes the mount table under "data" and, like Vault's sys
// paths, also at the top level of the response.
func (s *Server) listMounts(w http.ResponseWriter, req *apiRequest) {
	data := map[string]any{}
	for path, m := range s.lockedMounts() {
		data[path] = m.mountInfo()
	}

	out := logical.LogicalResponseToHTTPResponse(&logical.Response{Data: data})
	out.RequestID = req.id
	out.MountType = "system"
	body, err := json.Marshal(logical.HTTPSysInjector{Response: out})
	if err != nil {
		respondError(w, http.StatusInternalServerError, fmt.Errorf("encode mounts: %w", err))
		return
	}

	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// readMount describes one mount.
func (s *Server) readMount(w http.ResponseWriter, req *apiRequest, path string) {
	m := s.lockedMounts()[path+"/"]
	if m == nil {
		msg := fmt.Sprintf("No secret engine mount at %s/", path)
		respondMessage(w, http.StatusBadRequest, msg)
		return
	}

	resp := &logical.Response{Data: m.mountInfo()}
	respondLogical(w, logicalRequest(req), resp, nil, "system")
}

// enableMount enables a KV engine: type "kv" with options.version "1" or
// "2" (default "1"), or type "kv-v2".
func (s *Server) enableMount(w http.ResponseWriter, req *apiRequest, path string) {
	kind, _ := req.data["type"].(string)
	version := 1
	if opts, ok := req.data["options"].(map[string]any); ok {
		if v, ok := opts["version"]; ok {
			version, _ = strconv.Atoi(fmt.Sprint(v))
		}
	}

	switch kind {
	case "kv":
	case "kv-v2":
		version = 2
	default:
		msg := fmt.Sprintf("plugin not found in the catalog: %s (vaulttest serves only kv)", kind)
		respondMessage(w, http.StatusBadRequest, msg)
		return
	}

	if err := s.MountKV(path, version); err != nil {
		respondError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// lockedMounts returns a copy of the mount table.
func (s *Server) lockedMounts() map[string]*kvMount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.mounts)
}
