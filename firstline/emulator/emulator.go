// Package emulator is a FIRST LINE token API that runs in process: the
// same endpoints, the same rule that a new token kills the account's
// previous one, and faults injected on demand. Tests, the demo and the
// emulator command serve it over loopback.
package emulator

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Role is what an employee account may call.
type Role string

// The roles FIRST LINE knows.
const (
	RoleAgent Role = "agent"
	RoleAdmin Role = "admin"
)

// User is an employee account the emulator accepts.
type User struct {
	Name     string `yaml:"name" json:"name"`
	Password string `yaml:"password" json:"password"`
	Role     Role   `yaml:"role" json:"role"`
	ID       int    `yaml:"id" json:"id"`
}

// Options configures an Emulator.
type Options struct {
	// Users are the accounts; nil means DefaultUsers. A user without a
	// role is an agent; one without an ID gets the next free one. Names
	// must be unique: a later duplicate replaces the earlier user.
	Users []User
	// RejectPut answers every real PUT with 405, as FIRST LINE's front
	// door may; a POST with _method=put still works.
	RejectPut bool
	// Clock stamps and checks tokens; default time.Now.
	Clock func() time.Time
	// SigningKey signs tokens with HS256; random when nil.
	SigningKey []byte
	// Issuer is every token's iss; default the auth URL of the request.
	Issuer string
}

// Stats counts what happened to one account.
type Stats struct {
	Logins    int // successful log-ins through the API
	Refreshes int // successful refreshes
	Revokes   int // successful log-outs
	Issued    int // tokens issued by any means, LoginByHand included
	// SupersededUses counts requests presenting a token of this account
	// that a newer token had replaced.
	SupersededUses int
	// Authorized counts requests whose token was accepted.
	Authorized int
}

// Emulator is an in-process FIRST LINE API. It is safe for concurrent
// use.
type Emulator struct {
	clock  func() time.Time
	key    []byte
	issuer string

	mu         sync.Mutex
	accounts   map[string]*account // by name
	tokens     map[string]*issued  // by jti
	faults     []Fault
	rejectPut  bool
	lastIssuer string
}

// account is a user and its one live token.
type account struct {
	user       User
	currentJTI string // "" when the account has no live token
	current    string
	stats      Stats
	history    []issuedToken // oldest first, at most maxHistory
}

// maxHistory bounds the tokens remembered per account, so a long-running
// emulator does not grow without end. Older tokens are still refused,
// but no longer counted as superseded uses nor listed by IssuedTokens.
const maxHistory = 10000

// issuedToken is one entry of an account's history.
type issuedToken struct {
	jti, token string
}

// issued remembers whose a token was and why it died.
type issued struct {
	name       string
	superseded bool
}

// New builds an Emulator.
func New(opts Options) *Emulator {
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SigningKey == nil {
		opts.SigningKey = make([]byte, 32)
		_, _ = rand.Read(opts.SigningKey) // never fails: crypto/rand panics instead
	}

	e := &Emulator{
		clock:     opts.Clock,
		key:       opts.SigningKey,
		issuer:    opts.Issuer,
		accounts:  make(map[string]*account),
		tokens:    make(map[string]*issued),
		rejectPut: opts.RejectPut,
	}
	for _, u := range withIDs(opts.Users) {
		e.accounts[u.Name] = &account{user: u}
	}
	return e
}

// withIDs gives every user a role and an ID, numbering the ones without
// an ID after the highest given.
func withIDs(users []User) []User {
	out := make([]User, len(users))
	next := 0
	for _, u := range users {
		next = max(next, u.ID)
	}
	for i, u := range users {
		if u.Role == "" {
			u.Role = RoleAgent
		}
		if u.ID <= 0 {
			next++
			u.ID = next
		}
		out[i] = u
	}
	return out
}

// Handler serves the API.
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(e.serve)
}

// SetRejectPut turns answering real PUTs with 405 on or off.
func (e *Emulator) SetRejectPut(reject bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rejectPut = reject
}

// LoginByHand is the admin's "Generate" button: a new non-expiring token
// for the account, which kills its current token at once.
func (e *Emulator) LoginByHand(name string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()

	acc := e.accounts[name]
	if acc == nil {
		return "", fmt.Errorf("log in by hand: no user %q", name)
	}
	return e.issue(acc, 0, e.handIssuer())
}

// Valid reports whether token is the live, unexpired token of an account.
// It counts nothing.
func (e *Emulator) Valid(token string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.check(token, false) != nil
}

// Current returns the account's latest token (even if expired), or "" when
// it has none or it was revoked.
func (e *Emulator) Current(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if acc := e.accounts[name]; acc != nil {
		return acc.current
	}
	return ""
}

// IssuedTokens returns every token issued to the account, oldest first
// (the last maxHistory of them): for tests that check no token leaked.
func (e *Emulator) IssuedTokens(name string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()

	acc := e.accounts[name]
	if acc == nil {
		return nil
	}
	tokens := make([]string, len(acc.history))
	for i, h := range acc.history {
		tokens[i] = h.token
	}
	return tokens
}

// Stats returns the account's counters; zero for an unknown name.
func (e *Emulator) Stats(name string) Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	if acc := e.accounts[name]; acc != nil {
		return acc.stats
	}
	return Stats{}
}

// handIssuer is the iss for a token made outside any request.
func (e *Emulator) handIssuer() string {
	switch {
	case e.issuer != "":
		return e.issuer
	case e.lastIssuer != "":
		return e.lastIssuer
	}
	return "http://localhost" + authPath
}
