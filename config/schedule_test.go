package config

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestParseSchedule_accepted(t *testing.T) {
	// Monday 2026-03-02 10:17:30 UTC.
	from := time.Date(2026, 3, 2, 10, 17, 30, 0, time.UTC)
	tests := []struct {
		expr string
		next time.Time
	}{
		{"0 */6 * * *", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)},
		{"  30 5 * * 1-5  ", time.Date(2026, 3, 3, 5, 30, 0, 0, time.UTC)},
		{"15 10 1 jan *", time.Date(2027, 1, 1, 10, 15, 0, 0, time.UTC)},
		{"@hourly", time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"@midnight", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"@weekly", time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{"@monthly", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"@yearly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@every 6h", from.Add(6 * time.Hour)},
		{"@every 1s", from.Add(time.Second)},
		{"@every 90m", from.Add(90 * time.Minute)},
		// 05:30 in Berlin (UTC+1 in March before the switch) is 04:30 UTC.
		{"CRON_TZ=Europe/Berlin 30 5 * * *", time.Date(2026, 3, 3, 4, 30, 0, 0, time.UTC)},
		{"TZ=Asia/Tokyo @daily", time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)},
		{"CRON_TZ=UTC @every 2h", from.Add(2 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			sched, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatalf("ParseSchedule: %v", err)
			}
			if spec, ok := sched.(*cron.SpecSchedule); ok && spec.Location == time.Local {
				spec.Location = time.UTC // make the zoneless cases independent of the host
			}
			if got := sched.Next(from); !got.Equal(tt.next) {
				t.Errorf("Next(%v) = %v, want %v", from, got.UTC(), tt.next)
			}
		})
	}
}

func TestParseSchedule_refused(t *testing.T) {
	const fields = "use 5 fields (minute hour day-of-month month day-of-week)"
	tests := []struct {
		expr string
		want string
	}{
		{"", "empty cron expression"},
		{"   ", "empty cron expression"},
		{"0 0 */6 * * *", `"0 0 */6 * * *" has 6 fields; a seconds field is not supported, ` +
			fields},
		{"* * *", `"* * *" has 3 fields; ` + fields},
		{"0 0 1 1 * 2026 x", `"0 0 1 1 * 2026 x" has 7 fields; ` + fields},
		{"@every 0s", "@every 0s: the interval must be positive"},
		{"@every -5m", "@every -5m: the interval must be positive"},
		{"@every 500ms", "@every 500ms: the interval must be at least 1s " +
			"(cron cannot fire more often than once a second)"},
		{"@every 1500ms", "@every 1500ms: the interval must be a whole number of seconds " +
			"(cron would cut it to 1s)"},
		{"@every 1d", `@every 1d: "1d" is not a duration; use "24h"`},
		{"@every soon", `@every soon: "soon" is not a duration; ` +
			`write it like "90s", "15m" or "24h"`},
		{"@every", `@every needs a duration, e.g. "@every 6h"`},
		{"@every1h", `@every needs a duration, e.g. "@every 6h"`},
		{"@daly", `unknown descriptor "@daly"; use @yearly, @annually, @monthly, @weekly, ` +
			`@daily, @midnight, @hourly or @every <duration>`},
		{"@reboot", `unknown descriptor "@reboot"; use @yearly, @annually, @monthly, ` +
			`@weekly, @daily, @midnight, @hourly or @every <duration>`},
		{"CRON_TZ=UTC", `time zone prefix "CRON_TZ=UTC" has no cron expression after it`},
		{"TZ=0", `time zone prefix "TZ=0" has no cron expression after it`},
		{"TZ=", `time zone prefix "TZ=" has no cron expression after it`},
		{"CRON_TZ= 0 * * * *", `time zone prefix "CRON_TZ=" names no zone`},
		{"CRON_TZ=Mars/Olympus 0 * * * *", `unknown time zone "Mars/Olympus"; ` +
			`use an IANA name like "Europe/Berlin"`},
		{"TZ=0 0 * * * *", `unknown time zone "0"; use an IANA name like "Europe/Berlin"`},
		{"61 * * * *", `invalid cron expression "61 * * * *": ` +
			`end of range (61) above maximum (59): 61`},
		{"x * * * *", `invalid cron expression "x * * * *": ` +
			`"x" is not a number or a month or weekday name`},
		{"*/0 * * * *", `invalid cron expression "*/0 * * * *": ` +
			`step of range should be a positive number: */0`},
		{"0 0 30 2 *", `"0 0 30 2 *" never fires: no date matches it`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			sched, err := ParseSchedule(tt.expr)
			if err == nil {
				t.Fatalf("ParseSchedule(%q) accepted it: %v", tt.expr, sched)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestParseStandard_recoversPanic(t *testing.T) {
	// Handed to cron directly, a zone prefix without a space panics inside
	// cron (it slices with index -1); ParseSchedule never passes one on,
	// and parseStandard turns such a panic into an error.
	_, err := parseStandard("TZ=UTC", time.UTC)
	if err == nil || !strings.Contains(err.Error(), "runtime error") {
		t.Fatalf("error = %v, want the recovered panic", err)
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{
		"0 */6 * * *", "@every 1h", "CRON_TZ=UTC 0 0 * * *", "TZ=0", "CRON_TZ=UTC",
		"*/5 * * * * *", "@every 500ms", "0-70/3 * * * *", "TZ=Europe/Berlin @daily",
		"1-2-3 * * * *", "*/99999999999999999999 * * * *", "? ? ? ? ?", "@",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sched, err := ParseSchedule(expr)
		if (sched == nil) == (err == nil) {
			t.Fatalf("ParseSchedule(%q) = %v, %v: want exactly one of them", expr, sched, err)
		}
		if sched != nil && !sched.Next(time.Now()).After(time.Now()) {
			t.Fatalf("ParseSchedule(%q) accepted a schedule that does not fire", expr)
		}
	})
}
