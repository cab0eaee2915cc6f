package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// replicaCycles is how many rotations the two replicas drive together.
const replicaCycles = 100

// replicaConfig is one host's config: its own state and sink, the shared
// account and the shared lease in Vault.
const replicaConfig = `
log: {level: info, format: json}
state_dir: %DIR%/%HOST%/state
firstline: {base_url: "%URL%", timeout: 5s}
vault:
  address: "%VAULT%"
  auth: {method: token, token_file: %DIR%/%HOST%/vault-token}
accounts:
  - id: support-bot
    credentials:
      file: {name_file: creds/name, password_file: creds/password}
    token_ttl: 1h
    max_logins_per_hour: 3600
    lock: {type: vault, mount: secret, path: leases/support-bot}
    sinks:
      - {type: file, name: token, path: %HOST%/token}
`

// Two replicas of one account, as on two hosts (separate state and sinks)
// sharing a Vault lease, are both told to rotate at the same moment, 100
// times. Each cycle must cost exactly one log-in, and both hosts must end
// it holding the same live token: no replica ever kills the token the
// other one delivered. Consumers on both hosts use their token after
// every cycle, and FIRST LINE must never see a superseded token.
func TestReplicas_VaultLeaseHundredCycles(t *testing.T) {
	e := newEnv(t)
	vault := vaulttest.Start(t)
	vault.SetPolicy("rotator-lease", []vaulttest.Rule{
		{Path: kvMount + "/data/leases/support-bot", Capabilities: []string{
			"create", "read", "update"}},
		{Path: kvMount + "/metadata/leases/support-bot", Capabilities: []string{"read"}},
	})

	hosts := []string{"host-a", "host-b"}
	configs := make([]string, len(hosts))
	for i, host := range hosts {
		configs[i] = writeReplicaConfig(t, e, vault, host)
	}

	rotated := map[string]int{}
	started := time.Now()
	for cycle := 1; cycle <= replicaCycles; cycle++ {
		results := rotateTogether(t, e, configs)
		for i, res := range results {
			if res.code != 0 {
				t.Fatalf("cycle %d: %s: %s", cycle, hosts[i], res)
			}
			if strings.Contains(res.stdout, "support-bot  rotated") {
				rotated[hosts[i]]++
			}
		}
		checkReplicaCycle(t, e, hosts, cycle)
	}

	stats := e.em.Stats(canaryName)
	t.Logf("%d cycles in %s: log-ins by host %v, superseded uses %d",
		replicaCycles, time.Since(started).Round(time.Millisecond), rotated,
		stats.SupersededUses)
	if stats.SupersededUses != 0 {
		t.Errorf("consumers presented %d superseded token(s): a replica killed the "+
			"token the other had delivered", stats.SupersededUses)
	}
	if rotated[hosts[0]]+rotated[hosts[1]] != replicaCycles {
		t.Errorf("the replicas reported %v rotations, want %d in all", rotated, replicaCycles)
	}

	data, _, err := vault.KVGet(kvMount, "leases/support-bot")
	if err != nil {
		t.Fatal(err)
	}
	if data["owner"] != "" || data["generation"] != fmt.Sprint(replicaCycles) {
		t.Errorf("lease record after the last cycle: owner %q, generation %v; want it "+
			"released at generation %d", data["owner"], data["generation"], replicaCycles)
	}
}

// writeReplicaConfig writes one host's config and Vault token file.
func writeReplicaConfig(t *testing.T, e *env, vault *vaulttest.Server, host string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(e.dir, host), 0o700); err != nil {
		t.Fatal(err)
	}
	token := vault.CreateToken(vaulttest.TokenOptions{Policies: []string{"rotator-lease"},
		TTL: time.Hour, Renewable: true})
	err := os.WriteFile(filepath.Join(e.dir, host, "vault-token"), []byte(token+"\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	body := strings.NewReplacer("%HOST%", host, "%VAULT%", vault.URL(), "%DIR%", e.dir,
		"%URL%", e.url).Replace(replicaConfig)
	path := filepath.Join(e.dir, host+".yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rotateTogether starts `rotate --force` for every config at once and
// waits for all of them.
func rotateTogether(t *testing.T, e *env, configs []string) []result {
	t.Helper()
	results := make([]result, len(configs))
	errs := make([]error, len(configs))
	var wg sync.WaitGroup
	for i, config := range configs {
		wg.Go(func() {
			results[i], errs[i] = execBinary(config, runOpts{}, "rotate", "--force")
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("run rotate with %s: %v", configs[i], err)
		}
		e.assertNoSecrets(results[i].stdout + results[i].stderr)
	}
	return results
}

// checkReplicaCycle asserts that both hosts hold the one live token, that
// the cycle cost one log-in, and lets a consumer on each host use it.
func checkReplicaCycle(t *testing.T, e *env, hosts []string, cycle int) {
	t.Helper()
	current := e.em.Current(canaryName)
	for _, host := range hosts {
		token := e.readToken(filepath.Join(e.dir, host, "token"))
		if token != current || !e.em.Valid(token) {
			t.Fatalf("cycle %d: %s does not hold the live token (valid=%v)", cycle, host,
				e.em.Valid(token))
		}
		useToken(t, e.url, token)
	}
	if logins := e.em.Stats(canaryName).Logins; logins != cycle {
		t.Fatalf("after cycle %d FIRST LINE saw %d log-ins, want one per cycle", cycle,
			logins)
	}
}

// useToken is a consumer's request with token; it must be accepted.
func useToken(t *testing.T, baseURL, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+emulator.TicketsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a consumer's request with the delivered token got %d", resp.StatusCode)
	}
}
