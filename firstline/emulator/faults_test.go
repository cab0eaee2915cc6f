package emulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

const agentLogin = `{"name":"demo-agent","password":"demo-agent-password"}`

func TestEmulator_FaultAnswers(t *testing.T) {
	cases := []struct {
		name        string
		fault       emulator.Fault
		status      int
		contentType string
		body        string // exact body, or a part of it for HTML
		header      map[string]string
	}{
		{"status without body", emulator.Fault{Status: 503}, 503, "application/json",
			`{"message":"Service Unavailable"}`, nil},
		{"429 with Retry-After", emulator.Fault{Status: 429,
			Body: `{"message":"Too Many Attempts."}`, RetryAfter: 1500 * time.Millisecond},
			429, "application/json", `{"message":"Too Many Attempts."}`,
			map[string]string{"Retry-After": "2", "X-RateLimit-Remaining": "0"}},
		{"HTML page", emulator.Fault{HTML: true}, 200, "text/html; charset=UTF-8",
			"<title>200 OK</title>", nil},
		{"HTML error page", emulator.Fault{HTML: true, Status: 502}, 502,
			"text/html; charset=UTF-8", "502 Bad Gateway", nil},
		{"no token", emulator.Fault{NoToken: true}, 200, "application/json",
			`{"token_type":"bearer","expires_in":3600}`, nil},
		{"custom body", emulator.Fault{Status: 200, Body: "ok", ContentType: "text/x-odd"},
			200, "text/x-odd", "ok", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, srv := serve(t, emulator.Options{})
			emu.Inject(tc.fault)

			a := send(t, srv, request{method: "POST", path: emulator.AuthPath, body: agentLogin})
			if a.status != tc.status || a.header.Get("Content-Type") != tc.contentType {
				t.Fatalf("got %d %q, want %d %q", a.status, a.header.Get("Content-Type"),
					tc.status, tc.contentType)
			}
			if a.raw != tc.body && !(tc.fault.HTML && strings.Contains(a.raw, tc.body)) {
				t.Errorf("body %q, want %q", a.raw, tc.body)
			}
			for k, v := range tc.header {
				if got := a.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if st := emu.Stats(agentName); st.Issued != 0 {
				t.Errorf("a fault answer issued %d tokens", st.Issued)
			}

			// The fault was one-shot: the next request is handled.
			login(t, srv, agentName, agentPassword)
		})
	}
}

func TestEmulator_FaultMatchingAndOrder(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	emu.Inject(emulator.Fault{Path: emulator.LogoutPath, Status: 500})
	emu.Inject(emulator.Fault{Method: "PUT", Path: emulator.AuthPath, Status: 503, Times: 2})
	emu.Inject(emulator.Fault{Method: "POST", Status: 418})
	emu.Inject(emulator.Fault{Status: 502})

	var got []int
	for _, rq := range []request{
		{method: "POST", path: emulator.AuthPath, body: agentLogin},          // 418
		{method: "POST", path: emulator.AuthPath, body: `{"_method":"put"}`}, // spoofed: 503
		{method: "PUT", path: emulator.AuthPath},                             // 503, used up
		{method: "PUT", path: emulator.AuthPath},                             // any: 502
		{method: "GET", path: emulator.MePath},                               // no match
		{method: "PUT", path: emulator.LogoutPath},                           // 500
		{method: "POST", path: emulator.AuthPath, body: agentLogin},          // queue empty
	} {
		got = append(got, send(t, srv, rq).status)
	}

	want := []int{418, 503, 503, 502, 401, 500, 200}
	if !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

func TestEmulator_ClearFaults(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	emu.Inject(emulator.Fault{Status: 500, Times: 5})
	emu.ClearFaults()
	login(t, srv, agentName, agentPassword)
}

func TestEmulator_DropAfterIssue(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	old := login(t, srv, agentName, agentPassword)
	emu.Inject(emulator.Fault{DropAfterIssue: true})

	resp, err := srv.Client().Post(srv.URL+emulator.AuthPath, "application/json",
		strings.NewReader(agentLogin))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want a dropped connection", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("error %v, want EOF", err)
	}

	current := emu.Current(agentName)
	if emu.Valid(old) || current == "" || current == old || !emu.Valid(current) {
		t.Fatal("the dropped request did not replace the token")
	}
}

func TestEmulator_DelayStopsWhenClientLeaves(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	emu.Inject(emulator.Fault{Delay: time.Hour})

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+emulator.AuthPath,
		strings.NewReader(agentLogin))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the delayed request answered")
	}

	// Close waits for every handler: it returns only if the delay ended.
	srv.Close()
	if st := emu.Stats(agentName); st.Issued != 0 {
		t.Errorf("the abandoned request issued %d tokens", st.Issued)
	}
}

func TestEmulator_DelayThenHandle(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	emu.Inject(emulator.Fault{Delay: time.Millisecond})
	login(t, srv, agentName, agentPassword)
	if st := emu.Stats(agentName); st.Logins != 1 {
		t.Errorf("logins %d, want 1", st.Logins)
	}
}
