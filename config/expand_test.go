package config

import (
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"HOME_DIR": "/home/app", "EMPTY": "", "PRICE": "5$"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}

	tests := []struct {
		in       string
		want     string
		problems []string
	}{
		{"plain", "plain", nil},
		{"${HOME_DIR}/token", "/home/app/token", nil},
		{"a${HOME_DIR}b${HOME_DIR}", "a/home/appb/home/app", nil},
		{"$${HOME_DIR}", "${HOME_DIR}", nil},
		{"pa$$word", "pa$word", nil},
		{"$$$$", "$$", nil},
		{"cost: 5$", "cost: 5$", nil},
		{"$HOME_DIR", "$HOME_DIR", nil},
		{"{{ $x := .Token }}{{ $x }}", "{{ $x := .Token }}{{ $x }}", nil},
		{`kill -HUP "$(cat /run/app.pid)"`, `kill -HUP "$(cat /run/app.pid)"`, nil},
		{"${PRICE}", "5$", nil},
		{"${UNSET:-/etc/app}", "/etc/app", nil},
		{"${EMPTY:-fallback}", "fallback", nil},
		{"${HOME_DIR:-fallback}", "/home/app", nil},
		{"${UNSET:-}", "", nil},
		{"${EMPTY}", "", nil},
		{"${UNSET}/x", "/x", []string{"environment variable UNSET is not set; " +
			"set it, or give a default with ${UNSET:-default}"}},
		{"${HOME_DIR", "${HOME_DIR", []string{`"${" has no closing "}"; ` +
			`write $$ for a literal $`}},
		{"${}", "", []string{`"${}" is not a variable reference; ` +
			`use ${NAME} or ${NAME:-default}, or $$ for a literal $`}},
		{"${1X}", "", []string{`"${1X}" is not a variable reference; ` +
			`use ${NAME} or ${NAME:-default}, or $$ for a literal $`}},
		{"${A-b}", "", []string{`"${A-b}" is not a variable reference; ` +
			`use ${NAME} or ${NAME:-default}, or $$ for a literal $`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, problems := expand(tt.in, lookup)
			if !slices.Equal(problems, tt.problems) {
				t.Fatalf("problems = %q, want %q", problems, tt.problems)
			}
			if got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpand_nestedReferenceIsRefused(t *testing.T) {
	_, problems := expand("${X:-${Y}}", func(string) (string, bool) { return "x", true })
	if len(problems) != 1 || !strings.Contains(problems[0], "nests a reference") {
		t.Errorf("problems %v, want the nested reference refused", problems)
	}
}
