package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

// TestEmulator_ConcurrentUse hammers the emulator from many goroutines and
// checks the one-live-token rule afterwards. Run it with -race.
func TestEmulator_ConcurrentUse(t *testing.T) {
	emu, srv := serve(t, emulator.Options{})
	users := map[string]string{agentName: agentPassword, adminName: adminPassword}
	const workers, rounds = 4, 25

	var mu sync.Mutex
	issued := map[string][]string{}
	var wg sync.WaitGroup
	for name, password := range users {
		for range workers {
			wg.Go(func() {
				var mine string
				for i := range rounds {
					token := hammerOnce(srv.URL, name, password, mine, i)
					if token != "" {
						mine = token
						mu.Lock()
						issued[name] = append(issued[name], token)
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Go(func() {
		for range rounds {
			emu.Inject(emulator.Fault{Path: "/nowhere", Status: 500})
			emu.Valid("x")
			emu.Stats(agentName)
			emu.ClearFaults()
		}
	})
	wg.Wait()

	for name, tokens := range issued {
		live := 0
		for _, tok := range tokens {
			if emu.Valid(tok) {
				live++
			}
		}
		st := emu.Stats(name)
		if live != 1 || !emu.Valid(emu.Current(name)) {
			t.Errorf("%s: %d live tokens of %d issued, want exactly 1", name, live, len(tokens))
		}
		if st.Issued != len(tokens) || st.Logins+st.Refreshes != st.Issued {
			t.Errorf("%s: stats %+v, but %d tokens were answered", name, st, len(tokens))
		}
		listed := emu.IssuedTokens(name)
		slices.Sort(listed)
		slices.Sort(tokens)
		if !slices.Equal(listed, tokens) {
			t.Errorf("%s: IssuedTokens lists %d tokens, %d were answered", name,
				len(listed), len(tokens))
		}
	}
}

// hammerOnce logs in, refreshes or probes, and returns a new token if it
// got one. Refreshes and probes may meet a token another worker killed.
func hammerOnce(base, name, password, mine string, round int) string {
	var req *http.Request
	switch {
	case mine == "" || round%3 == 0:
		req, _ = http.NewRequest("POST", base+emulator.AuthPath, strings.NewReader(
			`{"name":"`+name+`","password":"`+password+`","ttl":5}`))
	case round%3 == 1:
		req, _ = http.NewRequest("PUT", base+emulator.AuthPath, strings.NewReader(`{}`))
	default:
		req, _ = http.NewRequest("GET", base+emulator.TicketsPath, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	if mine != "" {
		req.Header.Set("Authorization", "Bearer "+mine)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(data, &body)
	return body.AccessToken
}
