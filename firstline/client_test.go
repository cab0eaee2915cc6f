package firstline_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

func TestNew_BaseURL(t *testing.T) {
	cases := []struct {
		url  string
		want string // "" when accepted
	}{
		{"https://01.firstline.cc", ""},
		{"https://01.firstline.cc/prefix/", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://127.9.9.9", ""},
		{"http://[::1]:8080", ""},
		{"http://localhost:8080", ""},
		{"http://LOCALHOST", ""},
		{"http://01.firstline.cc", `check base URL "http://01.firstline.cc": plain http is ` +
			`allowed only for a loopback host (127.0.0.0/8, ::1, localhost); use https`},
		{"http://10.0.0.1", `check base URL "http://10.0.0.1": plain http is allowed only ` +
			`for a loopback host (127.0.0.0/8, ::1, localhost); use https`},
		{"http://localhost.example.com", `check base URL "http://localhost.example.com": ` +
			`plain http is allowed only for a loopback host (127.0.0.0/8, ::1, localhost); ` +
			`use https`},
		{"", "check base URL: it is empty; write e.g. https://01.firstline.cc"},
		{"01.firstline.cc", `check base URL "01.firstline.cc": scheme must be https`},
		{"ftp://01.firstline.cc", `check base URL "ftp://01.firstline.cc": ` +
			`scheme must be https`},
		{"https://", `check base URL "https://": no host; write e.g. https://01.firstline.cc`},
		{"https://bot:hunter2@01.firstline.cc",
			"check base URL: remove the user information from it"},
		{"https://01.firstline.cc/?a=b", `check base URL "https://01.firstline.cc/?a=b": ` +
			`remove the query or fragment`},
	}
	for _, tc := range cases {
		_, err := firstline.New(firstline.Options{BaseURL: tc.url})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("New(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestNew_Options(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts firstline.Options
		want string
	}{
		{"negative timeout", firstline.Options{BaseURL: "https://x.cc", Timeout: -time.Second},
			"check timeout: -1s is negative"},
		{"missing CA file", firstline.Options{BaseURL: "https://x.cc",
			CAFile: filepath.Join(dir, "none.pem")},
			"read CA file: stat " + filepath.Join(dir, "none.pem") +
				": no such file or directory"},
		{"CA file without PEM", firstline.Options{BaseURL: "https://x.cc", CAFile: notPEM},
			"read CA file " + notPEM + ": no PEM certificate in it"},
	}
	for _, tc := range cases {
		if _, err := firstline.New(tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
		}
	}
}

// TestClient_TLS logs in over real TLS, trusting the server through
// CAFile, and checks that without it the handshake fails as a transport
// error.
func TestClient_TLS(t *testing.T) {
	e := emulator.New(emulator.Options{})
	srv := httptest.NewTLSServer(e.Handler())
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}

	trusting := client(t, srv.URL, func(o *firstline.Options) { o.CAFile = caFile })
	tok := login(t, trusting)
	if !e.Valid(tok.Value.Reveal()) {
		t.Fatal("the token from the TLS log-in does not work")
	}

	_, err := client(t, srv.URL).Login(t.Context(), agentName, agentPassword, time.Hour)
	if firstline.KindOf(err) != firstline.KindTransport || firstline.TokenMayHaveChanged(err) {
		t.Fatalf("untrusted server: %v, want a transport error", err)
	}
	if st := e.Stats(agentName.Reveal()); st.Logins != 1 {
		t.Errorf("logins %d, want 1: the untrusted request must not arrive", st.Logins)
	}
}

// seenRequest is what a raw server saw of one request.
type seenRequest struct {
	method, path, query string
	header              http.Header
	body                map[string]any
}

// TestClient_RequestShape checks methods, paths, headers and bodies of
// every operation: JSON both ways, the token only in the header.
func TestClient_RequestShape(t *testing.T) {
	seen := make(chan seenRequest, 1)
	token := secret.New("header-only-token")
	srv := raw(t, func(w http.ResponseWriter, r *http.Request) {
		s := seenRequest{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery,
			header: r.Header.Clone()}
		_ = json.NewDecoder(r.Body).Decode(&s.body)
		seen <- s
		w.WriteHeader(http.StatusNoContent)
	})
	plain := client(t, srv.URL+"/base")
	spoof := client(t, srv.URL+"/base", putAsPost)

	cases := []struct {
		name   string
		call   func() error
		method string
		path   string
		bearer bool
		body   map[string]any
	}{
		{"log in", func() error {
			_, err := plain.Login(t.Context(), agentName, agentPassword, time.Hour)
			return err
		}, "POST", "/base/api/v1/auth", false,
			map[string]any{"name": "demo-agent", "password": "demo-agent-password", "ttl": 60.0}},
		{"refresh", func() error {
			_, err := plain.Refresh(t.Context(), token, 2*time.Hour)
			return err
		}, "PUT", "/base/api/v1/auth", true, map[string]any{"ttl": 120.0}},
		{"refresh as POST", func() error {
			_, err := spoof.Refresh(t.Context(), token, 2*time.Hour)
			return err
		}, "POST", "/base/api/v1/auth", true, map[string]any{"ttl": 120.0, "_method": "put"}},
		{"refresh with credentials", func() error {
			_, err := plain.RefreshWithCredentials(t.Context(), agentName, agentPassword, 0)
			return err
		}, "PUT", "/base/api/v1/auth", false,
			map[string]any{"name": "demo-agent", "password": "demo-agent-password"}},
		{"revoke", func() error { return plain.Revoke(t.Context(), token) },
			"PUT", "/base/api/v1/auth/logout", true, map[string]any{}},
		{"revoke as POST", func() error { return spoof.Revoke(t.Context(), token) },
			"POST", "/base/api/v1/auth/logout", true, map[string]any{"_method": "put"}},
		{"probe", func() error { return plain.Probe(t.Context(), token, "/api/v1/me?page=2") },
			"GET", "/base/api/v1/me", true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = tc.call()
			s := <-seen
			if s.method != tc.method || s.path != tc.path {
				t.Errorf("sent %s %s, want %s %s", s.method, s.path, tc.method, tc.path)
			}
			if strings.Contains(s.query, token.Reveal()) || strings.Contains(s.query, "token") {
				t.Errorf("query %q carries a token", s.query)
			}
			wantHeader(t, s.header, "Accept", "application/json")
			wantHeader(t, s.header, "Content-Type", "application/json")
			auth := ""
			if tc.bearer {
				auth = "Bearer " + token.Reveal()
			}
			wantHeader(t, s.header, "Authorization", auth)
			got, _ := json.Marshal(s.body)
			want, _ := json.Marshal(tc.body)
			if string(got) != string(want) {
				t.Errorf("body %s, want %s", got, want)
			}
		})
	}
}

