package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

func TestEmulator_LoginIssuesDocumentedToken(t *testing.T) {
	clk := newClock()
	key := []byte("emulator-test-signing-key-0123456")
	_, srv := serve(t, emulator.Options{Clock: clk.Now, SigningKey: key})

	a := send(t, srv, request{method: "POST", path: emulator.AuthPath,
		body: `{"name":"demo-agent","password":"demo-agent-password","ttl":3600}`})
	wantStatus(t, a, http.StatusOK, "")
	if a.json["token_type"] != "bearer" || a.json["expires_in"] != float64(216000) {
		t.Fatalf("answer %s: want token_type bearer and expires_in 216000", a.raw)
	}

	token := a.json["access_token"].(string)
	if !strings.HasPrefix(token, "eyJhbGciOiJIUzI1NiI") {
		t.Errorf("token header %.20s…: want HS256", token)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(clk.Now))
	if err != nil {
		t.Fatalf("verify token: %v", err)
	}

	now := float64(clk.Now().Unix())
	want := map[string]any{
		"iss": srv.URL + "/api/v1/auth", "sub": "1001", "iat": now, "nbf": now,
		"exp": now + 216000, "email": "demo-agent@emulator.invalid",
	}
	for claim, value := range want {
		if claims[claim] != value {
			t.Errorf("claim %s = %v, want %v", claim, claims[claim], value)
		}
	}
	for _, claim := range []string{"jti", "prv"} {
		if s, _ := claims[claim].(string); s == "" {
			t.Errorf("claim %s missing", claim)
		}
	}
}

func TestEmulator_Errors(t *testing.T) {
	_, srv := serve(t, emulator.Options{})
	cases := []struct {
		name    string
		rq      request
		status  int
		message string
		fields  []string
	}{
		{"wrong password", request{method: "POST", path: emulator.AuthPath,
			body: `{"name":"demo-agent","password":"nope"}`}, 401, "Unauthorized", nil},
		{"unknown user", request{method: "POST", path: emulator.AuthPath,
			body: `{"name":"nobody","password":"demo-agent-password"}`}, 401, "Unauthorized", nil},
		{"name missing", request{method: "POST", path: emulator.AuthPath,
			body: `{"password":"x"}`}, 422, "The name field is required.", []string{"name"}},
		{"both missing", request{method: "POST", path: emulator.AuthPath, body: `{}`}, 422,
			"The name field is required. (and 1 more error)", []string{"name", "password"}},
		{"ttl not a number", request{method: "POST", path: emulator.AuthPath,
			body: `{"name":"demo-agent","password":"demo-agent-password","ttl":"soon"}`},
			422, "The ttl field must be an integer.", []string{"ttl"}},
		{"ttl zero", request{method: "POST", path: emulator.AuthPath,
			body: `{"name":"demo-agent","password":"demo-agent-password","ttl":0}`},
			422, "The ttl field must be at least 1.", []string{"ttl"}},
		{"GET on auth", request{method: "GET", path: emulator.AuthPath}, 405,
			"The GET method is not supported for route api/v1/auth. " +
				"Supported methods: POST, PUT.", nil},
		{"unknown route", request{method: "GET", path: "/api/v1/nope"}, 404,
			"The route api/v1/nope could not be found.", nil},
		{"no token", request{method: "GET", path: emulator.MePath}, 401, "Unauthenticated.", nil},
		{"forged token", request{method: "GET", path: emulator.MePath,
			token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}, 401, "Unauthenticated.", nil},
		{"refresh without anything", request{method: "PUT", path: emulator.AuthPath,
			body: `{"ttl":5}`}, 401, "Unauthenticated.", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, srv, tc.rq)
			wantStatus(t, a, tc.status, tc.message)
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			errs, _ := a.json["errors"].(map[string]any)
			if len(errs) != len(tc.fields) {
				t.Fatalf("errors %v, want fields %v", errs, tc.fields)
			}
			for _, f := range tc.fields {
				if _, ok := errs[f]; !ok {
					t.Errorf("errors %v lack field %s", errs, f)
				}
			}
		})
	}
}

