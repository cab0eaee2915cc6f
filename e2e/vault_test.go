package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// vaultConfig is one account whose credentials and first sink are in
// Vault, with a file sink next to it.
const vaultConfig = `
log: {level: debug, format: json}
state_dir: %DIR%/state
firstline: {base_url: "%URL%", timeout: 5s}
vault:
  address: "%VAULT%"
  auth: %AUTH%
accounts:
  - id: support-bot
    credentials:
      vault: {mount: secret, path: "%CREDS%", name_key: name, password_key: password}
    token_ttl: 1h
    sinks:
      - {type: vault_kv, mount: secret, path: "%SINK%", key: token}
      - {type: file, path: out/token}
`

// keptKey is a key the sink's secret held before the rotator wrote to it.
const keptKey, keptValue = "db_password", "kept-value-3f1a"

// vaultCase is the usual layout: credentials and a sink secret that
// already holds another key.
type vaultCase struct {
	*vaultEnv
	creds, sink string
	before      int // the sink secret's version before any rotation
}

func newVaultCase(t *testing.T, b vaultBackend) *vaultCase {
	t.Helper()
	c := &vaultCase{vaultEnv: newVaultEnv(t, b),
		creds: b.Path("firstline/support-bot"), sink: b.Path("apps/support-bot/firstline")}
	b.Put(t, c.creds, map[string]any{"name": canaryName, "password": canaryPassword})
	c.before = b.Put(t, c.sink, map[string]any{keptKey: keptValue, "token": "stale"})
	return c
}

func (c *vaultCase) vars(auth string) map[string]string {
	return map[string]string{"%AUTH%": auth, "%CREDS%": c.creds, "%SINK%": c.sink}
}

// sinkName is the vault_kv sink's default name, as errors show it.
func (c *vaultCase) sinkName() string {
	return "vault_kv:" + kvMount + "/" + c.sink + "#token"
}

// checkSink checks that the sink secret holds token as its version want,
// next to the key it held before.
func (c *vaultCase) checkSink(token string, want int) {
	c.t.Helper()
	data, meta := c.b.Get(c.t, c.sink)
	if data["token"] != token {
		c.t.Errorf("the vault sink does not hold the token the file sink holds")
	}
	if data[keptKey] != keptValue || data["account"] != "support-bot" {
		c.t.Errorf("vault sink keys: %s=%v account=%v; want the kept value and support-bot",
			keptKey, data[keptKey], data["account"])
	}
	expires, err := time.Parse(time.RFC3339, stringOf(data["expires_at"]))
	if err != nil || time.Until(expires) < 55*time.Minute || time.Until(expires) > 61*time.Minute {
		c.t.Errorf("vault sink expires_at %v (%v), want about an hour from now",
			data["expires_at"], err)
	}
	if meta.CurrentVersion != want {
		c.t.Errorf("vault sink current_version %d, want %d", meta.CurrentVersion, want)
	}
	if got := meta.Custom["fingerprint"]; got != secret.Fingerprint(token) {
		c.t.Errorf("custom metadata fingerprint %q, want the token's %q", got,
			secret.Fingerprint(token))
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func TestVault_RotateForceIntoKVv2AndFile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaultBackend) {
		c := newVaultCase(t, b)
		b.RequireCAS(t, c.sink)
		policy := b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, []string{c.sink}))
		c.writeVaultConfig(vaultConfig, c.vars(c.auth(policy)))

		first := c.run(nil, "rotate", "--config", c.config, "--force")
		if first.code != 0 {
			t.Fatalf("rotate --force: %s", first)
		}
		token1 := c.readToken(filepath.Join(c.dir, "out/token"))
		if !c.em.Valid(token1) {
			t.Fatal("the emulator does not accept the token in the file sink")
		}
		c.checkSink(token1, c.before+1)

		second := c.run(nil, "rotate", "--config", c.config, "--force")
		if second.code != 0 {
			t.Fatalf("second rotate --force: %s", second)
		}
		token2 := c.readToken(filepath.Join(c.dir, "out/token"))
		if token2 == token1 || c.em.Valid(token1) || !c.em.Valid(token2) {
			t.Fatal("the second rotation did not replace the first token")
		}
		c.checkSink(token2, c.before+2)

		if got := c.em.Stats(canaryName).Logins; got != 2 {
			t.Errorf("FIRST LINE saw %d log-ins, want 2", got)
		}
		if srv := b.Fake(); srv != nil && srv.Logins() != 2 {
			t.Errorf("vault saw %d AppRole logins, want one per run (2)", srv.Logins())
		}
		if secrets, urls := c.proxy.seen(); len(secrets) == 0 || len(urls) == 0 {
			t.Error("the binary did not reach Vault through the recording proxy")
		}
	})
}