func wantHeader(t *testing.T, h http.Header, key, want string) {
	t.Helper()
	if got := h.Get(key); got != want {
		t.Errorf("header %s = %q, want %q", key, got, want)
	}
}

func TestClient_ProbePathRefused(t *testing.T) {
	e, srv := emu(t, emulator.Options{})
	c := client(t, srv.URL)
	tok := login(t, c)

	cases := map[string]string{
		"https://elsewhere.example/api/v1/me": `probe: build request: ` +
			`check path "https://elsewhere.example/api/v1/me": write an absolute path such ` +
			`as /api/v1/me, not a URL`,
		"//elsewhere.example/api/v1/me": `probe: build request: check ` +
			`path "//elsewhere.example/api/v1/me": write an absolute path such as ` +
			`/api/v1/me, not a URL`,
		"api/v1/me": `probe: build request: check path "api/v1/me": ` +
			`write an absolute path such as /api/v1/me, not a URL`,
		"/api/v1/me?token=" + tok.Value.Reveal(): "probe: build request: " +
			"check path: remove the token parameter; the token travels in the " +
			"Authorization header",
	}
	for path, want := range cases {
		if err := c.Probe(t.Context(), tok.Value, path); err == nil || err.Error() != want {
			t.Errorf("Probe(%.40q) = %v, want %s", path, err, want)
		}
	}
	if st := e.Stats(agentName.Reveal()); st.Authorized != 0 {
		t.Errorf("%d probes reached the server", st.Authorized)
	}
}
