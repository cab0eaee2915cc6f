package firstline_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

func TestClient_LoginAgainstEmulator(t *testing.T) {
	e, srv := emu(t, emulator.Options{Clock: fixedClock})
	c := client(t, srv.URL, func(o *firstline.Options) { o.Clock = fixedClock })

	tok, err := c.Login(t.Context(), agentName, agentPassword, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Valid(tok.Value.Reveal()) {
		t.Fatal("the emulator does not accept the token")
	}
	if !tok.IssuedAt.Equal(epoch) || !tok.ExpiresAt.Equal(epoch.Add(24*time.Hour)) ||
		tok.Lifetime() != 24*time.Hour {
		t.Errorf("issued %v expires %v lifetime %v, want a 24h token from %v",
			tok.IssuedAt, tok.ExpiresAt, tok.Lifetime(), epoch)
	}
	if err := c.Probe(t.Context(), tok.Value, emulator.TicketsPath); err != nil {
		t.Errorf("probe with the new token: %v", err)
	}
}

// TestClient_ExpiresInVersusExp checks that the earlier of expires_in and
// the JWT's exp wins.
func TestClient_ExpiresInVersusExp(t *testing.T) {
	cases := []struct {
		name      string
		claims    jwt.MapClaims
		expiresIn any
		want      time.Duration // after epoch
	}{
		{"exp earlier", jwt.MapClaims{"exp": epoch.Add(10 * time.Minute).Unix()}, 3600,
			10 * time.Minute},
		{"expires_in earlier", jwt.MapClaims{"exp": epoch.Add(2 * time.Hour).Unix()}, 600,
			10 * time.Minute},
		{"no exp", jwt.MapClaims{"sub": "1"}, 5400, 90 * time.Minute},
		{"no expires_in", jwt.MapClaims{"exp": epoch.Add(time.Hour).Unix()}, nil, time.Hour},
		{"expires_in zero, exp set", jwt.MapClaims{"exp": epoch.Add(time.Hour).Unix()}, 0,
			time.Hour},
		{"expires_in as a string", jwt.MapClaims{"sub": "1"}, "120", 2 * time.Minute},
		{"a hundred years", jwt.MapClaims{"sub": "1"}, 3153600000,
			3153600000 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"access_token": signJWT(t, tc.claims),
				"token_type": "bearer", "expires_in": tc.expiresIn})
			srv := raw(t, answer(200, "application/json", string(body)))
			c := client(t, srv.URL, func(o *firstline.Options) { o.Clock = fixedClock })

			tok, err := c.Login(t.Context(), agentName, agentPassword, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.ExpiresAt.Sub(epoch); got != tc.want || tok.Lifetime() != tc.want {
				t.Errorf("expires %v after issue, want %v", got, tc.want)
			}
		})
	}
}

func TestClient_ExpiredOnArrival(t *testing.T) {
	token := signJWT(t, jwt.MapClaims{"exp": epoch.Add(-time.Minute).Unix()})
	srv := raw(t, answer(200, "application/json",
		`{"access_token":"`+token+`","expires_in":3600}`))
	c := client(t, srv.URL, func(o *firstline.Options) { o.Clock = fixedClock })

	_, err := c.Login(t.Context(), agentName, agentPassword, time.Hour)
	if firstline.KindOf(err) != firstline.KindBadResponse ||
		err.Error() != "log in: unusable answer (200): the token had expired when it "+
			"arrived; check both clocks" {
		t.Fatalf("got %v", err)
	}
}

// TestClient_TTLInMinutes checks the ttl sent: whole minutes, rounded up,
// left out when not positive.
func TestClient_TTLInMinutes(t *testing.T) {
	cases := []struct {
		ttl  time.Duration
		want any // float64 from JSON, or nil when absent
	}{
		{24 * time.Hour, 1440.0},
		{90 * time.Second, 2.0},
		{time.Minute, 1.0},
		{time.Nanosecond, 1.0},
		{100 * 365 * 24 * time.Hour, 52560000.0},
		{0, nil},
		{-time.Minute, nil},
	}
	bodies := make(chan map[string]any, 1)
	srv := raw(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		bodies <- body
		w.WriteHeader(500)
	})
	c := client(t, srv.URL)

	for _, tc := range cases {
		_, _ = c.Login(t.Context(), agentName, agentPassword, tc.ttl)
		ttl, present := (<-bodies)["ttl"]
		if (tc.want == nil && present) || (tc.want != nil && ttl != tc.want) {
			t.Errorf("ttl %v sent as %v, want %v", tc.ttl, ttl, tc.want)
		}
	}
}
