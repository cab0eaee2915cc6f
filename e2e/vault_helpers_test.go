package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// Canaries of the Vault tests: they must never appear in any output.
const (
	canarySecretID  = "sid-7Qx0c7e41d9a2Zk"
	secondName      = "second-agent"
	secondPassword  = "Pw-second-8a7d"
	appRoleName     = "firstline-rotator"
	appRoleIDPrefix = "role-id-"
)

// vaultTokenPattern matches a Vault service or batch token in any output.
var vaultTokenPattern = regexp.MustCompile(`hv[sb]\.[A-Za-z0-9_-]{8,}`)

// vaultEnv is an env plus a Vault reached through a recording proxy.
type vaultEnv struct {
	*env
	b     vaultBackend
	proxy *vaultProxy

	mu       sync.Mutex
	canaries []string
}

func newVaultEnv(t *testing.T, b vaultBackend) *vaultEnv {
	t.Helper()
	e := newEnv(t)
	if err := os.MkdirAll(filepath.Join(e.dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &vaultEnv{env: e, b: b, proxy: newVaultProxy(t, b.URL(), b.Transport())}
}

// addCanary records a secret that no output may hold.
func (v *vaultEnv) addCanary(secrets ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.canaries = append(v.canaries, secrets...)
}

// writeFile writes a file under the test directory and returns its path.
func (v *vaultEnv) writeFile(name, content string) string {
	v.t.Helper()
	path := filepath.Join(v.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		v.t.Fatal(err)
	}
	return path
}

// auth returns the vault.auth block for the backend's usual method:
// AppRole with files on the test Vault, token_file on a real Vault.
func (v *vaultEnv) auth(policy string) string {
	if v.b.Fake() == nil {
		return v.tokenAuth(policy)
	}
	return v.appRoleAuth(policy, false)
}

// tokenAuth returns a token-method auth block holding a fresh token.
func (v *vaultEnv) tokenAuth(policy string) string {
	token := v.b.Token(v.t, policy)
	v.addCanary(token)
	return `{method: token, token_file: "` + v.writeFile("vault-token", token+"\n") + `"}`
}

// appRoleAuth creates an AppRole role on the test Vault and returns an
// auth block with role_id_file and secret_id_file; with wrapped the file
// holds a response-wrapping token for a secret ID.
func (v *vaultEnv) appRoleAuth(policy string, wrapped bool) string {
	srv := v.b.Fake()
	roleID := appRoleIDPrefix + randomHex(v.t, 4)
	srv.AddAppRole(appRoleName, roleID, canarySecretID, vaulttest.TokenOptions{
		Policies: []string{policy}, TTL: time.Hour, Renewable: true})

	secretID := canarySecretID
	if wrapped {
		secretID = srv.WrapSecretID(appRoleName, time.Minute)
	}
	v.addCanary(canarySecretID, secretID)
	return `{method: approle, role_id_file: "` + v.writeFile("role-id", roleID) +
		`", secret_id_file: "` + v.writeFile("secret-id", secretID+"\n") +
		`", wrapped: ` + strconv.FormatBool(wrapped) + `}`
}

// writeVaultConfig writes the config file: %URL%, %DIR% as for writeConfig,
// %VAULT% is the proxy's address, and every key of vars is replaced.
func (v *vaultEnv) writeVaultConfig(body string, vars map[string]string) {
	v.t.Helper()
	body = strings.ReplaceAll(body, "%VAULT%", v.proxy.URL())
	for key, value := range vars {
		body = strings.ReplaceAll(body, key, value)
	}
	v.writeConfig(body)
}

// hermeticEnv is the test process's environment without VAULT_*
// variables, plus extra.
func hermeticEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "FIRSTLINE_ROTATOR_CONFIG="), extra...)
}

// run runs the binary to completion with no VAULT_* variables but extra,
// and checks that its output holds no secret.
func (v *vaultEnv) run(extra []string, args ...string) result {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = hermeticEnv(extra...)
	err := cmd.Run()

	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.code = exitErr.ExitCode()
	} else if err != nil {
		v.t.Fatalf("run %v: %v", args, err)
	}
	v.assertNoVaultSecrets(res.stdout + res.stderr)
	return res
}

// start runs the binary in the background with no VAULT_* variables.
func (v *vaultEnv) start(args ...string) *daemon {
	v.t.Helper()
	d := &daemon{e: v.env, stdout: &testutil.Buffer{}, stderr: &testutil.Buffer{},
		done: make(chan error, 1)}
	d.cmd = exec.Command(binary, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	d.cmd.Env = hermeticEnv()
	if err := d.cmd.Start(); err != nil {
		v.t.Fatalf("start %v: %v", args, err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	v.t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	return d
}

// assertNoVaultSecrets fails when output holds any 8-character piece of
// the FIRST LINE canaries, of a secret the test made, or of a token or
// secret ID the proxy saw; or anything shaped like a Vault token. It also
// fails when a secret travelled in a request URL.
func (v *vaultEnv) assertNoVaultSecrets(output string) {
	v.t.Helper()
	v.assertNoSecrets(output)

	v.mu.Lock()
	secrets := slices.Clone(v.canaries)
	v.mu.Unlock()
	secrets = append(secrets, canaryPassword, secondPassword)
	secrets = append(secrets, v.em.IssuedTokens(canaryName)...)
	secrets = append(secrets, v.em.IssuedTokens(secondName)...)
	seen, urls := v.proxy.seen()
	secrets = append(secrets, seen...)

	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if piece := s[i : i+8]; strings.Contains(output, piece) {
				v.t.Fatalf("output contains the 8-character piece %q of a secret", piece)
			}
		}
		for _, u := range urls {
			if strings.Contains(u, s) {
				v.t.Fatalf("a secret was sent in the URL of a Vault request")
			}
		}
	}
	if token := vaultTokenPattern.FindString(output); token != "" {
		v.t.Fatalf("output holds a Vault token (starting %q)", token[:6])
	}
}

// vaultProxy forwards to a Vault and records every token and secret ID
// that crosses it, for the leak checks, and every request URL.
type vaultProxy struct {
	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]bool
	urls    []string
}

func newVaultProxy(t *testing.T, target string, transport http.RoundTripper) *vaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}

	p := &vaultProxy{secrets: map[string]bool{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Plain bodies, so that ModifyResponse can read them.
			r.Out.Header.Del("Accept-Encoding")
		},
		Transport:      transport,
		ModifyResponse: p.recordResponse,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.addURL(r.URL.RequestURI())
		p.addSecret(r.Header.Get("X-Vault-Token"))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's address, for vault.address or VAULT_ADDR.
func (p *vaultProxy) URL() string {
	return p.srv.URL
}

func (p *vaultProxy) addURL(requestURI string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.urls = append(p.urls, requestURI)
}

func (p *vaultProxy) addSecret(s string) {
	if s == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.secrets[s] = true
}

// recordResponse keeps the client tokens, wrapping tokens and secret IDs
// of an answer.
func (p *vaultProxy) recordResponse(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}

	var answer struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
		WrapInfo struct{ Token string } `json:"wrap_info"`
		Data     map[string]any         `json:"data"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return nil
	}
	secretID, _ := answer.Data["secret_id"].(string)
	for _, s := range []string{answer.Auth.ClientToken, answer.WrapInfo.Token, secretID} {
		p.addSecret(s)
	}
	return nil
}

// seen returns the secrets and URLs recorded so far.
func (p *vaultProxy) seen() (secrets, urls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.secrets {
		secrets = append(secrets, s)
	}
	return secrets, slices.Clone(p.urls)
}
