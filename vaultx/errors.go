package vaultx

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/vault/api"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Sentinel errors callers branch on; every error of this package that
// matches one also names the Vault path and the HTTP status.
var (
	// ErrSealed reports that Vault answered 503: sealed or not serving.
	ErrSealed = errors.New("vault is sealed or unavailable")
	// ErrPermissionDenied reports that Vault answered 403.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrNotFound reports a secret that does not exist or whose current
	// version is deleted.
	ErrNotFound = errors.New("not found")
	// ErrCASMismatch reports a KV v2 write whose check-and-set version was
	// no longer the current one because another writer got there first.
	ErrCASMismatch = errors.New("check-and-set version mismatch")
	// ErrNotLoggedIn reports a request made before the first login.
	ErrNotLoggedIn = errors.New("not logged in to vault yet")
)

// casMismatchText is how Vault's KV v2 engine words a check-and-set
// conflict in its HTTP 400 answer.
const casMismatchText = "check-and-set parameter did not match the current version"

// Error is a Vault request that failed: what was attempted on which path,
// and Vault's answer. It never holds a token or a secret value.
type Error struct {
	// Op says what was attempted, such as "read vault secret".
	Op string
	// Path is the secret as configured (mount/path) or the API path.
	Path string
	// Status is the HTTP status Vault answered; 0 when no answer came.
	Status int
	// Detail is Vault's own explanation with secrets removed.
	Detail string
	// Err is the sentinel matching the status, or the transport error.
	Err error
}

// Error says what failed, where, and what Vault answered.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err)
	}
	return fmt.Sprintf("%s %s: vault answered HTTP %d: %s", e.Op, e.Path, e.Status, e.Detail)
}

// Unwrap gives the sentinel or transport error for errors.Is.
func (e *Error) Unwrap() error {
	return e.Err
}

// StatusCode returns the HTTP status of the Vault answer behind err, or 0
// when err carries none.
func StatusCode(err error) int {
	var verr *Error
	if errors.As(err, &verr) {
		return verr.Status
	}

	var rerr *api.ResponseError
	if errors.As(err, &rerr) {
		return rerr.StatusCode
	}
	return 0
}

// newError turns an error of the Vault library into an *Error naming op
// and path, with the sentinel matching Vault's answer. Secret values known
// to r are removed from every text it keeps.
func newError(op, path string, err error, r *redactor) *Error {
	var rerr *api.ResponseError
	if !errors.As(err, &rerr) {
		return &Error{Op: op, Path: path, Err: redactedError{text: r.scrub(err.Error()), err: err}}
	}

	// Vault's messages may span lines ("1 error occurred:\n\t* ..."); one
	// line reads better in logs and tables.
	detail := strings.Join(strings.Fields(strings.Join(rerr.Errors, "; ")), " ")
	if detail == "" {
		detail = http.StatusText(rerr.StatusCode)
	}
	return &Error{
		Op:     op,
		Path:   path,
		Status: rerr.StatusCode,
		Detail: r.scrub(detail),
		Err:    sentinelFor(rerr.StatusCode, detail),
	}
}

// sentinelFor picks the sentinel error for a Vault answer, or nil.
func sentinelFor(status int, detail string) error {
	switch {
	case status == http.StatusServiceUnavailable:
		return ErrSealed
	case status == http.StatusForbidden:
		return ErrPermissionDenied
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusBadRequest && strings.Contains(detail, casMismatchText):
		return ErrCASMismatch
	}
	return nil
}

// redactedError keeps an underlying error for errors.Is while printing a
// text with secrets removed.
type redactedError struct {
	text string
	err  error
}

func (e redactedError) Error() string { return e.text }

func (e redactedError) Unwrap() error { return e.err }

// redactor remembers the secret values this client handles (its token,
// the AppRole secret ID, a wrapping token, a Kubernetes JWT) and removes
// them from texts before those reach an error or a log line.
type redactor struct {
	mu     sync.Mutex
	values map[string][]secret.String
}

// redactKeep is how many values of each kind are remembered: the current
// one and the one before, which may still be valid for a while.
const redactKeep = 2

func newRedactor() *redactor {
	return &redactor{values: make(map[string][]secret.String)}
}

// remember records the latest value of one kind of secret.
func (r *redactor) remember(kind string, value secret.String) {
	if value.Empty() {
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	kept := append(r.values[kind], value)
	if len(kept) > redactKeep {
		kept = kept[len(kept)-redactKeep:]
	}
	r.values[kind] = kept
}

// scrub replaces every remembered secret in text with the redaction marker.
func (r *redactor) scrub(text string) string {
	r.mu.Lock()
	defer r.mu.Unlock()

	for _, kept := range r.values {
		for _, v := range kept {
			text = strings.ReplaceAll(text, v.Reveal(), secret.Redacted)
			if secret.Quotes(text, v) {
				return "[withheld: the text contains part of a secret]"
			}
		}
	}
	return text
}
