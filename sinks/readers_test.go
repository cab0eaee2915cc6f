package sinks_test

// Test-only readers that parse an environment file the way each dialect's
// consumer does, written from the consumers' documented rules and source:
// systemd's EnvironmentFile= parser, docker compose's env_file parser
// (compose-go's dotenv package) and docker run --env-file (docker/cli).

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// readCompose returns the variables docker compose reads from an env_file,
// interpolating from the file's earlier variables only. Besides compose's
// current rules it fails on a quoted value an older compose release would
// end at a different quote (any quote preceded by a backslash).
func readCompose(data string) (map[string]string, error) {
	vars := map[string]string{}
	rest := strings.TrimPrefix(data, "\uFEFF")
	for {
		rest = composeStatement(rest)
		if rest == "" {
			return vars, nil
		}

		key, after, err := composeKey(rest)
		if err != nil {
			return nil, err
		}
		value, after, err := composeValue(after, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		vars[key], rest = value, after
	}
}

// composeStatement skips blank space and comment lines.
func composeStatement(src string) string {
	for {
		src = strings.TrimLeftFunc(src, unicode.IsSpace)
		if !strings.HasPrefix(src, "#") {
			return src
		}
		_, after, found := strings.Cut(src, "\n")
		if !found {
			return ""
		}
		src = after
	}
}

var composeExport = regexp.MustCompile(`^export\s+`)

func composeKey(src string) (string, string, error) {
	if composeExport.MatchString(src) {
		src = strings.TrimLeftFunc(strings.TrimPrefix(src, "export"), composeSpace)
	}

	for i, r := range src {
		switch {
		case composeSpace(r):
		case r == '=' || r == ':':
			key := strings.TrimRightFunc(src[:i], unicode.IsSpace)
			if strings.Contains(key, " ") {
				return "", "", errors.New("key cannot contain a space")
			}
			return key, strings.TrimLeftFunc(src[i+1:], composeSpace), nil
		case r == '\n':
			return "", "", fmt.Errorf("inherited variable %q not supported here", src[:i])
		case strings.ContainsRune("_.-[]", r) || unicode.IsLetter(r) || unicode.IsNumber(r):
		default:
			return "", "", fmt.Errorf("unexpected character %q in variable name", r)
		}
	}
	return "", "", errors.New("no = after the variable name")
}

// composeSpace is a blank that is not a line break.
func composeSpace(r rune) bool {
	return strings.ContainsRune("\t\v\f\r \u0085\u00a0", r)
}

func composeValue(src string, vars map[string]string) (string, string, error) {
	if src == "" || (src[0] != '\'' && src[0] != '"') {
		value, rest, _ := strings.Cut(src, "\n")
		value, _, _ = strings.Cut(value, " #")
		value = strings.TrimRightFunc(value, unicode.IsSpace)
		expanded, err := composeInterpolate(value, vars)
		return expanded, rest, err
	}

	quote := src[0]
	raw, end, ok := composeQuoted(src)
	if !ok {
		return "", "", errors.New("unterminated quoted value")
	}
	if naive := naiveClosingQuote(src); naive != end {
		return "", "", fmt.Errorf("older compose ends the value at byte %d, not %d", naive, end)
	}
	if quote == '\'' {
		return raw, src[end+1:], nil
	}
	expanded, err := composeInterpolate(composeUnescape(raw), vars)
	return expanded, src[end+1:], err
}

// composeQuoted returns the quoted text at the start of src with escaped
// quotes unescaped (other escapes stay), and the closing quote's index.
func composeQuoted(src string) (string, int, bool) {
	quote := src[0]
	var b strings.Builder
	for i := 1; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			i++
			if src[i] != quote {
				b.WriteByte('\\')
			}
			b.WriteByte(src[i])
		case c == quote:
			return b.String(), i, true
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// naiveClosingQuote finds the closing quote the way older compose releases
// did: the first quote not right after a backslash.
func naiveClosingQuote(src string) int {
	for i := 1; i < len(src); i++ {
		if src[i] == src[0] && src[i-1] != '\\' {
			return i
		}
	}
	return -1
}

var composeEscapeSeq = regexp.MustCompile(`\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})`)

// composeUnescape applies compose's escapes in double-quoted values; \$
// becomes $$, which interpolation turns into a literal $.
func composeUnescape(s string) string {
	return composeEscapeSeq.ReplaceAllStringFunc(s, func(m string) string {
		if m == `\$` {
			return "$$"
		}
		seq := m
		if strings.HasPrefix(seq, `\0`) {
			seq = `\` + seq[2:]
		}
		r, _, _, err := strconv.UnquoteChar(seq, '"')
		if err != nil {
			return m
		}
		return string(r)
	})
}

var composeVar = regexp.MustCompile(`^(?:\$|[_A-Za-z][_A-Za-z0-9]*|\{[_A-Za-z][_A-Za-z0-9]*\})`)

// composeInterpolate replaces $$ by $ and $NAME or ${NAME} by the variable
// (empty when unknown); any other $ is an error, as in compose.
func composeInterpolate(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		before, after, found := strings.Cut(s, "$")
		b.WriteString(before)
		if !found {
			return b.String(), nil
		}

		m := composeVar.FindString(after)
		switch {
		case m == "":
			return "", fmt.Errorf("invalid template at $%.10s", after)
		case m == "$":
			b.WriteByte('$')
		default:
			b.WriteString(vars[strings.Trim(m, "{}")])
		}
		s = after[len(m):]
	}
}

// readDocker returns the variables docker run --env-file sets, in order.
func readDocker(data string) ([]string, error) {
	var env []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if !utf8.Valid(sc.Bytes()) {
			return nil, fmt.Errorf("line %d: invalid utf8", n)
		}
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}

		line := strings.TrimLeftFunc(text, unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, hasValue := strings.Cut(line, "=")
		if key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("line %d: bad variable name %q", n, key)
		}
		if hasValue {
			env = append(env, line)
		}
	}
	return env, sc.Err()
}

// dockerValue returns the value the last assignment of key gives.
func dockerValue(env []string, key string) (string, bool) {
	value, found := "", false
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			value, found = v, true
		}
	}
	return value, found
}

// readDialect returns what the dialect's consumer reads for key in data.
func readDialect(dialect, data, key string) (string, error) {
	switch dialect {
	case "systemd":
		v, ok := readSystemd(data)[key]
		if !ok {
			return "", fmt.Errorf("systemd sees no %s", key)
		}
		return v, nil
	case "dotenv":
		vars, err := readCompose(data)
		if err != nil {
			return "", err
		}
		v, ok := vars[key]
		if !ok {
			return "", fmt.Errorf("compose sees no %s", key)
		}
		return v, nil
	case "docker":
		env, err := readDocker(data)
		if err != nil {
			return "", err
		}
		v, ok := dockerValue(env, key)
		if !ok {
			return "", fmt.Errorf("docker sees no %s", key)
		}
		return v, nil
	}
	return "", fmt.Errorf("no reader for dialect %q", dialect)
}
