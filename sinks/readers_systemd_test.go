package sinks_test

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// readSystemd returns the variables systemd sets from an EnvironmentFile=.
// It walks the file with the states systemd's parser uses.
func readSystemd(data string) map[string]string {
	r := systemdReader{vars: map[string]string{}, keyTrim: -1, valueTrim: -1}
	for i := 0; i < len(data); i++ {
		r.step(data[i])
	}
	switch r.state {
	case sdValue:
		r.push(true)
	case sdPreValue, sdValueEscape, sdSingle, sdDouble, sdDoubleEscape:
		r.push(false)
	}
	return r.vars
}

const (
	sdPreKey = iota
	sdKey
	sdPreValue
	sdValue
	sdValueEscape
	sdSingle
	sdDouble
	sdDoubleEscape
	sdComment
	sdCommentEscape
)

type systemdReader struct {
	vars       map[string]string
	state      int
	key, value []byte
	keyTrim    int // where the key's trailing blanks start, or -1
	valueTrim  int // where an unquoted value's trailing blanks start, or -1
}

func sdBlank(c byte) bool   { return strings.IndexByte(" \t\n\r", c) >= 0 }
func sdNewline(c byte) bool { return c == '\n' || c == '\r' }

func (r *systemdReader) step(c byte) {
	switch r.state {
	case sdPreKey:
		if c == '#' || c == ';' {
			r.state = sdComment
		} else if !sdBlank(c) {
			r.state, r.key, r.keyTrim = sdKey, append(r.key[:0], c), -1
		}
	case sdKey:
		switch {
		case sdNewline(c):
			r.state, r.key = sdPreKey, r.key[:0]
		case c == '=':
			r.state, r.valueTrim = sdPreValue, -1
		default:
			r.keyTrim = trailing(r.keyTrim, len(r.key), sdBlank(c))
			r.key = append(r.key, c)
		}
	case sdPreValue:
		r.stepPreValue(c)
	case sdValue:
		switch {
		case sdNewline(c):
			r.push(true)
		case c == '\\':
			r.state, r.valueTrim = sdValueEscape, -1
		default:
			r.valueTrim = trailing(r.valueTrim, len(r.value), sdBlank(c))
			r.value = append(r.value, c)
		}
	default:
		r.stepQuoted(c)
	}
}

func (r *systemdReader) stepPreValue(c byte) {
	switch {
	case sdNewline(c):
		r.push(false)
	case c == '\'':
		r.state = sdSingle
	case c == '"':
		r.state = sdDouble
	case c == '\\':
		r.state = sdValueEscape
	case !sdBlank(c):
		r.state, r.value = sdValue, append(r.value, c)
	}
}

func (r *systemdReader) stepQuoted(c byte) {
	switch r.state {
	case sdValueEscape:
		r.state = sdValue
		if !sdNewline(c) {
			r.value = append(r.value, c)
		}
	case sdSingle:
		if c == '\'' {
			r.state = sdPreValue
		} else {
			r.value = append(r.value, c)
		}
	case sdDouble:
		switch c {
		case '"':
			r.state = sdPreValue
		case '\\':
			r.state = sdDoubleEscape
		default:
			r.value = append(r.value, c)
		}
	case sdDoubleEscape:
		r.state = sdDouble
		if strings.IndexByte("\"\\`$", c) >= 0 {
			r.value = append(r.value, c)
		} else if c != '\n' {
			r.value = append(r.value, '\\', c)
		}
	case sdComment:
		if c == '\\' {
			r.state = sdCommentEscape
		} else if sdNewline(c) {
			r.state = sdPreKey
		}
	case sdCommentEscape:
		r.state = sdComment
		if sdNewline(c) {
			r.state = sdPreKey
		}
	}
}

// trailing tracks where a run of trailing blanks starts.
func trailing(mark, n int, blank bool) int {
	switch {
	case !blank:
		return -1
	case mark < 0:
		return n
	}
	return mark
}

// push records the assignment as systemd does, which then drops names that
// are not shell variable names and values that are not UTF-8.
func (r *systemdReader) push(trimValue bool) {
	key, value := r.key, r.value
	if r.keyTrim >= 0 {
		key = key[:r.keyTrim]
	}
	if trimValue && r.valueTrim >= 0 {
		value = value[:r.valueTrim]
	}
	if shellName(string(key)) && utf8.Valid(value) {
		r.vars[string(key)] = string(value)
	}
	r.state, r.key, r.value, r.keyTrim, r.valueTrim = sdPreKey, nil, nil, -1, -1
}

var shellNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func shellName(s string) bool { return shellNamePattern.MatchString(s) }
