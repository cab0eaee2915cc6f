package firstline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// maxLifetime caps expires_in: a "long-term" token of 100 years must not
// overflow a time.Duration.
const maxLifetime = 200 * 365 * 24 * time.Hour

// Token is a FIRST LINE API token and the window in which it works.
type Token struct {
	Value secret.String
	// ExpiresAt is the earlier of arrival + expires_in and the JWT's exp.
	ExpiresAt time.Time
	// IssuedAt is when the answer arrived, by the client's clock.
	IssuedAt time.Time
}

// Lifetime returns how long the token lives from its arrival.
func (t Token) Lifetime() time.Duration {
	return t.ExpiresAt.Sub(t.IssuedAt)
}

// tokenBody is the token answer: access_token, token_type, expires_in.
type tokenBody struct {
	AccessToken json.RawMessage `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// tokenFrom reads the token out of a 2xx answer. Anything short of a JWT
// with a known expiry is an error, so an empty token never reaches a sink.
func (c *Client) tokenFrom(cl call, a *answer) (Token, error) {
	bad := func(message string) error {
		return &Error{Op: cl.op, Kind: KindBadResponse, Status: a.status,
			Message: message, byToken: !cl.bearer.Empty()}
	}

	switch {
	case a.readErr != nil:
		return Token{}, &Error{Op: cl.op, Kind: KindAmbiguous, Status: a.status,
			Message: "the answer was cut short", Err: a.readErr, byToken: !cl.bearer.Empty()}
	case a.tooBig:
		return Token{}, bad("an answer larger than 1 MiB")
	case isHTML(a):
		return Token{}, bad(fmt.Sprintf("an HTML page (status %d)", a.status))
	case len(bytes.TrimSpace(a.body)) == 0:
		return Token{}, bad("an empty body")
	}

	var tb tokenBody
	if err := json.Unmarshal(a.body, &tb); err != nil {
		return Token{}, bad("a non-JSON body")
	}
	value := jsonString(tb.AccessToken)
	if strings.TrimSpace(value) == "" {
		return Token{}, bad("no access_token in the answer")
	}

	exp, problem := jwtExpiry(value)
	if problem != "" {
		return Token{}, bad(problem)
	}
	expiresAt, problem := expiry(a.arrived, tb.ExpiresIn, exp)
	if problem != "" {
		return Token{}, bad(problem)
	}
	return Token{Value: secret.New(value), ExpiresAt: expiresAt, IssuedAt: a.arrived}, nil
}

// jwtExpiry reads the exp claim without verifying the signature; the
// rotator never holds the signing key. A zero time means no exp.
func jwtExpiry(value string) (time.Time, string) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(value, claims); err != nil {
		return time.Time{}, "the access_token is not a JWT"
	}

	exp, err := claims.GetExpirationTime()
	if err != nil {
		return time.Time{}, "the token's exp claim is not a number"
	}
	if exp == nil {
		return time.Time{}, ""
	}
	return exp.Time, ""
}

// expiry trusts the earlier of arrived + expires_in and exp.
func expiry(arrived time.Time, expiresIn json.RawMessage, exp time.Time) (time.Time, string) {
	secs, hasSecs := seconds(expiresIn)
	if !hasSecs && exp.IsZero() {
		return time.Time{}, "no usable expires_in and no exp in the token"
	}

	var at time.Time
	if hasSecs {
		at = arrived.Add(min(time.Duration(secs*float64(time.Second)), maxLifetime))
	}
	if !exp.IsZero() && (at.IsZero() || exp.Before(at)) {
		at = exp
	}

	if !at.After(arrived) {
		return time.Time{}, "the token had expired when it arrived; check both clocks"
	}
	return at, ""
}

// seconds reads a positive expires_in given as a number or a numeric
// string.
func seconds(raw json.RawMessage) (float64, bool) {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n = json.Number(strings.TrimSpace(s))
	}

	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || !(f > 0) { // also refuses NaN
		return 0, false
	}
	return min(f, maxLifetime.Seconds()), true
}
