package proxy_test

import (
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/proxy"
)

func TestProxy_UnixSocket(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o660} {
		t.Run(mode.String(), func(t *testing.T) {
			up := newUpstream(t)
			path := filepath.Join(t.TempDir(), "support-bot.sock")
			f := startProxy(t, up, config.Proxy{Listen: "unix:" + path,
				SocketMode: config.NewFileMode(mode)})

			info, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Type() != fs.ModeSocket || info.Mode().Perm() != mode {
				t.Errorf("socket file mode %s, want a socket with %s", info.Mode(), mode)
			}
			if f.srv.Addr() != "unix:"+path {
				t.Errorf("Addr %q, want unix:%s", f.srv.Addr(), path)
			}
			if got := get(t, f.srv.Addr(), emulator.TicketsPath); got.status != http.StatusOK {
				t.Fatalf("through the socket: %d %s", got.status, got.body)
			}
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
			if len(leftovers) != 0 {
				t.Errorf("temporary files left beside the socket: %v", leftovers)
			}

			shutdown(t, f.srv)
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("socket file still there after shutdown (err %v)", err)
			}
		})
	}
}

func TestProxy_UnixSocketReplacesOnlyAStaleSocket(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()

	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	f := startProxy(t, up, config.Proxy{Listen: "unix:" + stale})
	if got := get(t, f.srv.Addr(), emulator.TicketsPath); got.status != http.StatusOK {
		t.Fatalf("over a replaced stale socket: %d %s", got.status, got.body)
	}

	regular := filepath.Join(dir, "regular.sock")
	if err := os.WriteFile(regular, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"live socket", stale, "another process listens on " + stale},
		{"regular file", regular, regular + " exists and is not a socket"},
		{"missing directory", filepath.Join(dir, "no", "p.sock"), "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, err := proxy.Start(proxy.Options{Account: account, Upstream: up.srv.URL,
				Config: config.Proxy{Listen: "unix:" + c.path}, Source: newSource("x"),
				Logger: zerolog.Nop()})
			if err == nil {
				shutdown(t, srv)
				t.Fatal("started; want an error")
			}
			if !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "proxy.listen") {
				t.Errorf("error %q, want it to say %q and name proxy.listen", err, c.want)
			}
		})
	}
	if data, err := os.ReadFile(regular); err != nil || string(data) != "keep me" {
		t.Errorf("the regular file was touched: %q, %v", data, err)
	}
	if got := get(t, f.srv.Addr(), emulator.TicketsPath); got.status != http.StatusOK {
		t.Errorf("the live proxy was disturbed: %d", got.status)
	}
}

func TestProxy_TCPAddressInUse(t *testing.T) {
	up := newUpstream(t)
	f := startProxy(t, up, config.Proxy{})

	_, err := proxy.Start(proxy.Options{Account: account, Upstream: up.srv.URL,
		Config: config.Proxy{Listen: f.srv.Addr()}, Source: newSource("x")})
	if err == nil || !strings.Contains(err.Error(), "listen on "+f.srv.Addr()+
		" (proxy.listen)") {
		t.Errorf("second proxy on %s: %v; want a listen error naming the address",
			f.srv.Addr(), err)
	}
}