func TestVault_WrappedSecretID(t *testing.T) {
	c := newVaultCase(t, newFakeVault(t))
	policy := c.b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, []string{c.sink}))
	c.writeVaultConfig(vaultConfig, c.vars(c.appRoleAuth(policy, true)))

	res := c.run(nil, "rotate", "--config", c.config, "--force")
	if res.code != 0 {
		t.Fatalf("rotate --force with a wrapped secret ID: %s", res)
	}
	token := c.readToken(filepath.Join(c.dir, "out/token"))
	if !c.em.Valid(token) {
		t.Fatal("the emulator does not accept the token in the file sink")
	}
	c.checkSink(token, c.before+1)

	srv := c.b.Fake()
	if unwraps := srv.Requests("sys/wrapping/unwrap"); unwraps != 1 || srv.Logins() != 1 {
		t.Errorf("vault saw %d unwraps and %d logins, want 1 and 1", unwraps, srv.Logins())
	}
	if secrets, _ := c.proxy.seen(); len(secrets) < 3 {
		t.Errorf("the proxy recorded %d secrets, want the wrapping token, the unwrapped "+
			"secret ID and the Vault token", len(secrets))
	}
}

// twoAccounts has support-bot (the canary account) and second-bot, each
// with credentials in Vault, a vault_kv sink and a file sink.
const twoAccounts = `
log: {level: debug, format: json}
state_dir: %DIR%/state
firstline: {base_url: "%URL%", timeout: 5s}
vault:
  address: "%VAULT%"
  auth: %AUTH%
accounts:
  - id: support-bot
    credentials: {vault: {path: "%CREDS%"}}
    token_ttl: 1h
    sinks:
      - {type: vault_kv, path: "%SINK%"}
      - {type: file, path: out/token}
  - id: second-bot
    credentials: {vault: {path: "%CREDS2%"}}
    token_ttl: 1h
    sinks:
      - {type: vault_kv, path: "%SINK2%"}
      - {type: file, path: out/second.token}
`

func TestVault_DeniedCredentialsFailOnlyThatAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaultBackend) {
		c := newVaultCase(t, b)
		creds2, sink2 := b.Path("firstline/second-bot"), b.Path("apps/second-bot/firstline")
		b.Put(t, creds2, map[string]any{"name": secondName, "password": secondPassword})
		oldFile := c.writeFile("out/token", "previous-token-content\n")

		// The policy leaves out support-bot's credentials: Vault answers 403.
		policy := b.Policy(t, "rotator", rotatorPolicy([]string{creds2},
			[]string{c.sink, sink2}))
		vars := c.vars(c.auth(policy))
		vars["%CREDS2%"], vars["%SINK2%"] = creds2, sink2
		c.writeVaultConfig(twoAccounts, vars)

		res := c.run(nil, "rotate", "--config", c.config, "--force")
		out := res.stdout + res.stderr
		if res.code != 1 || !strings.Contains(out, kvMount+"/"+c.creds) ||
			!strings.Contains(out, "403") || !strings.Contains(res.stderr, "support-bot") {
			t.Fatalf("want exit 1 naming support-bot, %s/%s and 403; %s", kvMount, c.creds, res)
		}

		token2 := c.readToken(filepath.Join(c.dir, "out/second.token"))
		if !c.em.Valid(token2) {
			t.Fatal("second-bot: the emulator does not accept its token")
		}
		if data, _ := b.Get(t, sink2); data["token"] != token2 {
			t.Error("second-bot: the vault sink does not hold its token")
		}

		if got, _ := os.ReadFile(oldFile); string(got) != "previous-token-content\n" {
			t.Errorf("support-bot: the file sink changed to %q", got)
		}
		if data, meta := b.Get(t, c.sink); meta.CurrentVersion != c.before ||
			data["token"] != "stale" {
			t.Errorf("support-bot: the vault sink moved to version %d (was %d)",
				meta.CurrentVersion, c.before)
		}
		if got := c.em.Stats(canaryName).Logins; got != 0 {
			t.Errorf("support-bot logged in %d times without its credentials", got)
		}
	})
}

