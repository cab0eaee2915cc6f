package proxy_test

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/proxy"
)

func TestProxy_TLSUpstreamIsVerified(t *testing.T) {
	em := emulator.New(emulator.Options{Users: []emulator.User{
		{Name: testUser, Password: testPassword}}})
	srv := httptest.NewTLSServer(em.Handler())
	t.Cleanup(srv.Close)
	tok, err := em.LoginByHand(testUser)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
		Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		caFile string
		status int
	}{
		{"trusted through ca_file", caFile, http.StatusOK},
		{"unknown authority", "", http.StatusBadGateway},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := proxy.Start(proxy.Options{Account: account,
				Config: config.Proxy{Listen: "127.0.0.1:0"}, Upstream: srv.URL,
				CAFile: c.caFile, Source: newSource(tok), Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			defer shutdown(t, p)

			got := get(t, p.Addr(), emulator.MePath)
			if got.status != c.status {
				t.Fatalf("answer %d %s, want %d", got.status, got.body, c.status)
			}
			if c.status == http.StatusBadGateway &&
				!strings.Contains(messageOf(t, got), "certificate") {
				t.Errorf("message %q does not name the certificate problem", got.body)
			}
		})
	}
}

func TestProxy_UpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()

	rec := newRecorder()
	p, err := proxy.Start(proxy.Options{Account: account,
		Config: config.Proxy{Listen: "127.0.0.1:0"}, Upstream: closed,
		Source: newSource("tok"), Metrics: rec, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, p)

	got := get(t, p.Addr(), emulator.TicketsPath)
	rec.await(t, 1)
	if got.status != http.StatusBadGateway ||
		!strings.HasPrefix(messageOf(t, got), "proxy: FIRST LINE did not answer") {
		t.Errorf("answer %d %s, want the proxy's 502", got.status, got.body)
	}
	if rec.count(proxy.ResultUpstreamError) != 1 {
		t.Errorf("metrics %v, want one upstream_error", rec.snapshot())
	}
}

func TestProxy_LogsHoldNoSecrets(t *testing.T) {
	const shared = "client-shared-canary-0b9e44"
	up := newUpstream(t)
	file := filepath.Join(t.TempDir(), "client-token")
	if err := os.WriteFile(file, []byte(shared), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startProxy(t, up, config.Proxy{ClientTokenFile: file})
	dead := up.em.IssuedTokens(testUser)[0]
	f.src.set(up.newToken(t))

	// A request with tokens in the query, a retry after a rotation, a
	// refusal, an upstream 401 and a 403.
	rotateDuringFirst(t, f, true)
	req, err := http.NewRequest(http.MethodGet,
		"http://placeholder"+emulator.TicketsPath+"?token="+dead+"&q="+shared, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(proxy.ClientTokenHeader, shared)
	if got := do(t, f.srv.Addr(), req); got.status != http.StatusOK {
		t.Fatalf("rotated request: %d %s", got.status, got.body)
	}
	get(t, f.srv.Addr(), emulator.TicketsPath+"?token="+dead)
	up.newToken(t)
	req, _ = http.NewRequest(http.MethodGet, "http://placeholder"+emulator.MePath, nil)
	req.Header.Set("Authorization", "Bearer "+shared)
	do(t, f.srv.Addr(), req)
	f.rec.await(t, 3)

	output := f.log.String()
	if !strings.Contains(output, `"level":"debug"`) || !strings.Contains(output,
		`"retried":true`) || !strings.Contains(output, `"status":401`) {
		t.Fatalf("the log lacks the lines this test provokes:\n%s", output)
	}
	secrets := append([]string{shared}, up.em.IssuedTokens(testUser)...)
	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(output, s[i:i+8]) {
				t.Fatalf("log output contains the 8-character piece %q of a secret", s[i:i+8])
			}
		}
	}
}
