package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Result words for Recorder.ProxyRequest.
const (
	// ResultOK: FIRST LINE answered with a status other than 401.
	ResultOK = "ok"
	// ResultUnauthorized: FIRST LINE refused the token, even after a retry
	// when one was possible.
	ResultUnauthorized = "upstream_401"
	// ResultUpstreamError: FIRST LINE did not answer; the consumer got 502.
	ResultUpstreamError = "upstream_error"
	// ResultNoToken: the account has no token yet; the consumer got 503.
	ResultNoToken = "no_token"
	// ResultRefused: the proxy refused the request itself (client token
	// missing or wrong, or a token endpoint).
	ResultRefused = "refused"
	// ResultCanceled: the consumer went away before the answer.
	ResultCanceled = "canceled"
)

// authPrefix is FIRST LINE's token API, which only the rotator may call.
const authPrefix = "/api/v1/auth"

// exchange is what one request learned on its way through the proxy, for
// its access log line and metrics.
type exchange struct {
	result     string
	generation uint64
	waited     time.Duration
	timedOut   bool
	retried    bool
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex
	}
	return &exchange{}
}

// ServeHTTP checks the client, proxies the request and logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	ex := &exchange{}
	sw := &statusWriter{ResponseWriter: w}

	switch {
	case !allows(s.live.Load().client, r):
		w.Header().Set("WWW-Authenticate", `Bearer realm="firstline-rotator proxy"`)
		writeMessage(sw, http.StatusUnauthorized, "proxy: missing or wrong client token "+
			"(send it as "+ClientTokenHeader+" or Authorization: Bearer)")
		ex.result = ResultRefused
	case isTokenEndpoint(r.URL.Path):
		writeMessage(sw, http.StatusForbidden, "proxy: the token endpoints "+authPrefix+
			" are reserved to the rotator; a log-in, refresh or log-out here would kill "+
			"the token every consumer shares")
		ex.result = ResultRefused
	default:
		ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
		s.proxy.ServeHTTP(sw, r.WithContext(ctx))
	}

	s.finish(r, sw.code(), ex, time.Since(started))
}

// isTokenEndpoint matches /api/v1/auth and below, however the path is
// spelled.
func isTokenEndpoint(p string) bool {
	p = strings.ToLower(path.Clean("/" + p))
	return p == authPrefix || strings.HasPrefix(p, authPrefix+"/")
}

// rewrite sends the request to FIRST LINE without any token the client
// sent; the transport adds the current one.
func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(s.upstream)
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del(ClientTokenHeader)
	pr.Out.URL.RawQuery = withoutToken(pr.Out.URL.RawQuery)
	if pr.Out.Header.Get("Accept") == "" {
		// Without it Laravel may answer errors with HTML or a redirect.
		pr.Out.Header.Set("Accept", "application/json")
	}
}

// withoutToken drops every "token" parameter from a raw query, keeping
// the rest exactly as written.
func withoutToken(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}

	kept := make([]string, 0, strings.Count(rawQuery, "&")+1)
	for part := range strings.SplitSeq(rawQuery, "&") {
		key, _, _ := strings.Cut(part, "=")
		if unescaped, err := url.QueryUnescape(key); err == nil {
			key = unescaped
		}
		if key != "token" {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&")
}

// upstreamError answers a request FIRST LINE did not answer: 503 without
// a token, 502 otherwise.
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeOf(r.Context())
	switch {
	case errors.Is(err, errNoToken):
		ex.result = ResultNoToken
		writeMessage(w, http.StatusServiceUnavailable, "proxy: "+err.Error())
	case r.Context().Err() != nil:
		ex.result = ResultCanceled
		w.WriteHeader(http.StatusBadGateway)
	default:
		ex.result = ResultUpstreamError
		s.log.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).
			Msg("FIRST LINE did not answer")
		writeMessage(w, http.StatusBadGateway, "proxy: FIRST LINE did not answer: "+
			err.Error())
	}
}

// finish writes the access log line and counts the request. The path is
// logged without its query, which may hold a token.
func (s *Server) finish(r *http.Request, status int, ex *exchange, took time.Duration) {
	if ex.result == "" {
		ex.result = ResultOK
		if status == http.StatusUnauthorized {
			ex.result = ResultUnauthorized
		}
	}

	s.logEvent(ex).Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
		Str("result", ex.result).Uint64("generation", ex.generation).
		Bool("retried", ex.retried).Dur("wait", ex.waited).Dur("duration", took).
		Msg("proxied request")

	if ex.result != ResultRefused {
		s.rec.ProxyWait(s.account, ex.waited)
	}
	s.rec.ProxyRequest(s.account, ex.result)
}

// logEvent picks the level: Debug for the ordinary access log, Info when a
// rotation made the request wait out wait_timeout or be sent again, Warn
// when FIRST LINE refused the token the consumer's request carried.
func (s *Server) logEvent(ex *exchange) *zerolog.Event {
	switch {
	case ex.result == ResultUnauthorized:
		return s.log.Warn()
	case ex.timedOut || ex.retried:
		return s.log.Info().Bool("wait_timed_out", ex.timedOut)
	}
	return s.log.Debug()
}

// writeMessage answers a JSON body in FIRST LINE's {"message": ...} shape.
func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// statusWriter remembers the status written. Unwrap lets ReverseProxy
// reach the connection's Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
