package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

// fixture is a directory holding the credentials of n FIRST LINE
// accounts, one pair of files each, as an operator would provision them.
type fixture struct {
	dir   string
	ids   []string
	users []emulator.User
}

// newFixture writes the credentials of n accounts under dir/creds.
func newFixture(dir string, n int) (*fixture, error) {
	f := &fixture{dir: dir}
	creds := filepath.Join(dir, "creds")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		return nil, fmt.Errorf("create fixture: %w", err)
	}

	for i := range n {
		id := fmt.Sprintf("acct-%05d", i)
		password := "Pw-bench-" + id
		f.ids = append(f.ids, id)
		f.users = append(f.users, emulator.User{Name: id, Password: password,
			Role: emulator.RoleAgent, ID: i + 1})

		for name, value := range map[string]string{".name": id, ".password": password} {
			path := filepath.Join(creds, id+name)
			if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write fixture: %w", err)
			}
		}
	}
	return f, nil
}

// configOptions shapes a configuration over a fixture.
type configOptions struct {
	url         string
	concurrency int     // 0 keeps the default (16)
	rateLimit   float64 // 0: no limit
	sinks       int     // file sinks per account: 1 or 2
	listen      string  // http.listen; "" disables it
	stateDir    string  // default dir/state
	maxLogins   int     // max_logins_per_hour; 0 keeps the default (6)
}

// sinkPath is where sink k (0 or 1) of account id writes.
func (f *fixture) sinkPath(id string, k int) string {
	if k == 0 {
		return filepath.Join(f.dir, "out-raw", id+".token")
	}
	return filepath.Join(f.dir, "out-json", id+".json")
}

// writeConfig writes a configuration for every account of the fixture to
// path: token_ttl 24h and a yearly schedule, so that once rotated nothing
// is due for 18 hours.
func (f *fixture) writeConfig(path string, o configOptions) error {
	for _, d := range []string{"out-raw", "out-json"} {
		if err := os.MkdirAll(filepath.Join(f.dir, d), 0o700); err != nil {
			return fmt.Errorf("create sink directory: %w", err)
		}
	}
	if o.stateDir == "" {
		o.stateDir = filepath.Join(f.dir, "state")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "log: {level: info, format: json}\nstate_dir: %s\n", o.stateDir)
	fmt.Fprintf(&b, "firstline: {base_url: %q, timeout: 30s", o.url)
	if o.concurrency > 0 {
		fmt.Fprintf(&b, ", concurrency: %d", o.concurrency)
	}
	if o.rateLimit > 0 {
		fmt.Fprintf(&b, ", rate_limit: %g", o.rateLimit)
	}
	b.WriteString("}\n")
	if o.listen != "" {
		fmt.Fprintf(&b, "http: {listen: %q}\n", o.listen)
	}

	b.WriteString("accounts:\n")
	for _, id := range f.ids {
		f.writeAccount(&b, id, o)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func (f *fixture) writeAccount(b *strings.Builder, id string, o configOptions) {
	fmt.Fprintf(b, "  - id: %s\n", id)
	fmt.Fprintf(b, "    credentials: {file: {name_file: %s, password_file: %s}}\n",
		filepath.Join(f.dir, "creds", id+".name"), filepath.Join(f.dir, "creds", id+".password"))
	b.WriteString("    token_ttl: 24h\n    schedule: \"0 3 1 1 *\"\n")
	if o.maxLogins > 0 {
		fmt.Fprintf(b, "    max_logins_per_hour: %d\n", o.maxLogins)
	}
	fmt.Fprintf(b, "    sinks:\n      - {type: file, path: %s}\n", f.sinkPath(id, 0))
	if o.sinks > 1 {
		fmt.Fprintf(b, "      - {type: file, path: %s, format: json}\n", f.sinkPath(id, 1))
	}
}

// checkDelivered checks that every sink of every account holds the
// emulator's live token for that account.
func (f *fixture) checkDelivered(a *api, sinks int) error {
	bad := 0
	var first string
	for _, id := range f.ids {
		live := a.em.Current(id)
		for k := range sinks {
			data, err := os.ReadFile(f.sinkPath(id, k))
			if err == nil && live != "" && strings.Contains(string(data), live) {
				continue
			}
			if bad++; first == "" {
				first = f.sinkPath(id, k)
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("check sinks: %d sink file(s) do not hold the live token, first %s",
			bad, first)
	}
	return nil
}
