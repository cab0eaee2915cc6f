package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var accountID = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// account checks accounts[i].
func (k *checker) account(c *Config, i int) {
	a := &c.Accounts[i]
	path := fmt.Sprintf("accounts[%d]", i)
	switch {
	case a.ID == "":
		k.add(path+".id", "required; a short name such as support-bot")
	case !accountID.MatchString(a.ID):
		k.addf(path+".id", "%q is not a valid id; use 1 to 64 of a-z, 0-9, _ and -", a.ID)
	}

	k.credentials(c, path+".credentials", a.Credentials)
	fl := a.FirstLine
	if fl == nil {
		fl = mergeFirstLine(c.FirstLine, nil)
	}
	k.accountFirstLine(path+".firstline", fl, c.FirstLine)
	k.rotation(path, a)
	k.lock(c, path+".lock", a.Lock)
	if a.Probe != nil {
		k.probe(path+".probe", a.Probe)
	}
	if a.Proxy != nil {
		k.proxy(path+".proxy", a.Proxy)
	}

	if len(a.Sinks) == 0 && a.Proxy == nil {
		k.add(path+".sinks", "required; configure at least one sink, or a proxy")
	}
	for j := range a.Sinks {
		k.sink(c, fmt.Sprintf("%s.sinks[%d]", path, j), a.Sinks[j])
	}
	k.uniqueSinkNames(path, a.Sinks)
	for j := range a.Hooks {
		k.hook(fmt.Sprintf("%s.hooks[%d]", path, j), a.Hooks[j])
	}
}

// credentials checks that exactly one source is set, and that one.
func (k *checker) credentials(c *Config, path string, cr Credentials) {
	var set []string
	for _, s := range []struct {
		name string
		set  bool
	}{{"file", cr.File != nil}, {"env", cr.Env != nil}, {"vault", cr.Vault != nil}} {
		if s.set {
			set = append(set, s.name)
		}
	}
	switch len(set) {
	case 0:
		k.add(path, "required; set one of file, env or vault")
		return
	case 1:
	default:
		k.addf(path, "set only one of file, env and vault; found %s", strings.Join(set, " and "))
		return
	}

	switch {
	case cr.File != nil:
		k.requireFile(path+".file.name_file", cr.File.NameFile, "the file holding the name")
		k.requireFile(path+".file.password_file", cr.File.PasswordFile,
			"the file holding the password")
	case cr.Env != nil:
		k.envCredential(path+".env.name", cr.Env.Name, "FL_NAME")
		k.envCredential(path+".env.password", cr.Env.Password, "FL_PASSWORD")
	default:
		k.vaultCredentials(c, path+".vault", cr.Vault)
	}
}

func (k *checker) requireFile(path, value, what string) {
	if value == "" {
		k.addf(path, "required; %s", what)
	}
}

func (k *checker) envCredential(path, value, example string) {
	if value == "" {
		k.addf(path, "required; the name of the environment variable, e.g. %s", example)
		return
	}
	k.envVarName(path, value, example)
}

func (k *checker) vaultCredentials(c *Config, path string, v *VaultCredentials) {
	if c.Vault == nil {
		k.add(path, "needs the top-level vault block")
	}
	k.vaultPath(path+".mount", v.Mount, "the KV mount")
	k.vaultPath(path+".path", v.Path, "the secret holding the name and password")
	if v.NameKey == "" {
		k.add(path+".name_key", "must not be empty")
	}
	if v.PasswordKey == "" {
		k.add(path+".password_key", "must not be empty")
	}
	k.kvVersion(path+".kv_version", v.KVVersion)
}