func TestEmulator_NewTokenKillsPrevious(t *testing.T) {
	body := func(extra string) string {
		return `{"name":"demo-agent","password":"demo-agent-password"` + extra + `}`
	}
	form := "name=demo-agent&password=demo-agent-password&_method=put"
	cases := []struct {
		name string
		next func(t *testing.T, emu *emulator.Emulator, srv serverT, old string) string
	}{
		{"log in again", func(t *testing.T, _ *emulator.Emulator, srv serverT, _ string) string {
			return tokenOf(t, send(t, srv, request{method: "POST", path: emulator.AuthPath,
				body: body("")}))
		}},
		{"refresh with bearer", func(t *testing.T, _ *emulator.Emulator, srv serverT,
			old string) string {
			return tokenOf(t, send(t, srv, request{method: "PUT", path: emulator.AuthPath,
				body: `{"ttl":5}`, token: old}))
		}},
		{"refresh with credentials", func(t *testing.T, _ *emulator.Emulator, srv serverT,
			_ string) string {
			return tokenOf(t, send(t, srv, request{method: "PUT", path: emulator.AuthPath,
				body: body("")}))
		}},
		{"POST _method in JSON", func(t *testing.T, _ *emulator.Emulator, srv serverT,
			old string) string {
			return tokenOf(t, send(t, srv, request{method: "POST", path: emulator.AuthPath,
				body: `{"_method":"put"}`, token: old}))
		}},
		{"POST _method in form", func(t *testing.T, _ *emulator.Emulator, srv serverT,
			_ string) string {
			return tokenOf(t, send(t, srv, request{method: "POST", path: emulator.AuthPath,
				body: form, contentType: "application/x-www-form-urlencoded"}))
		}},
		{"POST _method in query", func(t *testing.T, _ *emulator.Emulator, srv serverT,
			old string) string {
			return tokenOf(t, send(t, srv, request{method: "POST",
				path: emulator.AuthPath + "?_method=PUT", token: old}))
		}},
		{"log in by hand", func(t *testing.T, emu *emulator.Emulator, _ serverT,
			_ string) string {
			token, err := emu.LoginByHand(agentName)
			if err != nil {
				t.Fatal(err)
			}
			return token
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, srv := serve(t, emulator.Options{})
			old := login(t, srv, agentName, agentPassword)
			admin := login(t, srv, adminName, adminPassword)

			next := tc.next(t, emu, srv, old)
			if next == old || !emu.Valid(next) || emu.Current(agentName) != next {
				t.Fatal("the new token is not the account's live token")
			}
			if emu.Valid(old) {
				t.Fatal("the previous token still works")
			}
			wantStatus(t, send(t, srv, request{method: "GET", path: emulator.MePath,
				token: old}), 401, "Unauthenticated.")
			if st := emu.Stats(agentName); st.SupersededUses != 1 || st.Issued != 2 {
				t.Errorf("stats %+v, want 1 superseded use and 2 issued", st)
			}
			if !emu.Valid(admin) {
				t.Error("another account's token died")
			}
			if got := emu.IssuedTokens(agentName); !slices.Equal(got, []string{old, next}) {
				t.Errorf("IssuedTokens lists %d tokens, want the old and the new", len(got))
			}
		})
	}
}

// serverT is the test server type, named to keep case tables short.
type serverT = *httptest.Server

func tokenOf(t *testing.T, a answer) string {
	t.Helper()
	wantStatus(t, a, http.StatusOK, "")
	return a.json["access_token"].(string)
}

func TestEmulator_Roles(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	agent := login(t, srv, agentName, agentPassword)
	admin := login(t, srv, adminName, adminPassword)

	me := send(t, srv, request{method: "GET", path: emulator.MePath, token: agent})
	wantStatus(t, me, 200, "")
	if me.json["name"] != agentName || me.json["role"] != "agent" || me.json["id"] != 1001.0 {
		t.Errorf("me = %s", me.raw)
	}

	wantStatus(t, send(t, srv, request{method: "GET", path: emulator.EmployeesPath,
		token: agent}), 403, "This action is unauthorized.")
	list := send(t, srv, request{method: "GET", path: emulator.EmployeesPath, token: admin})
	wantStatus(t, list, 200, "")
	if data, _ := list.json["data"].([]any); len(data) != 2 {
		t.Errorf("employees = %s, want 2", list.raw)
	}
	wantStatus(t, send(t, srv, request{method: "GET", path: emulator.TicketsPath,
		token: agent}), 200, "")

	if st := emu.Stats(agentName); st.Authorized != 3 {
		t.Errorf("agent authorized %d requests, want 3", st.Authorized)
	}
}

