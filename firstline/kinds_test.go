package firstline_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/firstline-rotator/firstline-rotator/firstline"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// kindCase is one way a request can fail and the *Error it must give.
type kindCase struct {
	name       string
	run        func(t *testing.T) error
	kind       firstline.Kind
	status     int
	message    string
	fields     []string
	retryAfter time.Duration
	retryable  bool
	changed    bool // TokenMayHaveChanged
}

// loginWithFault logs in against an emulator holding fault f.
func loginWithFault(f emulator.Fault, edit ...func(*firstline.Options)) func(*testing.T) error {
	return func(t *testing.T) error {
		e, srv := emu(t, emulator.Options{})
		e.Inject(f)
		_, err := client(t, srv.URL, edit...).Login(t.Context(), agentName, agentPassword,
			time.Hour)
		return err
	}
}

// loginRaw logs in against a hand-written server.
func loginRaw(h http.HandlerFunc) func(*testing.T) error {
	return func(t *testing.T) error {
		srv := raw(t, h)
		_, err := client(t, srv.URL, func(o *firstline.Options) { o.Clock = fixedClock }).
			Login(t.Context(), agentName, agentPassword, time.Hour)
		return err
	}
}

// answer writes a fixed answer.
func answer(status int, contentType, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// probeAs logs in as name and probes path.
func probeAs(name, password secret.String, path string) func(*testing.T) error {
	return func(t *testing.T) error {
		_, srv := emu(t, emulator.Options{})
		c := client(t, srv.URL)
		tok, err := c.Login(t.Context(), name, password, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c.Probe(t.Context(), tok.Value, path)
	}
}

func statusCases() []kindCase {
	return []kindCase{
		{name: "401 bad credentials", run: func(t *testing.T) error {
			_, srv := emu(t, emulator.Options{})
			_, err := client(t, srv.URL).Login(t.Context(), agentName, secret.New("wrong"),
				time.Hour)
			return err
		}, kind: firstline.KindBadCredentials, status: 401, message: "Unauthorized"},
		{name: "401 dead token", run: func(t *testing.T) error {
			_, srv := emu(t, emulator.Options{})
			c := client(t, srv.URL)
			old := login(t, c)
			login(t, c)
			return c.Probe(t.Context(), old.Value, emulator.TicketsPath)
		}, kind: firstline.KindBadCredentials, status: 401, message: "Unauthenticated."},
		{name: "403 agent on admin path", run: probeAs(agentName, agentPassword,
			emulator.EmployeesPath), kind: firstline.KindForbidden, status: 403,
			message: "This action is unauthorized."},
		{name: "404", run: probeAs(agentName, agentPassword, "/api/v1/nope"),
			kind: firstline.KindNotFound, status: 404,
			message: "The route api/v1/nope could not be found."},
		{name: "405 on GET", run: probeAs(agentName, agentPassword, emulator.AuthPath),
			kind: firstline.KindMethodNotAllowed, status: 405, message: "The GET method is " +
				"not supported for route api/v1/auth. Supported methods: POST, PUT."},
		{name: "405 after the POST fallback", run: loginThenRefreshWithFault(
			emulator.Fault{Path: emulator.AuthPath, Status: 405, Times: 2}),
			kind: firstline.KindMethodNotAllowed, status: 405, message: "Method Not Allowed"},
		{name: "422 names the fields", run: func(t *testing.T) error {
			_, srv := emu(t, emulator.Options{})
			_, err := client(t, srv.URL).Login(t.Context(), secret.New(""), secret.New(""),
				time.Hour)
			return err
		}, kind: firstline.KindValidation, status: 422,
			message: "The name field is required. (and 1 more error)",
			fields:  []string{"name", "password"}},
		{name: "400", run: loginWithFault(emulator.Fault{Status: 400,
			Body: `{"message":"Bad request.","errors":{"ttl":["too long"]}}`}),
			kind: firstline.KindValidation, status: 400, message: "Bad request.",
			fields: []string{"ttl"}},
		{name: "410", run: loginWithFault(emulator.Fault{Status: 410}),
			kind: firstline.KindOther, status: 410, message: "Gone"},
	}
}

// loginThenRefreshWithFault logs in, injects f, and refreshes.
func loginThenRefreshWithFault(f emulator.Fault) func(*testing.T) error {
	return func(t *testing.T) error {
		e, srv := emu(t, emulator.Options{})
		c := client(t, srv.URL)
		tok := login(t, c)
		e.Inject(f)
		_, err := c.Refresh(t.Context(), tok.Value, time.Hour)
		return err
	}
}

func retryCases() []kindCase {
	date := epoch.Add(2 * time.Minute).Format(http.TimeFormat)
	return []kindCase{
		{name: "429 Retry-After seconds", run: loginWithFault(emulator.Fault{Status: 429,
			Body: `{"message":"Too Many Attempts."}`, RetryAfter: 30 * time.Second}),
			kind: firstline.KindRateLimited, status: 429, message: "Too Many Attempts.",
			retryAfter: 30 * time.Second, retryable: true},
		{name: "429 Retry-After date", run: loginRaw(answer(429, "application/json",
			`{"message":"Too Many Attempts."}`, "Retry-After", date)),
			kind: firstline.KindRateLimited, status: 429, message: "Too Many Attempts.",
			retryAfter: 2 * time.Minute, retryable: true},
		{name: "500", run: loginWithFault(emulator.Fault{Status: 500}),
			kind: firstline.KindServer, status: 500, message: "Internal Server Error",
			retryable: true},
		{name: "503 maintenance", run: loginWithFault(emulator.Fault{Status: 503,
			RetryAfter: time.Minute}), kind: firstline.KindServer, status: 503,
			message: "Service Unavailable", retryAfter: time.Minute, retryable: true},
		{name: "502 HTML from a proxy", run: loginWithFault(emulator.Fault{HTML: true,
			Status: 502}), kind: firstline.KindServer, status: 502,
			message: "an HTML page (status 502)", retryable: true},
		{name: "refused dial", run: func(t *testing.T) error {
			_, err := client(t, "http://"+closedPort(t)).Login(t.Context(), agentName,
				agentPassword, time.Hour)
			return err
		}, kind: firstline.KindTransport, retryable: true},
		{name: "canceled before sending", run: func(t *testing.T) error {
			_, srv := emu(t, emulator.Options{})
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := client(t, srv.URL).Login(ctx, agentName, agentPassword, time.Hour)
			return err
		}, kind: firstline.KindTransport, message: "canceled before the request was sent",
			retryable: true},
		{name: "limiter refuses", run: func(t *testing.T) error {
			e, srv := emu(t, emulator.Options{})
			_, err := client(t, srv.URL, func(o *firstline.Options) {
				o.Limiter = rate.NewLimiter(0, 0)
			}).Login(t.Context(), agentName, agentPassword, time.Hour)
			if st := e.Stats(agentName.Reveal()); st.Issued != 0 {
				t.Error("the request was sent despite the limiter")
			}
			return err
		}, kind: firstline.KindTransport, message: "wait for the rate limiter", retryable: true},
		{name: "answer after the timeout", run: loginWithFault(
			emulator.Fault{Delay: time.Hour}, withTimeout(100*time.Millisecond)),
			kind: firstline.KindAmbiguous, retryable: true, changed: true},
		{name: "connection dropped after issue",
			run:  loginWithFault(emulator.Fault{DropAfterIssue: true}),
			kind: firstline.KindAmbiguous, retryable: true, changed: true},
		{name: "body cut short", run: loginRaw(cutBody),
			kind: firstline.KindAmbiguous, status: 200, message: "the answer was cut short",
			retryable: true, changed: true},
	}
}

// cutBody promises 200 bytes, sends 20 and hangs up.
func cutBody(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "200")
	w.WriteHeader(200)
	_, _ = w.Write([]byte(`{"access_token":"eyJ`))
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func badResponseCases(t *testing.T) []kindCase {
	noExp := signJWT(t, jwt.MapClaims{"sub": "1"})
	tokenAnswer := func(body string) func(*testing.T) error {
		return loginRaw(answer(200, "application/json", body))
	}
	bad := func(name string, run func(*testing.T) error, status int, message string) kindCase {
		return kindCase{name: name, run: run, kind: firstline.KindBadResponse,
			status: status, message: message, changed: status == 200}
	}
	return []kindCase{
		bad("HTML page", loginWithFault(emulator.Fault{HTML: true}), 200,
			"an HTML page (status 200)"),
		bad("no access_token", loginWithFault(emulator.Fault{NoToken: true}), 200,
			"no access_token in the answer"),
		bad("empty body", loginRaw(answer(200, "application/json", "")), 200, "an empty body"),
		bad("not JSON", loginRaw(answer(200, "text/plain", "OK")), 200, "a non-JSON body"),
		bad("blank token", tokenAnswer(`{"access_token":"  ","expires_in":60}`), 200,
			"no access_token in the answer"),
		bad("token not a JWT", tokenAnswer(`{"access_token":"abc.def","expires_in":60}`),
			200, "the access_token is not a JWT"),
		bad("no expiry at all", tokenAnswer(`{"access_token":"`+noExp+`","expires_in":0}`),
			200, "no usable expires_in and no exp in the token"),
		bad("larger than 1 MiB", tokenAnswer(`{"pad":"`+strings.Repeat("x", 1<<20)+`"}`),
			200, "an answer larger than 1 MiB"),
		bad("redirect", loginRaw(answer(302, "", "", "Location", "/login")), 302,
			"unexpected redirect"),
	}
}

func TestClient_ErrorKinds(t *testing.T) {
	cases := append(append(statusCases(), retryCases()...), badResponseCases(t)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			t.Log(err)
			var fe *firstline.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want *firstline.Error", err, err)
			}
			if fe.Kind != tc.kind || fe.Status != tc.status {
				t.Fatalf("%v: kind %v status %d, want %v %d", err, fe.Kind, fe.Status,
					tc.kind, tc.status)
			}
			if tc.message != "" && fe.Message != tc.message {
				t.Errorf("message %q, want %q", fe.Message, tc.message)
			}
			if !slices.Equal(fe.Fields, tc.fields) || fe.RetryAfter != tc.retryAfter {
				t.Errorf("fields %v retry after %v, want %v %v", fe.Fields, fe.RetryAfter,
					tc.fields, tc.retryAfter)
			}
			if firstline.Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, want %v", !tc.retryable, tc.retryable)
			}
			if firstline.TokenMayHaveChanged(err) != tc.changed {
				t.Errorf("TokenMayHaveChanged = %v, want %v", !tc.changed, tc.changed)
			}
		})
	}
}
