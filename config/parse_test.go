package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mustLoad loads a testdata file that must be valid.
func mustLoad(t *testing.T, name string, env map[string]string) *Config {
	t.Helper()
	cfg, err := LoadWith(filepath.Join("testdata", name), LoadOptions{ExpandEnv: true,
		LookupEnv: mapEnv(env)})
	if err != nil {
		t.Fatalf("load %s:\n%v", name, err)
	}
	return cfg
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// mustParse parses YAML text that must be valid.
func mustParse(t *testing.T, text string, opts LoadOptions) *Config {
	t.Helper()
	cfg, err := Parse("/etc/firstline-rotator/config.yaml", []byte(text), opts)
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return cfg
}

func TestLoad_validFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least 3 valid files, found %d (%v)", len(files), err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg := mustLoad(t, filepath.Base(path),
				map[string]string{"VAULT_ADDR": "https://vault.example.com:8200"})
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate after Load: %v", err)
			}
		})
	}
}

func TestLoad_minimalDefaults(t *testing.T) {
	cfg := mustLoad(t, "valid-minimal.yaml", nil)

	if cfg.Log != (Log{Level: "info", Format: "json"}) || cfg.StateDir != DefaultStateDir {
		t.Errorf("log %+v, state_dir %q", cfg.Log, cfg.StateDir)
	}
	fl := cfg.FirstLine
	if fl.Timeout.Value() != 15*time.Second || fl.Concurrency != 16 || fl.RateLimit != 0 ||
		fl.PutAsPost == nil || *fl.PutAsPost {
		t.Errorf("global firstline defaults: %+v", fl)
	}

	a := cfg.Accounts[0]
	if a.TokenTTL.Value() != 24*time.Hour || a.RenewBefore.String() != "25%" ||
		a.Method != "login" || a.MaxLoginsPerHour != 6 || a.Schedule != "" {
		t.Errorf("account defaults: ttl %v renew %v method %q logins %d", a.TokenTTL,
			a.RenewBefore, a.Method, a.MaxLoginsPerHour)
	}
	if a.Lock.Type != "file" || a.Lock.TTL.Value() != time.Minute {
		t.Errorf("lock defaults: %+v", a.Lock)
	}
	if a.FirstLine == nil || a.FirstLine.BaseURL != "https://01.example-tenant.host" ||
		a.FirstLine.PutAsPost == nil {
		t.Fatalf("merged firstline: %+v", a.FirstLine)
	}
	s := a.Sinks[0]
	if s.Format != "raw" || s.Name != "file:/etc/app/firstline.token" || s.Mode.IsSet() {
		t.Errorf("sink defaults: %+v", s)
	}
}

