package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// kvMount is the KV v2 mount every Vault test uses: the test Vault mounts
// it at start, and a Vault dev server has it too.
const kvMount = "secret"

// policyRule grants capabilities on one API path, like a path block of a
// Vault policy.
type policyRule struct {
	Path string
	Caps []string
}

// kvMeta is what a test reads back about a KV v2 secret.
type kvMeta struct {
	CurrentVersion int
	Custom         map[string]string
}

// vaultBackend is the Vault a test runs against: the in-process test Vault
// or a real one named by VAULT_ADDR and VAULT_TOKEN. Paths are relative to
// kvMount and come from Path, so that a real Vault is only touched under a
// prefix of its own, removed when the test ends.
type vaultBackend interface {
	// Name is "vaulttest" or "real".
	Name() string
	// URL is the address the rotator talks to (through a recording proxy).
	URL() string
	// Transport reaches URL, with the TLS settings of VAULT_CACERT.
	Transport() http.RoundTripper
	// Path returns rel under the test's own prefix.
	Path(rel string) string
	// Put writes a new version with check-and-set; it returns the version.
	Put(t *testing.T, path string, data map[string]any) int
	// Get reads the current data and the metadata of a secret.
	Get(t *testing.T, path string) (map[string]any, kvMeta)
	// RequireCAS makes writes to path carry a check-and-set version.
	RequireCAS(t *testing.T, path string)
	// Policy creates or replaces a policy and returns its name in Vault.
	Policy(t *testing.T, name string, rules []policyRule) string
	// Token creates a renewable token holding policy.
	Token(t *testing.T, policy string) string
	// Fake returns the test Vault, or nil for a real one.
	Fake() *vaulttest.Server
}

// forEachBackend runs body against the test Vault, and against a real
// Vault when VAULT_ADDR and VAULT_TOKEN are set.
func forEachBackend(t *testing.T, body func(t *testing.T, b vaultBackend)) {
	t.Run("vaulttest", func(t *testing.T) { body(t, newFakeVault(t)) })
	t.Run("real", func(t *testing.T) { body(t, newRealVault(t)) })
}

// fakeVault is the in-process test Vault.
type fakeVault struct {
	srv *vaulttest.Server
}

func newFakeVault(t *testing.T) *fakeVault {
	return &fakeVault{srv: vaulttest.Start(t)}
}

func (f *fakeVault) Name() string                 { return "vaulttest" }
func (f *fakeVault) URL() string                  { return f.srv.URL() }
func (f *fakeVault) Transport() http.RoundTripper { return http.DefaultTransport }
func (f *fakeVault) Path(rel string) string       { return rel }
func (f *fakeVault) Fake() *vaulttest.Server      { return f.srv }

func (f *fakeVault) Put(t *testing.T, path string, data map[string]any) int {
	t.Helper()
	version, err := f.srv.KVPut(kvMount, path, data)
	if err != nil {
		t.Fatal(err)
	}
	return version
}

func (f *fakeVault) Get(t *testing.T, path string) (map[string]any, kvMeta) {
	t.Helper()
	data, meta, err := f.srv.KVGet(kvMount, path)
	if err != nil {
		t.Fatal(err)
	}
	return data, kvMeta{CurrentVersion: meta.CurrentVersion, Custom: meta.CustomMetadata}
}

// RequireCAS sets cas_required on the whole mount, as operators do.
func (f *fakeVault) RequireCAS(t *testing.T, _ string) {
	t.Helper()
	if err := f.srv.SetCASRequired(kvMount, true); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeVault) Policy(_ *testing.T, name string, rules []policyRule) string {
	converted := make([]vaulttest.Rule, len(rules))
	for i, r := range rules {
		converted[i] = vaulttest.Rule{Path: r.Path, Capabilities: r.Caps}
	}
	f.srv.SetPolicy(name, converted)
	return name
}

func (f *fakeVault) Token(_ *testing.T, policy string) string {
	return f.srv.CreateToken(vaulttest.TokenOptions{Policies: []string{policy},
		TTL: time.Hour, Renewable: true})
}

// realVault is a Vault named by VAULT_ADDR and VAULT_TOKEN. The token must
// be allowed to write policies and create tokens (a dev server's root
// token is), and secret/ must be a KV v2 mount. Everything a test creates
// lives under a random prefix and is removed when the test ends.
type realVault struct {
	client *api.Client
	id     string // random, names this test's paths and policies
	prefix string
	paths  []string
}

func newRealVault(t *testing.T) *realVault {
	t.Helper()
	if os.Getenv(api.EnvVaultAddress) == "" || os.Getenv(api.EnvVaultToken) == "" {
		t.Skip("real Vault: set VAULT_ADDR and VAULT_TOKEN (a token that may write " +
			"policies and create tokens) to run this case against a real Vault")
	}

	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		t.Fatalf("real Vault: configure client from VAULT_*: %v", err)
	}
	mount, err := client.Logical().Read("sys/internal/ui/mounts/" + kvMount)
	version := ""
	if err == nil && mount != nil {
		options, _ := mount.Data["options"].(map[string]any)
		version, _ = options["version"].(string)
	}
	if version != "2" {
		t.Fatalf("real Vault at %s: %s/ must be a KV v2 mount (vault secrets enable "+
			"-path=%s kv-v2); read gave version %q, error %v", client.Address(), kvMount,
			kvMount, version, err)
	}

	id := randomHex(t, 6)
	v := &realVault{client: client, id: id, prefix: "firstline-rotator-e2e/" + id + "/"}
	t.Cleanup(v.cleanup)
	return v
}

