package firstline

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// The API paths.
const (
	AuthPath   = "/api/v1/auth"
	LogoutPath = "/api/v1/auth/logout"
)

// Login obtains a new token with the account's name and password, living
// ttl (sent in whole minutes, rounded up; zero or less leaves the server's
// default of 60 minutes). The account's previous token dies as soon as the
// server acts, even if its answer is lost.
func (c *Client) Login(ctx context.Context, name, password secret.String,
	ttl time.Duration) (Token, error) {
	body := map[string]any{"name": name.Reveal(), "password": password.Reveal()}
	return c.obtain(ctx, call{op: OpLogIn, method: http.MethodPost, path: AuthPath,
		body: withTTL(body, ttl), secrets: []secret.String{name, password}})
}

// Refresh exchanges the current token, sent as Bearer, for a new one
// living ttl. The current token dies.
func (c *Client) Refresh(ctx context.Context, current secret.String,
	ttl time.Duration) (Token, error) {
	return c.obtain(ctx, call{op: OpRefresh, method: http.MethodPut, path: AuthPath,
		body: withTTL(map[string]any{}, ttl), bearer: current,
		secrets: []secret.String{current}})
}

// RefreshWithCredentials asks for a new token with the name and password
// in the body of a refresh request, as FIRST LINE's English page
// describes. The account's previous token dies.
func (c *Client) RefreshWithCredentials(ctx context.Context, name, password secret.String,
	ttl time.Duration) (Token, error) {
	body := map[string]any{"name": name.Reveal(), "password": password.Reveal()}
	return c.obtain(ctx, call{op: OpRefresh, method: http.MethodPut, path: AuthPath,
		body: withTTL(body, ttl), secrets: []secret.String{name, password}})
}

// Revoke logs the current token out, so that it stops working at once.
func (c *Client) Revoke(ctx context.Context, current secret.String) error {
	_, err := c.exchange(ctx, call{op: OpRevoke, method: http.MethodPut, path: LogoutPath,
		body: map[string]any{}, bearer: current, secrets: []secret.String{current}})
	return err
}

// Probe makes an authenticated GET of path (e.g. "/api/v1/tickets") and
// returns nil on any 2xx. A 401 means the token is dead: someone else got
// a newer one.
func (c *Client) Probe(ctx context.Context, token secret.String, path string) error {
	_, err := c.exchange(ctx, call{op: OpProbe, method: http.MethodGet, path: path,
		bearer: token, secrets: []secret.String{token}})
	return err
}

// obtain runs a log-in or refresh and reads the token from its answer.
func (c *Client) obtain(ctx context.Context, cl call) (Token, error) {
	a, err := c.exchange(ctx, cl)
	if err != nil {
		return Token{}, err
	}
	return c.tokenFrom(cl, a)
}

// exchange sends cl and turns any non-2xx answer into an *Error. A PUT
// goes as POST with _method=put when so configured, or when a real PUT
// is answered 405.
func (c *Client) exchange(ctx context.Context, cl call) (*answer, error) {
	if cl.method == http.MethodPut && c.putAsPost {
		cl = spoofPut(cl)
	}

	a, err := c.send(ctx, cl)
	if err == nil && cl.method == http.MethodPut && a.status == http.StatusMethodNotAllowed {
		c.log.Warn().Str("op", cl.op).Str("path", cl.path).
			Msg("the server refused PUT (405); retrying as POST with _method=put; " +
				"put_as_post: true in the config would avoid the extra request")
		a, err = c.send(ctx, spoofPut(cl))
	}
	if err != nil {
		return nil, err
	}

	if !a.ok() {
		return nil, c.statusError(cl, a)
	}
	return a, nil
}

// spoofPut turns a PUT into Laravel's method spoofing: a POST whose JSON
// body carries "_method": "put". Laravel reads _method from a JSON body as
// from a form, so no form encoding or query parameter is needed.
func spoofPut(cl call) call {
	body := maps.Clone(cl.body)
	if body == nil {
		body = map[string]any{}
	}
	body["_method"] = "put"
	cl.method, cl.body = http.MethodPost, body
	return cl
}

// withTTL adds ttl in whole minutes, rounded up, unless ttl is not
// positive.
func withTTL(body map[string]any, ttl time.Duration) map[string]any {
	if ttl <= 0 {
		return body
	}

	minutes := int64(ttl / time.Minute)
	if ttl%time.Minute != 0 {
		minutes++
	}
	body["ttl"] = minutes
	return body
}
