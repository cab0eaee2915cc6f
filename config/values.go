package config

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a span of time written in Go syntax ("90s", "15m", "24h").
// Decoding never fails: a text that is not a duration is kept and reported
// by Validate with its file and line.
type Duration struct {
	value   time.Duration
	raw     string
	set     bool
	problem string
}

// NewDuration returns a Duration holding d, as if written in a file.
func NewDuration(d time.Duration) Duration {
	return Duration{value: d, raw: d.String(), set: true}
}

// Value returns the duration; zero when unset or invalid.
func (d Duration) Value() time.Duration {
	return d.value
}

// IsSet reports whether the duration was given, validly or not.
func (d Duration) IsSet() bool {
	return d.set
}

// String returns the duration in Go syntax, or the text as written when it
// is not a duration.
func (d Duration) String() string {
	if d.problem != "" {
		return d.raw
	}
	if !d.set {
		return ""
	}
	return d.value.String()
}

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalYAML records the scalar; a bad text becomes a problem for
// Validate, never a decoding error.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	*d = parseDuration(node.Value)
	return nil
}

var (
	dayOrWeek   = regexp.MustCompile(`^(\d+)([dw])$`)
	wholeNumber = regexp.MustCompile(`^[0-9]+$`)
)

func parseDuration(text string) Duration {
	d := Duration{raw: text, set: true}
	value, err := time.ParseDuration(text)
	if err == nil {
		d.value = value
		return d
	}
	d.problem = durationProblem(text)
	return d
}

// durationProblem explains why text is not a Go duration.
func durationProblem(text string) string {
	if wholeNumber.MatchString(text) {
		return fmt.Sprintf("%s is not a duration; add a unit, e.g. %q", text, text+"s")
	}
	if m := dayOrWeek.FindStringSubmatch(text); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n < 100000 {
			hours := n * 24
			if m[2] == "w" {
				hours *= 7
			}
			return fmt.Sprintf("%q is not a duration; use %q", text, strconv.Itoa(hours)+"h")
		}
	}
	return fmt.Sprintf("%q is not a duration; write it like \"90s\", \"15m\" or \"24h\"", text)
}

// FileMode is a file's permission bits written as an octal string
// ("0640"). Only permission bits (at most 0777) are allowed.
type FileMode struct {
	value   fs.FileMode
	raw     string
	set     bool
	problem string
}

// NewFileMode returns a FileMode holding the permission bits of m.
func NewFileMode(m fs.FileMode) FileMode {
	m &= fs.ModePerm
	return FileMode{value: m, raw: fmt.Sprintf("%04o", uint32(m)), set: true}
}

// Value returns the permission bits; zero when unset or invalid.
func (m FileMode) Value() fs.FileMode {
	return m.value
}

// IsSet reports whether a mode was given, validly or not.
func (m FileMode) IsSet() bool {
	return m.set
}

// String returns the mode as four octal digits, or the text as written when
// it is not a mode.
func (m FileMode) String() string {
	if m.problem != "" {
		return m.raw
	}
	if !m.set {
		return ""
	}
	return fmt.Sprintf("%04o", uint32(m.value))
}

// MarshalText writes the mode as four octal digits.
func (m FileMode) MarshalText() ([]byte, error) {
	return []byte(m.String()), nil
}

// UnmarshalYAML records the scalar; a bad text becomes a problem for
// Validate. An unquoted 0640 is accepted since its text is plainly octal.
func (m *FileMode) UnmarshalYAML(node *yaml.Node) error {
	*m = parseFileMode(node.Value)
	return nil
}

var octalDigits = regexp.MustCompile(`^(0o|0O|0)([0-7]{1,4})$`)
var unprefixedOctal = regexp.MustCompile(`^[1-7][0-7]{0,2}$`)

