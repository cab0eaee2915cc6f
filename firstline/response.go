package firstline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

const (
	maxMessageRunes = 160
	maxFields       = 20
	// maxRetryAfter caps a server's Retry-After so a wild value cannot
	// overflow a duration or park an account for years.
	maxRetryAfter = 24 * time.Hour
)

// kindOfStatus maps a non-2xx status to its Kind.
func kindOfStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindBadCredentials
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusMethodNotAllowed:
		return KindMethodNotAllowed
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		return KindValidation
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500 && status < 600:
		return KindServer
	case status >= 300 && status < 400:
		return KindBadResponse
	}
	return KindOther
}

// statusError turns a non-2xx answer into an *Error with whatever short,
// sanitized message the body offers.
func (c *Client) statusError(cl call, a *answer) error {
	e := &Error{
		Op:         cl.op,
		Kind:       kindOfStatus(a.status),
		Status:     a.status,
		RetryAfter: retryAfter(a.header, c.now()),
		byToken:    !cl.bearer.Empty(),
	}
	if e.Kind == KindBadResponse {
		e.Message = "unexpected redirect"
		return e
	}

	switch {
	case isHTML(a):
		e.Message = fmt.Sprintf("an HTML page (status %d)", a.status)
	case len(bytes.TrimSpace(a.body)) == 0:
		// Nothing to say beyond the status.
	default:
		e.Message, e.Fields = errorDetails(a.body, cl.secrets)
	}
	return e
}

// errorBody is the Laravel error shape: {"message": ..., "errors": {...}}
// or {"error": ...}.
type errorBody struct {
	Message json.RawMessage            `json:"message"`
	Error   json.RawMessage            `json:"error"`
	Errors  map[string]json.RawMessage `json:"errors"`
}

func errorDetails(body []byte, secrets []secret.String) (string, []string) {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return "a non-JSON body", nil
	}

	message := jsonString(eb.Message)
	if message == "" {
		message = jsonString(eb.Error)
	}
	return sanitize(message, secrets), fieldNames(eb.Errors, secrets)
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

var fieldName = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

// fieldNames lists the refused fields, sorted, keeping only names that
// look like field names.
func fieldNames(errs map[string]json.RawMessage, secrets []secret.String) []string {
	var names []string
	for name := range errs {
		if fieldName.MatchString(name) && !looksOpaque(name) && !quotesSecret(name, secrets) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > maxFields {
		names = names[:maxFields]
	}
	return names
}

// sanitize makes a server message safe to show: one line, no control
// characters, no token- or password-like words, at most maxMessageRunes
// runes, and withheld entirely if it quotes any part of a secret the
// request carried.
func sanitize(message string, secrets []secret.String) string {
	words := strings.FieldsFunc(message, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	})
	if len(words) == 0 {
		return ""
	}
	if quotesSecret(message, secrets) {
		return "[message withheld: it quoted a secret]"
	}

	for i, word := range words {
		core := strings.Trim(word, `.,;:!?"'()[]{}<>`)
		if looksOpaque(core) {
			words[i] = strings.Replace(word, core, secret.Redacted, 1)
		}
	}
	message = strings.Join(words, " ")
	if runes := []rune(message); len(runes) > maxMessageRunes {
		message = strings.TrimSpace(string(runes[:maxMessageRunes])) + "…"
	}
	return message
}

// looksOpaque reports whether a word looks like a token or password
// rather than prose: a JWT, a long unbroken run, or a mix of at least
// three of lower case, upper case, digits and symbols.
func looksOpaque(word string) bool {
	if strings.HasPrefix(word, "eyJ") || len(word) >= 24 {
		return true
	}
	if len(word) < 8 {
		return false
	}

	var lower, upper, digit, symbol int
	for _, r := range word {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		case r != '/' && r != '.' && r != '-' && r != '_':
			symbol = 1
		}
	}
	return lower+upper+digit+symbol >= 3
}

// quotesSecret reports whether text holds any 8-byte piece of a secret,
// or the whole of a shorter one.
func quotesSecret(text string, secrets []secret.String) bool {
	const piece = 8
	for _, s := range secrets {
		value := s.Reveal()
		if value == "" {
			continue
		}
		if len(value) < piece {
			if strings.Contains(text, value) {
				return true
			}
			continue
		}
		for i := 0; i+piece <= len(value); i++ {
			if strings.Contains(text, value[i:i+piece]) {
				return true
			}
		}
	}
	return false
}

func isHTML(a *answer) bool {
	media, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	if media == "text/html" || media == "application/xhtml+xml" {
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(a.body), []byte("<"))
}

// retryAfter reads Retry-After as seconds or an HTTP date, falling back to
// X-RateLimit-Reset (a Unix time). It returns 0 when neither is usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	var wait time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			wait = secondsCapped(secs)
		} else if at, err := http.ParseTime(v); err == nil {
			wait = at.Sub(now)
		}
	} else if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			wait = secondsCapped(unix - now.Unix())
		}
	}
	return min(max(wait, 0), maxRetryAfter)
}

func secondsCapped(secs int64) time.Duration {
	if secs <= 0 {
		return 0
	}
	if secs > int64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(secs) * time.Second
}
