package firstline

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

func TestSanitize(t *testing.T) {
	sent := []secret.String{secret.New("hunter2-is-long"), secret.New("abc")}
	cases := []struct {
		in, want string
	}{
		{"Unauthenticated.", "Unauthenticated."},
		{"  Too   Many\tAttempts.\r\n", "Too Many Attempts."},
		{"bell\a and\x00nul", "bell and nul"},
		{"The route api/v1/nope could not be found.", "The route api/v1/nope could not be found."},
		{"your hunter2-is-long is wrong", "[message withheld: it quoted a secret]"},
		{"pieces: 2-is-lon", "[message withheld: it quoted a secret]"},
		{"abc", "[message withheld: it quoted a secret]"},
		{"token eyJhbGciOi.eyJzdWIi.c2ln expired", "token [redacted] expired"},
		{"password (Xy7#kq9Lm) refused", "password ([redacted]) refused"},
		{"id " + strings.Repeat("a", 24), "id [redacted]"},
		{strings.Repeat("word ", 50), strings.TrimSpace(strings.Repeat("word ", 32)) + "…"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := sanitize(tc.in, sent); got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		header []string
		want   time.Duration
	}{
		{[]string{"Retry-After", "30"}, 30 * time.Second},
		{[]string{"Retry-After", " 0 "}, 0},
		{[]string{"Retry-After", "-5"}, 0},
		{[]string{"Retry-After", "99999999999999"}, maxRetryAfter},
		{[]string{"Retry-After", now.Add(90 * time.Second).Format(http.TimeFormat)},
			90 * time.Second},
		{[]string{"Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{[]string{"Retry-After", "soon"}, 0},
		{[]string{"X-RateLimit-Reset", "1740830460"}, time.Minute},
		{nil, 0},
	}
	for _, tc := range cases {
		h := http.Header{}
		for i := 0; i+1 < len(tc.header); i += 2 {
			h.Set(tc.header[i], tc.header[i+1])
		}
		if got := retryAfter(h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestFieldNames(t *testing.T) {
	errs := map[string]json.RawMessage{"name": nil, "password": nil, "items.0.qty": nil,
		"a b": nil, "Pw-Canary-7h": nil, "hunter2-is-long": nil}
	got := fieldNames(errs, []secret.String{secret.New("hunter2-is-long")})
	if strings.Join(got, ",") != "items.0.qty,name,password" {
		t.Errorf("fieldNames = %v", got)
	}
}
