package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRun_ProxyServesThroughRotations(t *testing.T) {
	e := newEnv(t)
	e.mkdir("out")
	addr := freePort(t)
	e.writeConfig(strings.Replace(basicConfig, "token_ttl: 1h",
		"token_ttl: 1h\n    schedule: \"@every 1s\"\n    max_logins_per_hour: 3600\n"+
			"    proxy: {listen: \""+addr+"\"}", 1))
	d := e.start("run", "--config", e.config)
	waitFor(t, "the first token", func() bool {
		_, err := os.Stat(filepath.Join(e.dir, "out/token"))
		return err == nil
	})

	// Consumers send no token (or a wrong one) and never see a 401 while
	// the account rotates every second.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	stop := time.Now().Add(3500 * time.Millisecond)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/tickets", nil)
				if i%2 == 1 {
					req.Header.Set("Authorization", "Bearer not-a-token")
				}
				resp, err := client.Do(req)
				code := 0
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	res := d.stop(syscall.SIGTERM)
	if res.code != 0 {
		t.Fatalf("run: %s", res)
	}
	logins := e.em.Stats(canaryName).Logins
	if logins < 3 {
		t.Errorf("only %d log-ins during the test; want rotations under load", logins)
	}
	if len(statuses) != 1 || statuses[http.StatusOK] == 0 {
		t.Errorf("consumer statuses through the proxy: %v; want only 200s", statuses)
	}
	t.Logf("%d requests through the proxy across %d log-ins, statuses %v",
		statuses[http.StatusOK], logins, statuses)
}
