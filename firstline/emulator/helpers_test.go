package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

const (
	agentName     = "demo-agent"
	agentPassword = "demo-agent-password"
	adminName     = "demo-admin"
	adminPassword = "demo-admin-password"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serve starts an emulator on loopback.
func serve(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return emu, srv
}

// request is one raw HTTP request to the emulator.
type request struct {
	method, path, body, contentType, token string
}

// answer is the emulator's reply, its JSON body decoded when it is JSON.
type answer struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

func send(t *testing.T, srv *httptest.Server, rq request) answer {
	t.Helper()
	req, err := http.NewRequest(rq.method, srv.URL+rq.path, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if rq.contentType == "" && rq.body != "" {
		rq.contentType = "application/json"
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}

	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	_ = json.Unmarshal(data, &a.json)
	return a
}

// login logs in through the API and returns the token.
func login(t *testing.T, srv *httptest.Server, name, password string) string {
	t.Helper()
	a := send(t, srv, request{method: "POST", path: emulator.AuthPath,
		body: `{"name":"` + name + `","password":"` + password + `"}`})
	token, _ := a.json["access_token"].(string)
	if a.status != http.StatusOK || token == "" {
		t.Fatalf("log in as %s: status %d, body %s", name, a.status, a.raw)
	}
	return token
}

// wantStatus fails unless a has the status and, when want is set, the
// JSON member "message" (or "error") equal to want.
func wantStatus(t *testing.T, a answer, status int, want string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.raw)
	}
	if want == "" {
		return
	}
	got, _ := a.json["message"].(string)
	if got == "" {
		got, _ = a.json["error"].(string)
	}
	if got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