// rotation checks token_ttl, renew_before, method, schedule and the login
// budget.
func (k *checker) rotation(path string, a *Account) {
	ttl := a.TokenTTL
	k.duration(path+".token_ttl", ttl, time.Minute)
	if ttl.problemText() == "" && ttl.Value() >= time.Minute && ttl.Value()%time.Minute != 0 {
		k.add(path+".token_ttl", "must be a whole number of minutes "+
			"(the API takes the ttl in minutes)")
	}

	rb := a.RenewBefore
	switch {
	case rb.problemText() != "":
		k.add(path+".renew_before", rb.problemText())
	case rb.Percent() == 0 && rb.Duration() <= 0:
		k.add(path+".renew_before", "must be more than 0s")
	case rb.Percent() == 0 && ttl.problemText() == "" && rb.Duration() >= ttl.Value():
		k.addf(path+".renew_before", "must be shorter than token_ttl (%s)", ttl)
	}

	k.oneOf(path+".method", a.Method, "a method", "login", "refresh")
	budgetOK := a.MaxLoginsPerHour >= 1 && a.MaxLoginsPerHour <= 3600
	if !budgetOK {
		k.add(path+".max_logins_per_hour", "must be from 1 to 3600")
	}
	if a.Schedule == "" {
		return
	}
	sched, err := ParseSchedule(a.Schedule)
	if err != nil {
		k.add(path+".schedule", err.Error())
		return
	}
	if perHour := firingsPerHour(sched); budgetOK && perHour > a.MaxLoginsPerHour {
		k.addf(path+".schedule", "fires about %d times an hour, more than "+
			"max_logins_per_hour (%d) allows; fire less often or raise max_logins_per_hour",
			perHour, a.MaxLoginsPerHour)
	}
}

// firingsPerHour is the busiest hour's count of a schedule's firings over
// a sample week.
func firingsPerHour(sched cron.Schedule) int {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	end := start.Add(7 * 24 * time.Hour)
	perHour := map[time.Time]int{}
	busiest := 0
	for t := sched.Next(start.Add(-time.Nanosecond)); t.Before(end) && !t.IsZero(); t =
		sched.Next(t) {
		hour := t.Truncate(time.Hour)
		perHour[hour]++
		busiest = max(busiest, perHour[hour])
		if busiest > 3600 {
			break
		}
	}
	return busiest
}

func (k *checker) lock(c *Config, path string, l Lock) {
	k.oneOf(path+".type", l.Type, "a lock type", "file", "vault")
	switch l.Type {
	case "vault":
		if c.Vault == nil {
			k.add(path+".type", "a vault lock needs the top-level vault block")
		}
		k.vaultPath(path+".mount", l.Mount, "the KV v2 mount holding the lease")
		k.vaultPath(path+".path", l.Path, "the secret holding the lease")
	case "file":
		if l.Mount != "" {
			k.add(path+".mount", "applies only to vault locks")
		}
		if l.Path != "" {
			k.add(path+".path", "applies only to vault locks")
		}
	}
	k.duration(path+".ttl", l.TTL, time.Second)
}

func (k *checker) probe(path string, p *Probe) {
	switch {
	case p.Path == "":
		k.add(path+".path", `required; an API path such as /api/v1/...`)
	case !strings.HasPrefix(p.Path, "/"):
		k.add(path+".path", `must start with "/"`)
	}
	k.duration(path+".interval", p.Interval, 10*time.Second)
}

func (k *checker) proxy(path string, p *Proxy) {
	socket, isUnix := strings.CutPrefix(p.Listen, "unix:")
	switch {
	case p.Listen == "":
		k.add(path+".listen", "required; host:port or unix:/absolute/path")
	case isUnix && !filepath.IsAbs(socket):
		k.add(path+".listen", "the unix socket path must be absolute, e.g. "+
			"unix:/run/firstline-rotator/app.sock")
	case !isUnix:
		k.hostPort(path+".listen", p.Listen, "127.0.0.1:8781")
	}
	if p.SocketMode.problemText() != "" {
		k.add(path+".socket_mode", p.SocketMode.problemText())
	}
	k.duration(path+".wait_timeout", p.WaitTimeout, 0)
	if p.MaxConnections < 1 {
		k.add(path+".max_connections", "must be at least 1")
	}
}

// uniqueIDs reports an account id used twice.
func (k *checker) uniqueIDs(accounts []Account) {
	first := map[string]int{}
	for i, a := range accounts {
		if a.ID == "" {
			continue
		}
		if j, seen := first[a.ID]; seen {
			k.addf(fmt.Sprintf("accounts[%d].id", i), "%q is already used by %s",
				a.ID, k.where(fmt.Sprintf("accounts[%d]", j)))
			continue
		}
		first[a.ID] = i
	}
}

// where names another key path, with its line when known.
func (k *checker) where(path string) string {
	if line := k.lineOf(path); line > 0 {
		return fmt.Sprintf("%s (line %d)", path, line)
	}
	return path
}
