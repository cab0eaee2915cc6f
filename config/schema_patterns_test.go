package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// patternCase compares one part of the schema with the loader on sample
// texts: the schema accepts every text the loader accepts (so editors never
// flag a good configuration), and every text it accepts parses (so the
// pattern is no looser than the value type).
type patternCase struct {
	pointer string            // JSON pointer into config.schema.json
	valid   func(string) bool // the loader accepts the text
	parses  func(string) bool // the value type reads it; nil: checked by refused
	refused []string          // texts the schema must refuse
	samples []string
}

var patternCases = []patternCase{
	{
		pointer: "/$defs/durationText",
		valid: func(s string) bool {
			d := parseDuration(s)
			return d.problem == "" && d.value > 0
		},
		parses: func(s string) bool { return parseDuration(s).problem == "" },
		samples: []string{"90s", "1h30m", "0", "0s", "+5s", ".5s", "5.s", "1.5h", "300ms",
			"2\u00b5s", "2\u03bcs", "2us", "7ns", "-5s", "1d", "2w", "15", "", "soon", "5 s",
			"1h 30m", "s", ".s", "+", "1H", "1h-5m"},
	},
	{
		pointer: "/$defs/mode/anyOf/0",
		valid:   func(s string) bool { return parseFileMode(s).problem == "" },
		samples: []string{"0640", "0600", "0o640", "0O640", "00", "0777", "00777", "0o0777",
			"0", "640", "4755", "0o1640", "01777", "0999", "rw-r-----", "", "0o", "06400",
			"0x1ff", "0 640", "0o7777"},
	},
	{
		pointer: "/$defs/account/properties/renew_before",
		valid: func(s string) bool {
			r := parseRenewBefore(s)
			return r.problem == "" && (r.percent > 0 || r.duration > 0)
		},
		parses: func(s string) bool { return parseRenewBefore(s).problem == "" },
		samples: []string{"25%", "1%", "99%", "100%", "0%", "120%", "12.5%", " 25%", "25 %",
			"+25%", "025%", "2h", "0s", "soon", "%", "-5%", "25%%", "1d", "-2h"},
	},
	{
		pointer: "/$defs/account/properties/schedule",
		valid: func(s string) bool {
			_, err := ParseSchedule(s)
			return s == "" || err == nil
		},
		refused: []string{"0 0 */6 * * *", "CRON_TZ=UTC", "0 * * *", "@fortnightly",
			"@every", "@daily 5", "CRON_TZ=UTC 0 6 * *", "   "},
		samples: []string{"", "0 */6 * * *", "CRON_TZ=Europe/Berlin 30 5 * * *",
			"TZ=UTC @daily", "@every 6h", "@every  90s", "@hourly", "@yearly", "@annually",
			"@midnight", " 0 * * * * ", "30 5 * * mon-fri", "0 0 1 jan *"},
	},
	{
		pointer: "/$defs/account/properties/id/anyOf/0",
		valid:   accountID.MatchString,
		samples: []string{"support-bot", "a", "A", "Support Bot", strings.Repeat("x", 64),
			strings.Repeat("x", 65), "", "\u00e4", "under_score", "dot.ted", "42"},
	},
	{
		pointer: "/$defs/envName/anyOf/0",
		valid:   envName.MatchString,
		samples: []string{"FL_NAME", "_x", "a1", "1TOKEN", "BAD-NAME", "",
			"support@example.com", "s3cr3t!pw"},
	},
	{
		pointer: "/$defs/hook/properties/signal/anyOf/0",
		valid: func(s string) bool {
			name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
			return s == "" || name == "RELOAD" || slices.Contains(signalNames, name)
		},
		samples: []string{"HUP", "hup", "SIGHUP", "sigusr1", "SigTerm", "USR2", "WINCH",
			"CONT", "INT", "QUIT", "reload", "SIGRELOAD", "KILL", "SIGKILL", "SIGSIGHUP", "",
			"USR3", "1"},
	},
	{
		pointer: "/$defs/vaultPath/anyOf/0",
		valid: func(s string) bool {
			return checks(func(k *checker) { k.vaultPath("p", s, "") })
		},
		samples: []string{"secret", "a", "apps/support-bot/firstline", "/secret", "secret/",
			"/", "//", "", "a/b"},
	},
	{
		pointer: "/properties/http/properties/listen/anyOf/0",
		valid: func(s string) bool {
			return s == "" || checks(func(k *checker) { k.hostPort("p", s, "") })
		},
		refused: []string{"9464", "localhost", "127.0.0.1:http"},
		samples: []string{"", "127.0.0.1:9464", ":9464", "[::1]:9464", "localhost:0"},
	},
	{
		pointer: "/$defs/proxy/properties/listen/anyOf/0",
		valid: func(s string) bool {
			p := &Proxy{Listen: s, WaitTimeout: NewDuration(time.Second), MaxConnections: 1}
			return checks(func(k *checker) { k.proxy("p", p) })
		},
		refused: []string{"", "unix:run/b.sock", "localhost", "8781"},
		samples: []string{"127.0.0.1:8781", "unix:/run/firstline-rotator/app.sock",
			"[::1]:8781", ":0"},
	},
	{
		pointer: "/$defs/baseURL/anyOf/0",
		valid: func(s string) bool {
			return s == "" || checks(func(k *checker) { k.webURL("p", s) })
		},
		refused: []string{"api.example.com/v1", "ftp://api.example.com", "//api.example.com",
			"https://"},
		samples: []string{"", "https://01.example-tenant.host", "HTTPS://api.example.com/v1",
			"http://127.0.0.1:8080", "https://[::1]:8443/prefix", "http://localhost"},
	},
}

// checks reports whether check finds no problem.
func checks(check func(k *checker)) bool {
	k := newChecker(nil)
	check(k)
	return len(k.problems) == 0
}

func TestSchema_patternsAgreeWithLoader(t *testing.T) {
	for _, pc := range patternCases {
		t.Run(strings.TrimPrefix(pc.pointer, "/"), func(t *testing.T) {
			schema := compileSchema(t, pc.pointer)
			accepts := func(s string) bool { return schema.Validate(s) == nil }

			for _, s := range append(slices.Clone(pc.samples), pc.refused...) {
				switch {
				case pc.valid(s) && !accepts(s):
					t.Errorf("%q: the loader accepts it, the schema does not", s)
				case pc.parses != nil && accepts(s) && !pc.parses(s):
					t.Errorf("%q: the schema accepts it, the loader cannot read it", s)
				case pc.parses == nil && pc.refused == nil && accepts(s) && !pc.valid(s):
					t.Errorf("%q: the schema accepts it, the loader does not", s)
				}
			}
			for _, s := range pc.refused {
				if accepts(s) {
					t.Errorf("%q: the schema accepts it; it must refuse it", s)
				}
			}
		})
	}
}
