package config

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	// Zone data is embedded so CRON_TZ works in an image without
	// /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// cronFields names the five fields of a standard cron expression.
const cronFields = "minute hour day-of-month month day-of-week"

// ParseSchedule parses an account's schedule. It accepts a standard
// five-field cron expression (minute hour day-of-month month day-of-week) or
// a descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight,
// @hourly, @every <duration>), optionally after a "CRON_TZ=Zone " or
// "TZ=Zone " prefix; without one, times are in the process's local zone.
//
// It refuses what cannot be meant: a seconds field (six fields), an @every
// interval that is not a positive whole number of seconds, a day unit
// ("1d"), a zone prefix with no expression, an unknown zone, and an
// expression that never fires. It never panics.
func ParseSchedule(expr string) (cron.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("empty cron expression")
	}

	loc, rest, err := splitZone(expr)
	if err != nil {
		return nil, err
	}

	if strings.HasPrefix(rest, "@every") {
		return parseEvery(rest)
	}
	if strings.HasPrefix(rest, "@") {
		return parseDescriptor(rest, loc)
	}
	return parseFields(rest, loc)
}

// splitZone takes a CRON_TZ= or TZ= prefix off expr and loads its zone.
// Without a prefix the zone is time.Local, as cron uses.
func splitZone(expr string) (*time.Location, string, error) {
	if !strings.HasPrefix(expr, "CRON_TZ=") && !strings.HasPrefix(expr, "TZ=") {
		return time.Local, expr, nil
	}

	prefix := strings.Fields(expr)[0]
	rest := strings.TrimSpace(expr[len(prefix):])
	if rest == "" {
		return nil, "", fmt.Errorf("time zone prefix %q has no cron expression after it", prefix)
	}

	_, zone, _ := strings.Cut(prefix, "=")
	if zone == "" {
		return nil, "", fmt.Errorf("time zone prefix %q names no zone", prefix)
	}
	loc, err := loadZone(zone)
	if err != nil {
		return nil, "", fmt.Errorf("unknown time zone %q; use an IANA name like \"Europe/Berlin\"",
			zone)
	}
	return loc, rest, nil
}

// zones caches loaded zones: thousands of accounts may name the same one.
var zones sync.Map // string -> *time.Location

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// parseEvery parses "@every <duration>".
func parseEvery(expr string) (cron.Schedule, error) {
	text, ok := strings.CutPrefix(expr, "@every ")
	text = strings.TrimSpace(text)
	if !ok || text == "" {
		return nil, errors.New(`@every needs a duration, e.g. "@every 6h"`)
	}

	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		return nil, fmt.Errorf("@every %s: %s", text, durationProblem(text))
	case d <= 0:
		return nil, fmt.Errorf("@every %s: the interval must be positive", text)
	case d < time.Second:
		return nil, fmt.Errorf("@every %s: the interval must be at least 1s "+
			"(cron cannot fire more often than once a second)", text)
	case d%time.Second != 0:
		return nil, fmt.Errorf("@every %s: the interval must be a whole number of seconds "+
			"(cron would cut it to %s)", text, d.Truncate(time.Second))
	}
	return cron.Every(d), nil
}

// descriptors are the named schedules cron knows, besides @every.
var descriptors = []string{
	"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
}

// parseDescriptor parses a named schedule such as "@daily".
func parseDescriptor(expr string, loc *time.Location) (cron.Schedule, error) {
	known := false
	for _, d := range descriptors {
		known = known || expr == d
	}
	if !known {
		return nil, fmt.Errorf("unknown descriptor %q; use %s or @every <duration>",
			expr, strings.Join(descriptors, ", "))
	}
	return parseStandard(expr, loc)
}

// parseFields parses a five-field expression.
func parseFields(expr string, loc *time.Location) (cron.Schedule, error) {
	fields := strings.Fields(expr)
	switch n := len(fields); {
	case n == 6:
		return nil, fmt.Errorf("%q has 6 fields; a seconds field is not supported, "+
			"use 5 fields (%s)", expr, cronFields)
	case n != 5:
		return nil, fmt.Errorf("%q has %d fields; use 5 fields (%s)", expr, n, cronFields)
	}

	sched, err := parseStandard(strings.Join(fields, " "), loc)
	if err != nil {
		return nil, err
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("%q never fires: no date matches it", expr)
	}
	return sched, nil
}

// parseStandard hands expr to cron and places the result in loc. A panic
// inside cron becomes an error.
func parseStandard(expr string, loc *time.Location) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("invalid cron expression %q: %v", expr, r)
		}
	}()

	sched, err = cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %s", expr, cronReason(err))
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sched, nil
}

// cronReason rewords cron's least helpful message.
func cronReason(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "failed to parse int from ")
	if !ok {
		return msg
	}
	token, _, _ := strings.Cut(rest, ":")
	return fmt.Sprintf("%q is not a number or a month or weekday name", token)
}
