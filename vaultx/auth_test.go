package vaultx_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// loginCase sets up one auth method on the server and returns its config.
type loginCase struct {
	name  string
	setup func(t *testing.T, srv *vaulttest.Server, dir string) config.VaultAuth
	// logins is what srv.Logins() reads after one login.
	logins int
}

var longToken = vaulttest.TokenOptions{
	Policies: []string{kvPolicy}, TTL: time.Hour, Renewable: true,
}

func TestClient_Start_LoginMethods(t *testing.T) {
	cases := []loginCase{
		{name: "approle", logins: 1, setup: func(t *testing.T, srv *vaulttest.Server,
			dir string,
		) config.VaultAuth {
			srv.AddAppRole("rotator", "role-1", "secret-1", longToken)
			return config.VaultAuth{Method: "approle", RoleID: "role-1",
				SecretIDFile: writeFile(t, dir, "secret-id", "secret-1\n")}
		}},
		{name: "approle role_id_file and wrapped secret id", logins: 1, setup: func(
			t *testing.T, srv *vaulttest.Server, dir string,
		) config.VaultAuth {
			srv.AddAppRole("rotator", "role-1", "secret-1", longToken)
			wrap := srv.WrapSecretID("rotator", time.Minute)
			return config.VaultAuth{Method: "approle", Wrapped: true,
				RoleIDFile:   writeFile(t, dir, "role-id", "role-1\n"),
				SecretIDFile: writeFile(t, dir, "secret-id", wrap)}
		}},
		{name: "kubernetes", logins: 1, setup: func(t *testing.T, srv *vaulttest.Server,
			dir string,
		) config.VaultAuth {
			srv.AddKubernetesRole("rotator", "jwt-1", longToken)
			return config.VaultAuth{Method: "kubernetes", Role: "rotator",
				JWTFile: writeFile(t, dir, "jwt", "jwt-1")}
		}},
		{name: "kubernetes at a custom mount", logins: 1, setup: func(t *testing.T,
			srv *vaulttest.Server, dir string,
		) config.VaultAuth {
			if err := srv.MountAuth("k8s-prod", "kubernetes"); err != nil {
				t.Fatal(err)
			}
			srv.AddKubernetesRole("rotator", "jwt-2", longToken)
			return config.VaultAuth{Method: "kubernetes", Role: "rotator", Mount: "k8s-prod",
				JWTFile: writeFile(t, dir, "jwt", "jwt-2\n")}
		}},
		{name: "token file", setup: func(t *testing.T, srv *vaulttest.Server,
			dir string,
		) config.VaultAuth {
			token := srv.CreateToken(longToken)
			return config.VaultAuth{Method: "token",
				TokenFile: writeFile(t, dir, "token", token+"\n")}
		}},
		{name: "VAULT_TOKEN", setup: func(t *testing.T, srv *vaulttest.Server,
			_ string,
		) config.VaultAuth {
			t.Setenv("VAULT_TOKEN", srv.CreateToken(longToken))
			return config.VaultAuth{Method: "token"}
		}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := vaulttest.Start(t)
			setKVPolicy(srv)
			if _, err := srv.KVPut("secret", "app", map[string]any{"k": "v"}); err != nil {
				t.Fatal(err)
			}

			c := newClient(t, srv.URL(), tc.setup(t, srv, t.TempDir()), nil)
			if c.Ready() {
				t.Fatal("Ready before Start")
			}
			start(t, c)

			assertLoggedIn(t, c, srv, tc.logins)
		})
	}
}

// assertLoggedIn checks that c holds a working token with an expiry.
func assertLoggedIn(t *testing.T, c *vaultx.Client, srv *vaulttest.Server, logins int) {
	t.Helper()

	if !c.Ready() {
		t.Error("Ready() = false after Start")
	}
	if until := time.Until(c.TokenExpiry()); until < 50*time.Minute || until > time.Hour {
		t.Errorf("TokenExpiry() in %v, want about 1h", until)
	}
	if got := srv.Logins(); got != logins {
		t.Errorf("server counted %d logins, want %d", got, logins)
	}

	data, err := c.ReadKV(context.Background(), "secret", "app", 0)
	if err != nil {
		t.Fatalf("ReadKV with the new token: %v", err)
	}
	if data["k"] != "v" {
		t.Errorf("ReadKV = %v, want k=v", data)
	}
}

func TestClient_Start_WaitsForTokenFile(t *testing.T) {
	srv := vaulttest.Start(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "token", "")
	logs := &logBuffer{}
	c := newClient(t, srv.URL(), config.VaultAuth{Method: "token", TokenFile: file}, logs)

	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-c.Done() }()
	started := make(chan error, 1)
	go func() { started <- c.Start(ctx) }()

	// Two failed reads of the empty file, then one of a missing file.
	eventually(t, "the empty token file is retried", func() bool {
		return logs.count("warn", "vault login failed") >= 2
	})
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the missing token file is retried", func() bool {
		return strings.Contains(logs.String(), "no such file")
	})

	writeFile(t, dir, "token", srv.RootToken()+"\n")
	if err := <-started; err != nil {
		t.Fatalf("Start after the file was filled: %v", err)
	}
	if !c.Ready() {
		t.Error("Ready() = false after Start")
	}
	if !strings.Contains(logs.String(), "the file is empty") {
		t.Error("log does not say the token file was empty")
	}
}