func TestLoad_fullFile(t *testing.T) {
	cfg := mustLoad(t, "valid-full.yaml", nil)
	dir, _ := filepath.Abs("testdata")

	if cfg.StateDir != filepath.Join(dir, "state") ||
		cfg.FirstLine.CAFile != filepath.Join(dir, "certs/extra-ca.pem") {
		t.Errorf("relative paths not resolved against the file's directory: %q, %q",
			cfg.StateDir, cfg.FirstLine.CAFile)
	}
	bot, reporting := cfg.Accounts[0], cfg.Accounts[1]

	// The account's own block wins key by key; the rest comes from global.
	if fl := bot.FirstLine; fl.BaseURL != "http://127.0.0.1:8080" ||
		fl.Timeout.Value() != 5*time.Second || !*fl.PutAsPost ||
		fl.CAFile != cfg.FirstLine.CAFile {
		t.Errorf("support-bot firstline: %+v", fl)
	}
	if fl := reporting.FirstLine; *fl.PutAsPost || fl.Timeout.Value() != 20*time.Second {
		t.Errorf("reporting firstline: %+v", fl)
	}
	if bot.FirstLine.PutAsPost == cfg.FirstLine.PutAsPost {
		t.Error("an account's merged firstline shares PutAsPost with the global block")
	}

	if got := bot.RenewBefore.Window(12 * time.Hour); got != 2*time.Hour {
		t.Errorf("renew_before 2h: Window = %v", got)
	}
	if got := reporting.RenewBefore.Window(10 * time.Hour); got != time.Hour {
		t.Errorf("renew_before 10%%: Window = %v", got)
	}

	if m := bot.Sinks[1].Mode.Value(); m != 0o600 {
		t.Errorf("unquoted 0600 decoded as %o", m)
	}
	if got := bot.Sinks[1].Path; got != filepath.Join(dir, "out/firstline.tmpl") {
		t.Errorf("relative sink path = %q", got)
	}
	if got := bot.Hooks[1].Command[0]; got != filepath.Join(dir, "bin/reload") {
		t.Errorf("program with a slash = %q, want it resolved", got)
	}
	if got := bot.Hooks[0].Command[0]; got != "sh" {
		t.Errorf("program without a slash = %q, want it left for PATH", got)
	}
	if bot.Hooks[2].Signal != "USR1" || bot.Hooks[3].Signal != "HUP" {
		t.Errorf("signals %q, %q; want SIGUSR1 written as USR1 and HUP by default",
			bot.Hooks[2].Signal, bot.Hooks[3].Signal)
	}

	p := reporting.Proxy
	if p.SocketMode.Value() != 0o660 || p.WaitTimeout.Value() != 3*time.Second ||
		p.MaxConnections != 64 || p.ClientTokenFile != filepath.Join(dir, "proxy-client.token") {
		t.Errorf("proxy: %+v", p)
	}
}

func TestLoad_vaultFiles(t *testing.T) {
	cfg := mustLoad(t, "valid-vault.yaml", nil)
	s := cfg.Accounts[0].Sinks
	if s[0].Mount != "secret" || s[0].Key != "token" ||
		s[0].Name != "vault_kv:secret/apps/support-bot/firstline#token" {
		t.Errorf("vault_kv defaults: %+v", s[0])
	}
	if s[1].Name != "vault_kv:kv1/apps/legacy#FIRSTLINE_TOKEN" || s[1].KVVersion != 1 {
		t.Errorf("vault_kv sink: %+v", s[1])
	}

	k8s := mustLoad(t, "valid-vault-kubernetes.yaml", nil)
	auth := k8s.Vault.Auth
	if auth.Mount != "kubernetes" || auth.JWTFile != DefaultJWTFile {
		t.Errorf("kubernetes defaults: %+v", auth)
	}
	vc := k8s.Accounts[0].Credentials.Vault
	if vc.Mount != "secret" || vc.NameKey != "name" || vc.PasswordKey != "password" {
		t.Errorf("vault credentials defaults: %+v", vc)
	}

	// The token method takes the address from VAULT_ADDR when none is set.
	tok := mustLoad(t, "valid-vault-token.yaml", map[string]string{
		"VAULT_ADDR": "http://127.0.0.1:8200"})
	if tok.Vault.Address != "http://127.0.0.1:8200" || tok.Vault.Auth.Mount != "token" {
		t.Errorf("vault: %+v", tok.Vault)
	}
	_, err := LoadWith("testdata/valid-vault-token.yaml", LoadOptions{LookupEnv: noEnv})
	want := "testdata/valid-vault-token.yaml:1: vault.address: required; set vault.address " +
		"or the VAULT_ADDR environment variable"
	if err == nil || err.Error() != want {
		t.Errorf("without VAULT_ADDR: %v\nwant %s", err, want)
	}
}

func TestLoad_anchorsAndMerge(t *testing.T) {
	cfg := mustLoad(t, "valid-anchors.yaml", nil)
	first, second := cfg.Accounts[0].Sinks[0], cfg.Accounts[1].Sinks[0]
	if first.Mode.Value() != 0o640 || second.Mode.Value() != 0o600 || second.Owner != "0" ||
		second.Path != "/etc/app/reporting.token" {
		t.Errorf("merged sink: %+v", second)
	}
	if cfg.Accounts[1].Credentials.Env == nil {
		t.Error("aliased credentials not decoded")
	}
}

