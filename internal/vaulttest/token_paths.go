package vaulttest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// tokenMountType is the mount_type of token store answers.
const tokenMountType = "token"

// serveTokenPath serves the token store paths the server knows.
func (s *Server) serveTokenPath(w http.ResponseWriter, req *apiRequest) {
	handlers := map[string]struct {
		op    logical.Operation
		serve func(http.ResponseWriter, *apiRequest, *tokenEntry)
	}{
		"auth/token/lookup-self": {logical.ReadOperation, s.serveLookupSelf},
		"auth/token/renew-self":  {logical.UpdateOperation, s.serveRenewSelf},
		"auth/token/revoke-self": {logical.UpdateOperation, s.serveRevokeSelf},
		"auth/token/create":      {logical.UpdateOperation, s.serveCreateToken},
	}

	h, ok := handlers[req.path]
	if !ok {
		s.serveMountedPath(w, req)
		return
	}

	if req.op != h.op {
		if _, ok := s.authorize(w, req, req.op); ok {
			respondError(w, http.StatusMethodNotAllowed, logical.ErrUnsupportedOperation)
		}
		return
	}

	te, ok := s.authorize(w, req, h.op)
	if ok {
		h.serve(w, req, te)
	}
}

// serveLookupSelf answers auth/token/lookup-self with the token's data.
func (s *Server) serveLookupSelf(w http.ResponseWriter, req *apiRequest, te *tokenEntry) {
	s.mu.Lock()
	data := s.lookupData(te)
	s.mu.Unlock()

	resp := &logical.Response{Data: data}
	respondLogical(w, logicalRequest(req), resp, nil, tokenMountType)
}

// lookupData returns the fields Vault reports for a token. The caller
// holds s.mu.
func (s *Server) lookupData(te *tokenEntry) map[string]any {
	data := map[string]any{
		"id":               te.id,
		"accessor":         te.accessor,
		"policies":         slices.Clone(te.policies),
		"path":             te.path,
		"meta":             te.meta,
		"display_name":     te.displayName,
		"num_uses":         te.numUses,
		"orphan":           true,
		"creation_time":    te.issued.Unix(),
		"creation_ttl":     int64(te.creationTTL.Seconds()),
		"expire_time":      nil,
		"ttl":              int64(0),
		"explicit_max_ttl": int64(0),
		"entity_id":        "",
		"type":             "service",
		"renewable":        false,
		"issue_time":       te.issued,
	}

	if te.maxTTL > 0 && te.maxTTL < defaultTTL {
		data["explicit_max_ttl"] = int64(te.maxTTL.Seconds())
	}
	if !te.lastRenewal.IsZero() {
		data["last_renewal_time"] = te.lastRenewal.Unix()
		data["last_renewal"] = te.lastRenewal
	}
	if !te.expires.IsZero() {
		data["expire_time"] = te.expires
		data["ttl"] = int64(te.expires.Sub(s.clock).Round(time.Second).Seconds())
		data["renewable"] = te.renewable
	}

	return data
}

// serveRenewSelf extends the token by the requested increment (default:
// its creation TTL), capped at its maximum TTL with Vault's warning.
func (s *Server) serveRenewSelf(w http.ResponseWriter, req *apiRequest, te *tokenEntry) {
	increment, err := durationField(req.data, "increment")
	if err != nil {
		respondError(w, http.StatusBadRequest, err)
		return
	}

	s.mu.Lock()
	resp, err := s.renew(te, increment)
	s.mu.Unlock()

	respondLogical(w, logicalRequest(req), resp, err, tokenMountType)
}

// renew moves the token's expiry. The caller holds s.mu.
func (s *Server) renew(te *tokenEntry, increment time.Duration) (*logical.Response, error) {
	if !te.renewable || te.expires.IsZero() {
		return logical.ErrorResponse(msgNotRenewable), logical.ErrInvalidRequest
	}

	ttl := te.creationTTL
	if increment > 0 {
		ttl = increment
	}

	var warnings []string
	left := te.issued.Add(te.maxTTL).Sub(s.clock)
	if ttl > left {
		warnings = append(warnings, fmt.Sprintf("TTL of %q exceeded the effective max_ttl "+
			"of %q; TTL value is capped accordingly", ttl, left))
		ttl = left
	}

	te.expires = s.clock.Add(ttl)
	te.lastRenewal = s.clock

	resp := s.authResponse(te, ttl)
	resp.Warnings = warnings
	return resp, nil
}

// serveRevokeSelf revokes the request's token.
func (s *Server) serveRevokeSelf(w http.ResponseWriter, _ *apiRequest, te *tokenEntry) {
	s.RevokeToken(te.id)
	w.WriteHeader(http.StatusNoContent)
}

// serveCreateToken creates a token from Vault's auth/token/create fields:
// policies, ttl, explicit_max_ttl, renewable (default true), num_uses and
// meta. A token without root may only give policies it has itself.
func (s *Server) serveCreateToken(w http.ResponseWriter, req *apiRequest, parent *tokenEntry) {
	opts, err := createTokenOptions(req.data)
	if err != nil {
		respondError(w, http.StatusBadRequest, err)
		return
	}

	s.mu.Lock()
	if !parent.isRoot() && !subset(tokenPolicies(opts.Policies), parent.policies) {
		s.mu.Unlock()
		respondMessage(w, http.StatusBadRequest, "child policies must be subset of parent")
		return
	}

	te := s.newToken(opts, "auth/token/create", "token", stringMap(req.data["meta"]))
	resp := s.authResponse(te, te.creationTTL)
	s.mu.Unlock()

	respondLogical(w, logicalRequest(req), resp, nil, tokenMountType)
}

// createTokenOptions reads the auth/token/create body.
func createTokenOptions(data map[string]any) (TokenOptions, error) {
	opts := TokenOptions{Renewable: true}

	var err error
	if opts.Policies, err = parseutil.ParseCommaStringSlice(data["policies"]); err != nil {
		return opts, fmt.Errorf("policies: %w", err)
	}
	if opts.TTL, err = durationField(data, "ttl"); err != nil {
		return opts, err
	}
	if opts.MaxTTL, err = durationField(data, "explicit_max_ttl"); err != nil {
		return opts, err
	}
	if raw, ok := data["renewable"]; ok {
		if opts.Renewable, err = parseutil.ParseBool(raw); err != nil {
			return opts, fmt.Errorf("renewable: %w", err)
		}
	}
	if raw, ok := data["num_uses"]; ok {
		if opts.NumUses, err = parseutil.SafeParseInt(raw); err != nil {
			return opts, fmt.Errorf("num_uses: %w", err)
		}
	}

	return opts, nil
}

// durationField reads a duration given as seconds or a Go duration string;
// a missing field is 0.
func durationField(data map[string]any, key string) (time.Duration, error) {
	raw, ok := data[key]
	if !ok || raw == nil {
		return 0, nil
	}

	d, err := parseutil.ParseDurationSecond(raw)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}

	return true
}

// logicalRequest returns the logical request the response helpers need.
func logicalRequest(req *apiRequest) *logical.Request {
	return &logical.Request{ID: req.id, Operation: req.op, Path: req.path, Data: req.data}
}

// stringMap converts a JSON object of strings, such as a token's meta, to
// a map; other values are skipped.
func stringMap(raw any) map[string]string {
	in, ok := raw.(map[string]any)
	if !ok {
		return nil
	}

	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
