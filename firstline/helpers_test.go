package firstline_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

var (
	agentName     = secret.New("demo-agent")
	agentPassword = secret.New("demo-agent-password")
	adminName     = secret.New("demo-admin")
	adminPassword = secret.New("demo-admin-password")
)

// epoch is the fixed "now" of tests that pin the clock.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return epoch }

// emu starts an emulator on loopback.
func emu(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	e := emulator.New(opts)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return e, srv
}

// raw starts a hand-written server on loopback.
func raw(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// client builds a client for base, changing the options with edit.
func client(t *testing.T, base string, edit ...func(*firstline.Options)) *firstline.Client {
	t.Helper()
	opts := firstline.Options{BaseURL: base, Timeout: 5 * time.Second}
	for _, e := range edit {
		e(&opts)
	}
	c, err := firstline.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// logTo sends the client's log, from debug up, to buf.
func logTo(buf *testutil.Buffer) func(*firstline.Options) {
	return func(o *firstline.Options) {
		o.Logger = zerolog.New(buf).Level(zerolog.DebugLevel)
	}
}

func withTimeout(d time.Duration) func(*firstline.Options) {
	return func(o *firstline.Options) { o.Timeout = d }
}

func putAsPost(o *firstline.Options) { o.PutAsPost = true }

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// signJWT makes an HS256 JWT with the given claims.
func signJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).
		SignedString([]byte("test-key-for-raw-servers"))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// login logs in as the agent and fails the test on error.
func login(t *testing.T, c *firstline.Client) firstline.Token {
	t.Helper()
	tok, err := c.Login(t.Context(), agentName, agentPassword, time.Hour)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	return tok
}