func TestVault_SinkDeniedIsRedeliveredWithoutLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaultBackend) {
		c := newVaultCase(t, b)
		// Nothing on the sink's secret yet: Vault answers 403 there.
		policy := b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, nil))
		c.writeVaultConfig(vaultConfig, c.vars(c.auth(policy)))

		res := c.run(nil, "rotate", "--config", c.config, "--force")
		if res.code != 1 || !strings.Contains(res.stdout, c.sinkName()) ||
			!strings.Contains(res.stdout, "403") {
			t.Fatalf("want exit 1 naming the lagging sink %s and 403; %s", c.sinkName(), res)
		}
		token := c.readToken(filepath.Join(c.dir, "out/token"))
		if !c.em.Valid(token) {
			t.Fatal("the file sink does not hold a live token after the vault sink failed")
		}
		if srv := b.Fake(); srv != nil {
			if n := srv.Requests(kvMount + "/metadata/" + c.sink); n < 2 {
				t.Errorf("rotate tried the vault sink %d times, want it retried", n)
			}
		}

		b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, []string{c.sink}))
		res = c.run(nil, "rotate", "--config", c.config)
		if res.code != 0 {
			t.Fatalf("rotate after the policy allows the sink: %s", res)
		}
		c.checkSink(token, c.before+1)
		if got := c.em.Stats(canaryName).Logins; got != 1 || !c.em.Valid(token) {
			t.Errorf("FIRST LINE saw %d log-ins (token valid=%v), want 1: redelivery comes "+
				"from the journal", got, c.em.Valid(token))
		}
	})
}

func TestVault_TokenMethodAndVaultAddrFallback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaultBackend) {
		c := newVaultCase(t, b)
		policy := b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, []string{c.sink}))
		noAddress := strings.Replace(vaultConfig, "  address: \"%VAULT%\"\n", "", 1)
		c.writeVaultConfig(noAddress, c.vars(c.tokenAuth(policy)))

		res := c.run(nil, "rotate", "--config", c.config, "--force")
		if res.code != 2 || !strings.Contains(res.stderr, "vault.address") ||
			!strings.Contains(res.stderr, "VAULT_ADDR") {
			t.Errorf("without vault.address and VAULT_ADDR: want exit 2 naming both; %s", res)
		}

		addr := "VAULT_ADDR=" + c.proxy.URL()
		if res = c.run([]string{addr}, "rotate", "--config", c.config, "--force"); res.code != 0 {
			t.Fatalf("token_file with VAULT_ADDR: %s", res)
		}
		c.checkSink(c.readToken(filepath.Join(c.dir, "out/token")), c.before+1)

		// Without token_file the token comes from VAULT_TOKEN.
		token := b.Token(t, policy)
		c.addCanary(token)
		c.writeVaultConfig(noAddress, c.vars("{method: token}"))
		res = c.run([]string{addr, "VAULT_TOKEN=" + token}, "rotate", "--config", c.config,
			"--force")
		if res.code != 0 {
			t.Fatalf("VAULT_TOKEN with VAULT_ADDR: %s", res)
		}
		c.checkSink(c.readToken(filepath.Join(c.dir, "out/token")), c.before+2)
	})
}

