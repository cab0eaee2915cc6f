package vaulttest

import "fmt"

// failure is one injected failure.
type failure struct {
	glob      string
	status    int
	remaining int // 0 = until cleared
}

// FailPath makes the next times requests whose API path (without "/v1/")
// matches pathGlob answer status with Vault's error envelope; times 0 means
// until ClearFailures. The glob has Vault's policy syntax: a trailing "*"
// matches any suffix and "+" one path segment, e.g. "secret/data/apps/*".
// The errors are "permission denied" for 403, none for 404 and the status
// text otherwise. A sealed server answers 503 before any injected failure;
// failures registered first are used first.
func (s *Server) FailPath(pathGlob string, status, times int) {
	mustValidGlob("FailPath", pathGlob)
	if status < 400 || status > 599 || times < 0 {
		panic(fmt.Sprintf("vaulttest: FailPath(%q, %d, %d): status must be 400-599 "+
			"and times >= 0", pathGlob, status, times))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failure{glob: pathGlob, status: status, remaining: times})
}

// ClearFailures removes every failure injected with FailPath.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = nil
}

// takeFailure returns the status of the first injected failure matching
// path and uses it up once. The caller holds s.mu.
func (s *Server) takeFailure(path string) (int, bool) {
	for i, f := range s.failures {
		if !globMatch(f.glob, path) {
			continue
		}

		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.failures = append(s.failures[:i:i], s.failures[i+1:]...)
			}
		}
		return f.status, true
	}

	return 0, false
}

// Requests returns how many requests the server received for API paths
// (without "/v1/") matching pathGlob, counting every answer: success,
// error, sealed or injected failure. Paths are counted as sent: a list
// from api.Client is "secret/metadata/apps", without a trailing slash.
func (s *Server) Requests(pathGlob string) int {
	mustValidGlob("Requests", pathGlob)

	s.mu.Lock()
	defer s.mu.Unlock()

	n := 0
	for path, count := range s.requests {
		if globMatch(pathGlob, path) {
			n += count
		}
	}

	return n
}

// Logins returns how many AppRole and Kubernetes logins succeeded.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}
