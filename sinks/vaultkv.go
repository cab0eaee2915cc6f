package sinks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

func init() {
	Register("vault_kv", func(spec config.Sink, deps Deps) (Sink, error) {
		return NewVaultKV(spec, deps)
	})
}

// Defaults of a vault_kv sink.
const (
	defaultVaultKVMount = "secret"
	defaultVaultKVKey   = "token"
)

// VaultKVSink writes the token into a Vault KV secret, keeping the
// secret's other keys. Next to the token key it sets expires_at (RFC 3339,
// UTC) and account; on KV v2 it also sets the custom metadata fingerprint,
// rotated_at and generation, and every write is a check-and-set retried on
// conflict (see vaultx.Client.MergeKV).
type VaultKVSink struct {
	name    string
	mount   string
	path    string
	key     string
	version int
	vault   *vaultx.Client
	log     zerolog.Logger

	// mu serialises this sink's writes, so that they never conflict with
	// each other; check-and-set guards against other writers.
	mu sync.Mutex
}

var _ Sink = (*VaultKVSink)(nil)

// NewVaultKV builds a vault_kv sink from its validated configuration:
// mount (default secret), path, key (default token) and kv_version (0
// detects). It needs deps.Vault.
func NewVaultKV(spec config.Sink, deps Deps) (*VaultKVSink, error) {
	name := nameOf(spec)
	if deps.Vault == nil {
		return nil, fmt.Errorf("sink %s: type vault_kv needs the top-level vault block", name)
	}
	if spec.Path == "" {
		return nil, fmt.Errorf("sink %s: path is required: the secret's path under the mount",
			name)
	}

	s := &VaultKVSink{
		name:    name,
		mount:   spec.Mount,
		path:    spec.Path,
		key:     spec.Key,
		version: spec.KVVersion,
		vault:   deps.Vault,
		log:     deps.Logger.With().Str("component", "sink").Str("sink", name).Logger(),
	}
	if s.mount == "" {
		s.mount = defaultVaultKVMount
	}
	if s.key == "" {
		s.key = defaultVaultKVKey
	}
	return s, nil
}

// Name returns the sink's name, by default "vault_kv:" and the path.
func (s *VaultKVSink) Name() string {
	return s.name
}

// Write merges the token into the secret.
func (s *VaultKVSink) Write(ctx context.Context, tok Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write sink %s: %w", s.name, err)
	}
	if !utf8.ValidString(tok.Value.Reveal()) {
		return fmt.Errorf("write sink %s: the token is not valid UTF-8, which a Vault "+
			"secret cannot hold", s.name)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	version, err := s.vault.MergeKV(ctx, s.mount, s.path, s.version, s.data(tok), s.custom(tok))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return fmt.Errorf("write sink %s: %w", s.name, err)
	}

	s.log.Debug().Uint64("generation", tok.Generation).Str("fingerprint",
		tok.Value.Fingerprint()).Int("version", version).Msg("wrote token to vault")
	return nil
}

// data is what the sink sets in the secret.
func (s *VaultKVSink) data(tok Token) map[string]any {
	data := map[string]any{
		s.key:     tok.Value.Reveal(),
		"account": tok.Account,
	}
	if !tok.ExpiresAt.IsZero() {
		data["expires_at"] = tok.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return data
}

// custom is the custom metadata the sink sets on KV v2.
func (s *VaultKVSink) custom(tok Token) map[string]string {
	rotatedAt := tok.IssuedAt
	if rotatedAt.IsZero() {
		rotatedAt = time.Now()
	}

	return map[string]string{
		"fingerprint": tok.Value.Fingerprint(),
		"rotated_at":  rotatedAt.UTC().Format(time.RFC3339),
		"generation":  strconv.FormatUint(tok.Generation, 10),
	}
}