func TestParse_envExpansion(t *testing.T) {
	env := map[string]string{
		"FL_URL":  "http://127.0.0.1:9000",
		"APP_DIR": "/srv/app",
		"WORKERS": "3",
		"TTL":     "2h",
		"MODE":    "0640",
	}
	cfg := mustParse(t, `
firstline:
  base_url: ${FL_URL}
  concurrency: ${WORKERS}
accounts:
  - id: bot
    token_ttl: ${TTL}
    renew_before: ${RENEW:-30m}
    credentials: {env: {name: FL_NAME, password: FL_PASSWORD}}
    sinks:
      - {type: file, path: "${APP_DIR}/token", mode: "${MODE}",
         format: template, template: "price: 5$$ {{ $t := .Token }}{{ $t }} $HOME"}
    hooks:
      - type: exec
        command: ["${APP_DIR}/bin/reload", "--pid", "$(cat ${APP_DIR}/pid)"]
        env: {APP_HOME: "${APP_DIR}"}
`, LoadOptions{ExpandEnv: true, LookupEnv: mapEnv(env)})

	a := cfg.Accounts[0]
	checks := map[string][2]string{
		"base_url":     {cfg.FirstLine.BaseURL, "http://127.0.0.1:9000"},
		"token_ttl":    {a.TokenTTL.String(), "2h0m0s"},
		"renew_before": {a.RenewBefore.String(), "30m0s"},
		"sink path":    {a.Sinks[0].Path, "/srv/app/token"},
		"mode":         {a.Sinks[0].Mode.String(), "0640"},
		"template":     {a.Sinks[0].Template, "price: 5$ {{ $t := .Token }}{{ $t }} $HOME"},
		"command[0]":   {a.Hooks[0].Command[0], "/srv/app/bin/reload"},
		"command[2]":   {a.Hooks[0].Command[2], "$(cat /srv/app/pid)"},
		"env value":    {a.Hooks[0].Env["APP_HOME"], "/srv/app"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
	if cfg.FirstLine.Concurrency != 3 {
		t.Errorf("concurrency: ${WORKERS} = %d, want the number 3", cfg.FirstLine.Concurrency)
	}
}

func TestParse_keysNotExpanded(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`
firstline: {base_url: "https://x.example"}
accounts:
  - id: a
    credentials: {env: {name: N, password: P}}
    sinks: [{type: file, path: /t}]
    hooks: [{type: exec, command: [/bin/true], env: {"${KEY}": v}}]
`), LoadOptions{ExpandEnv: true, LookupEnv: mapEnv(map[string]string{"KEY": "K"})})
	want := "c.yaml:7: accounts[0].hooks[0].env.${KEY}: is not an environment variable name"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestParse_envQuotedNumberStaysText(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`
firstline: {base_url: "https://x.example", concurrency: "${WORKERS}"}
accounts:
  - {id: a, credentials: {env: {name: N, password: P}}, sinks: [{type: file, path: /t}]}
`), LoadOptions{ExpandEnv: true, LookupEnv: mapEnv(map[string]string{"WORKERS": "3"})})
	want := `c.yaml:2: firstline.concurrency: expected a whole number, found "${WORKERS}"; ` +
		`remove the quotes`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestParse_expandEnvOff(t *testing.T) {
	cfg := mustParse(t, `
firstline: {base_url: "https://x.example"}
accounts:
  - id: a
    credentials: {env: {name: N, password: P}}
    sinks: [{type: file, path: "/srv/${APP}/$$token"}]
`, LoadOptions{ExpandEnv: false, LookupEnv: noEnv})
	if got := cfg.Accounts[0].Sinks[0].Path; got != "/srv/${APP}/$$token" {
		t.Errorf("path = %q, want it as written", got)
	}
}

