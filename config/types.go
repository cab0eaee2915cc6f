package config

// Config is the whole configuration file after loading, expansion and
// defaults.
type Config struct {
	Log       Log       `yaml:"log"`
	StateDir  string    `yaml:"state_dir"`
	FirstLine FirstLine `yaml:"firstline"`
	Vault     *Vault    `yaml:"vault"`
	HTTP      HTTP      `yaml:"http"`
	Accounts  []Account `yaml:"accounts"`

	// Path is the file the configuration was read from.
	Path string `yaml:"-"`

	// src records where each key was written; nil for a Config built in
	// code.
	src *source
}

// Log configures the process log on stderr.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error; default info
	Format string `yaml:"format"` // json | console; default json
}

// FirstLine configures the FIRST LINE API client. An account's own block
// overrides the global one key by key; after loading, every account's
// FirstLine holds the merged result.
type FirstLine struct {
	BaseURL   string   `yaml:"base_url"`
	Timeout   Duration `yaml:"timeout"`     // default 15s
	PutAsPost *bool    `yaml:"put_as_post"` // default false
	CAFile    string   `yaml:"ca_file"`

	// RateLimit caps FIRST LINE requests per second for the whole process
	// (global block only); 0 means no limit.
	RateLimit float64 `yaml:"rate_limit"`
	// Concurrency caps rotations in flight at once (global block only);
	// default 16.
	Concurrency int `yaml:"concurrency"`
}

// HTTP configures the health and metrics listener; an empty Listen
// disables it.
type HTTP struct {
	Listen string `yaml:"listen"`
}

// Account is one FIRST LINE employee account and where its token goes.
type Account struct {
	ID          string      `yaml:"id"`
	Credentials Credentials `yaml:"credentials"`
	FirstLine   *FirstLine  `yaml:"firstline"`
	TokenTTL    Duration    `yaml:"token_ttl"`    // default 24h
	Schedule    string      `yaml:"schedule"`     // optional cron expression
	RenewBefore RenewBefore `yaml:"renew_before"` // default 25%
	Method      string      `yaml:"method"`       // login | refresh; default login

	MaxLoginsPerHour int    `yaml:"max_logins_per_hour"` // default 6
	RevokeOnShutdown bool   `yaml:"revoke_on_shutdown"`
	Lock             Lock   `yaml:"lock"`
	Probe            *Probe `yaml:"probe"`
	Proxy            *Proxy `yaml:"proxy"`

	Sinks []Sink `yaml:"sinks"`
	Hooks []Hook `yaml:"hooks"`
}

// Credentials says where an account's name and password come from. Exactly
// one of the three is set.
type Credentials struct {
	File  *FileCredentials  `yaml:"file"`
	Env   *EnvCredentials   `yaml:"env"`
	Vault *VaultCredentials `yaml:"vault"`
}

// FileCredentials reads the name and password from files, re-read at every
// rotation.
type FileCredentials struct {
	NameFile     string `yaml:"name_file"`
	PasswordFile string `yaml:"password_file"`
}

// EnvCredentials names the environment variables holding the name and
// password (the names of the variables, not their values).
type EnvCredentials struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
}

// VaultCredentials reads the name and password from a Vault KV secret.
type VaultCredentials struct {
	Mount       string `yaml:"mount"` // default secret
	Path        string `yaml:"path"`
	NameKey     string `yaml:"name_key"`     // default name
	PasswordKey string `yaml:"password_key"` // default password
	KVVersion   int    `yaml:"kv_version"`   // 0 detects
}

// Sink is one place an account's token is written. Which keys apply depends
// on Type: file (path, mode, owner, group, format, template), envfile (path,
// mode, owner, group, key, dialect), vault_kv (mount, path, key,
// kv_version).
type Sink struct {
	Type      string   `yaml:"type"`
	Name      string   `yaml:"name"` // optional label; default type:path
	Path      string   `yaml:"path"`
	Mode      FileMode `yaml:"mode"`
	Owner     string   `yaml:"owner"`
	Group     string   `yaml:"group"`
	Format    string   `yaml:"format"`   // file: raw | json | template; default raw
	Template  string   `yaml:"template"` // file with format template
	Key       string   `yaml:"key"`      // envfile: variable; vault_kv: key
	Dialect   string   `yaml:"dialect"`  // envfile: systemd | dotenv | docker
	Mount     string   `yaml:"mount"`    // vault_kv; default secret
	KVVersion int      `yaml:"kv_version"`
}

// Hook runs after every sink of an account holds a new generation.
type Hook struct {
	Type    string   `yaml:"type"` // exec | signal | webhook
	Timeout Duration `yaml:"timeout"`

	// exec
	Command  []string          `yaml:"command"`
	Env      map[string]string `yaml:"env"`
	TokenVia string            `yaml:"token_via"` // "" | stdin | env
	TokenEnv string            `yaml:"token_env"` // with token_via env

	// signal
	PIDFile string `yaml:"pid_file"`
	Unit    string `yaml:"unit"`
	Signal  string `yaml:"signal"` // default HUP

	// webhook
	URL          string `yaml:"url"`
	SecretFile   string `yaml:"secret_file"` // HMAC-SHA256 key
	IncludeToken bool   `yaml:"include_token"`
}

// Lock says how an account's rotation lease is taken.
type Lock struct {
	Type  string   `yaml:"type"` // file | vault; default file
	Mount string   `yaml:"mount"`
	Path  string   `yaml:"path"`
	TTL   Duration `yaml:"ttl"` // default 60s
}

// Probe checks the current token with an authenticated GET.
type Probe struct {
	Path     string   `yaml:"path"`
	Interval Duration `yaml:"interval"`
}

// Proxy serves the account's API with the current token injected.
type Proxy struct {
	Listen          string   `yaml:"listen"` // host:port or unix:/path
	SocketMode      FileMode `yaml:"socket_mode"`
	ClientTokenFile string   `yaml:"client_token_file"`
	WaitTimeout     Duration `yaml:"wait_timeout"`    // default 2s
	MaxConnections  int      `yaml:"max_connections"` // default 256
}

// Vault configures the rotator's own Vault client.
type Vault struct {
	Address       string    `yaml:"address"` // default $VAULT_ADDR
	Namespace     string    `yaml:"namespace"`
	CAFile        string    `yaml:"ca_file"`
	TLSServerName string    `yaml:"tls_server_name"`
	Auth          VaultAuth `yaml:"auth"`
}

// VaultAuth says how the rotator logs in to Vault.
type VaultAuth struct {
	Method string `yaml:"method"` // token | approle | kubernetes
	Mount  string `yaml:"mount"`  // default: the method name

	TokenFile string `yaml:"token_file"` // token; else $VAULT_TOKEN

	RoleID       string `yaml:"role_id"`
	RoleIDFile   string `yaml:"role_id_file"`
	SecretIDFile string `yaml:"secret_id_file"`
	Wrapped      bool   `yaml:"wrapped"`

	Role    string `yaml:"role"`     // kubernetes
	JWTFile string `yaml:"jwt_file"` // kubernetes
}
