package vaulttest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"
)

// Auth method names, as in sys/auth.
const (
	methodAppRole    = "approle"
	methodKubernetes = "kubernetes"
)

// appRole is one AppRole role.
type appRole struct {
	name      string
	roleID    string
	secretIDs map[string]bool
	token     TokenOptions
}

// kubeRole is one Kubernetes auth role.
type kubeRole struct {
	name  string
	jwt   string
	token TokenOptions
}

// AddAppRole creates or replaces an AppRole role: a login with roleID and
// secretID (or a secret ID from WrapSecretID) gets a token made from token.
// Secret IDs may be used any number of times, as by default in Vault.
func (s *Server) AddAppRole(role, roleID, secretID string, token TokenOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.appRoles[role] = &appRole{
		name:      role,
		roleID:    roleID,
		secretIDs: map[string]bool{secretID: true},
		token:     token,
	}
}

// AddKubernetesRole creates or replaces a Kubernetes auth role: a login
// with role and exactly this jwt gets a token made from token. The JWT is
// compared as an opaque string; its signature and claims are not checked.
func (s *Server) AddKubernetesRole(role, jwt string, token TokenOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kubeRoles[role] = &kubeRole{name: role, jwt: jwt, token: token}
}

// MountAuth serves an auth method at auth/<path>/login in addition to the
// default mounts "approle" and "kubernetes"; method is "approle" or
// "kubernetes". Roles are shared by every mount of a method.
func (s *Server) MountAuth(path, method string) error {
	if method != methodAppRole && method != methodKubernetes {
		return fmt.Errorf("mount auth %q: method %q is not \"approle\" or \"kubernetes\"",
			path, method)
	}

	path = trimSlashes(path)
	if path == "" || path == "token" {
		return fmt.Errorf("mount auth %q: the path is empty or reserved", path)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if _, ok := s.authMounts[path+"/"]; ok {
		return fmt.Errorf("mount auth %q: path is already in use at auth/%s/", path, path)
	}
	s.authMounts[path+"/"] = method
	return nil
}

// loginMethod returns the auth method when path is auth/<mount>/login.
func (s *Server) loginMethod(path string) string {
	rest, ok := strings.CutPrefix(path, "auth/")
	if !ok {
		return ""
	}

	mount, ok := strings.CutSuffix(rest, "login")
	if !ok {
		return ""
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authMounts[mount]
}

// serveLogin answers a login: no token needed, and the X-Vault-Token header
// is ignored as Vault does for login paths.
func (s *Server) serveLogin(w http.ResponseWriter, req *apiRequest) {
	if req.op != logical.UpdateOperation {
		respondError(w, http.StatusMethodNotAllowed, logical.ErrUnsupportedOperation)
		return
	}

	method := s.loginMethod(req.path)

	s.mu.Lock()
	var resp *logical.Response
	var err error
	if method == methodAppRole {
		resp, err = s.appRoleLogin(req.data)
	} else {
		resp, err = s.kubernetesLogin(req.data)
	}
	if err == nil && !resp.IsError() {
		s.logins++
	}
	s.mu.Unlock()

	respondLogical(w, logicalRequest(req), resp, err, method)
}

// appRoleLogin checks role_id and secret_id and answers with Vault's
// AppRole errors. The caller holds s.mu.
func (s *Server) appRoleLogin(data map[string]any) (*logical.Response, error) {
	roleID, _ := data["role_id"].(string)
	if roleID == "" {
		return logical.ErrorResponse("missing role_id"), nil
	}

	var role *appRole
	for _, r := range s.appRoles {
		if r.roleID == roleID {
			role = r
		}
	}
	if role == nil {
		return logical.ErrorResponse("invalid role or secret ID"), nil
	}

	secretID, _ := data["secret_id"].(string)
	if secretID == "" {
		return logical.ErrorResponse("missing secret_id"), nil
	}
	if !role.secretIDs[secretID] {
		return logical.ErrorResponse("invalid role or secret ID"), logical.ErrInvalidCredentials
	}

	meta := map[string]string{"role_name": role.name}
	te := s.newToken(role.token, "auth/approle/login", "approle", meta)
	return s.authResponse(te, te.creationTTL), nil
}

// kubernetesLogin checks role and jwt and answers with the Kubernetes auth
// method's errors. The caller holds s.mu.
func (s *Server) kubernetesLogin(data map[string]any) (*logical.Response, error) {
	name, _ := data["role"].(string)
	if name == "" {
		return logical.ErrorResponse("missing role"), nil
	}

	jwt, _ := data["jwt"].(string)
	if jwt == "" {
		return logical.ErrorResponse("missing jwt"), nil
	}

	role := s.kubeRoles[name]
	if role == nil {
		return logical.ErrorResponse(fmt.Sprintf("invalid role name %q", name)), nil
	}
	if role.jwt != jwt {
		return nil, logical.ErrPermissionDenied
	}

	meta := map[string]string{"role": role.name}
	te := s.newToken(role.token, "auth/kubernetes/login", "kubernetes", meta)
	return s.authResponse(te, te.creationTTL), nil
}
