package rotator

import (
	"time"

	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Outcome is what one pass over an account did.
type Outcome string

// The outcomes of a pass.
const (
	// Rotated means a new token was obtained and journaled.
	Rotated Outcome = "rotated"
	// Completed means no log-in was needed: lagging sinks were brought up
	// to the journal's generation.
	Completed Outcome = "completed"
	// Skipped means the account was not due and every sink was current.
	Skipped Outcome = "skipped"
	// Failed means the pass ended with an error.
	Failed Outcome = "failed"
)

// Result describes one pass over one account.
type Result struct {
	Account     string
	Outcome     Outcome
	Generation  uint64
	Fingerprint string
	ExpiresAt   time.Time

	// Lagging names the sinks that do not hold Generation.
	Lagging []string
	// Exposure is the time from the API's answer until the last sink was
	// durable: the outage consumers of the old token see. Zero unless
	// every sink was written after a log-in.
	Exposure time.Duration
	// RetryAfter is the earliest time a new attempt makes sense, when the
	// failure says so (rate limit, login budget).
	RetryAfter time.Time
	Err        error
}

// Event is passed to Options.OnRotated after every successful rotation.
type Event struct {
	Account    string
	Generation uint64
	Token      secret.String
	Previous   secret.String
	ExpiresAt  time.Time
	Sinks      []string
	Exposure   time.Duration
}
