package proxy_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/proxy"
)

func TestGroup_ApplyKeepsListenersAcrossReloads(t *testing.T) {
	up := newUpstream(t)
	socket := "unix:" + filepath.Join(t.TempDir(), "b.sock")
	accounts := func(listenA string) []config.Account {
		fl := &config.FirstLine{BaseURL: up.srv.URL}
		return []config.Account{
			{ID: "a", FirstLine: fl, Proxy: &config.Proxy{Listen: listenA}},
			{ID: "b", FirstLine: fl, Proxy: &config.Proxy{Listen: socket}},
			{ID: "c", FirstLine: fl},
		}
	}
	first := newSource(up.newToken(t))
	sources := func(src *source) proxy.Sources {
		return func(string) (proxy.TokenSource, bool) { return src, true }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	g := proxy.NewGroup(nil, zerolog.Nop())
	defer func() { _ = g.Shutdown(ctx) }()
	if err := g.Apply(ctx, accounts("127.0.0.1:0"), sources(first)); err != nil {
		t.Fatal(err)
	}
	addrA, addrB := g.Addr("a"), g.Addr("b")
	if addrB != socket || g.Addr("c") != "" {
		t.Fatalf("addresses a=%q b=%q c=%q", addrA, addrB, g.Addr("c"))
	}

	// A reload with a new rotator: same listeners, new source.
	second := newSource(up.newToken(t))
	if err := g.Apply(ctx, accounts("127.0.0.1:0"), sources(second)); err != nil {
		t.Fatal(err)
	}
	if g.Addr("a") != addrA {
		t.Errorf("proxy a moved from %s to %s on a reload that kept its settings", addrA,
			g.Addr("a"))
	}
	for _, addr := range []string{addrA, addrB} {
		if got := get(t, addr, emulator.TicketsPath); got.status != http.StatusOK {
			t.Errorf("%s after reload: %d %s; want the new source's token", addr,
				got.status, got.body)
		}
	}

	// Account b drops its proxy; account a moves to a socket.
	moved := "unix:" + filepath.Join(t.TempDir(), "a.sock")
	next := accounts(moved)[:1]
	if err := g.Apply(ctx, next, sources(second)); err != nil {
		t.Fatal(err)
	}
	if g.Addr("a") != moved || g.Addr("b") != "" {
		t.Errorf("after the change a=%q b=%q, want a=%q and no b", g.Addr("a"), g.Addr("b"),
			moved)
	}
	if got := get(t, moved, emulator.TicketsPath); got.status != http.StatusOK {
		t.Errorf("a on its new socket: %d", got.status)
	}
}

func TestGroup_ApplyReportsEveryFailure(t *testing.T) {
	g := proxy.NewGroup(nil, zerolog.Nop())
	ctx := context.Background()
	defer func() { _ = g.Shutdown(ctx) }()

	accounts := []config.Account{
		{ID: "nosource", FirstLine: &config.FirstLine{BaseURL: "https://x.example"},
			Proxy: &config.Proxy{Listen: "127.0.0.1:0"}},
		{ID: "badurl", FirstLine: &config.FirstLine{BaseURL: "http://x.example"},
			Proxy: &config.Proxy{Listen: "127.0.0.1:0"}},
		{ID: "good", FirstLine: &config.FirstLine{BaseURL: "https://x.example"},
			Proxy: &config.Proxy{Listen: "127.0.0.1:0"}},
	}
	err := g.Apply(ctx, accounts, func(id string) (proxy.TokenSource, bool) {
		return newSource("x"), id != "nosource"
	})
	if err == nil || !strings.Contains(err.Error(), "account nosource: no token source") ||
		!strings.Contains(err.Error(), "account badurl") {
		t.Errorf("error %v; want both failing accounts named", err)
	}
	if g.Addr("good") == "" {
		t.Error("the good account's proxy did not start")
	}
}
