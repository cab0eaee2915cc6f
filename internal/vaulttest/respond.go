package vaulttest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/logical"
)

// Error texts as Vault writes them in the errors envelope.
const (
	msgSealed = "Vault is sealed"
	// msgNotRenewable is Vault's answer to renewing a non-renewable token.
	msgNotRenewable = "lease is not renewable"
	// msgBadWrapping is Vault's answer to an unknown or used wrapping token.
	msgBadWrapping = "wrapping token is not valid or does not exist"
)

// errNoToken is Vault's error for a request without a token.
var errNoToken = logical.ErrPermissionDenied

// errInvalidToken is Vault's error for an unknown, expired or used-up
// token: "2 errors occurred: permission denied, invalid token".
var errInvalidToken = multierror.Append(logical.ErrPermissionDenied, logical.ErrInvalidToken)

// errDenied is Vault's error when the token's policies do not allow the
// request: "1 error occurred: permission denied".
var errDenied = multierror.Append(nil, logical.ErrPermissionDenied)

// errorBody is Vault's error envelope.
type errorBody struct {
	Errors []string `json:"errors"`
}

// respondError writes {"errors":[err]} with status; a nil err gives
// {"errors":[]}, as Vault answers a missing secret.
func respondError(w http.ResponseWriter, status int, err error) {
	body := errorBody{Errors: []string{}}
	if err != nil {
		body.Errors = append(body.Errors, err.Error())
	}

	writeJSON(w, status, body)
}

// respondMessage writes {"errors":[msg]} with status.
func respondMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Errors: []string{msg}})
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"errors":["encode response: ` + err.Error() + `"]}`)
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// respondLogical turns a backend's answer into Vault's HTTP answer: the
// error envelope with Vault's status mapping, 204 for no response, the
// backend's own status for raw responses, else 200 with the full envelope.
func respondLogical(w http.ResponseWriter, req *logical.Request, resp *logical.Response,
	err error, mountType string,
) {
	status, err := logical.RespondErrorCommon(req, resp, err)
	if status != 0 {
		respondError(w, status, err)
		return
	}

	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}

	if _, ok := resp.Data[logical.HTTPStatusCode]; ok {
		respondRaw(w, resp)
		return
	}

	out := logical.LogicalResponseToHTTPResponse(resp)
	out.RequestID = req.ID
	out.MountType = mountType
	writeJSON(w, http.StatusOK, out)
}

// respondRaw writes a response whose backend chose the status and body,
// such as the KV engine's 404 with metadata for a deleted version.
func respondRaw(w http.ResponseWriter, resp *logical.Response) {
	status, _ := resp.Data[logical.HTTPStatusCode].(int)
	if status == 0 {
		status = http.StatusOK
	}

	if ct, ok := resp.Data[logical.HTTPContentType].(string); ok {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)

	switch body := resp.Data[logical.HTTPRawBody].(type) {
	case string:
		_, _ = w.Write([]byte(body))
	case []byte:
		_, _ = w.Write(body)
	}
}

// injectedMessage is the error text of an injected failure with status.
func injectedMessage(status int) error {
	switch status {
	case http.StatusForbidden:
		return logical.ErrPermissionDenied
	case http.StatusNotFound:
		return nil
	}

	return errors.New(strings.ToLower(http.StatusText(status)))
}

// newUUID returns a random UUID, as Vault uses for request IDs.
func newUUID() string {
	id, err := uuid.GenerateUUID()
	if err != nil {
		panic(fmt.Sprintf("vaulttest: generate uuid: %v", err))
	}

	return id
}

// newTokenID returns a service token in Vault's current format: "hvs."
// followed by random base62 characters.
func newTokenID() string {
	return "hvs." + randomBase62(24)
}

// randomBase62 returns n random characters from [0-9A-Za-z].
func randomBase62(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("vaulttest: read random bytes: %v", err))
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}

	return string(buf)
}

// trimSlashes removes leading and trailing slashes.
func trimSlashes(s string) string {
	return strings.Trim(s, "/")
}
