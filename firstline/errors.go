package firstline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The operations an Error can name.
const (
	OpLogIn   = "log in"
	OpRefresh = "refresh"
	OpRevoke  = "revoke"
	OpProbe   = "probe"
)

// Kind classifies what went wrong with a FIRST LINE request, so callers can
// decide whether to retry, re-login or give up.
type Kind int

// The kinds of failure. Each HTTP status maps to one kind; a request that
// got no usable answer is Transport or Ambiguous.
const (
	// KindBadCredentials is a 401: the name and password, or the presented
	// token, were refused.
	KindBadCredentials Kind = iota + 1
	// KindForbidden is a 403: the account's role may not call this.
	KindForbidden
	// KindNotFound is a 404.
	KindNotFound
	// KindMethodNotAllowed is a 405 that the POST fallback did not cure.
	KindMethodNotAllowed
	// KindValidation is a 422 or 400; Fields names the refused fields.
	KindValidation
	// KindRateLimited is a 429; RetryAfter says when to try again.
	KindRateLimited
	// KindServer is a 5xx, including 503 during maintenance.
	KindServer
	// KindTransport means the request never reached the server: the dial
	// was refused, the name did not resolve, the TLS handshake failed.
	KindTransport
	// KindAmbiguous means the request may have reached the server but no
	// usable answer came back: a timeout, reset or EOF after the request
	// was written, or a body cut short. The server may have acted.
	KindAmbiguous
	// KindBadResponse is an answer the client cannot use: a redirect, or a
	// 2xx that is HTML, empty, not JSON, or lacks a usable token.
	KindBadResponse
	// KindOther is any other status (406, 409, 410, ...).
	KindOther
)

var kindNames = map[Kind]string{
	KindBadCredentials:   "bad credentials",
	KindForbidden:        "forbidden",
	KindNotFound:         "not found",
	KindMethodNotAllowed: "method not allowed",
	KindValidation:       "validation failed",
	KindRateLimited:      "rate limited",
	KindServer:           "server error",
	KindTransport:        "transport error",
	KindAmbiguous:        "ambiguous, the server may have acted",
	KindBadResponse:      "unusable answer",
	KindOther:            "unexpected answer",
}

// String names the kind in a few words.
func (k Kind) String() string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return "kind " + strconv.Itoa(int(k))
}

// Error is a failed FIRST LINE request. It never holds a secret: Message
// is a short, sanitized text from the server, never the whole body.
type Error struct {
	Op         string        // OpLogIn, OpRefresh, OpRevoke or OpProbe
	Kind       Kind          // what went wrong
	Status     int           // HTTP status, 0 when no answer came
	Message    string        // short sanitized server message or description
	Fields     []string      // fields the server refused (KindValidation)
	RetryAfter time.Duration // from Retry-After (KindRateLimited, sometimes 503)
	Err        error         // underlying transport or decoding error, if any

	byToken bool // the request presented a token rather than credentials
}

// Error describes the failure, e.g. `log in: bad credentials (401): Unauthorized`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + ": " + e.describeKind())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (%d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: " + strings.Join(e.Fields, ", ") + ")")
	}
	if e.RetryAfter > 0 {
		b.WriteString("; retry after " + e.RetryAfter.String())
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// describeKind names the kind; a 401 on a request carrying a token means
// the token, not a password, was refused.
func (e *Error) describeKind() string {
	if e.Kind == KindBadCredentials && e.byToken {
		return "token rejected"
	}
	return e.Kind.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error {
	return e.Err
}

// KindOf returns the Kind of the first *Error in err's chain, or 0 when
// there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Retryable reports whether retrying later can help: rate limiting, a
// server error, a transport error or an ambiguous outcome.
func Retryable(err error) bool {
	switch KindOf(err) {
	case KindRateLimited, KindServer, KindTransport, KindAmbiguous:
		return true
	}
	return false
}

// TokenMayHaveChanged reports whether the server may have issued a new
// token, and so killed the old one, despite the error: an ambiguous
// outcome, or an unusable 2xx answer. A revoke counts too, since it may
// have killed the token; a probe never does.
func TokenMayHaveChanged(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Op == OpProbe {
		return false
	}
	switch {
	case e.Kind == KindAmbiguous:
		return true
	case e.Kind == KindBadResponse:
		return e.Status >= 200 && e.Status < 300
	}
	return false
}
