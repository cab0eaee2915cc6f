package vaulttest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/helper/jsonutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// apiRequest is one parsed request to the /v1/ API.
type apiRequest struct {
	http  *http.Request
	id    string
	path  string // API path without "/v1/"; list paths end with "/"
	op    logical.Operation
	data  map[string]any
	token string
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// ServeHTTP implements http.Handler: the Vault HTTP API under /v1/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("Cache-Control", "no-store")

	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		respondError(rec, http.StatusNotFound, nil)
	} else {
		s.serveAPI(rec, r, path)
	}

	s.logf("%s %s -> %d", r.Method, r.URL.Path, rec.status)
}

// serveAPI applies the server-wide states (seal, injected failures,
// namespace) and then routes the request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	statusPath := path == "sys/health" || path == "sys/seal-status"
	if status, err := s.preempt(r, path, statusPath); status != 0 {
		respondError(w, status, err)
		return
	}

	switch path {
	case "sys/health":
		s.serveHealth(w, r)
		return
	case "sys/seal-status":
		s.serveSealStatus(w, r)
		return
	}

	req, status, err := parseRequest(r, path)
	if err != nil {
		respondError(w, status, err)
		return
	}

	s.route(w, req)
}

// preempt counts the request and returns the status and error to answer
// when the server is sealed, a failure is injected for its path or its
// namespace is wrong; status 0 lets the request through.
func (s *Server) preempt(r *http.Request, path string, statusPath bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.requests[path]++

	if s.sealed && !statusPath {
		//lint:ignore ST1005 the text is Vault's own, which clients match
		return http.StatusServiceUnavailable, errors.New(msgSealed)
	}

	if status, ok := s.takeFailure(path); ok {
		return status, injectedMessage(status)
	}

	ns := trimSlashes(r.Header.Get("X-Vault-Namespace"))
	if s.namespace != "" && !statusPath && ns != s.namespace {
		return http.StatusForbidden, fmt.Errorf("permission denied: namespace %q does not "+
			"match the required namespace %q (vaulttest RequireNamespace)", ns, s.namespace)
	}

	return 0, nil
}

// route sends a parsed request to the endpoint that serves its path.
func (s *Server) route(w http.ResponseWriter, req *apiRequest) {
	switch p := req.path; {
	case p == "sys/wrapping/unwrap":
		s.serveUnwrap(w, req)
	case strings.HasPrefix(p, "sys/internal/ui/mounts/"):
		s.serveUIMount(w, req)
	case p == "sys/mounts" || strings.HasPrefix(p, "sys/mounts/"):
		s.serveMounts(w, req)
	case strings.HasPrefix(p, "auth/token/"):
		s.serveTokenPath(w, req)
	case s.loginMethod(p) != "":
		s.serveLogin(w, req)
	default:
		s.serveMountedPath(w, req)
	}
}

// serveMountedPath serves a KV mount's path, or answers like Vault for a path
// no mount handles: the ACL check first, then 404.
func (s *Server) serveMountedPath(w http.ResponseWriter, req *apiRequest) {
	if m := s.kvMountFor(req.path); m != nil {
		s.serveKV(w, req, m)
		return
	}

	if _, ok := s.authorize(w, req, req.op); !ok {
		return
	}

	msg := fmt.Sprintf("no handler for route %q. route entry not found.", req.path)
	respondMessage(w, http.StatusNotFound, msg)
}

// parseRequest reads the operation, data and token of a request as Vault
// does: GET with ?list=true and LIST are lists (their path gets a trailing
// slash), query parameters are the data of reads, lists and deletes, and the
// JSON body is the data of writes.
func parseRequest(r *http.Request, path string) (*apiRequest, int, error) {
	if r.Header.Get("X-Vault-Wrap-TTL") != "" {
		return nil, http.StatusBadRequest, errors.New("vaulttest does not wrap responses " +
			"(X-Vault-Wrap-TTL); use Server.WrapSecretID for a wrapped AppRole secret ID")
	}

	op, err := operation(r)
	if err != nil {
		return nil, http.StatusMethodNotAllowed, err
	}

	if op == logical.ListOperation && !strings.HasSuffix(path, "/") {
		path += "/"
	}

	data, status, err := requestData(r, op)
	if err != nil {
		return nil, status, err
	}

	req := &apiRequest{http: r, id: newUUID(), path: path, op: op, data: data}
	req.token = requestToken(r)
	return req, 0, nil
}

// operation maps the HTTP method to Vault's logical operation.
func operation(r *http.Request) (logical.Operation, error) {
	switch r.Method {
	case http.MethodGet:
		if r.URL.Query().Get("list") == "true" {
			return logical.ListOperation, nil
		}
		return logical.ReadOperation, nil
	case "LIST":
		return logical.ListOperation, nil
	case http.MethodPost, http.MethodPut:
		return logical.UpdateOperation, nil
	case http.MethodPatch:
		return logical.PatchOperation, nil
	case http.MethodDelete:
		return logical.DeleteOperation, nil
	}

	return "", logical.ErrUnsupportedOperation
}

// requestData returns the request's data: query parameters for reads, lists
// and deletes, the JSON object body for writes and patches.
func requestData(r *http.Request, op logical.Operation) (map[string]any, int, error) {
	switch op {
	case logical.ReadOperation, logical.ListOperation, logical.DeleteOperation:
		return queryData(r), 0, nil
	}

	if op == logical.PatchOperation &&
		r.Header.Get("Content-Type") != "application/merge-patch+json" {
		return nil, http.StatusUnsupportedMediaType,
			errors.New("PATCH requires Content-Type application/merge-patch+json")
	}

	data := map[string]any{}
	err := jsonutil.DecodeJSONFromReader(r.Body, &data)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, http.StatusBadRequest, errors.New("error parsing JSON")
	}

	return data, 0, nil
}

// queryData turns query parameters into request data, without "list".
func queryData(r *http.Request) map[string]any {
	data := map[string]any{}
	for key, values := range r.URL.Query() {
		if key == "list" || len(values) == 0 {
			continue
		}
		if len(values) == 1 {
			data[key] = values[0]
		} else {
			data[key] = values
		}
	}

	return data
}

// requestToken returns the client token from X-Vault-Token or a bearer
// Authorization header.
func requestToken(r *http.Request) string {
	if token := r.Header.Get("X-Vault-Token"); token != "" {
		return token
	}

	auth := r.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return strings.TrimSpace(token)
	}

	return ""
}
