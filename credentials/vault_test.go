package credentials_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/credentials"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// Canary values that must never show in an error or a log line.
const (
	canaryPassword = "CANARY-pa55w0rd-c7e1"
	canarySecretID = "CANARY-secret-id-88d2"
)

// vaultFixture is a test Vault with a started client logged in by AppRole
// under a policy that may read secret/firstline/* only.
type vaultFixture struct {
	srv    *vaulttest.Server
	client *vaultx.Client
	logs   *testutil.Buffer
}

func newVaultFixture(t *testing.T) *vaultFixture {
	t.Helper()

	srv := vaulttest.Start(t)
	srv.SetPolicy("creds", []vaulttest.Rule{
		{Path: "secret/data/firstline/*", Capabilities: []string{"read"}},
	})
	srv.AddAppRole("rotator", "role-1", canarySecretID,
		vaulttest.TokenOptions{Policies: []string{"creds"}, Renewable: true})

	file := filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(file, []byte(canarySecretID), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := &testutil.Buffer{}
	cfg := config.Vault{Address: srv.URL(), Auth: config.VaultAuth{
		Method: "approle", RoleID: "role-1", SecretIDFile: file}}
	client, err := vaultx.New(cfg, zerolog.New(logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); <-client.Done() })
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &vaultFixture{srv: srv, client: client, logs: logs}
}

func (f *vaultFixture) put(t *testing.T, path string, data map[string]any) {
	t.Helper()
	if _, err := f.srv.KVPut("secret", path, data); err != nil {
		t.Fatal(err)
	}
}

func TestVaultSource_ReadsAfreshAtEveryLoad(t *testing.T) {
	f := newVaultFixture(t)
	f.put(t, "firstline/bot", map[string]any{"name": "bot", "password": "first"})
	src := credentials.NewVaultSource(f.client, config.VaultCredentials{Path: "firstline/bot"})

	if got := src.Describe(); got != "vault secret/firstline/bot" {
		t.Errorf("Describe() = %q", got)
	}

	for _, password := range []string{"first", "second"} {
		f.put(t, "firstline/bot", map[string]any{"name": "bot", "password": password})

		creds, err := src.Load(context.Background())
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if creds.Name.Reveal() != "bot" || creds.Password.Reveal() != password {
			t.Errorf("Load = %q/%q, want bot/%s", creds.Name.Reveal(),
				creds.Password.Reveal(), password)
		}
	}
	if got := f.srv.Requests("secret/data/firstline/bot"); got != 2 {
		t.Errorf("%d reads of the secret, want 2 (one per Load)", got)
	}
}

func TestVaultSource_CustomKeys(t *testing.T) {
	f := newVaultFixture(t)
	f.put(t, "firstline/bot", map[string]any{"user": "bot", "pw": "x"})
	src := credentials.NewVaultSource(f.client, config.VaultCredentials{
		Mount: "secret", Path: "firstline/bot", NameKey: "user", PasswordKey: "pw", KVVersion: 2,
	})

	creds, err := src.Load(context.Background())
	if err != nil || creds.Name.Reveal() != "bot" || creds.Password.Reveal() != "x" {
		t.Fatalf("Load = %v, %v", creds, err)
	}
}

func TestVaultSource_Errors(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		data   map[string]any
		is     error
		status int
		want   []string
	}{
		{name: "forbidden path", path: "other/bot", is: vaultx.ErrPermissionDenied,
			status: 403, want: []string{"secret/other/bot", "403"}},
		{name: "missing secret", path: "firstline/none", is: vaultx.ErrNotFound,
			status: 404, want: []string{"secret/firstline/none"}},
		{name: "missing key", path: "firstline/bot", data: map[string]any{"name": "bot"},
			want: []string{"secret/firstline/bot", `"password"`, "missing"}},
		{name: "number", path: "firstline/bot",
			data: map[string]any{"name": "bot", "password": 12345},
			want: []string{"secret/firstline/bot", `"password"`, "number"}},
		{name: "empty name", path: "firstline/bot",
			data: map[string]any{"name": "", "password": canaryPassword},
			is:   credentials.ErrEmpty, want: []string{"secret/firstline/bot", `"name"`}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newVaultFixture(t)
			if tc.data != nil {
				f.put(t, tc.path, tc.data)
			}
			src := credentials.NewVaultSource(f.client, config.VaultCredentials{Path: tc.path})

			_, err := src.Load(context.Background())
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Load = %v, want it to match %v", err, tc.is)
			}
			if got := vaultx.StatusCode(err); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			assertNoCanary(t, "error", err.Error())
			assertNoCanary(t, "log", f.logs.String())
		})
	}
}

// TestVaultSource_SecretsStayHidden loads credentials with debug logging
// on and checks that neither the password nor the AppRole secret ID shows
// in the log or in the credentials' printed form.
func TestVaultSource_SecretsStayHidden(t *testing.T) {
	f := newVaultFixture(t)
	f.put(t, "firstline/bot", map[string]any{"name": "bot", "password": canaryPassword})
	src := credentials.NewVaultSource(f.client, config.VaultCredentials{Path: "firstline/bot"})

	creds, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.Password.Reveal() != canaryPassword {
		t.Fatal("password not read")
	}

	f.srv.Seal()
	_, err = src.Load(context.Background())
	if !errors.Is(err, vaultx.ErrSealed) {
		t.Fatalf("Load while sealed = %v, want ErrSealed", err)
	}

	assertNoCanary(t, "error", err.Error())
	assertNoCanary(t, "log", f.logs.String())
	printer := zerolog.New(f.logs)
	printer.Info().Interface("credentials", creds).Msg("printed")
	assertNoCanary(t, "log", f.logs.String())
}

func assertNoCanary(t *testing.T, where, text string) {
	t.Helper()

	for _, canary := range []string{canaryPassword, canarySecretID} {
		if strings.Contains(text, canary) {
			t.Errorf("%s shows a secret: %s", where, text)
		}
	}
}
