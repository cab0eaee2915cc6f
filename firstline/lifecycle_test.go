package firstline_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

// TestClient_NewTokenKillsPrevious covers each way the client gets a new
// token: the previous one must then be refused.
func TestClient_NewTokenKillsPrevious(t *testing.T) {
	cases := []struct {
		name string
		edit []func(*firstline.Options)
		next func(t *testing.T, c *firstline.Client, old firstline.Token) (firstline.Token, error)
	}{
		{"refresh with the token", nil, refreshWithToken},
		{"refresh with the token as POST", []func(*firstline.Options){putAsPost},
			refreshWithToken},
		{"refresh with credentials", nil, func(t *testing.T, c *firstline.Client,
			_ firstline.Token) (firstline.Token, error) {
			return c.RefreshWithCredentials(t.Context(), agentName, agentPassword, time.Hour)
		}},
		{"log in again", nil, func(t *testing.T, c *firstline.Client,
			_ firstline.Token) (firstline.Token, error) {
			return c.Login(t.Context(), agentName, agentPassword, time.Hour)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, srv := emu(t, emulator.Options{})
			c := client(t, srv.URL, tc.edit...)
			old := login(t, c)

			next, err := tc.next(t, c, old)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Probe(t.Context(), next.Value, emulator.MePath); err != nil {
				t.Fatalf("probe with the new token: %v", err)
			}
			err = c.Probe(t.Context(), old.Value, emulator.MePath)
			if firstline.KindOf(err) != firstline.KindBadCredentials {
				t.Fatalf("probe with the old token: %v, want a 401", err)
			}
			if st := e.Stats(agentName.Reveal()); st.SupersededUses != 1 || st.Issued != 2 {
				t.Errorf("emulator stats %+v", st)
			}
		})
	}
}

func refreshWithToken(t *testing.T, c *firstline.Client,
	old firstline.Token) (firstline.Token, error) {
	return c.Refresh(t.Context(), old.Value, time.Hour)
}

func TestClient_LoginByHandKillsCurrent(t *testing.T) {
	e, srv := emu(t, emulator.Options{})
	c := client(t, srv.URL)
	tok := login(t, c)

	if _, err := e.LoginByHand(agentName.Reveal()); err != nil {
		t.Fatal(err)
	}
	err := c.Probe(t.Context(), tok.Value, emulator.TicketsPath)
	if firstline.KindOf(err) != firstline.KindBadCredentials ||
		err.Error() != "probe: token rejected (401): Unauthenticated." {
		t.Fatalf("probe after a log-in by hand: %v", err)
	}
	_, err = c.Refresh(t.Context(), tok.Value, time.Hour)
	if firstline.KindOf(err) != firstline.KindBadCredentials {
		t.Fatalf("refresh of a killed token: %v", err)
	}
}

func TestClient_Revoke(t *testing.T) {
	for _, asPost := range []bool{false, true} {
		e, srv := emu(t, emulator.Options{})
		c := client(t, srv.URL, func(o *firstline.Options) { o.PutAsPost = asPost })
		tok := login(t, c)

		if err := c.Revoke(t.Context(), tok.Value); err != nil {
			t.Fatalf("put as post %v: %v", asPost, err)
		}
		if e.Valid(tok.Value.Reveal()) || e.Stats(agentName.Reveal()).Revokes != 1 {
			t.Errorf("put as post %v: the token survived", asPost)
		}
		err := c.Revoke(t.Context(), tok.Value)
		if firstline.KindOf(err) != firstline.KindBadCredentials {
			t.Errorf("revoke twice: %v", err)
		}
	}
}

// methodLog wraps a handler and records each request's method.
type methodLog struct {
	mu      sync.Mutex
	methods []string
}

func (m *methodLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.methods = append(m.methods, r.Method+" "+r.URL.Path)
		m.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (m *methodLog) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.methods
	m.methods = nil
	return out
}

func TestClient_PutFallback(t *testing.T) {
	cases := []struct {
		name      string
		putAsPost bool
		want      []string
		warned    bool
	}{
		{"real PUT refused, retried as POST", false,
			[]string{"PUT /api/v1/auth", "POST /api/v1/auth"}, true},
		{"put_as_post set", true, []string{"POST /api/v1/auth"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := emulator.New(emulator.Options{RejectPut: true})
			var seen methodLog
			srv := raw(t, seen.wrap(e.Handler()).ServeHTTP)
			var logs testutil.Buffer
			c := client(t, srv.URL, logTo(&logs),
				func(o *firstline.Options) { o.PutAsPost = tc.putAsPost })
			tok := login(t, c)
			seen.take()

			if _, err := c.Refresh(t.Context(), tok.Value, time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := seen.take(); !slices.Equal(got, tc.want) {
				t.Errorf("requests %v, want %v", got, tc.want)
			}
			warned := strings.Contains(logs.String(), `"level":"warn"`) &&
				strings.Contains(logs.String(), "put_as_post: true")
			if warned != tc.warned {
				t.Errorf("warned %v, want %v; log:\n%s", warned, tc.warned, logs.String())
			}
			if e.Stats(agentName.Reveal()).Refreshes != 1 {
				t.Error("the emulator saw no refresh")
			}
		})
	}
}

func TestClient_DropAfterIssueKillsOldToken(t *testing.T) {
	e, srv := emu(t, emulator.Options{})
	c := client(t, srv.URL)
	old := login(t, c)
	e.Inject(emulator.Fault{DropAfterIssue: true})

	_, err := c.Refresh(t.Context(), old.Value, time.Hour)
	if firstline.KindOf(err) != firstline.KindAmbiguous || !firstline.TokenMayHaveChanged(err) {
		t.Fatalf("refresh: %v, want an ambiguous error", err)
	}
	if e.Valid(old.Value.Reveal()) {
		t.Fatal("the old token survived")
	}
	if current := e.Current(agentName.Reveal()); current == "" || !e.Valid(current) {
		t.Fatal("the server issued no new token")
	}
}

// TestClient_ConcurrentUse runs log-ins for two accounts at once through
// one client. Run it with -race.
func TestClient_ConcurrentUse(t *testing.T) {
	e, srv := emu(t, emulator.Options{})
	c := client(t, srv.URL)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				_, err := c.Login(t.Context(), agentName, agentPassword, time.Hour)
				if err != nil {
					t.Error(err)
				}
				_, err = c.Login(t.Context(), adminName, adminPassword, time.Hour)
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, name := range []string{agentName.Reveal(), adminName.Reveal()} {
		if st := e.Stats(name); st.Logins != 40 || !e.Valid(e.Current(name)) {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
}
