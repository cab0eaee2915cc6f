package vaulttest

import (
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TokenOptions describes a token to create, directly or by a login.
type TokenOptions struct {
	// Policies are the token's policies; "default" is always added.
	Policies []string
	// TTL is the token's lifetime and the TTL a renewal without increment
	// grants; 0 means Vault's default of 768h.
	TTL time.Duration
	// Renewable allows renew-self. Unlike Vault, the zero value is false.
	Renewable bool
	// MaxTTL caps the lifetime from creation, renewals included (Vault's
	// explicit_max_ttl); 0 means the system maximum of 768h.
	MaxTTL time.Duration
	// NumUses limits the requests the token may make; 0 means unlimited.
	NumUses int
	// DenyRenewSelf makes renew-self answer 403 permission denied, as with a
	// policy that lacks auth/token/renew-self.
	DenyRenewSelf bool
}

// tokenEntry is one live token.
type tokenEntry struct {
	id            string
	accessor      string
	policies      []string
	path          string
	displayName   string
	meta          map[string]string
	creationTTL   time.Duration
	maxTTL        time.Duration
	renewable     bool
	numUses       int
	issued        time.Time
	expires       time.Time // zero: never
	lastRenewal   time.Time
	denyRenewSelf bool
}

// isRoot reports whether the token has the root policy.
func (te *tokenEntry) isRoot() bool {
	return slices.Contains(te.policies, "root")
}

// CreateToken creates a token as auth/token/create would and returns it.
func (s *Server) CreateToken(opts TokenOptions) string {
	s.mu.Lock()
	defer s.mu.Unlock()

	te := s.newToken(opts, "auth/token/create", "token", nil)
	return te.id
}

// RevokeToken revokes a token at once, as auth/token/revoke does.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// newToken stores a new token. The caller holds s.mu.
func (s *Server) newToken(opts TokenOptions, path, displayName string,
	meta map[string]string,
) *tokenEntry {
	maxTTL := opts.MaxTTL
	if maxTTL <= 0 || maxTTL > defaultTTL {
		maxTTL = defaultTTL
	}

	ttl := opts.TTL
	if ttl <= 0 {
		ttl = defaultTTL
	}
	ttl = min(ttl, maxTTL)

	te := &tokenEntry{
		id:            newTokenID(),
		accessor:      randomBase62(24),
		policies:      tokenPolicies(opts.Policies),
		path:          path,
		displayName:   displayName,
		meta:          meta,
		creationTTL:   ttl,
		maxTTL:        maxTTL,
		renewable:     opts.Renewable,
		numUses:       opts.NumUses,
		issued:        s.clock,
		expires:       s.clock.Add(ttl),
		denyRenewSelf: opts.DenyRenewSelf,
	}
	s.tokens[te.id] = te
	return te
}

// rootEntry returns the root token's entry: root policy, no expiry.
func (s *Server) rootEntry() *tokenEntry {
	return &tokenEntry{
		id:          s.rootToken,
		accessor:    randomBase62(24),
		policies:    []string{"root"},
		path:        "auth/token/root",
		displayName: "root",
		issued:      s.clock,
	}
}

// tokenPolicies returns the sorted, unique policies plus "default".
func tokenPolicies(policies []string) []string {
	out := append(slices.Clone(policies), "default")
	slices.Sort(out)
	return slices.Compact(out)
}

// lookupToken returns the live token id, dropping it when expired. The
// caller holds s.mu.
func (s *Server) lookupToken(id string) *tokenEntry {
	te := s.tokens[id]
	if te == nil {
		return nil
	}

	if !te.expires.IsZero() && !s.clock.Before(te.expires) {
		delete(s.tokens, id)
		return nil
	}

	return te
}

// authenticate finds the request's token and uses it once, or answers 403
// like Vault: "permission denied" without a token, "permission denied" and
// "invalid token" for an unknown, expired or used-up one.
func (s *Server) authenticate(w http.ResponseWriter, req *apiRequest) (*tokenEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if req.token == "" {
		respondError(w, http.StatusForbidden, errNoToken)
		return nil, false
	}

	te := s.lookupToken(req.token)
	if te == nil {
		respondError(w, http.StatusForbidden, errInvalidToken)
		return nil, false
	}

	if te.numUses > 0 {
		te.numUses--
		if te.numUses == 0 {
			delete(s.tokens, te.id)
		}
	}

	return te, true
}

// checkACL answers 403 "permission denied" unless the token may run op on
// path.
func (s *Server) checkACL(w http.ResponseWriter, te *tokenEntry, path string,
	op logical.Operation,
) bool {
	s.mu.Lock()
	ok := s.allowed(te, path, op)
	s.mu.Unlock()

	if !ok {
		respondError(w, http.StatusForbidden, errDenied)
	}
	return ok
}

// authorize authenticates the request and checks op on its path.
func (s *Server) authorize(w http.ResponseWriter, req *apiRequest,
	op logical.Operation,
) (*tokenEntry, bool) {
	te, ok := s.authenticate(w, req)
	if !ok || !s.checkACL(w, te, req.path, op) {
		return nil, false
	}

	return te, true
}

// authResponse is the auth block Vault returns for a token: on login,
// token creation and renewal. The caller holds s.mu.
func (s *Server) authResponse(te *tokenEntry, ttl time.Duration) *logical.Response {
	return &logical.Response{Auth: &logical.Auth{
		ClientToken:   te.id,
		Accessor:      te.accessor,
		Policies:      slices.Clone(te.policies),
		TokenPolicies: slices.Clone(te.policies),
		Metadata:      te.meta,
		LeaseOptions:  logical.LeaseOptions{TTL: ttl, Renewable: te.renewable},
		TokenType:     logical.TokenTypeService,
		Orphan:        true,
		NumUses:       te.numUses,
	}}
}
