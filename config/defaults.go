package config

import (
	"path/filepath"
	"strings"
	"time"
)

const (
	// DefaultStateDir is state_dir when the file does not set it.
	DefaultStateDir = "/var/lib/firstline-rotator"
	// DefaultJWTFile is the Kubernetes service-account token that the
	// kubernetes Vault auth method reads when jwt_file is not set.
	DefaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// setDefaults sets the defaults that do not depend on other keys; the file's
// values are decoded over them.
func (c *Config) setDefaults() {
	c.Log = Log{Level: "info", Format: "json"}
	c.StateDir = DefaultStateDir
	c.FirstLine.Timeout = NewDuration(15 * time.Second)
	c.FirstLine.Concurrency = 16
}

// setDefaults sets an account's defaults.
func (a *Account) setDefaults() {
	a.TokenTTL = NewDuration(24 * time.Hour)
	a.RenewBefore = NewRenewBeforePercent(25)
	a.Method = "login"
	a.MaxLoginsPerHour = 6
	a.Lock = Lock{Type: "file", TTL: NewDuration(60 * time.Second)}
}

// setDefaults sets a hook's defaults.
func (h *Hook) setDefaults() {
	h.Timeout = NewDuration(30 * time.Second)
}

// setDefaults sets a probe's defaults.
func (p *Probe) setDefaults() {
	p.Interval = NewDuration(5 * time.Minute)
}

// setDefaults sets a proxy's defaults.
func (p *Proxy) setDefaults() {
	p.WaitTimeout = NewDuration(2 * time.Second)
	p.MaxConnections = 256
	p.SocketMode = NewFileMode(0o660)
}

// complete sets the defaults that depend on other keys, resolves relative
// paths against dir and gives every account the merged firstline block.
func (c *Config) complete(dir string, lookup func(string) (string, bool)) {
	if c.FirstLine.PutAsPost == nil {
		c.FirstLine.PutAsPost = new(bool)
	}
	if c.Vault != nil {
		c.Vault.complete(lookup)
	}
	for i := range c.Accounts {
		c.Accounts[i].complete()
	}

	c.resolvePaths(dir)
	for i := range c.Accounts {
		a := &c.Accounts[i]
		a.FirstLine = mergeFirstLine(c.FirstLine, a.FirstLine)
		for j := range a.Sinks {
			if a.Sinks[j].Name == "" {
				a.Sinks[j].Name = a.Sinks[j].defaultName()
			}
		}
	}
}

// complete sets the Vault defaults that depend on the method and the
// environment.
func (v *Vault) complete(lookup func(string) (string, bool)) {
	if v.Address == "" {
		v.Address, _ = lookup("VAULT_ADDR")
	}
	if v.Auth.Mount == "" {
		v.Auth.Mount = v.Auth.Method
	}
	if v.Auth.Method == "kubernetes" && v.Auth.JWTFile == "" {
		v.Auth.JWTFile = DefaultJWTFile
	}
}

// complete sets an account's defaults that depend on other keys.
func (a *Account) complete() {
	if vc := a.Credentials.Vault; vc != nil {
		vc.Mount = orDefault(vc.Mount, "secret")
		vc.NameKey = orDefault(vc.NameKey, "name")
		vc.PasswordKey = orDefault(vc.PasswordKey, "password")
	}
	for i := range a.Sinks {
		a.Sinks[i].complete()
	}
	for i := range a.Hooks {
		h := &a.Hooks[i]
		h.Signal = strings.TrimPrefix(strings.ToUpper(h.Signal), "SIG")
		if h.Type == "signal" {
			h.Signal = orDefault(h.Signal, "HUP")
		}
	}
}

// complete sets the defaults of the sink's type.
func (s *Sink) complete() {
	switch s.Type {
	case "file":
		s.Format = orDefault(s.Format, "raw")
	case "envfile":
		s.Dialect = orDefault(s.Dialect, "systemd")
	case "vault_kv":
		s.Mount = orDefault(s.Mount, "secret")
		s.Key = orDefault(s.Key, "token")
	}
}

// defaultName is "type:path", or "vault_kv:mount/path#key" for Vault.
func (s *Sink) defaultName() string {
	if s.Type == "vault_kv" {
		return s.Type + ":" + s.Mount + "/" + s.Path + "#" + s.Key
	}
	return s.Type + ":" + s.Path
}

// mergeFirstLine returns the global block with the keys the account's own
// block sets laid over it. The result never shares PutAsPost with global.
func mergeFirstLine(global FirstLine, own *FirstLine) *FirstLine {
	merged := global
	if own != nil {
		merged.BaseURL = orDefault(own.BaseURL, merged.BaseURL)
		merged.CAFile = orDefault(own.CAFile, merged.CAFile)
		if own.Timeout.IsSet() {
			merged.Timeout = own.Timeout
		}
		if own.PutAsPost != nil {
			merged.PutAsPost = own.PutAsPost
		}
	}
	putAsPost := merged.PutAsPost != nil && *merged.PutAsPost
	merged.PutAsPost = &putAsPost
	return &merged
}

// resolvePaths makes every relative file path absolute against dir.
func (c *Config) resolvePaths(dir string) {
	resolve := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = joinKeepSlash(dir, *p)
		}
	}

	resolve(&c.StateDir)
	resolve(&c.FirstLine.CAFile)
	if v := c.Vault; v != nil {
		for _, p := range []*string{&v.CAFile, &v.Auth.TokenFile, &v.Auth.RoleIDFile,
			&v.Auth.SecretIDFile, &v.Auth.JWTFile} {
			resolve(p)
		}
	}
	for i := range c.Accounts {
		c.Accounts[i].resolvePaths(resolve)
	}
}

// resolvePaths makes the account's relative file paths absolute.
func (a *Account) resolvePaths(resolve func(*string)) {
	if f := a.Credentials.File; f != nil {
		resolve(&f.NameFile)
		resolve(&f.PasswordFile)
	}
	if a.FirstLine != nil {
		resolve(&a.FirstLine.CAFile)
	}
	if a.Proxy != nil {
		resolve(&a.Proxy.ClientTokenFile)
	}
	for i := range a.Sinks {
		if s := &a.Sinks[i]; s.Type == "file" || s.Type == "envfile" {
			resolve(&s.Path)
		}
	}
	for i := range a.Hooks {
		h := &a.Hooks[i]
		resolve(&h.PIDFile)
		resolve(&h.SecretFile)
		if len(h.Command) > 0 && strings.Contains(h.Command[0], "/") {
			resolve(&h.Command[0])
		}
	}
}

// joinKeepSlash joins dir and a relative path, keeping a trailing slash so
// that Validate can still tell a directory was given.
func joinKeepSlash(dir, p string) string {
	joined := filepath.Join(dir, p)
	if strings.HasSuffix(p, "/") {
		joined += "/"
	}
	return joined
}

// orDefault returns value, or fallback when value is empty.
func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
