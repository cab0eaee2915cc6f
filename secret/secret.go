// Package secret holds values that must never be printed. A String formats,
// marshals and logs as a redaction marker; only Reveal gives the value, so
// every place a secret leaves the process is easy to find.
package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
)

// Redacted is what a String prints instead of its value.
const Redacted = "[redacted]"

// String is a secret text: a password, a FIRST LINE token, a Vault token or
// secret ID.
type String struct {
	value string
}

// New wraps a value as a secret.
func New(value string) String {
	return String{value: value}
}

// Reveal returns the secret value. Call it only where the value is sent to
// the system that needs it.
func (s String) Reveal() string {
	return s.value
}

// Empty reports whether the secret holds no value.
func (s String) Empty() bool {
	return s.value == ""
}

// Equal reports whether two secrets hold the same value.
func (s String) Equal(other String) bool {
	return s.value == other.value
}

// Fingerprint returns the first 8 hex characters of the SHA-256 of the
// value: enough to tell tokens apart in logs, useless for recovering them.
func (s String) Fingerprint() string {
	return Fingerprint(s.value)
}

// String implements fmt.Stringer with the redaction marker.
func (s String) String() string {
	return Redacted
}

// GoString implements fmt.GoStringer with the redaction marker.
func (s String) GoString() string {
	return Redacted
}

// MarshalJSON writes the redaction marker, never the value.
func (s String) MarshalJSON() ([]byte, error) {
	return []byte(`"` + Redacted + `"`), nil
}

// MarshalText writes the redaction marker, never the value.
func (s String) MarshalText() ([]byte, error) {
	return []byte(Redacted), nil
}

// LogValue implements slog.LogValuer with the redaction marker.
func (s String) LogValue() slog.Value {
	return slog.StringValue(Redacted)
}

// Fingerprint returns the first 8 hex characters of the SHA-256 of value.
// An empty value has the fingerprint "none".
func Fingerprint(value string) string {
	if value == "" {
		return "none"
	}

	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:4])
}

// PieceLen is the length of the pieces Quotes looks for: long enough not to
// match ordinary words, short enough to catch a secret that was cut up.
const PieceLen = 8

// Quotes reports whether text contains any PieceLen-character piece of the
// secret, as a printed, folded or cut-up secret would. A secret shorter
// than PieceLen is looked for whole.
func Quotes(text string, s String) bool {
	v := s.value
	if v == "" {
		return false
	}
	if len(v) < PieceLen {
		return strings.Contains(text, v)
	}

	for i := 0; i+PieceLen <= len(v); i++ {
		if strings.Contains(text, v[i:i+PieceLen]) {
			return true
		}
	}
	return false
}