func parseFileMode(text string) FileMode {
	m := FileMode{raw: text, set: true}
	match := octalDigits.FindStringSubmatch(text)
	switch {
	case match != nil:
		bits, _ := strconv.ParseUint(match[2], 8, 32)
		if bits > 0o777 {
			m.problem = fmt.Sprintf("%q sets bits beyond 0777; "+
				"only permission bits are allowed (no setuid, setgid or sticky)", text)
			return m
		}
		m.value = fs.FileMode(bits)
	case unprefixedOctal.MatchString(text):
		m.problem = fmt.Sprintf("%s is not an octal mode; write %q", text, zeroPadded(text))
	default:
		m.problem = fmt.Sprintf("%q is not an octal mode; write it like \"0640\"", text)
	}
	return m
}

// zeroPadded suggests the octal spelling of digits written without the
// leading zero: 640 -> "0640", 60 -> "0060".
func zeroPadded(digits string) string {
	return "0" + strings.Repeat("0", 3-len(digits)) + digits
}

// RenewBefore says how long before a token expires it is renewed: a fixed
// duration ("2h") or a percentage of the token's lifetime ("25%", 1 to 99).
type RenewBefore struct {
	duration time.Duration
	percent  int
	raw      string
	set      bool
	problem  string
}

// NewRenewBeforeDuration returns a RenewBefore of a fixed duration.
func NewRenewBeforeDuration(d time.Duration) RenewBefore {
	return RenewBefore{duration: d, raw: d.String(), set: true}
}

// NewRenewBeforePercent returns a RenewBefore of percent of the lifetime.
func NewRenewBeforePercent(percent int) RenewBefore {
	return RenewBefore{percent: percent, raw: strconv.Itoa(percent) + "%", set: true}
}

// Window returns how long before expiry a token of the given lifetime is
// renewed. A fixed duration is returned as is, even when it exceeds the
// lifetime; a percentage is applied to the lifetime.
func (r RenewBefore) Window(lifetime time.Duration) time.Duration {
	if r.percent == 0 {
		return r.duration
	}
	p := time.Duration(r.percent)
	return lifetime/100*p + lifetime%100*p/100
}

// IsSet reports whether a value was given, validly or not.
func (r RenewBefore) IsSet() bool {
	return r.set
}

// Percent returns the percentage, or 0 for a fixed duration.
func (r RenewBefore) Percent() int {
	return r.percent
}

// Duration returns the fixed duration, or 0 for a percentage.
func (r RenewBefore) Duration() time.Duration {
	return r.duration
}

// String returns "25%" for a percentage, the duration in Go syntax
// otherwise, or the text as written when it is neither.
func (r RenewBefore) String() string {
	switch {
	case r.problem != "":
		return r.raw
	case !r.set:
		return ""
	case r.percent != 0:
		return strconv.Itoa(r.percent) + "%"
	default:
		return r.duration.String()
	}
}

// MarshalText writes the value as String does.
func (r RenewBefore) MarshalText() ([]byte, error) {
	return []byte(r.String()), nil
}

// UnmarshalYAML records the scalar; a bad text becomes a problem for
// Validate.
func (r *RenewBefore) UnmarshalYAML(node *yaml.Node) error {
	*r = parseRenewBefore(node.Value)
	return nil
}

func parseRenewBefore(text string) RenewBefore {
	r := RenewBefore{raw: text, set: true}
	number, isPercent := strings.CutSuffix(text, "%")
	if !isPercent {
		d := parseDuration(text)
		r.duration, r.problem = d.value, d.problem
		if r.problem != "" {
			r.problem += ", or a percentage of the token lifetime like \"25%\""
		}
		return r
	}

	percent, err := strconv.Atoi(strings.TrimSpace(number))
	if err != nil || percent < 1 || percent > 99 {
		r.problem = fmt.Sprintf("%q is not a whole percentage from 1%% to 99%%", text)
		return r
	}
	r.percent = percent
	return r
}

// problemText returns why the text as written is not a valid value, or "".
func (d Duration) problemText() string { return d.problem }

// problemText returns why the text as written is not a valid mode, or "".
func (m FileMode) problemText() string { return m.problem }

// problemText returns why the text as written is not a valid value, or "".
func (r RenewBefore) problemText() string { return r.problem }
