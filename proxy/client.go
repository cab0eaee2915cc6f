package proxy

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// ClientTokenHeader carries the shared secret of client_token_file. A
// consumer may instead send it as "Authorization: Bearer <secret>", so a
// client library that already sends a bearer token needs only its token
// and base URL changed.
const ClientTokenHeader = "X-Firstline-Proxy-Token"

// clientToken is the SHA-256 of the shared secret consumers must present;
// nil when none is configured.
type clientToken *[sha256.Size]byte

// loadClientToken reads client_token_file; "" means no client token.
func loadClientToken(path string) (clientToken, error) {
	if path == "" {
		return nil, nil
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client_token_file: %w", err)
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return nil, fmt.Errorf("read client_token_file %s: it is empty; put the shared "+
			"secret consumers must present in it", path)
	}
	sum := sha256.Sum256([]byte(value))
	return &sum, nil
}

// allows reports whether r presents the client token, comparing digests in
// constant time.
func allows(want clientToken, r *http.Request) bool {
	if want == nil {
		return true
	}

	presented := r.Header.Get(ClientTokenHeader)
	if presented == "" {
		presented = bearerToken(r.Header.Get("Authorization"))
	}
	if presented == "" {
		return false
	}
	sum := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// bearerToken returns the token of an "Authorization: Bearer" value.
func bearerToken(value string) string {
	scheme, token, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
