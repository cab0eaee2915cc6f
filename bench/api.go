package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

// api is the FIRST LINE emulator served on loopback by this process, so
// that its counters can be read, with a log of when each successful log-in
// was answered.
type api struct {
	em    *emulator.Emulator
	users []emulator.User
	srv   *http.Server
	url   string

	mu      sync.Mutex
	answers []answer
}

// answer is one successful log-in: whose, when its request arrived, and
// when its answer left the handler (the server sends it on at once).
type answer struct {
	name    string
	arrived time.Time
	at      time.Time
}

// startAPI serves an emulator that knows users on 127.0.0.1.
func startAPI(users []emulator.User) (*api, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the emulator: %w", err)
	}

	a := &api{em: emulator.New(emulator.Options{Users: users}), users: users,
		url: "http://" + ln.Addr().String()}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve),
		ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("emulator stopped:", err)
		}
	}()
	return a, nil
}

// close stops the server.
func (a *api) close() {
	_ = a.srv.Close()
}

// serve passes the request to the emulator and logs answered log-ins.
func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	login := r.Method == http.MethodPost && r.URL.Path == emulator.AuthPath
	if !login {
		a.em.Handler().ServeHTTP(w, r)
		return
	}

	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var fields struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &fields)

	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.em.Handler().ServeHTTP(sw, r)
	if sw.status == http.StatusOK {
		a.mu.Lock()
		a.answers = append(a.answers, answer{name: fields.Name, arrived: arrived,
			at: time.Now()})
		a.mu.Unlock()
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// loginLog returns the answered log-ins so far, oldest first.
func (a *api) loginLog() []answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	log := append([]answer(nil), a.answers...)
	sort.Slice(log, func(i, j int) bool { return log[i].at.Before(log[j].at) })
	return log
}

// logins sums the emulator's own log-in counters over every user.
func (a *api) logins() int {
	n := 0
	for _, u := range a.users {
		n += a.em.Stats(u.Name).Logins
	}
	return n
}

// maxInWindow returns the most log-in requests that arrived within any
// span of length window; log is in order of arrival.
func maxInWindow(log []answer, window time.Duration) int {
	best, first := 0, 0
	for last := range log {
		for log[last].arrived.Sub(log[first].arrived) >= window {
			first++
		}
		best = max(best, last-first+1)
	}
	return best
}