func TestParse_unsetVariableNamesFileLineAndKey(t *testing.T) {
	_, err := Parse("/etc/firstline-rotator/config.yaml", []byte(`firstline:
  base_url: https://x.example
accounts:
  - id: a
    credentials:
      file:
        name_file: ${CREDENTIALS_DIRECTORY}/name
        password_file: ${CREDENTIALS_DIRECTORY}/password
    sinks: [{type: file, path: /t}]
`), LoadOptions{ExpandEnv: true, LookupEnv: noEnv})

	var problems Problems
	if !errors.As(err, &problems) || len(problems) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	want := Problem{File: "/etc/firstline-rotator/config.yaml", Line: 7,
		Path: "accounts[0].credentials.file.name_file",
		Message: "environment variable CREDENTIALS_DIRECTORY is not set; set it, or give a " +
			"default with ${CREDENTIALS_DIRECTORY:-default}"}
	if problems[0] != want {
		t.Errorf("problem = %+v\nwant      %+v", problems[0], want)
	}
}

func TestParse_secretValuesNotEchoed(t *testing.T) {
	const canary = "pw-Canary-9f3e1c"
	_, err := Parse("c.yaml", []byte(`
firstline: {base_url: "http://user:`+canary+`@api.example.com"}
accounts:
  - id: a
    credentials: {env: {name: FL_NAME, password: "`+canary+`"}}
    sinks: [{type: file, path: /t}]
    hooks: [{type: webhook, url: "http://hooks.example.com/?key=`+canary+`",
             secret_file: /k}]
`), LoadOptions{ExpandEnv: true, LookupEnv: noEnv})
	if err == nil {
		t.Fatal("want problems")
	}
	if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), canary[:8]) {
		t.Errorf("a secret value reached the messages:\n%v", err)
	}
	if strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want three problems (base_url, env.password, url), got:\n%v", err)
	}
}

func TestProblem_Error(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "config.yaml", Line: 14, Path: "accounts[1].sinks[0].mode",
			Message: `640 is not an octal mode; write "0640"`},
			`config.yaml:14: accounts[1].sinks[0].mode: 640 is not an octal mode; write "0640"`},
		{Problem{File: "config.yaml", Message: "empty"}, "config.yaml: empty"},
		{Problem{File: "config.yaml", Line: 3, Message: "bad"}, "config.yaml:3: bad"},
		{Problem{Path: "accounts", Message: "required"}, "accounts: required"},
		{Problem{Line: 2, Path: "log", Message: "x"}, "line 2: log: x"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	ps := Problems{tests[0].p, tests[1].p}
	if got := ps.Error(); got != tests[0].want+"\n"+tests[1].want {
		t.Errorf("Problems.Error() = %q", got)
	}
}

func TestConfig_ValidateBuiltInCode(t *testing.T) {
	cfg := &Config{
		Log:      Log{Level: "info", Format: "json"},
		StateDir: t.TempDir(),
		FirstLine: FirstLine{BaseURL: "http://127.0.0.1:8080", Timeout: NewDuration(time.Second),
			Concurrency: 1},
		Accounts: []Account{{
			ID:               "bot",
			Credentials:      Credentials{Env: &EnvCredentials{Name: "N", Password: "P"}},
			TokenTTL:         NewDuration(time.Hour),
			RenewBefore:      NewRenewBeforeDuration(time.Hour),
			Method:           "login",
			MaxLoginsPerHour: 6,
			Lock:             Lock{Type: "file", TTL: NewDuration(time.Minute)},
			Sinks:            []Sink{{Type: "file", Path: "/t", Format: "raw"}},
		}},
	}
	err := cfg.Validate()
	want := "accounts[0].renew_before: must be shorter than token_ttl (1h0m0s)"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v, want %q", err, want)
	}

	cfg.Accounts[0].RenewBefore = NewRenewBeforePercent(20)
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}
