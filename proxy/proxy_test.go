package proxy_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/proxy"
)

func TestProxy_InjectsTokenAndDropsTheClients(t *testing.T) {
	up := newUpstream(t)
	dead := up.newToken(t)
	f := startProxy(t, up, config.Proxy{})
	if up.em.Valid(dead) {
		t.Fatal("setup: the first token should be dead")
	}

	req, err := http.NewRequest(http.MethodGet,
		"http://placeholder"+emulator.MePath+"?page=2&token="+dead+"&sort=id", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+dead)
	got := do(t, f.srv.Addr(), req)
	f.rec.await(t, 1)

	if got.status != http.StatusOK || !strings.Contains(got.body, testUser) {
		t.Fatalf("answer %d %s; want 200 with the account's profile", got.status, got.body)
	}
	s := up.requests()[0]
	if s.Authorization != "Bearer "+up.em.Current(testUser) {
		t.Error("upstream did not receive the current token as the bearer")
	}
	if s.RawQuery != "page=2&sort=id" {
		t.Errorf("upstream query %q, want the client's without token", s.RawQuery)
	}
	st := up.em.Stats(testUser)
	if st.SupersededUses != 0 || st.Authorized != 1 {
		t.Errorf("emulator saw %d uses of a dead token and %d authorized; want 0 and 1",
			st.SupersededUses, st.Authorized)
	}
	if f.rec.count(proxy.ResultOK) != 1 {
		t.Errorf("metrics: %v, want one ok request", f.rec.snapshot())
	}
}

func TestProxy_UpstreamStatusPassesThrough(t *testing.T) {
	up := newUpstream(t)
	f := startProxy(t, up, config.Proxy{})

	if got := get(t, f.srv.Addr(), emulator.EmployeesPath); got.status != http.StatusForbidden {
		t.Errorf("an agent asking for employees: %d %s, want FIRST LINE's 403", got.status,
			got.body)
	}
	if got := get(t, f.srv.Addr(), "/api/v1/nothing"); got.status != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", got.status)
	}
}

func TestProxy_RefusesTokenEndpoints(t *testing.T) {
	up := newUpstream(t)
	f := startProxy(t, up, config.Proxy{})

	for _, c := range []struct{ method, path string }{
		{http.MethodPost, emulator.AuthPath},
		{http.MethodPut, emulator.AuthPath},
		{http.MethodPost, emulator.LogoutPath},
		{http.MethodPut, "/API/v1/Auth/logout"},
		{http.MethodPost, "/api/v1//auth"},
		{http.MethodPost, "/api/v1/tickets/../auth"},
	} {
		req, err := http.NewRequest(c.method, "http://placeholder"+c.path,
			strings.NewReader(`{"name":"`+testUser+`","password":"`+testPassword+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		got := do(t, f.srv.Addr(), req)
		if got.status != http.StatusForbidden ||
			!strings.HasPrefix(messageOf(t, got), "proxy: the token endpoints") {
			t.Errorf("%s %s: %d %s, want the proxy's 403", c.method, c.path, got.status,
				got.body)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream received %d requests, want none", n)
	}
	if st := up.em.Stats(testUser); st.Logins != 0 || st.Refreshes != 0 || st.Revokes != 0 {
		t.Errorf("emulator stats %+v: a token endpoint was reached", st)
	}
}

func TestProxy_ClientToken(t *testing.T) {
	const shared = "client-shared-canary-77f0d2"
	up := newUpstream(t)
	file := filepath.Join(t.TempDir(), "client-token")
	if err := os.WriteFile(file, []byte(shared+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startProxy(t, up, config.Proxy{ClientTokenFile: file})

	cases := []struct {
		name   string
		header string
		value  string
		status int
	}{
		{"none", "", "", http.StatusUnauthorized},
		{"wrong header", proxy.ClientTokenHeader, shared + "x", http.StatusUnauthorized},
		{"wrong bearer", "Authorization", "Bearer " + up.em.Current(testUser),
			http.StatusUnauthorized},
		{"header", proxy.ClientTokenHeader, shared, http.StatusOK},
		{"bearer", "Authorization", "Bearer " + shared, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.requests())
			req, err := http.NewRequest(http.MethodGet,
				"http://placeholder"+emulator.TicketsPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.header != "" {
				req.Header.Set(c.header, c.value)
			}
			got := do(t, f.srv.Addr(), req)

			if got.status != c.status {
				t.Fatalf("status %d %s, want %d", got.status, got.body, c.status)
			}
			reached := len(up.requests()) - before
			if c.status == http.StatusUnauthorized {
				if msg := messageOf(t, got); !strings.HasPrefix(msg,
					"proxy: missing or wrong client token") || reached != 0 {
					t.Errorf("refusal %q reached upstream %d times; want the proxy's own "+
						"message and none", msg, reached)
				}
				return
			}
			s := up.requests()[before]
			if s.ProxyToken != "" || strings.Contains(s.Authorization, shared) {
				t.Error("the client token was forwarded to FIRST LINE")
			}
		})
	}
	f.rec.await(t, len(cases))
	if f.rec.count(proxy.ResultRefused) != 3 {
		t.Errorf("metrics %v, want 3 refused", f.rec.snapshot())
	}
}

func TestStart_RejectsBadOptions(t *testing.T) {
	up := newUpstream(t)
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		opts proxy.Options
		want string
	}{
		{"empty client token", proxy.Options{Upstream: up.srv.URL,
			Config: config.Proxy{Listen: "127.0.0.1:0", ClientTokenFile: empty}},
			"client_token_file " + empty + ": it is empty"},
		{"missing client token", proxy.Options{Upstream: up.srv.URL,
			Config: config.Proxy{Listen: "127.0.0.1:0", ClientTokenFile: empty + "x"}},
			"read client_token_file: open " + empty + "x"},
		{"plain http off loopback", proxy.Options{Upstream: "http://api.example.com",
			Config: config.Proxy{Listen: "127.0.0.1:0"}}, "plain http is allowed only"},
		{"no scheme", proxy.Options{Upstream: "api.example.com",
			Config: config.Proxy{Listen: "127.0.0.1:0"}}, "want https://host"},
		{"bad CA file", proxy.Options{Upstream: up.srv.URL, CAFile: empty,
			Config: config.Proxy{Listen: "127.0.0.1:0"}}, "no PEM certificate"},
		{"relative socket", proxy.Options{Upstream: up.srv.URL,
			Config: config.Proxy{Listen: "unix:rel.sock"}}, "not absolute"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Account, c.opts.Source = account, newSource("x")
			srv, err := proxy.Start(c.opts)
			if err == nil {
				shutdown(t, srv)
				t.Fatal("started; want an error")
			}
			if !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "account "+account) {
				t.Errorf("error %q; want it to name the account and say %q", err, c.want)
			}
		})
	}
}
