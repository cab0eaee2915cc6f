package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Validate checks the whole configuration in one pass and returns every
// problem found as Problems, or nil. Load and Parse call it; call it again
// only for a Config built or changed in code.
func (c *Config) Validate() error {
	return c.validate().errorOrNil()
}

func (c *Config) validate() Problems {
	k := newChecker(c.src)
	k.log(c.Log)
	if c.StateDir == "" {
		k.add("state_dir", "required; the directory for per-account state")
	}
	k.globalFirstLine(c.FirstLine)
	if c.HTTP.Listen != "" {
		k.hostPort("http.listen", c.HTTP.Listen, "127.0.0.1:9464")
	}
	if c.Vault != nil {
		k.vault(c.Vault)
	}

	if len(c.Accounts) == 0 {
		k.add("accounts", "required; configure at least one account")
	}
	for i := range c.Accounts {
		k.account(c, i)
	}
	k.uniqueIDs(c.Accounts)
	k.uniqueTargets(c.Accounts)
	k.uniqueListeners(c)
	return k.problems
}

// checker collects the problems of one Validate pass.
type checker struct {
	src      *source
	lookup   func(string) (string, bool)
	problems Problems
	cache    map[string]error // user, group and command look-ups
}

func newChecker(src *source) *checker {
	k := &checker{src: src, lookup: os.LookupEnv, cache: map[string]error{}}
	if src != nil {
		k.lookup = src.lookupEnv
	}
	return k
}

// add records a problem at path unless loading already reported one there.
func (k *checker) add(path, message string) {
	p := Problem{Path: path, Message: message}
	if k.src != nil {
		if k.src.alreadyReported(path) {
			return
		}
		p.File, p.Line = k.src.file, k.src.lineOf(path)
	}
	k.problems = append(k.problems, p)
}

func (k *checker) addf(path, format string, args ...any) {
	k.add(path, fmt.Sprintf(format, args...))
}

// lineOf returns the line path was written on, or 0.
func (k *checker) lineOf(path string) int {
	if k.src == nil {
		return 0
	}
	return k.src.lineOf(path)
}

// oneOf checks that value is one of allowed; what names the kind of value.
func (k *checker) oneOf(path, value, what string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	k.addf(path, "%q is not %s; use %s", value, what, orList(allowed))
}

// orList writes "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func (k *checker) log(l Log) {
	k.oneOf("log.level", l.Level, "a log level", "debug", "info", "warn", "error")
	k.oneOf("log.format", l.Format, "a log format", "json", "console")
}

// duration reports a bad duration text or one below least.
func (k *checker) duration(path string, d Duration, least time.Duration) {
	switch {
	case d.problemText() != "":
		k.add(path, d.problemText())
	case least == 0 && d.Value() <= 0:
		k.add(path, "must be more than 0s")
	case d.Value() < least:
		k.addf(path, "must be at least %s", shortDuration(least))
	}
}

// shortDuration prints 60s as "1m" rather than "1m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// globalFirstLine checks the global firstline block.
func (k *checker) globalFirstLine(fl FirstLine) {
	if fl.BaseURL != "" {
		k.webURL("firstline.base_url", fl.BaseURL)
	}
	k.duration("firstline.timeout", fl.Timeout, time.Second)
	if !(fl.RateLimit >= 0) || math.IsInf(fl.RateLimit, 0) {
		k.add("firstline.rate_limit", "must be 0 (no limit) or a positive number of requests "+
			"per second")
	}
	if fl.Concurrency < 1 {
		k.add("firstline.concurrency", "must be at least 1")
	}
}

// accountFirstLine checks the keys of an account's merged firstline block
// that the account sets itself; what it inherits is checked once, in the
// global block.
func (k *checker) accountFirstLine(path string, fl *FirstLine, global FirstLine) {
	switch {
	case fl.BaseURL == "" && k.src != nil && k.src.alreadyReported("firstline.base_url"):
		// The global value is broken and reported; saying it is missing
		// here too would only repeat that.
	case fl.BaseURL == "":
		k.add(path+".base_url", "required; set firstline.base_url globally or in this "+
			"account's firstline block")
	case k.ownValue(path+".base_url", fl.BaseURL != global.BaseURL):
		k.webURL(path+".base_url", fl.BaseURL)
	}
	if k.ownValue(path+".timeout", fl.Timeout != global.Timeout) {
		k.duration(path+".timeout", fl.Timeout, time.Second)
	}
}

// ownValue reports whether an account sets the key at path itself: written
// in the file, or, for a Config built in code, different from the global
// value.
func (k *checker) ownValue(path string, differs bool) bool {
	if k.src == nil {
		return differs
	}
	_, written := k.src.lines[path]
	return written
}

// webURL checks a URL the rotator sends requests to: https, or plain http
// to a loopback host. The URL is never repeated in a message: it may hold
// a secret.
func (k *checker) webURL(path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme == "":
		k.add(path, "is not an absolute URL; write it like https://api.example.com")
	case u.User != nil:
		k.add(path, "must not carry a user name or password")
	case u.RawQuery != "" || u.Fragment != "":
		k.add(path, "must not carry a query or a fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		k.add(path, "plain http is allowed only for loopback hosts; use https")
	case u.Scheme != "http" && u.Scheme != "https":
		k.addf(path, "scheme %q is not supported; use https", u.Scheme)
	}
}

// isLoopback reports whether host is localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostPort checks a TCP listen address.
func (k *checker) hostPort(path, value, example string) {
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		k.addf(path, "%q is not host:port; write it like %s", value, example)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		k.addf(path, "port %q is not a number from 0 to 65535", port)
	}
}

// vaultPath checks a Vault mount or secret path: not empty, no slash at
// either end.
func (k *checker) vaultPath(path, value, what string) {
	switch {
	case value == "":
		k.addf(path, "required; %s", what)
	case strings.HasPrefix(value, "/") || strings.HasSuffix(value, "/"):
		k.add(path, `must not start or end with "/"`)
	}
}

// kvVersion checks a kv_version key.
func (k *checker) kvVersion(path string, v int) {
	if v < 0 || v > 2 {
		k.add(path, "must be 0 (detect), 1 or 2")
	}
}

// envVarName checks a key that names an environment variable.
func (k *checker) envVarName(path, value, example string) {
	if !envName.MatchString(value) {
		k.addf(path, "is not an environment variable name; write the name of the "+
			"variable (e.g. %s), not its value", example)
	}
}
