package vaulttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// defaultWrapTTL is the wrapping TTL WrapSecretID uses for ttl 0.
const defaultWrapTTL = 5 * time.Minute

// wrappedResponse is a response stored behind a single-use wrapping token.
type wrappedResponse struct {
	body    []byte
	expires time.Time
}

// WrapSecretID creates a new secret ID for the AppRole role and returns a
// single-use wrapping token for it, as
// `vault write -wrap-ttl=<ttl> -f auth/approle/role/<role>/secret-id` does.
// sys/wrapping/unwrap answers the wrapped response once, until ttl (0:
// 5m) passes on the server clock. An unknown role panics.
func (s *Server) WrapSecretID(role string, ttl time.Duration) string {
	if ttl <= 0 {
		ttl = defaultWrapTTL
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	r := s.appRoles[role]
	if r == nil {
		panic(fmt.Sprintf("vaulttest: WrapSecretID(%q): no such AppRole role; "+
			"call AddAppRole first", role))
	}

	secretID := newUUID()
	r.secretIDs[secretID] = true

	wrapped := logical.HTTPResponse{
		RequestID: newUUID(),
		Data: map[string]any{
			"secret_id":          secretID,
			"secret_id_accessor": newUUID(),
			"secret_id_ttl":      0,
			"secret_id_num_uses": 0,
		},
		MountType: methodAppRole,
	}
	body, err := json.Marshal(wrapped)
	if err != nil {
		panic(fmt.Sprintf("vaulttest: WrapSecretID(%q): encode response: %v", role, err))
	}

	token := newTokenID()
	s.wraps[token] = &wrappedResponse{body: body, expires: s.clock.Add(ttl)}
	return token
}

// serveUnwrap answers sys/wrapping/unwrap. The wrapping token is the
// request's token, or the "token" field when the request's token is a
// normal one allowed to unwrap (the default policy allows it).
func (s *Server) serveUnwrap(w http.ResponseWriter, req *apiRequest) {
	if req.op != logical.UpdateOperation {
		respondError(w, http.StatusMethodNotAllowed, logical.ErrUnsupportedOperation)
		return
	}

	wrapping, _ := req.data["token"].(string)
	if wrapping == "" && req.token == "" {
		respondError(w, http.StatusForbidden, errNoToken)
		return
	}

	if wrapping == "" {
		wrapping = req.token
	} else if _, ok := s.authorize(w, req, logical.UpdateOperation); !ok {
		return
	}

	body, ok := s.takeWrapped(wrapping)
	if !ok {
		respondMessage(w, http.StatusBadRequest, msgBadWrapping)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// takeWrapped returns and forgets the response behind a live wrapping
// token.
func (s *Server) takeWrapped(token string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	wr := s.wraps[token]
	if wr == nil {
		return nil, false
	}

	delete(s.wraps, token)
	if !s.clock.Before(wr.expires) {
		return nil, false
	}
	return wr.body, true
}
