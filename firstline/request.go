package firstline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// maxBody caps how much of an answer is read.
const maxBody = 1 << 20

const userAgent = "firstline-rotator"

// call is one logical request: what to send and which secrets it carries,
// so that nothing the server echoes back can leak them.
type call struct {
	op      string
	method  string
	path    string
	body    map[string]any // nil sends no body
	bearer  secret.String
	secrets []secret.String
}

// answer is what came back: the status, headers and at most maxBody bytes
// of body. readErr is set when the body was cut short.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	readErr error
	tooBig  bool
	arrived time.Time
}

func (a *answer) ok() bool {
	return a.status >= 200 && a.status < 300
}

// send makes one HTTP exchange. It returns an *Error when no answer came,
// a plain error when the request could not even be built, and otherwise
// the answer, whatever its status, for the caller to judge.
func (c *Client) send(ctx context.Context, cl call) (*answer, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, c.fail(cl, KindTransport, "wait for the rate limiter", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}
	req, err := c.request(httptrace.WithClientTrace(ctx, trace), cl)
	if err != nil {
		// Nothing was sent: this is the caller's mistake, not the server's.
		return nil, fmt.Errorf("%s: build request: %w", cl.op, err)
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		kind := KindTransport
		if wrote.Load() {
			kind = KindAmbiguous
		}
		c.logExchange(cl, req, 0, time.Since(start), kind)
		return nil, c.fail(cl, kind, "", err)
	}
	defer resp.Body.Close()

	a := c.read(resp)
	c.logExchange(cl, req, a.status, time.Since(start), 0)
	return a, nil
}

// request builds the HTTP request. The token travels only in the
// Authorization header, never in the URL.
func (c *Client) request(ctx context.Context, cl call) (*http.Request, error) {
	target, err := c.resolve(cl.path)
	if err != nil {
		return nil, err
	}

	var body io.Reader = http.NoBody
	if cl.body != nil {
		data, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		body = bytes.NewReader(data)
	}

	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if !cl.bearer.Empty() {
		req.Header.Set("Authorization", "Bearer "+cl.bearer.Reveal())
	}
	return req, nil
}

// resolve appends path (which may carry a query) to the base URL. It
// refuses anything that could point at another host.
func (c *Client) resolve(path string) (string, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return "", errors.New("parse path: it is not a valid URL path")
	}

	switch {
	case ref.Query().Has("token"):
		return "", errors.New("check path: remove the token parameter; the token " +
			"travels in the Authorization header")
	case ref.IsAbs() || ref.Host != "" || !strings.HasPrefix(ref.Path, "/"):
		return "", fmt.Errorf("check path %q: write an absolute path such as "+
			"/api/v1/me, not a URL", path)
	}

	u := *c.base
	u.Path = c.base.Path + ref.Path
	u.RawQuery = ref.RawQuery
	return u.String(), nil
}

// read takes at most maxBody bytes of the body and notes whether it was
// cut short or too long.
func (c *Client) read(resp *http.Response) *answer {
	a := &answer{status: resp.StatusCode, header: resp.Header, arrived: c.now()}
	a.body, a.readErr = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if len(a.body) > maxBody {
		a.body, a.tooBig = a.body[:maxBody], true
	}
	return a
}

func (c *Client) logExchange(cl call, req *http.Request, status int, took time.Duration,
	failure Kind) {
	ev := c.log.Debug()
	if !ev.Enabled() {
		return
	}

	ev = ev.Str("op", cl.op).Str("method", req.Method).Str("path", req.URL.Path).
		Dur("duration", took)
	if !cl.bearer.Empty() {
		ev = ev.Str("fingerprint", cl.bearer.Fingerprint())
	}
	if failure != 0 {
		ev.Str("outcome", failure.String()).Msg("request got no answer")
		return
	}
	ev.Int("status", status).Msg("request answered")
}

// fail builds an *Error for a request that got no answer.
func (c *Client) fail(cl call, kind Kind, message string, err error) error {
	if errors.Is(err, context.Canceled) && kind == KindTransport {
		message = "canceled before the request was sent"
	}
	return &Error{Op: cl.op, Kind: kind, Message: message, Err: err,
		byToken: !cl.bearer.Empty()}
}
