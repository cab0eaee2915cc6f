package config

import (
	"fmt"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// sinkKeys says which sink keys apply to which sink types.
var sinkKeys = []struct {
	key   string
	types []string
	set   func(s Sink) bool
}{
	{"mode", []string{"file", "envfile"}, func(s Sink) bool { return s.Mode.IsSet() }},
	{"owner", []string{"file", "envfile"}, func(s Sink) bool { return s.Owner != "" }},
	{"group", []string{"file", "envfile"}, func(s Sink) bool { return s.Group != "" }},
	{"format", []string{"file"}, func(s Sink) bool { return s.Format != "" }},
	{"template", []string{"file"}, func(s Sink) bool { return s.Template != "" }},
	{"key", []string{"envfile", "vault_kv"}, func(s Sink) bool { return s.Key != "" }},
	{"dialect", []string{"envfile"}, func(s Sink) bool { return s.Dialect != "" }},
	{"mount", []string{"vault_kv"}, func(s Sink) bool { return s.Mount != "" }},
	{"kv_version", []string{"vault_kv"}, func(s Sink) bool { return s.KVVersion != 0 }},
}

// reservedKVKeys are written by the vault_kv sink next to the token.
var reservedKVKeys = []string{"expires_at", "account"}

// sink checks one sink.
func (k *checker) sink(c *Config, path string, s Sink) {
	switch s.Type {
	case "file", "envfile", "vault_kv":
	case "":
		k.add(path+".type", "required; use file, envfile or vault_kv")
		return
	default:
		k.addf(path+".type", "%q is not a sink type; use file, envfile or vault_kv", s.Type)
		return
	}

	for _, sk := range sinkKeys {
		if sk.set(s) && !slices.Contains(sk.types, s.Type) {
			k.addf(path+"."+sk.key, "%s applies only to %s sinks", sk.key, orList(sk.types))
		}
	}
	switch s.Type {
	case "file":
		k.localSink(path, s)
		k.fileFormat(path, s)
	case "envfile":
		k.localSink(path, s)
		k.envfile(path, s)
	case "vault_kv":
		k.vaultSink(c, path, s)
	}
}

// localSink checks the keys shared by file and envfile sinks.
func (k *checker) localSink(path string, s Sink) {
	switch {
	case s.Path == "":
		k.add(path+".path", "required; the file to write")
	case strings.HasSuffix(s.Path, "/"):
		k.add(path+".path", `must name a file, not a directory (it ends with "/")`)
	}
	if s.Mode.problemText() != "" {
		k.add(path+".mode", s.Mode.problemText())
	}
	if s.Owner != "" {
		k.systemAccount(path+".owner", s.Owner, "user", "uid")
	}
	if s.Group != "" {
		k.systemAccount(path+".group", s.Group, "group", "gid")
	}
}

// systemAccount checks an owner or group: a numeric id, or a name that
// exists on this system.
func (k *checker) systemAccount(path, name, kind, idKind string) {
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		return
	}
	if k.lookupAccount(kind, name) != nil {
		k.addf(path, "unknown %s %q; use an existing %s name or a numeric %s",
			kind, name, kind, idKind)
	}
}

// lookupAccount looks a user or group name up once per Validate pass.
func (k *checker) lookupAccount(kind, name string) error {
	key := kind + ":" + name
	if err, done := k.cache[key]; done {
		return err
	}
	var err error
	if kind == "user" {
		_, err = user.Lookup(name)
	} else {
		_, err = user.LookupGroup(name)
	}
	k.cache[key] = err
	return err
}

// fileFormat checks format and template of a file sink.
func (k *checker) fileFormat(path string, s Sink) {
	k.oneOf(path+".format", s.Format, "a format", "raw", "json", "template")
	switch {
	case s.Format == "template" && s.Template == "":
		k.add(path+".template", "required with format: template")
	case s.Format != "template" && s.Template != "":
		k.add(path+".template", "applies only with format: template")
	case s.Template != "":
		if _, err := template.New("template").Parse(s.Template); err != nil {
			k.addf(path+".template", "does not parse: %v", err)
		}
	}
}

