package rotator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// leasedAccount is an account block for one replica: its own sink, the
// shared Vault lease.
const leasedAccount = `  - id: bot
    credentials: {file: {name_file: creds/name, password_file: creds/password}}
    token_ttl: 1h
    max_logins_per_hour: 3600
    lock: {type: vault, mount: secret, path: leases/bot, ttl: 10s}
    sinks: [{type: file, path: %SINK%}]
`

func TestRotator_TwoReplicasShareOneLoginPerCycle(t *testing.T) {
	w := newWorld(t)
	vault := vaulttest.Start(t)
	tokenFile := filepath.Join(w.dir, "vault-token")
	if err := os.WriteFile(tokenFile, []byte(vault.RootToken()), 0o600); err != nil {
		t.Fatal(err)
	}

	replicas := make([]*Rotator, 2)
	for i := range replicas {
		sink := filepath.Join(w.dir, "replica"+string(rune('a'+i)), "token")
		if err := os.MkdirAll(filepath.Dir(sink), 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := w.configWith("vault: {address: \""+vault.URL()+"\", auth: {method: token, "+
			"token_file: "+tokenFile+"}}\n", strings.ReplaceAll(leasedAccount, "%SINK%", sink))
		cfg.StateDir = filepath.Join(w.dir, "state"+string(rune('a'+i)))
		replicas[i] = w.rotator(cfg, nil)
		if err := replicas[i].Start(context.Background()); err != nil {
			t.Fatalf("start replica %d: %v", i, err)
		}
	}

	const cycles = 100
	for cycle := range cycles {
		var wg sync.WaitGroup
		results := make([]Result, 2)
		for i, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := r.RotateOnce(context.Background(), nil, true)
				if err != nil {
					t.Errorf("cycle %d replica %d: %v", cycle, i, err)
					return
				}
				results[i] = out[0]
			}()
		}
		wg.Wait()

		for i, res := range results {
			if res.Err != nil {
				t.Fatalf("cycle %d replica %d: %v", cycle, i, res.Err)
			}
			sink := filepath.Join(w.dir, "replica"+string(rune('a'+i)), "token")
			if !w.em.Valid(w.token(sink[len(w.dir)+1:])) {
				t.Fatalf("cycle %d: replica %d's sink holds a token the other replica killed",
					cycle, i)
			}
		}
	}

	if logins := w.em.Stats(testUser).Logins; logins != cycles {
		t.Errorf("%d cycles of two forced replicas logged in %d times, want %d",
			cycles, logins, cycles)
	}
}
