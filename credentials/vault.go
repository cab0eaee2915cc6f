package credentials

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/secret"
	"github.com/firstline-rotator/firstline-rotator/vaultx"
)

// Defaults of a vault credentials block.
const (
	defaultVaultMount       = "secret"
	defaultVaultNameKey     = "name"
	defaultVaultPasswordKey = "password"
)

// VaultSource reads the name and password from two keys of a Vault KV
// secret, afresh at every Load.
type VaultSource struct {
	client *vaultx.Client
	cfg    config.VaultCredentials
}

var _ Source = (*VaultSource)(nil)

// NewVaultSource returns a Source reading cfg's secret with client. Empty
// mount, name_key and password_key take their defaults (secret, name,
// password); kv_version 0 detects the engine version.
func NewVaultSource(client *vaultx.Client, cfg config.VaultCredentials) Source {
	if cfg.Mount == "" {
		cfg.Mount = defaultVaultMount
	}
	if cfg.NameKey == "" {
		cfg.NameKey = defaultVaultNameKey
	}
	if cfg.PasswordKey == "" {
		cfg.PasswordKey = defaultVaultPasswordKey
	}
	return &VaultSource{client: client, cfg: cfg}
}

// Load reads the secret now. Errors name the secret, the key and Vault's
// HTTP status, never a value.
func (s *VaultSource) Load(ctx context.Context) (Credentials, error) {
	data, err := s.client.ReadKV(ctx, s.cfg.Mount, s.cfg.Path, s.cfg.KVVersion)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}

	name, err := s.field(data, s.cfg.NameKey, "name_key")
	if err != nil {
		return Credentials{}, err
	}

	password, err := s.field(data, s.cfg.PasswordKey, "password_key")
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Name: name, Password: password}, nil
}

// Describe names the Vault secret.
func (s *VaultSource) Describe() string {
	return "vault " + s.cfg.Mount + "/" + s.cfg.Path
}

// field returns one key of the secret as a non-empty string. option is
// the config key that names it, for the error message.
func (s *VaultSource) field(data map[string]any, key, option string) (secret.String, error) {
	where := fmt.Sprintf("read credentials from %s: key %q (%s)", s.Describe(), key, option)

	raw, ok := data[key]
	if !ok {
		return secret.String{}, fmt.Errorf("%s is missing from the secret; add it or set "+
			"credentials.vault.%s", where, option)
	}

	value, ok := raw.(string)
	if !ok {
		return secret.String{}, fmt.Errorf("%s holds a %s, not a string", where, jsonKind(raw))
	}
	if value == "" {
		return secret.String{}, fmt.Errorf("%s %w", where, ErrEmpty)
	}
	return secret.New(value), nil
}

// jsonKind names the JSON type of a decoded value without showing it.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case json.Number, float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