// envfile checks key and dialect of an envfile sink.
func (k *checker) envfile(path string, s Sink) {
	switch {
	case s.Key == "":
		k.add(path+".key", "required; the variable to set, e.g. FIRSTLINE_TOKEN")
	case !envName.MatchString(s.Key):
		k.addf(path+".key", "%q is not a variable name; use letters, digits and _, "+
			"not starting with a digit", s.Key)
	}
	k.oneOf(path+".dialect", s.Dialect, "a dialect", "systemd", "dotenv", "docker")
}

// vaultSink checks a vault_kv sink.
func (k *checker) vaultSink(c *Config, path string, s Sink) {
	if c.Vault == nil {
		k.add(path+".type", "vault_kv sinks need the top-level vault block")
	}
	k.vaultPath(path+".mount", s.Mount, "the KV mount")
	k.vaultPath(path+".path", s.Path, "the secret to write, e.g. apps/support-bot/firstline")
	switch {
	case s.Key == "":
		k.add(path+".key", "must not be empty")
	case slices.Contains(reservedKVKeys, s.Key):
		k.addf(path+".key", "%q is reserved: the sink writes the token's expires_at and "+
			"account next to it", s.Key)
	}
	k.kvVersion(path+".kv_version", s.KVVersion)
}

// uniqueSinkNames reports two sinks of one account with the same name.
func (k *checker) uniqueSinkNames(path string, sinks []Sink) {
	first := map[string]int{}
	for j, s := range sinks {
		if j0, seen := first[s.Name]; seen && s.Name != "" {
			k.addf(fmt.Sprintf("%s.sinks[%d].name", path, j), "%q is already used by %s",
				s.Name, k.where(fmt.Sprintf("%s.sinks[%d]", path, j0)))
			continue
		}
		first[s.Name] = j
	}
}

// uniqueTargets reports two sinks, in any accounts, writing one file or one
// Vault secret key, and a Vault lease shared or kept in a sink's secret.
func (k *checker) uniqueTargets(accounts []Account) {
	first := map[string]string{}
	for i, a := range accounts {
		if a.Lock.Type == "vault" && a.Lock.Path != "" {
			path := fmt.Sprintf("accounts[%d].lock", i)
			secret := vaultSecret(a.Lock.Mount, a.Lock.Path)
			if other, seen := first[secret]; seen {
				k.addf(path+".path", "%s uses the same Vault secret; give each its own",
					k.where(other))
				continue
			}
			first[secret] = path
		}
	}
	for i, a := range accounts {
		for j, s := range a.Sinks {
			target, what := sinkTarget(s)
			if target == "" {
				continue
			}
			path := fmt.Sprintf("accounts[%d].sinks[%d]", i, j)
			if other, seen := first[target]; seen {
				k.addf(path+".path", "%s writes the same %s; give each its own",
					k.where(other), what)
				continue
			}
			first[target] = path
			if s.Type != "vault_kv" {
				continue
			}
			if lock, seen := first[vaultSecret(s.Mount, s.Path)]; seen {
				k.addf(path+".path", "%s keeps its lease in this secret; "+
					"give the lease its own path", k.where(lock))
			}
		}
	}
}

// sinkTarget identifies what a sink writes, or "" when it cannot tell.
func sinkTarget(s Sink) (string, string) {
	switch {
	case (s.Type == "file" || s.Type == "envfile") && s.Path != "":
		return "file:" + filepath.Clean(s.Path), "file"
	case s.Type == "vault_kv" && s.Path != "":
		return vaultSecret(s.Mount, s.Path) + "#" + s.Key, "Vault secret key"
	}
	return "", ""
}

// vaultSecret identifies a Vault KV secret.
func vaultSecret(mount, path string) string {
	return "vault:" + strings.Trim(mount, "/") + "/" + strings.Trim(path, "/")
}
