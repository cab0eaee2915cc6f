package config

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// hookKeys says which hook keys apply to which hook type.
var hookKeys = []struct {
	key, hookType string
	set           func(h Hook) bool
}{
	{"command", "exec", func(h Hook) bool { return len(h.Command) > 0 }},
	{"env", "exec", func(h Hook) bool { return len(h.Env) > 0 }},
	{"token_via", "exec", func(h Hook) bool { return h.TokenVia != "" }},
	{"token_env", "exec", func(h Hook) bool { return h.TokenEnv != "" }},
	{"pid_file", "signal", func(h Hook) bool { return h.PIDFile != "" }},
	{"unit", "signal", func(h Hook) bool { return h.Unit != "" }},
	{"signal", "signal", func(h Hook) bool { return h.Signal != "" }},
	{"url", "webhook", func(h Hook) bool { return h.URL != "" }},
	{"secret_file", "webhook", func(h Hook) bool { return h.SecretFile != "" }},
	{"include_token", "webhook", func(h Hook) bool { return h.IncludeToken }},
}

// signalNames are the signals a signal hook may send.
var signalNames = []string{"HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "WINCH", "CONT"}

// hook checks one hook.
func (k *checker) hook(path string, h Hook) {
	switch h.Type {
	case "exec", "signal", "webhook":
	case "":
		k.add(path+".type", "required; use exec, signal or webhook")
		return
	default:
		k.addf(path+".type", "%q is not a hook type; use exec, signal or webhook", h.Type)
		return
	}

	for _, hk := range hookKeys {
		if hk.hookType != h.Type && hk.set(h) {
			k.addf(path+"."+hk.key, "%s applies only to %s hooks", hk.key, hk.hookType)
		}
	}
	k.duration(path+".timeout", h.Timeout, 0)
	switch h.Type {
	case "exec":
		k.execHook(path, h)
	case "signal":
		k.signalHook(path, h)
	case "webhook":
		k.webhook(path, h)
	}
}

func (k *checker) execHook(path string, h Hook) {
	if len(h.Command) == 0 {
		k.add(path+".command", `required; a list such as ["/usr/bin/systemctl", "reload", "app"]`)
	} else {
		k.program(path+".command[0]", h.Command[0])
	}

	names := make([]string, 0, len(h.Env))
	for name := range h.Env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !envName.MatchString(name) {
			k.add(path+".env."+name, "is not an environment variable name")
		}
	}

	switch {
	case !slices.Contains([]string{"", "stdin", "env"}, h.TokenVia):
		k.addf(path+".token_via", "%q is not a way to pass the token; use stdin or env, "+
			"or leave it out to not pass it", h.TokenVia)
	case h.TokenVia == "env" && h.TokenEnv == "":
		k.add(path+".token_env", "required with token_via: env; the variable to put "+
			"the token in")
	case h.TokenVia != "env" && h.TokenEnv != "":
		k.add(path+".token_env", "applies only with token_via: env")
	case h.TokenEnv != "" && !envName.MatchString(h.TokenEnv):
		k.add(path+".token_env", "is not an environment variable name")
	}
}

// program checks a hook's program: an absolute path, or a name found in
// PATH.
func (k *checker) program(path, name string) {
	switch {
	case name == "":
		k.add(path, "the program must not be empty")
	case filepath.IsAbs(name):
	default:
		key := "command:" + name
		err, done := k.cache[key]
		if !done {
			_, err = exec.LookPath(name)
			k.cache[key] = err
		}
		if err != nil {
			k.addf(path, "%q is not found in PATH; write its absolute path", name)
		}
	}
}

func (k *checker) signalHook(path string, h Hook) {
	switch {
	case h.PIDFile != "" && h.Unit != "":
		k.add(path+".unit", "set only one of pid_file and unit")
	case h.PIDFile == "" && h.Unit == "":
		k.add(path+".pid_file", "required; set pid_file or unit")
	}
	switch {
	case h.Signal == "RELOAD" && h.Unit == "":
		k.add(path+".signal", "reload applies only with unit (it runs systemctl reload)")
	case h.Signal == "RELOAD", slices.Contains(signalNames, h.Signal):
	default:
		k.addf(path+".signal", "%q is not a signal this hook sends; use %s, or reload "+
			"with unit", h.Signal, orList(signalNames))
	}
}

func (k *checker) webhook(path string, h Hook) {
	if h.URL == "" {
		k.add(path+".url", "required; the https URL to POST to")
	} else {
		k.webURL(path+".url", h.URL)
	}
	if h.SecretFile == "" {
		k.add(path+".secret_file", "required; the file holding the HMAC-SHA256 key")
	}
}

// uniqueListeners reports two proxies, or a proxy and the http block,
// listening on one address. Port 0 (any free port) is never a clash.
func (k *checker) uniqueListeners(c *Config) {
	first := map[string]string{}
	if c.HTTP.Listen != "" {
		first[c.HTTP.Listen] = "http.listen"
	}
	for i, a := range c.Accounts {
		if a.Proxy == nil || a.Proxy.Listen == "" || strings.HasSuffix(a.Proxy.Listen, ":0") {
			continue
		}
		path := fmt.Sprintf("accounts[%d].proxy.listen", i)
		if other, seen := first[a.Proxy.Listen]; seen {
			k.addf(path, "%s already listens on %s", k.where(other), a.Proxy.Listen)
			continue
		}
		first[a.Proxy.Listen] = path
	}
}