func TestClient_Start_EndsWithContext(t *testing.T) {
	srv := vaulttest.Start(t)
	file := filepath.Join(t.TempDir(), "missing")
	c := newClient(t, srv.URL(), config.VaultAuth{Method: "token", TokenFile: file}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	err := c.Start(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start = %v, want the context's error", err)
	}
	if !strings.Contains(err.Error(), file) {
		t.Errorf("error %q does not name the token file", err)
	}
	<-c.Done()
}

func TestClient_Start_SealedThenUnsealed(t *testing.T) {
	srv := vaulttest.Start(t)
	srv.AddAppRole("rotator", "role-1", "secret-1", longToken)
	srv.Seal()
	auth := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, t.TempDir(), "secret-id", "secret-1")}
	logs := &logBuffer{}
	c := newClient(t, srv.URL(), auth, logs)

	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-c.Done() }()
	started := make(chan error, 1)
	go func() { started <- c.Start(ctx) }()

	eventually(t, "logins are retried while sealed", func() bool {
		return srv.Requests("auth/approle/login") >= 3
	})
	if !strings.Contains(logs.String(), "503") {
		t.Errorf("login failures do not mention 503: %s", logs.String())
	}

	srv.Unseal()
	if err := <-started; err != nil {
		t.Fatalf("Start after unseal: %v", err)
	}
	if srv.Logins() != 1 {
		t.Errorf("server counted %d logins, want 1", srv.Logins())
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  config.Vault
		want string
	}{
		{"no address", config.Vault{Auth: config.VaultAuth{Method: "token"}}, "VAULT_ADDR"},
		{"unknown method", config.Vault{Address: "http://127.0.0.1:1",
			Auth: config.VaultAuth{Method: "ldap"}}, `"ldap"`},
		{"approle without role id", config.Vault{Address: "http://127.0.0.1:1",
			Auth: config.VaultAuth{Method: "approle", SecretIDFile: "/x"}}, "role_id"},
		{"approle without secret id", config.Vault{Address: "http://127.0.0.1:1",
			Auth: config.VaultAuth{Method: "approle", RoleID: "r"}}, "secret_id_file"},
		{"kubernetes without role", config.Vault{Address: "http://127.0.0.1:1",
			Auth: config.VaultAuth{Method: "kubernetes"}}, "role"},
		{"missing ca file", config.Vault{Address: "https://127.0.0.1:1",
			CAFile: "/nonexistent/ca.pem", Auth: config.VaultAuth{Method: "token"}}, "ca.pem"},
	}

	t.Setenv("VAULT_ADDR", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vaultx.New(tc.cfg, (&logBuffer{}).logger())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error mentioning %s", err, tc.want)
			}
		})
	}
}

func TestNew_AddressFromEnvironment(t *testing.T) {
	srv := vaulttest.Start(t)
	t.Setenv("VAULT_ADDR", srv.URL())
	t.Setenv("VAULT_TOKEN", srv.RootToken())

	c, err := vaultx.New(config.Vault{Auth: config.VaultAuth{Method: "token"}},
		(&logBuffer{}).logger())
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)

	if v, err := c.KVVersion(context.Background(), "secret"); err != nil || v != 2 {
		t.Fatalf("KVVersion = %d, %v; want 2", v, err)
	}
}

func TestClient_NamespaceOnEveryRequest(t *testing.T) {
	srv := vaulttest.Start(t)
	setKVPolicy(srv)
	srv.AddAppRole("rotator", "role-1", "secret-1", longToken)
	srv.RequireNamespace("team-a")
	auth := config.VaultAuth{Method: "approle", RoleID: "role-1",
		SecretIDFile: writeFile(t, t.TempDir(), "secret-id", "secret-1")}

	logs := &logBuffer{}
	c, err := vaultx.New(config.Vault{Address: srv.URL(), Namespace: "team-a", Auth: auth},
		logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)

	if _, err := c.MergeKV(context.Background(), "secret", "app", 0,
		map[string]any{"k": "v"}, map[string]string{"f": "1"}); err != nil {
		t.Fatalf("MergeKV in the namespace: %v", err)
	}
	eventually(t, "the first renewal", func() bool {
		return logs.count("debug", "renewed vault token") >= 1
	})
	if srv.Logins() != 1 {
		t.Errorf("%d logins, want 1", srv.Logins())
	}
}

// TestNew_TLS puts a TLS front with its own certificate before the test
// Vault: the client trusts it through ca_file, and tls_server_name must
// match a name in the certificate.
func TestNew_TLS(t *testing.T) {
	srv := vaulttest.Start(t)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(
		mustURL(t, srv.URL())))
	front.Config.ErrorLog = log.New(io.Discard, "", 0)
	front.StartTLS()
	t.Cleanup(front.Close)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
		Bytes: front.Certificate().Raw})
	caFile := writeFile(t, t.TempDir(), "ca.pem", string(certPEM))
	tokenFile := writeFile(t, t.TempDir(), "token", srv.RootToken())

	for _, tc := range []struct {
		serverName string
		ok         bool
	}{{"", true}, {"example.com", true}, {"vault.wrong.test", false}} {
		cfg := config.Vault{Address: front.URL, CAFile: caFile, TLSServerName: tc.serverName,
			Auth: tokenAuth(tokenFile)}
		// One attempt: the wait before a second outlasts the context.
		c, err := vaultx.New(cfg, (&logBuffer{}).logger(),
			vaultx.WithLoginBackoff(time.Minute, time.Minute))
		if err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err = c.Start(ctx)
		cancel()
		<-c.Done()
		if tc.ok != (err == nil) {
			t.Errorf("tls_server_name %q: Start = %v, want success %v", tc.serverName, err, tc.ok)
		}
		if !tc.ok && err != nil && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("tls_server_name %q: error %q does not mention the certificate",
				tc.serverName, err)
		}
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()

	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