func (v *realVault) Name() string            { return "real" }
func (v *realVault) URL() string             { return v.client.Address() }
func (v *realVault) Fake() *vaulttest.Server { return nil }

func (v *realVault) Transport() http.RoundTripper {
	return v.client.CloneConfig().HttpClient.Transport
}

func (v *realVault) Path(rel string) string {
	path := v.prefix + rel
	if !slices.Contains(v.paths, path) {
		v.paths = append(v.paths, path)
	}
	return path
}

func (v *realVault) Put(t *testing.T, path string, data map[string]any) int {
	t.Helper()
	_, meta := v.read(t, path)
	body := map[string]any{"data": data, "options": map[string]any{"cas": meta.CurrentVersion}}
	answer, err := v.client.Logical().Write(kvMount+"/data/"+path, body)
	if err != nil {
		t.Fatalf("real Vault: write %s/%s: %v", kvMount, path, err)
	}
	version, _ := answer.Data["version"].(interface{ Int64() (int64, error) })
	if version == nil {
		t.Fatalf("real Vault: write %s/%s: no version in the answer", kvMount, path)
	}
	n, _ := version.Int64()
	return int(n)
}

func (v *realVault) Get(t *testing.T, path string) (map[string]any, kvMeta) {
	t.Helper()
	data, meta := v.read(t, path)
	if meta.CurrentVersion == 0 {
		t.Fatalf("real Vault: %s/%s does not exist", kvMount, path)
	}
	return data, meta
}

// read returns the current data and metadata; version 0 when missing.
func (v *realVault) read(t *testing.T, path string) (map[string]any, kvMeta) {
	t.Helper()
	meta := kvMeta{Custom: map[string]string{}}
	answer, err := v.client.Logical().Read(kvMount + "/metadata/" + path)
	if err != nil {
		t.Fatalf("real Vault: read metadata of %s/%s: %v", kvMount, path, err)
	}
	if answer == nil {
		return nil, meta
	}
	if n, ok := answer.Data["current_version"].(interface{ Int64() (int64, error) }); ok {
		version, _ := n.Int64()
		meta.CurrentVersion = int(version)
	}
	custom, _ := answer.Data["custom_metadata"].(map[string]any)
	for k, value := range custom {
		meta.Custom[k], _ = value.(string)
	}

	secret, err := v.client.Logical().Read(kvMount + "/data/" + path)
	if err != nil {
		t.Fatalf("real Vault: read %s/%s: %v", kvMount, path, err)
	}
	var data map[string]any
	if secret != nil {
		data, _ = secret.Data["data"].(map[string]any)
	}
	return data, meta
}

// RequireCAS sets cas_required on the one secret: the mount is shared.
func (v *realVault) RequireCAS(t *testing.T, path string) {
	t.Helper()
	_, err := v.client.Logical().Write(kvMount+"/metadata/"+path,
		map[string]any{"cas_required": true})
	if err != nil {
		t.Fatalf("real Vault: set cas_required on %s/%s: %v", kvMount, path, err)
	}
}

func (v *realVault) Policy(t *testing.T, name string, rules []policyRule) string {
	t.Helper()
	name = "firstline-rotator-e2e-" + v.id + "-" + name
	if err := v.client.Sys().PutPolicy(name, policyHCL(rules)); err != nil {
		t.Fatalf("real Vault: write policy %s: %v", name, err)
	}
	t.Cleanup(func() { _ = v.client.Sys().DeletePolicy(name) })
	return name
}

func (v *realVault) Token(t *testing.T, policy string) string {
	t.Helper()
	renewable := true
	answer, err := v.client.Auth().Token().Create(&api.TokenCreateRequest{
		Policies: []string{policy}, TTL: "15m", Renewable: &renewable,
		DisplayName: "firstline-rotator-e2e",
	})
	if err != nil || answer == nil || answer.Auth == nil {
		t.Fatalf("real Vault: create a token with policy %s: %v", policy, err)
	}
	token := answer.Auth.ClientToken
	t.Cleanup(func() { _ = v.client.Auth().Token().RevokeTree(token) })
	return token
}

// cleanup removes every secret the test named, with all its versions.
func (v *realVault) cleanup() {
	var errs []error
	for _, path := range v.paths {
		if _, err := v.client.Logical().Delete(kvMount + "/metadata/" + path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "real Vault: clean up under %s/%s: %v\n", kvMount, v.prefix, err)
	}
}

// policyHCL writes rules as a Vault policy.
func policyHCL(rules []policyRule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "path %q {\n  capabilities = [%s]\n}\n", r.Path, quoteAll(r.Caps))
	}
	return b.String()
}

func quoteAll(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(quoted, ", ")
}

// rotatorPolicy is the least-privilege policy of the README: read on the
// credential secrets, create, read and update on the sink secrets and
// their metadata, nothing else.
func rotatorPolicy(credentials, sinks []string) []policyRule {
	var rules []policyRule
	for _, p := range credentials {
		rules = append(rules, policyRule{Path: kvMount + "/data/" + p, Caps: []string{"read"}})
	}
	rw := []string{"create", "read", "update"}
	for _, p := range sinks {
		rules = append(rules,
			policyRule{Path: kvMount + "/data/" + p, Caps: rw},
			policyRule{Path: kvMount + "/metadata/" + p, Caps: rw})
	}
	return rules
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf)
}
