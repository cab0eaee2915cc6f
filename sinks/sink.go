// Package sinks delivers a rotated token to the places its consumers read
// it. Every sink type implements Sink and registers a Factory under its
// YAML type: here "file" and "envfile"; New builds a sink from a validated
// config.Sink.
package sinks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// Token is what a sink delivers.
type Token struct {
	Account    string
	Value      secret.String
	ExpiresAt  time.Time
	IssuedAt   time.Time
	Generation uint64
}

// Sink delivers tokens to one place.
type Sink interface {
	// Name identifies the sink in logs, metrics and state (config.Sink.Name,
	// e.g. "file:/etc/app/token"). It never changes.
	Name() string

	// Write delivers tok. It is idempotent, and on error the place keeps its
	// previous content. When ctx is done before the place is touched, Write
	// returns an error wrapping ctx.Err(). Errors name the sink and never
	// contain the token. Write may be called from several goroutines.
	Write(ctx context.Context, tok Token) error
}

// LeftoverRemover is implemented by sinks that can leave temporary files
// behind when the process is killed mid-write. The rotator calls it while
// it holds the account's lock, so no write of the sink is in flight.
type LeftoverRemover interface {
	RemoveLeftovers() error
}

// Preflighter is implemented by sinks that can tell, without writing,
// whether a write would fail. The rotator asks before logging in, since a
// log-in kills the token the sink's consumers hold.
type Preflighter interface {
	Preflight() error
}

// Verifier is implemented by sinks that can tell whether they still hold
// a token, so that a file deleted or overwritten outside the rotator is
// written again from the journal.
type Verifier interface {
	Holds(tok Token) (bool, error)
}

// Deps carries what some sink types need beyond their configuration.
type Deps struct {
	Logger zerolog.Logger
	Vault  *vaultx.Client // the rotator's Vault client; nil without a vault block
}

// Factory builds a sink from its validated configuration.
type Factory func(spec config.Sink, deps Deps) (Sink, error)

var registry = struct {
	sync.RWMutex
	factories map[string]Factory
}{factories: make(map[string]Factory)}

// Register makes a sink type available to New under typ, the YAML type:
// value. It panics when typ is empty, f is nil or typ is already taken,
// since each of those is a programming error.
func Register(typ string, f Factory) {
	registry.Lock()
	defer registry.Unlock()

	if typ == "" || f == nil {
		panic("sinks: Register needs a type name and a factory")
	}
	if _, taken := registry.factories[typ]; taken {
		panic(fmt.Sprintf("sinks: type %q registered twice", typ))
	}
	registry.factories[typ] = f
}

// New builds the sink spec describes with the factory registered for its
// type. An unknown type is an error naming it and the known ones.
func New(spec config.Sink, deps Deps) (Sink, error) {
	registry.RLock()
	f, ok := registry.factories[spec.Type]
	registry.RUnlock()

	if !ok {
		return nil, fmt.Errorf("sink %s: unknown type %q; use one of %s",
			nameOf(spec), spec.Type, strings.Join(Types(), ", "))
	}
	return f(spec, deps)
}

// Types returns the registered sink types in alphabetical order.
func Types() []string {
	registry.RLock()
	defer registry.RUnlock()

	types := make([]string, 0, len(registry.factories))
	for typ := range registry.factories {
		types = append(types, typ)
	}
	sort.Strings(types)
	return types
}

// nameOf returns the sink's configured name, or "type:path" when it has
// none.
func nameOf(spec config.Sink) string {
	if spec.Name != "" {
		return spec.Name
	}
	return spec.Type + ":" + spec.Path
}
