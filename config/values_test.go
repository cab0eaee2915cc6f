package config

import (
	"io/fs"
	"testing"
	"time"
)

func TestDuration_parse(t *testing.T) {
	tests := []struct {
		text    string
		want    time.Duration
		problem string
	}{
		{"90s", 90 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, ""},
		{"-5s", -5 * time.Second, ""},
		{"1d", 0, `"1d" is not a duration; use "24h"`},
		{"3d", 0, `"3d" is not a duration; use "72h"`},
		{"1w", 0, `"1w" is not a duration; use "168h"`},
		{"15", 0, `15 is not a duration; add a unit, e.g. "15s"`},
		{"soon", 0, `"soon" is not a duration; write it like "90s", "15m" or "24h"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d := parseDuration(tt.text)
			if d.problemText() != tt.problem {
				t.Fatalf("problem = %q, want %q", d.problemText(), tt.problem)
			}
			if d.Value() != tt.want || !d.IsSet() {
				t.Errorf("Value() = %v, IsSet() = %v; want %v, true",
					d.Value(), d.IsSet(), tt.want)
			}
		})
	}
}

func TestDuration_String(t *testing.T) {
	if got := NewDuration(90 * time.Second).String(); got != "1m30s" {
		t.Errorf("NewDuration(90s).String() = %q", got)
	}
	if got := parseDuration("1d").String(); got != "1d" {
		t.Errorf("a bad duration prints %q, want the text as written", got)
	}
	var unset Duration
	if unset.IsSet() || unset.String() != "" || unset.Value() != 0 {
		t.Errorf("zero Duration: IsSet %v, String %q", unset.IsSet(), unset.String())
	}
}

func TestFileMode_parse(t *testing.T) {
	tests := []struct {
		text    string
		want    fs.FileMode
		problem string
	}{
		{"0640", 0o640, ""},
		{"0600", 0o600, ""},
		{"0o755", 0o755, ""},
		{"0777", 0o777, ""},
		{"0000", 0, ""},
		{"0", 0, `"0" is not an octal mode; write it like "0640"`},
		{"640", 0, `640 is not an octal mode; write "0640"`},
		{"60", 0, `60 is not an octal mode; write "0060"`},
		{"0o1640", 0, `"0o1640" sets bits beyond 0777; ` +
			`only permission bits are allowed (no setuid, setgid or sticky)`},
		{"01777", 0, `"01777" sets bits beyond 0777; ` +
			`only permission bits are allowed (no setuid, setgid or sticky)`},
		{"0680", 0, `"0680" is not an octal mode; write it like "0640"`},
		{"rw-r-----", 0, `"rw-r-----" is not an octal mode; write it like "0640"`},
		{"", 0, `"" is not an octal mode; write it like "0640"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			m := parseFileMode(tt.text)
			if m.problemText() != tt.problem {
				t.Fatalf("problem = %q, want %q", m.problemText(), tt.problem)
			}
			if m.Value() != tt.want || !m.IsSet() {
				t.Errorf("Value() = %o, IsSet() = %v; want %o, true",
					m.Value(), m.IsSet(), tt.want)
			}
		})
	}
}

func TestFileMode_constructor(t *testing.T) {
	m := NewFileMode(0o640)
	if m.Value() != 0o640 || m.String() != "0640" || !m.IsSet() {
		t.Errorf("NewFileMode(0640) = %v %q %v", m.Value(), m.String(), m.IsSet())
	}
	if got := NewFileMode(fs.ModeSetuid | 0o755).Value(); got != 0o755 {
		t.Errorf("NewFileMode keeps only permission bits: got %o", got)
	}
}

func TestRenewBefore_parse(t *testing.T) {
	tests := []struct {
		text     string
		percent  int
		duration time.Duration
		problem  string
	}{
		{"25%", 25, 0, ""},
		{"1%", 1, 0, ""},
		{"99%", 99, 0, ""},
		{"2h", 0, 2 * time.Hour, ""},
		{"0%", 0, 0, `"0%" is not a whole percentage from 1% to 99%`},
		{"100%", 0, 0, `"100%" is not a whole percentage from 1% to 99%`},
		{"12.5%", 0, 0, `"12.5%" is not a whole percentage from 1% to 99%`},
		{"1d", 0, 0, `"1d" is not a duration; use "24h", ` +
			`or a percentage of the token lifetime like "25%"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := parseRenewBefore(tt.text)
			if r.problemText() != tt.problem {
				t.Fatalf("problem = %q, want %q", r.problemText(), tt.problem)
			}
			if r.Percent() != tt.percent || r.Duration() != tt.duration {
				t.Errorf("got %d%% / %v, want %d%% / %v",
					r.Percent(), r.Duration(), tt.percent, tt.duration)
			}
		})
	}
}

func TestRenewBefore_Window(t *testing.T) {
	tests := []struct {
		name     string
		r        RenewBefore
		lifetime time.Duration
		want     time.Duration
	}{
		{"quarter of a day", NewRenewBeforePercent(25), 24 * time.Hour, 6 * time.Hour},
		{"percent of an odd lifetime", NewRenewBeforePercent(50), 3 * time.Nanosecond,
			time.Nanosecond},
		{"percent of a century", NewRenewBeforePercent(99), 52560000 * time.Minute,
			52560000 * time.Minute / 100 * 99},
		{"fixed", NewRenewBeforeDuration(2 * time.Hour), 24 * time.Hour, 2 * time.Hour},
		{"fixed beyond lifetime", NewRenewBeforeDuration(2 * time.Hour), time.Hour,
			2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Window(tt.lifetime); got != tt.want {
				t.Errorf("Window(%v) = %v, want %v", tt.lifetime, got, tt.want)
			}
		})
	}
}

func TestRenewBefore_String(t *testing.T) {
	tests := map[string]RenewBefore{
		"25%":    NewRenewBeforePercent(25),
		"2h0m0s": NewRenewBeforeDuration(2 * time.Hour),
		"soon":   parseRenewBefore("soon"),
		"":       {},
	}
	for want, r := range tests {
		if got := r.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
