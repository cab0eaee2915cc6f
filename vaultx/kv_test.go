package vaultx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// assertNames fails unless err's text contains every want.
func assertNames(t *testing.T, err error, want ...string) {
	t.Helper()

	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// kvProxy sits between the client and the test Vault. It records the cas
// option of every KV v2 data write, and before forwarding each of the next
// interfere writes it lets another writer change the secret first, which
// makes the forwarded write a real check-and-set conflict.
type kvProxy struct {
	srv   *vaulttest.Server
	mount string
	path  string

	mu        sync.Mutex
	cas       []int
	interfere int
}

func newKVProxy(t *testing.T, srv *vaulttest.Server, mount, path string) (*kvProxy,
	string,
) {
	p := &kvProxy{srv: srv, mount: mount, path: path}
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}

	forward := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.inspect(t, r)
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return p, front.URL
}

func (p *kvProxy) inspect(t *testing.T, r *http.Request) {
	dataPath := "/v1/" + p.mount + "/data/" + p.path
	if r.URL.Path != dataPath || (r.Method != http.MethodPut && r.Method != http.MethodPost) {
		return
	}

	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		Options struct {
			CAS *int `json:"cas"`
		} `json:"options"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Options.CAS == nil {
		t.Errorf("data write without a cas option: %s", body)
		return
	}

	p.mu.Lock()
	p.cas = append(p.cas, *req.Options.CAS)
	meddle := p.interfere > 0
	p.interfere--
	p.mu.Unlock()

	if meddle {
		if _, err := p.srv.KVPut(p.mount, p.path, map[string]any{"other": "writer"}); err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}
}

func (p *kvProxy) casValues() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.cas...)
}

func (p *kvProxy) interfereNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.interfere = n
}

func TestClient_MergeKV_V2KeepsKeysWithCAS(t *testing.T) {
	srv := vaulttest.Start(t)
	proxy, address := newKVProxy(t, srv, "secret", "apps/bot")
	c := rootClient(t, srv, address)
	ctx := context.Background()
	custom := map[string]string{"fingerprint": "abcd1234", "rotated_at": "2030-01-01T00:00:00Z"}

	// A new key is written with cas 0.
	v, err := c.MergeKV(ctx, "secret", "apps/bot", 0, map[string]any{"token": "t1"}, custom)
	if err != nil || v != 1 {
		t.Fatalf("MergeKV on a new key = %d, %v; want version 1", v, err)
	}

	// Another writer adds a key and custom metadata; both survive.
	if _, err := srv.KVPut("secret", "apps/bot", map[string]any{"token": "t1",
		"db_password": "keep"}); err != nil {
		t.Fatal(err)
	}
	v, err = c.MergeKV(ctx, "secret", "apps/bot", 2, map[string]any{"token": "t2"},
		map[string]string{"fingerprint": "ef015678"})
	if err != nil || v != 3 {
		t.Fatalf("MergeKV on version 2 = %d, %v; want version 3", v, err)
	}

	data, meta, err := srv.KVGet("secret", "apps/bot")
	if err != nil {
		t.Fatal(err)
	}
	if data["token"] != "t2" || data["db_password"] != "keep" {
		t.Errorf("secret after merge = %v, want token t2 and db_password kept", data)
	}
	if meta.CustomMetadata["fingerprint"] != "ef015678" ||
		meta.CustomMetadata["rotated_at"] != custom["rotated_at"] {
		t.Errorf("custom metadata = %v", meta.CustomMetadata)
	}
	if got := proxy.casValues(); len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("cas values sent = %v, want [0 2]", got)
	}
}

func TestClient_MergeKV_SoftDeletedLatestVersion(t *testing.T) {
	srv := vaulttest.Start(t)
	if err := srv.SetCASRequired("secret", true); err != nil {
		t.Fatal(err)
	}
	proxy, address := newKVProxy(t, srv, "secret", "apps/bot")
	c := rootClient(t, srv, address)

	for _, token := range []string{"old1", "old2"} {
		if _, err := srv.KVPut("secret", "apps/bot", map[string]any{"token": token,
			"stale": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.KVSoftDelete("secret", "apps/bot"); err != nil {
		t.Fatal(err)
	}

	v, err := c.MergeKV(context.Background(), "secret", "apps/bot", 0,
		map[string]any{"token": "new"}, nil)
	if err != nil || v != 3 {
		t.Fatalf("MergeKV over a deleted version = %d, %v; want version 3", v, err)
	}

	if got := proxy.casValues(); len(got) != 1 || got[0] != 2 {
		t.Errorf("cas values sent = %v, want [2] (the deleted version)", got)
	}
	data, _, err := srv.KVGet("secret", "apps/bot")
	if err != nil || data["token"] != "new" || data["stale"] != nil {
		t.Errorf("secret = %v, %v; want only the new token", data, err)
	}
}

func TestClient_MergeKV_Conflicts(t *testing.T) {
	cases := []struct {
		name      string
		conflicts int
		wantErr   bool
	}{
		{"one conflict", 1, false},
		{"five conflicts", 5, false},
		{"six conflicts", 6, true},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := vaulttest.Start(t)
			proxy, address := newKVProxy(t, srv, "secret", "apps/bot")
			c := rootClient(t, srv, address)
			proxy.interfereNext(tc.conflicts)

			_, err := c.MergeKV(context.Background(), "secret", "apps/bot", 0,
				map[string]any{"token": "mine"}, map[string]string{"fingerprint": "f"})

			attempts := min(tc.conflicts+1, 6)
			if got := len(proxy.casValues()); got != attempts {
				t.Errorf("%d writes, want %d", got, attempts)
			}
			data, _, getErr := srv.KVGet("secret", "apps/bot")
			if getErr != nil {
				t.Fatal(getErr)
			}
			if !tc.wantErr {
				if err != nil || data["token"] != "mine" || data["other"] != "writer" {
					t.Fatalf("MergeKV = %v; secret %v; want token merged with other", err, data)
				}
				return
			}
			if !errors.Is(err, vaultx.ErrCASMismatch) {
				t.Fatalf("MergeKV = %v, want ErrCASMismatch", err)
			}
			assertNames(t, err, "secret/apps/bot", "400", "6")
			if data["token"] != nil {
				t.Errorf("secret = %v, want the other writer's data only", data)
			}
		})
	}
}

func TestClient_MergeKV_CASRequiredMount(t *testing.T) {
	srv := vaulttest.Start(t)
	if err := srv.MountKV("strict", 2); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetCASRequired("strict", true); err != nil {
		t.Fatal(err)
	}
	c := rootClient(t, srv, srv.URL())
	ctx := context.Background()

	for i, token := range []string{"a", "b"} {
		v, err := c.MergeKV(ctx, "strict", "apps/bot", 0, map[string]any{"token": token},
			map[string]string{"fingerprint": token})
		if err != nil || v != i+1 {
			t.Fatalf("MergeKV #%d = %d, %v", i+1, v, err)
		}
	}

	data, err := c.ReadKV(ctx, "strict", "apps/bot", 0)
	if err != nil || data["token"] != "b" {
		t.Fatalf("ReadKV = %v, %v", data, err)
	}
}

func TestClient_MergeKV_V1(t *testing.T) {
	srv := vaulttest.Start(t)
	if err := srv.MountKV("kv1", 1); err != nil {
		t.Fatal(err)
	}
	c := rootClient(t, srv, srv.URL())
	ctx := context.Background()
	if _, err := srv.KVPut("kv1", "apps/bot", map[string]any{"other": "keep"}); err != nil {
		t.Fatal(err)
	}

	v, err := c.MergeKV(ctx, "kv1", "apps/bot", 0, map[string]any{"token": "t"},
		map[string]string{"fingerprint": "ignored on v1"})
	if err != nil || v != 0 {
		t.Fatalf("MergeKV on kv v1 = %d, %v", v, err)
	}

	data, err := c.ReadKV(ctx, "kv1", "apps/bot", 1)
	if err != nil || data["token"] != "t" || data["other"] != "keep" {
		t.Fatalf("ReadKV = %v, %v; want token t and other kept", data, err)
	}

	v, err = c.MergeKV(ctx, "kv1", "apps/new", 0, map[string]any{"token": "n"}, nil)
	if err != nil || v != 0 {
		t.Fatalf("MergeKV on a new kv v1 key = %d, %v", v, err)
	}
}

func TestClient_KVVersion(t *testing.T) {
	srv := vaulttest.Start(t)
	if err := srv.MountKV("kv1", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.KVPut("kv1", "x", map[string]any{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	c := rootClient(t, srv, srv.URL())
	ctx := context.Background()

	// An override skips detection altogether.
	if _, err := c.ReadKV(ctx, "kv1", "x", 1); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests("sys/internal/ui/mounts/*"); got != 0 {
		t.Errorf("override still asked for the mount %d times", got)
	}

	for _, tc := range []struct {
		mount string
		want  int
	}{{"secret", 2}, {"kv1", 1}, {"/secret/", 2}} {
		got, err := c.KVVersion(ctx, tc.mount)
		if err != nil || got != tc.want {
			t.Errorf("KVVersion(%q) = %d, %v; want %d", tc.mount, got, err, tc.want)
		}
	}
	if got := srv.Requests("sys/internal/ui/mounts/*"); got != 2 {
		t.Errorf("mount detection asked %d times, want 2 (cached per mount)", got)
	}

	// A wrong override is used as told and fails visibly.
	if _, err := c.ReadKV(ctx, "kv1", "x", 3); err == nil {
		t.Error("kv_version 3 accepted")
	}
}

func TestClient_ReadKV_Errors(t *testing.T) {
	srv := vaulttest.Start(t)
	if err := srv.MountKV("kv1", 1); err != nil {
		t.Fatal(err)
	}
	srv.SetPolicy("narrow", []vaulttest.Rule{
		{Path: "secret/data/firstline/a", Capabilities: []string{"read"}},
	})
	token := srv.CreateToken(vaulttest.TokenOptions{Policies: []string{"narrow"}})
	file := writeFile(t, t.TempDir(), "token", token)
	c := newClient(t, srv.URL(), tokenAuth(file), nil)
	start(t, c)
	ctx := context.Background()

	_, err := c.ReadKV(ctx, "secret", "firstline/a", 2)
	if !errors.Is(err, vaultx.ErrNotFound) {
		t.Fatalf("ReadKV of a missing secret = %v, want ErrNotFound", err)
	}
	assertNames(t, err, "secret/firstline/a")

	_, err = c.ReadKV(ctx, "secret", "firstline/b", 2)
	if !errors.Is(err, vaultx.ErrPermissionDenied) || vaultx.StatusCode(err) != 403 {
		t.Fatalf("ReadKV without permission = %v, want ErrPermissionDenied", err)
	}
	assertNames(t, err, "secret/firstline/b", "403")

	// Detection needs some grant under the mount; none is given on kv1.
	_, err = c.KVVersion(ctx, "kv1")
	if !errors.Is(err, vaultx.ErrPermissionDenied) {
		t.Fatalf("KVVersion of a mount without access = %v, want ErrPermissionDenied", err)
	}
	assertNames(t, err, "kv1", "403", "kv_version")
}
