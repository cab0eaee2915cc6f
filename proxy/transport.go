package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// MaxReplayBody is the largest request body the proxy keeps so that it can
// send a request again when FIRST LINE refused it because a rotation
// replaced the token while the request was out. A larger body streams to
// FIRST LINE as it arrives and is sent only once, so during a rotation
// such a request may fail with 401 and its consumer must retry it.
const MaxReplayBody = 1 << 20

// maxDiscard bounds how much of a refused answer is read before its
// connection is reused for the retry.
const maxDiscard = 64 << 10

// errNoToken reports that the source has no token to inject.
var errNoToken = errors.New("no token to inject")

// tokenTransport adds the current token to each request and, when FIRST
// LINE answers 401 after a rotation replaced that token, sends the request
// once more with the new one.
type tokenTransport struct {
	server *Server
	base   http.RoundTripper
}

// RoundTrip sends req with the current token. It reads the body before it
// asks for the token, so that the token is as fresh as possible when the
// request leaves.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchangeOf(req.Context())
	body, replayable, err := prepareBody(req)
	if err != nil {
		return nil, err
	}

	tok, gen, err := t.token(req.Context(), ex)
	if err != nil {
		body.close()
		return nil, err
	}
	ex.generation = gen
	resp, err := t.send(req, body, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable {
		return resp, err
	}

	// A 401 after a rotation replaced the token in flight: the new token
	// is either in hand already or about to be.
	newTok, newGen, err := t.token(req.Context(), ex)
	if err != nil || newGen == gen {
		return resp, nil
	}
	discard(resp)
	ex.retried, ex.generation = true, newGen
	t.server.rec.ProxyRetry(t.server.account)
	return t.send(req, body, newTok)
}

// token asks the source for the token, waiting at most wait_timeout.
// After the wait it takes what the source has, which is the current token
// even if a rotation is still in flight.
func (t *tokenTransport) token(ctx context.Context, ex *exchange) (secret.String, uint64,
	error) {
	live := t.server.live.Load()
	wait, cancel := context.WithTimeout(ctx, live.wait)
	defer cancel()

	started := time.Now()
	tok, gen, err := live.source.Token(wait)
	ex.waited += time.Since(started)
	if ctx.Err() != nil {
		return secret.String{}, 0, ctx.Err()
	}
	if err == nil && tok.Empty() {
		err = errors.New("the token source gave an empty token")
	}
	if err != nil {
		return secret.String{}, 0, fmt.Errorf("%w: %w", errNoToken, err)
	}
	if wait.Err() != nil && live.wait > 0 {
		ex.timedOut = true
	}
	return tok, gen, nil
}

// send sends one attempt of req with tok.
func (t *tokenTransport) send(req *http.Request, body *requestBody,
	tok secret.String) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+tok.Reveal())
	body.attach(out)
	return t.base.RoundTrip(out)
}

// requestBody is a request's body as sent: kept in memory when it fits
// MaxReplayBody, else streamed once.
type requestBody struct {
	kept   []byte
	stream io.ReadCloser
	length int64
}

// prepareBody reads up to MaxReplayBody of req's body. replayable says
// whether the whole body was read, so the request can be sent twice.
func prepareBody(req *http.Request) (*requestBody, bool, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return &requestBody{}, true, nil
	}
	if req.ContentLength > MaxReplayBody {
		return &requestBody{stream: req.Body, length: req.ContentLength}, false, nil
	}

	head, err := io.ReadAll(io.LimitReader(req.Body, MaxReplayBody+1))
	if err != nil {
		_ = req.Body.Close()
		return nil, false, fmt.Errorf("read request body: %w", err)
	}
	if len(head) <= MaxReplayBody {
		_ = req.Body.Close()
		if len(head) == 0 {
			return &requestBody{}, true, nil
		}
		return &requestBody{kept: head, length: int64(len(head))}, true, nil
	}
	stream := struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), req.Body), req.Body}
	return &requestBody{stream: stream, length: req.ContentLength}, false, nil
}

// attach gives out its body for one attempt.
func (b *requestBody) attach(out *http.Request) {
	switch {
	case b.stream != nil:
		out.Body, out.ContentLength, out.GetBody = b.stream, b.length, nil
	case b.kept == nil:
		out.Body, out.ContentLength, out.GetBody = nil, 0, nil
	default:
		out.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b.kept)), nil
		}
		out.Body, _ = out.GetBody()
		out.ContentLength = b.length
	}
}

// close closes a body that will not be sent.
func (b *requestBody) close() {
	if b.stream != nil {
		_ = b.stream.Close()
	}
}

// discard reads a little of an answer that will not be used and closes
// it, so its connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxDiscard)
	_ = resp.Body.Close()
}

// upstreamTransport is the HTTP transport to FIRST LINE: certificates
// verified against the system roots plus CAFile, and a bound on the wait
// for response headers.
func upstreamTransport(opts Options) (*http.Transport, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CAFile != "" {
		pool, err := fileutil.CertPool(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	transport.ResponseHeaderTimeout = opts.ResponseHeaderTimeout
	if transport.ResponseHeaderTimeout <= 0 {
		transport.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	transport.MaxIdleConnsPerHost = min(maxConnections(opts.Config), 64)
	return transport, nil
}
