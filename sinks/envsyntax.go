package sinks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// dialect is what one kind of environment-file reader accepts: how a value
// must be quoted for it and how it splits a file into assignments.
type dialect struct {
	name  string
	quote func(value string) (string, error)

	comments     string // characters that open a comment line
	separators   string // characters between key and value
	multiline    bool   // a quoted value may span lines
	singleEscape bool   // a backslash escapes the next character in single quotes
	continuation bool   // a backslash outside quotes escapes the next character
	requote      bool   // a quote right after a closing quote opens another
	keepExport   bool   // an "export " prefix is understood, so it is kept
}

var dialects = map[string]*dialect{
	"":        systemdDialect,
	"systemd": systemdDialect,
	"dotenv": {
		name: "dotenv", quote: quoteDotenv, comments: "#", separators: "=:",
		multiline: true, singleEscape: true, keepExport: true,
	},
	"docker": {
		name: "docker", quote: quoteDocker, comments: "#", separators: "=",
	},
}

var systemdDialect = &dialect{
	name: "systemd", quote: quoteSystemd, comments: "#;", separators: "=",
	multiline: true, continuation: true, requote: true,
}

// errNUL and errNotUTF8 are refusals shared by every dialect.
var (
	errNUL     = errors.New("a NUL character (no environment variable can hold one)")
	errNotUTF8 = errors.New("a value that is not UTF-8 (its readers reject or alter it)")
)

func checkCommon(value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return errNUL
	}
	if !utf8.ValidString(value) {
		return errNotUTF8
	}
	return nil
}

// quoteSystemd double-quotes value for systemd's EnvironmentFile= reader,
// which turns \\ \" \$ and \` back into the character and keeps every other
// character, a newline included, as it is.
func quoteSystemd(value string) (string, error) {
	if err := checkCommon(value); err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(value) {
		if strings.IndexByte("\\\"$`", c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// quoteDotenv quotes value for docker compose's env_file reader: single
// quotes keep everything literal but cannot hold a single quote or end in a
// backslash; double quotes need \\ \" \$ \n \r escapes.
func quoteDotenv(value string) (string, error) {
	if err := checkCommon(value); err != nil {
		return "", err
	}
	if !strings.ContainsAny(value, "'\n\r") && !strings.HasSuffix(value, `\`) {
		return "'" + value + "'", nil
	}

	var b strings.Builder
	b.WriteByte('"')
	for i, c := range []byte(value) {
		switch {
		case c == '\\' && i == len(value)-1:
			// Older compose releases end the value at any quote preceded by
			// a backslash, so the last backslash is written in octal.
			b.WriteString(`\0134`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\\' || c == '"' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// quoteDocker returns value unchanged: docker run --env-file reads the rest
// of the line literally, one line per variable, and drops a final carriage
// return.
func quoteDocker(value string) (string, error) {
	if err := checkCommon(value); err != nil {
		return "", err
	}

	const advice = "; use dialect dotenv or systemd"
	switch {
	case strings.Contains(value, "\n"):
		return "", errors.New("a newline in the value (docker run --env-file reads " +
			"one line per variable)" + advice)
	case strings.HasSuffix(value, "\r"):
		return "", errors.New("a carriage return at the end of the value " +
			"(docker run --env-file drops it)" + advice)
	case len(value) >= bufio.MaxScanTokenSize-64:
		return "", fmt.Errorf("a value of %d bytes (docker run --env-file refuses "+
			"lines of %d bytes or more)", len(value), bufio.MaxScanTokenSize)
	}
	return value, nil
}

var utf8BOM = []byte("\uFEFF")

// entry is one piece of an environment file: an assignment, which may
// span lines, or a comment, blank or otherwise unassigning line.
type entry struct {
	start, end int    // the bytes of the entry, line break included
	key        string // the assigned key; "" when nothing is assigned
	export     bool   // the assignment had an "export " prefix
	eol        string // the line break ending the entry: "\n", "\r\n" or ""
}

// entries splits data into entries the way the dialect's reader would see
// its lines. An unterminated quote is an error naming its line.
func (d *dialect) entries(data []byte) ([]entry, error) {
	var out []entry
	start := 0
	if bytes.HasPrefix(data, utf8BOM) {
		// Readers skip a byte order mark: it is no part of the first line.
		out = append(out, entry{end: len(utf8BOM)})
		start = len(utf8BOM)
	}

	for start < len(data) {
		e, err := d.entryAt(data, start)
		if err != nil {
			line := 1 + bytes.Count(data[:start], []byte("\n"))
			return nil, fmt.Errorf("line %d: %w; fix the file or remove the line", line, err)
		}
		out = append(out, e)
		start = e.end
	}
	return out, nil
}

// entryAt reads the entry starting at data[start], the start of a line.
func (d *dialect) entryAt(data []byte, start int) (entry, error) {
	e := entry{start: start}
	i := skipBlanks(data, start)
	if i < len(data) && strings.IndexByte(d.comments, data[i]) >= 0 {
		return finish(e, data, lineEnd(data, i)), nil
	}

	if rest, ok := bytes.CutPrefix(data[i:], []byte("export")); ok &&
		len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		e.export = true
		i = skipBlanks(data, i+len("export"))
	}

	// Readers disagree on which characters a key may hold; taking all up to
	// a blank or separator keeps any assignment's value from being misread.
	keyStart := i
	for i < len(data) && strings.IndexByte(" \t\r\n", data[i]) < 0 &&
		strings.IndexByte(d.separators, data[i]) < 0 {
		i++
	}
	key := string(data[keyStart:i])
	i = skipBlanks(data, i)
	if key == "" || i >= len(data) || strings.IndexByte(d.separators, data[i]) < 0 {
		e.export = false
		return finish(e, data, lineEnd(data, i)), nil
	}

	e.key = key
	if !d.multiline {
		return finish(e, data, lineEnd(data, i)), nil
	}
	end, err := d.valueEnd(data, i+1)
	if err != nil {
		return entry{}, err
	}
	return finish(e, data, end), nil
}

// valueEnd returns the index of the line break ending the value starting at
// data[i], or len(data), stepping over quoted text and escapes.
func (d *dialect) valueEnd(data []byte, i int) (int, error) {
	opening := true // a quote here opens a quoted value
	for i < len(data) {
		c := data[i]
		switch {
		case c == '\n':
			return i, nil
		case opening && (c == ' ' || c == '\t'):
			i++
		case opening && (c == '\'' || c == '"'):
			closing, err := d.closingQuote(data, i)
			if err != nil {
				return 0, err
			}
			i, opening = closing+1, d.requote
		case c == '\\' && d.continuation:
			i, opening = i+2, false
		default:
			i, opening = i+1, false
		}
	}
	return len(data), nil
}

// closingQuote returns the index of the quote closing the one at data[i].
func (d *dialect) closingQuote(data []byte, i int) (int, error) {
	quote := data[i]
	escapes := quote == '"' || d.singleEscape
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if escapes {
				j++
			}
		case quote:
			return j, nil
		}
	}
	return 0, fmt.Errorf("the %c quote opened on this line is never closed", quote)
}

// finish sets the entry's end just past the line break at data[eol], or at
// the end of data, and records the break.
func finish(e entry, data []byte, eol int) entry {
	if eol >= len(data) {
		e.end = len(data)
		return e
	}

	e.end, e.eol = eol+1, "\n"
	if eol > e.start && data[eol-1] == '\r' {
		e.eol = "\r\n"
	}
	return e
}

func skipBlanks(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	return i
}

func lineEnd(data []byte, i int) int {
	if n := bytes.IndexByte(data[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(data)
}
