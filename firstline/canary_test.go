package firstline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// canary collects the secrets a test used and the text the client
// produced, and checks that no secret leaked into that text.
type canary struct {
	secrets []string
	texts   []string
}

func (c *canary) secret(value string) secret.String {
	c.secrets = append(c.secrets, value)
	return secret.New(value)
}

func (c *canary) token(tok firstline.Token) firstline.Token {
	c.secrets = append(c.secrets, tok.Value.Reveal())
	return tok
}

func (c *canary) err(err error) {
	if err != nil {
		c.texts = append(c.texts, err.Error())
	}
}

// check fails the test if any 8-character piece of a secret (or a
// shorter secret whole) appears in any collected text.
func (c *canary) check(t *testing.T) {
	t.Helper()
	all := strings.Join(c.texts, "\n")
	for _, s := range c.secrets {
		if s == "" {
			continue
		}
		n := min(8, len(s))
		for i := 0; i+n <= len(s); i++ {
			if strings.Contains(all, s[i:i+n]) {
				t.Fatalf("a piece of a secret (%q at %d) leaked into:\n%s",
					secret.Fingerprint(s), i, all)
			}
		}
	}
}

// TestClient_NoSecretInLogsOrErrors runs success and failure paths at debug
// level, with servers that echo secrets back, and checks that neither
// password, name nor token shows up in the log or any error.
func TestClient_NoSecretInLogsOrErrors(t *testing.T) {
	var cn canary
	name := cn.secret("cnry-9XqT-bot-77Lp")
	password := cn.secret("Pw-Canary-7hQ2!vX9-long")
	wrong := cn.secret("Wrong-Canary-3kZ8")
	e, srv := emu(t, emulator.Options{Users: []emulator.User{
		{Name: name.Reveal(), Password: password.Reveal(), Role: emulator.RoleAgent}}})
	var logs testutil.Buffer
	c := client(t, srv.URL, logTo(&logs), withTimeout(2*time.Second))
	ctx := t.Context()

	first, err := c.Login(ctx, name, password, time.Hour)
	cn.err(err)
	cn.token(first)
	cn.err(c.Probe(ctx, first.Value, emulator.MePath))
	second, err := c.Refresh(ctx, first.Value, time.Hour)
	cn.err(err)
	cn.token(second)
	cn.err(c.Probe(ctx, first.Value, emulator.MePath)) // 401: superseded
	_, err = c.Login(ctx, name, wrong, time.Hour)
	cn.err(err)

	echoes(t, &cn, e, c, name, password, second)

	fresh, err := c.Login(ctx, name, password, time.Hour)
	cn.err(err)
	cn.token(fresh)
	e.SetRejectPut(true)
	third, err := c.Refresh(ctx, fresh.Value, time.Hour) // 405, then POST
	cn.err(err)
	cn.token(third)
	cn.err(c.Revoke(ctx, third.Value))
	cn.err(c.Revoke(ctx, third.Value)) // 401: already revoked
	cn.secrets = append(cn.secrets, e.Current(name.Reveal()))

	// Make sure the test looked at real output, then at every secret.
	out := logs.String()
	if len(cn.texts) < 10 || !strings.Contains(out, `"component":"firstline"`) ||
		!strings.Contains(out, first.Value.Fingerprint()) ||
		!strings.Contains(out, "put_as_post") {
		t.Fatalf("too little output to judge: %d errors, log:\n%s", len(cn.texts), out)
	}
	cn.texts = append(cn.texts, out)
	cn.check(t)
}

// echoes makes the server answer with bodies that quote the secrets, and
// with every fault, collecting the errors.
func echoes(t *testing.T, cn *canary, e *emulator.Emulator, c *firstline.Client,
	name, password secret.String, current firstline.Token) {
	t.Helper()
	ctx := t.Context()
	tok := current.Value.Reveal()
	faults := []emulator.Fault{
		{Status: 422, Body: `{"message":"The password ` + password.Reveal() + ` is wrong",` +
			`"errors":{"` + password.Reveal()[:12] + `":["bad"],` +
			`"name":["` + name.Reveal() + `"]}}`},
		{Status: 401, Body: `{"error":"unknown user ` + name.Reveal()[3:14] + `"}`},
		{Status: 500, Body: `{"message":"the token ` + tok + ` is broken"}`},
		{Status: 502, Body: "<html>" + password.Reveal() + "</html>"},
		{Status: 429, RetryAfter: time.Minute},
		{HTML: true},
		{NoToken: true},
		{Status: 200, Body: `{"access_token":"` + tok + `x","expires_in":60}`},
	}
	for _, f := range faults {
		e.Inject(f)
		_, err := c.Login(ctx, name, password, time.Hour)
		cn.err(err)
		e.Inject(f)
		cn.err(c.Probe(ctx, current.Value, emulator.MePath))
	}

	// Only a request carrying the token can be checked for pieces of it.
	e.Inject(emulator.Fault{Status: 500,
		Body: `{"message":"the token ` + tok[len(tok)-12:] + ` is broken"}`})
	cn.err(c.Probe(ctx, current.Value, emulator.MePath))

	e.Inject(emulator.Fault{DropAfterIssue: true})
	_, err := c.Login(ctx, name, password, time.Hour)
	cn.err(err)
	cn.secrets = append(cn.secrets, e.Current(name.Reveal()))
}