func TestVault_SealedAtStartDaemonWaitsAndRotatesAfterUnseal(t *testing.T) {
	c := newVaultCase(t, newFakeVault(t))
	srv := c.b.Fake()
	policy := c.b.Policy(t, "rotator", rotatorPolicy([]string{c.creds}, []string{c.sink}))
	withHTTP := strings.Replace(vaultConfig, "state_dir:",
		"http: {listen: \"127.0.0.1:0\"}\nstate_dir:", 1)
	c.writeVaultConfig(withHTTP, c.vars(c.auth(policy)))
	tokenFile := c.writeFile("out/token", "previous-token-content\n")

	srv.Seal()
	d := c.start("run", "--config", c.config)
	readyz := "http://" + listenAddress(t, d) + "/readyz"
	c.checkSealed(d, readyz, tokenFile, 3*time.Second)

	srv.Unseal()
	unsealed := time.Now()
	deadline := unsealed.Add(30 * time.Second)
	rotated := eventually(deadline, func() bool { return c.em.Valid(c.readToken(tokenFile)) })
	t.Logf("rotated=%v %s after unseal", rotated, time.Since(unsealed).Round(time.Millisecond))
	ready := eventually(deadline, func() bool {
		status, _ := get(t, readyz)
		return status == http.StatusOK
	})
	if !ready {
		t.Errorf("/readyz did not answer 200 within 30s of unseal")
	}

	res := d.stop(syscall.SIGTERM)
	c.assertNoVaultSecrets(res.stdout + res.stderr)
	token := c.readToken(tokenFile)
	if res.code != 0 || !c.em.Valid(token) {
		t.Fatalf("after unseal: token valid=%v; want the live token and exit 0; %s",
			c.em.Valid(token), res)
	}
	c.checkSink(token, c.before+1)
	if got := c.em.Stats(canaryName).Logins; got != 1 {
		t.Errorf("FIRST LINE saw %d log-ins, want 1", got)
	}
}

// checkSealed watches a daemon for about d while Vault is sealed: it stays
// up and not ready, logs in to FIRST LINE never and touches no sink.
func (c *vaultCase) checkSealed(d *daemon, readyz, tokenFile string, wait time.Duration) {
	c.t.Helper()
	srv := c.b.Fake()
	until := time.Now().Add(wait)
	for time.Now().Before(until) {
		select {
		case err := <-d.done:
			c.t.Fatalf("run exited while vault was sealed: %v\n%s", err, d.stderr)
		case <-time.After(200 * time.Millisecond):
		}
		if status, body := get(c.t, readyz); status != http.StatusServiceUnavailable {
			c.t.Fatalf("/readyz answered %d %q while vault was sealed, want 503", status, body)
		}
	}

	got, _ := os.ReadFile(tokenFile)
	logins, sinkRequests := c.em.Stats(canaryName).Logins, srv.Requests(kvMount+"/+/apps/*")
	if string(got) != "previous-token-content\n" || logins != 0 || sinkRequests != 0 {
		c.t.Fatalf("while sealed: file sink %q, %d FIRST LINE log-ins, %d vault sink "+
			"requests; want untouched, 0, 0", got, logins, sinkRequests)
	}
}

// eventually polls cond until it holds or deadline passes.
func eventually(deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// listenAddress waits for the daemon's log line naming its HTTP address.
func listenAddress(t *testing.T, d *daemon) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		scanner := bufio.NewScanner(strings.NewReader(d.stderr.String()))
		for scanner.Scan() {
			var line struct{ Listen string }
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Listen != "" {
				return line.Listen
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the daemon did not log its HTTP address:\n%s", d.stderr)
	return ""
}

// get returns the status and body of a GET, or 0 when nothing answers.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
