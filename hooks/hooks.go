// Package hooks tells consumers that a new token is in place: by running a
// command, signalling a process or a systemd unit, or calling a webhook. A
// hook runs once every sink of an account holds a new generation; its
// failure is reported but never undoes a delivery.
package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// Event is what a hook learns about a new token.
type Event struct {
	Account    string
	Generation uint64
	Token      secret.String
	ExpiresAt  time.Time
}

// Hook is one configured hook.
type Hook interface {
	// Name identifies the hook in logs and metrics, without secrets.
	Name() string
	// Run notifies the consumer; it returns when done or ctx ends.
	Run(ctx context.Context, ev Event) error
}

// New builds a hook from its validated configuration.
func New(spec config.Hook, log zerolog.Logger) (Hook, error) {
	switch spec.Type {
	case "exec":
		return newExec(spec), nil
	case "signal":
		return newSignal(spec)
	case "webhook":
		return newWebhook(spec, log)
	}
	return nil, fmt.Errorf("set up hook: unknown type %q (want exec, signal or webhook)",
		spec.Type)
}

// redact returns text a hook printed, or a notice in its place when it
// holds any piece of the token, so that it can go into an error safely.
func redact(text string, token secret.String) string {
	if secret.Quotes(text, token) {
		return "[output withheld: it contains part of the token]"
	}
	return text
}