func TestEmulator_TokenInQuery(t *testing.T) {
	_, srv := serve(t, emulator.Options{})
	token := login(t, srv, agentName, agentPassword)

	a := send(t, srv, request{method: "GET", path: emulator.MePath + "?token=" + token})
	wantStatus(t, a, 200, "")
	if a.json["name"] != agentName {
		t.Errorf("me = %s", a.raw)
	}
}

func TestEmulator_Expiry(t *testing.T) {
	clk := newClock()
	emu, srv := serve(t, emulator.Options{Clock: clk.Now})
	a := send(t, srv, request{method: "POST", path: emulator.AuthPath,
		body: `{"name":"demo-agent","password":"demo-agent-password","ttl":1}`})
	token := tokenOf(t, a)
	byHand, err := emu.LoginByHand(adminName)
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(59 * time.Second)
	if !emu.Valid(token) {
		t.Fatal("token dead before its minute is up")
	}
	clk.Advance(time.Second)
	if emu.Valid(token) {
		t.Fatal("token alive after its minute")
	}
	wantStatus(t, send(t, srv, request{method: "GET", path: emulator.TicketsPath,
		token: token}), 401, "Unauthenticated.")

	clk.Advance(10 * 365 * 24 * time.Hour)
	if !emu.Valid(byHand) {
		t.Error("a token made by hand should never expire")
	}
}

func TestEmulator_RejectPut(t *testing.T) {
	emu, srv := serve(t, emulator.Options{RejectPut: true})
	token := login(t, srv, agentName, agentPassword)

	a := send(t, srv, request{method: "PUT", path: emulator.AuthPath, token: token})
	wantStatus(t, a, 405, "")
	if !emu.Valid(token) {
		t.Fatal("a refused PUT killed the token")
	}

	spoofed := tokenOf(t, send(t, srv, request{method: "POST", path: emulator.AuthPath,
		body: `{"_method":"put"}`, token: token}))

	emu.SetRejectPut(false)
	tokenOf(t, send(t, srv, request{method: "PUT", path: emulator.AuthPath, token: spoofed}))
	if st := emu.Stats(agentName); st.Refreshes != 2 {
		t.Errorf("refreshes %d, want 2", st.Refreshes)
	}
}

func TestEmulator_Logout(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	token := login(t, srv, agentName, agentPassword)

	wantStatus(t, send(t, srv, request{method: "PUT", path: emulator.LogoutPath,
		token: token}), 200, "Successfully logged out")
	if emu.Valid(token) || emu.Current(agentName) != "" {
		t.Fatal("token alive after log-out")
	}
	wantStatus(t, send(t, srv, request{method: "POST", path: emulator.LogoutPath,
		token: token}), 401, "Unauthenticated.")

	second := login(t, srv, agentName, agentPassword)
	wantStatus(t, send(t, srv, request{method: "POST", path: emulator.LogoutPath,
		body: `{"name":"demo-agent","password":"demo-agent-password"}`}), 200, "")
	if emu.Valid(second) {
		t.Fatal("log-out with credentials left the token alive")
	}
	if st := emu.Stats(agentName); st.Revokes != 2 || st.SupersededUses != 0 {
		t.Errorf("stats %+v, want 2 revokes and no superseded use", st)
	}
}

func TestEmulator_HistoryIsBounded(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	first, err := emu.LoginByHand(agentName)
	if err != nil {
		t.Fatal(err)
	}
	for range 10000 {
		if _, err := emu.LoginByHand(agentName); err != nil {
			t.Fatal(err)
		}
	}

	listed := emu.IssuedTokens(agentName)
	if len(listed) != 10000 || slices.Contains(listed, first) {
		t.Fatalf("IssuedTokens lists %d tokens, want the last 10000", len(listed))
	}
	wantStatus(t, send(t, srv, request{method: "GET", path: emulator.MePath, token: first}),
		401, "Unauthenticated.")
	if st := emu.Stats(agentName); st.Issued != 10001 || st.SupersededUses != 0 {
		t.Errorf("stats %+v: a forgotten token is refused but not counted", st)
	}
}
