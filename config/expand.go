package config

import (
	"fmt"
	"regexp"
	"strings"
)

// envName is what an environment variable name must look like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces variable references in one scalar value:
//
//	${NAME}          the value of NAME; an unset NAME is a problem
//	${NAME:-default} the value of NAME, or default when NAME is unset or empty
//	$$               a literal $
//
// A $ followed by anything else is kept as written. It returns the expanded
// text and, when a reference cannot be expanded, the problems found.
func expand(text string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(text, "$") {
		return text, nil
	}

	var out strings.Builder
	var problems []string
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c != '$' || i+1 == len(text):
			out.WriteByte(c)
		case text[i+1] == '$':
			out.WriteByte('$')
			i++
		case text[i+1] == '{':
			value, width, problem := reference(text[i:], lookup)
			if problem != "" {
				problems = append(problems, problem)
			}
			out.WriteString(value)
			i += width - 1
		default:
			out.WriteByte(c)
		}
	}
	return out.String(), problems
}

// reference expands the "${...}" at the start of text. It returns the value,
// how many bytes of text the reference took, and a problem or "".
func reference(text string, lookup func(string) (string, bool)) (string, int, string) {
	end := strings.IndexByte(text, '}')
	if end < 0 {
		return text, len(text), `"${" has no closing "}"; write $$ for a literal $`
	}

	body := text[2:end]
	if strings.Contains(body, "${") {
		return "", end + 1, fmt.Sprintf("%q nests a reference, which is not supported; "+
			"give a plain default", text[:end+1])
	}
	name, fallback, hasFallback := strings.Cut(body, ":-")
	if !envName.MatchString(name) {
		return "", end + 1, fmt.Sprintf("%q is not a variable reference; "+
			"use ${NAME} or ${NAME:-default}, or $$ for a literal $", text[:end+1])
	}

	value, ok := lookup(name)
	switch {
	case hasFallback && value == "":
		return fallback, end + 1, ""
	case !ok:
		return "", end + 1, fmt.Sprintf("environment variable %s is not set; "+
			"set it, or give a default with ${%s:-default}", name, name)
	default:
		return value, end + 1, ""
	}
}
