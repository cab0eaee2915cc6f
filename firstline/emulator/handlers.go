package emulator

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The paths the emulator serves.
const (
	AuthPath      = "/api/v1/auth"            // POST log in, PUT refresh
	LogoutPath    = "/api/v1/auth/logout"     // PUT or POST log out
	MePath        = "/api/v1/me"              // GET the token's account
	EmployeesPath = "/api/v1/admin/employees" // GET, admins only
	TicketsPath   = "/api/v1/tickets"         // GET, any valid token: a cheap probe
)

// authPath is the suffix of every token's iss.
const authPath = AuthPath

const (
	defaultTTLMinutes = 60
	maxTTLMinutes     = 1000 * 365 * 24 * 60
)

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	in := readInput(r)
	m := method(r, in)
	handle := func(w http.ResponseWriter) { e.route(r, in, m).write(w) }

	if f, ok := e.takeFault(r.Method, m, r.URL.Path); ok {
		e.applyFault(w, r, f, handle)
		return
	}
	handle(w)
}

// route answers a request by path and (spoofed) method.
func (e *Emulator) route(r *http.Request, in input, m string) reply {
	if r.Method == http.MethodPut && e.rejectsPut() {
		return notSupported(r, http.MethodPut, "POST")
	}

	switch path := r.URL.Path; {
	case path == AuthPath && m == http.MethodPost:
		return e.login(r, in)
	case path == AuthPath && m == http.MethodPut:
		return e.refresh(r, in)
	case path == AuthPath:
		return notSupported(r, m, "POST, PUT")
	case path == LogoutPath && (m == http.MethodPut || m == http.MethodPost):
		return e.logout(r, in)
	case path == LogoutPath:
		return notSupported(r, m, "PUT, POST")
	case path == MePath || path == EmployeesPath || path == TicketsPath:
		if m != http.MethodGet {
			return notSupported(r, m, "GET")
		}
		return e.authed(r, func(acc *account) reply { return e.resource(path, acc) })
	}
	return reply{status: http.StatusNotFound, body: message("The route " +
		strings.TrimPrefix(r.URL.Path, "/") + " could not be found.")}
}

func (e *Emulator) rejectsPut() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rejectPut
}

// login is POST /api/v1/auth with name, password and an optional ttl.
func (e *Emulator) login(r *http.Request, in input) reply {
	if missing := missingFields(in, "name", "password"); len(missing) > 0 {
		return validation(missing)
	}
	ttl, bad := ttlMinutes(in)
	if bad != nil {
		return *bad
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	acc := e.byCredentials(in)
	if acc == nil {
		return reply{status: http.StatusUnauthorized,
			body: map[string]string{"error": "Unauthorized"}}
	}
	rp := e.tokenReply(acc, ttl, e.requestIssuer(r))
	if rp.status == http.StatusOK {
		acc.stats.Logins++
	}
	return rp
}

// refresh is PUT /api/v1/auth with the current token, or else with name
// and password in the body.
func (e *Emulator) refresh(r *http.Request, in input) reply {
	ttl, bad := ttlMinutes(in)
	if bad != nil {
		return *bad
	}
	token := bearer(r)
	if token == "" && (in["name"] != "" || in["password"] != "") {
		if missing := missingFields(in, "name", "password"); len(missing) > 0 {
			return validation(missing)
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	acc := e.byCredentials(in)
	if token != "" {
		acc = e.tokenAccount(token)
	}
	if acc == nil {
		return unauthenticated()
	}
	rp := e.tokenReply(acc, ttl, e.requestIssuer(r))
	if rp.status == http.StatusOK {
		acc.stats.Refreshes++
	}
	return rp
}

// logout kills the presented token, or the current token of the account
// named with its password.
func (e *Emulator) logout(r *http.Request, in input) reply {
	e.mu.Lock()
	defer e.mu.Unlock()

	acc := e.byCredentials(in)
	if token := bearer(r); token != "" {
		acc = e.tokenAccount(token)
	}
	if acc == nil {
		return unauthenticated()
	}

	acc.currentJTI, acc.current = "", ""
	acc.stats.Revokes++
	return reply{status: http.StatusOK, body: message("Successfully logged out")}
}

// authed runs serve for the account owning the request's token.
func (e *Emulator) authed(r *http.Request, serve func(*account) reply) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	acc := e.tokenAccount(bearer(r))
	if acc == nil {
		return unauthenticated()
	}
	return serve(acc)
}

// resource answers the protected GET endpoints. The caller holds e.mu.
func (e *Emulator) resource(path string, acc *account) reply {
	switch path {
	case MePath:
		return reply{status: http.StatusOK, body: profile(acc.user)}
	case EmployeesPath:
		if acc.user.Role != RoleAdmin {
			return reply{status: http.StatusForbidden,
				body: message("This action is unauthorized.")}
		}
		return reply{status: http.StatusOK, body: map[string]any{"data": e.employees()}}
	}
	return reply{status: http.StatusOK, body: map[string]any{"data": []any{}, "total": 0}}
}

func (e *Emulator) employees() []map[string]any {
	list := make([]map[string]any, 0, len(e.accounts))
	for _, acc := range e.accounts {
		list = append(list, profile(acc.user))
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["id"].(int) < list[j]["id"].(int) })
	return list
}

func profile(u User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "role": string(u.Role)}
}

// tokenAccount returns the account owning a live token and counts the
// request as authorized. The caller holds e.mu.
func (e *Emulator) tokenAccount(token string) *account {
	if token == "" {
		return nil
	}
	acc := e.check(token, true)
	if acc != nil {
		acc.stats.Authorized++
	}
	return acc
}

// byCredentials returns the account matching name and password, or nil.
// The caller holds e.mu.
func (e *Emulator) byCredentials(in input) *account {
	acc := e.accounts[in["name"]]
	if acc == nil || in["password"] == "" || acc.user.Password != in["password"] {
		return nil
	}
	return acc
}

// tokenReply issues a token and answers it. The caller holds e.mu.
func (e *Emulator) tokenReply(acc *account, ttl int64, issuer string) reply {
	token, err := e.issue(acc, ttl, issuer)
	if err != nil {
		return reply{status: http.StatusInternalServerError, body: message("Server Error")}
	}
	return reply{status: http.StatusOK, body: map[string]any{
		"access_token": token, "token_type": "bearer", "expires_in": ttl * 60}}
}

// requestIssuer is the auth URL the request came to, or Options.Issuer.
// The caller holds e.mu.
func (e *Emulator) requestIssuer(r *http.Request) string {
	if e.issuer != "" {
		return e.issuer
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	e.lastIssuer = scheme + "://" + r.Host + authPath
	return e.lastIssuer
}

// ttlMinutes reads ttl (minutes, default 60) or says why it is refused.
func ttlMinutes(in input) (int64, *reply) {
	raw, ok := in["ttl"]
	if !ok || raw == "" {
		return defaultTTLMinutes, nil
	}

	ttl, err := strconv.ParseInt(raw, 10, 64)
	var problem string
	switch {
	case err != nil:
		problem = "The ttl field must be an integer."
	case ttl < 1:
		problem = "The ttl field must be at least 1."
	case ttl > maxTTLMinutes:
		problem = "The ttl field must not be greater than " + strconv.Itoa(maxTTLMinutes) + "."
	default:
		return ttl, nil
	}
	rp := validationReply(map[string][]string{"ttl": {problem}})
	return 0, &rp
}
