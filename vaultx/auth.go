package vaultx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/fileutil"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// defaultJWTFile is where Kubernetes mounts a pod's service-account token.
const defaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Kinds of secrets the redactor keeps apart.
const (
	kindToken    = "token"
	kindSecretID = "secret_id"
	kindWrapping = "wrapping_token"
	kindJWT      = "jwt"
)

// authenticator obtains a Vault token. login is given a client without a
// token and returns a secret whose Auth holds the token and its lease.
type authenticator interface {
	method() string
	login(ctx context.Context, bare func() (*api.Client, error)) (*api.Secret, error)
}

// newAuthenticator checks the auth block and builds its method.
func newAuthenticator(cfg config.VaultAuth, r *redactor) (authenticator, error) {
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = cfg.Method
	}

	switch cfg.Method {
	case "token":
		return &tokenAuth{file: cfg.TokenFile, redact: r}, nil
	case "approle":
		if cfg.RoleID == "" && cfg.RoleIDFile == "" {
			return nil, errors.New("configure vault.auth: approle needs role_id or role_id_file")
		}
		if cfg.SecretIDFile == "" {
			return nil, errors.New("configure vault.auth: approle needs secret_id_file")
		}
		return &appRoleAuth{cfg: cfg, mount: mount, redact: r}, nil
	case "kubernetes":
		if cfg.Role == "" {
			return nil, errors.New("configure vault.auth: kubernetes needs role")
		}
		return &kubernetesAuth{cfg: cfg, mount: mount, redact: r}, nil
	}
	return nil, fmt.Errorf("configure vault.auth: method %q is not one of token, approle, "+
		"kubernetes", cfg.Method)
}

// readSecretFile reads a file holding one secret value, trimming white
// space around it. An empty file is an error, so that a file still being
// provisioned is waited for.
func readSecretFile(path, key string) (secret.String, error) {
	data, err := fileutil.ReadRegular(path, fileutil.SecretLimit)
	if err != nil {
		return secret.String{}, fmt.Errorf("read vault.auth.%s: %w", key, err)
	}

	value := strings.TrimSpace(string(data))
	if value == "" {
		return secret.String{}, fmt.Errorf("read vault.auth.%s %s: the file is empty", key, path)
	}
	return secret.New(value), nil
}

// tokenAuth uses a token given by the operator: read from token_file at
// every login, or else from VAULT_TOKEN.
type tokenAuth struct {
	file   string
	redact *redactor
}

func (a *tokenAuth) method() string { return "token" }

func (a *tokenAuth) read() (secret.String, error) {
	if a.file != "" {
		return readSecretFile(a.file, "token_file")
	}

	value := strings.TrimSpace(os.Getenv(api.EnvVaultToken))
	if value == "" {
		return secret.String{}, errors.New("read vault token: set vault.auth.token_file " +
			"or VAULT_TOKEN")
	}
	return secret.New(value), nil
}

// login looks the token up to learn its remaining TTL and renewability.
func (a *tokenAuth) login(ctx context.Context, bare func() (*api.Client, error)) (
	*api.Secret, error,
) {
	token, err := a.read()
	if err != nil {
		return nil, err
	}
	a.redact.remember(kindToken, token)

	client, err := bare()
	if err != nil {
		return nil, err
	}
	client.SetToken(token.Reveal())

	self, err := client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, newError("look up token at", "auth/token/lookup-self", err, a.redact)
	}
	return tokenSecret(token, self)
}

// tokenSecret turns a lookup-self answer into a login-like secret.
func tokenSecret(token secret.String, self *api.Secret) (*api.Secret, error) {
	ttl, err := self.TokenTTL()
	if err != nil {
		return nil, fmt.Errorf("read token ttl from lookup-self: %w", err)
	}

	renewable, err := self.TokenIsRenewable()
	if err != nil {
		return nil, fmt.Errorf("read token renewable flag from lookup-self: %w", err)
	}

	auth := &api.SecretAuth{
		ClientToken:   token.Reveal(),
		Renewable:     renewable,
		LeaseDuration: int(ttl.Seconds()),
	}
	return &api.Secret{Auth: auth}, nil
}

// appRoleAuth logs in with a role ID and a secret ID. With wrapped, the
// secret ID file holds a response-wrapping token; it can be unwrapped only
// once, so the secret ID it yields is kept until the file changes.
type appRoleAuth struct {
	cfg    config.VaultAuth
	mount  string
	redact *redactor

	mu        sync.Mutex
	wrapToken secret.String
	unwrapped secret.String
}

func (a *appRoleAuth) method() string { return "approle" }

func (a *appRoleAuth) login(ctx context.Context, bare func() (*api.Client, error)) (
	*api.Secret, error,
) {
	roleID, err := a.roleID()
	if err != nil {
		return nil, err
	}

	secretID, err := a.secretID(ctx, bare)
	if err != nil {
		return nil, err
	}

	auth, err := approle.NewAppRoleAuth(roleID, &approle.SecretID{FromString: secretID.Reveal()},
		approle.WithMountPath(a.mount))
	if err != nil {
		return nil, fmt.Errorf("configure approle login: %w", err)
	}
	return loginWith(ctx, bare, auth.Login, "auth/"+a.mount+"/login", a.redact)
}

func (a *appRoleAuth) roleID() (string, error) {
	if a.cfg.RoleIDFile == "" {
		return a.cfg.RoleID, nil
	}

	id, err := readSecretFile(a.cfg.RoleIDFile, "role_id_file")
	if err != nil {
		return "", err
	}
	return id.Reveal(), nil
}

// secretID reads the secret ID file, unwrapping it when it holds a new
// wrapping token.
func (a *appRoleAuth) secretID(ctx context.Context, bare func() (*api.Client, error)) (
	secret.String, error,
) {
	raw, err := readSecretFile(a.cfg.SecretIDFile, "secret_id_file")
	if err != nil || !a.cfg.Wrapped {
		a.redact.remember(kindSecretID, raw)
		return raw, err
	}
	a.redact.remember(kindWrapping, raw)

	a.mu.Lock()
	defer a.mu.Unlock()

	if raw.Equal(a.wrapToken) && !a.unwrapped.Empty() {
		return a.unwrapped, nil
	}

	id, err := unwrapSecretID(ctx, bare, raw, a.cfg.SecretIDFile, a.redact)
	if err != nil {
		return secret.String{}, err
	}

	a.wrapToken, a.unwrapped = raw, id
	return id, nil
}

// unwrapSecretID exchanges a wrapping token for the secret ID it wraps.
func unwrapSecretID(ctx context.Context, bare func() (*api.Client, error),
	wrapToken secret.String, file string, r *redactor,
) (secret.String, error) {
	client, err := bare()
	if err != nil {
		return secret.String{}, err
	}

	wrapped, err := client.Logical().UnwrapWithContext(ctx, wrapToken.Reveal())
	if err != nil {
		op := "unwrap the wrapping token of secret_id_file " + file + " at"
		return secret.String{}, newError(op, "sys/wrapping/unwrap", err, r)
	}

	var id string
	if wrapped != nil {
		id, _ = wrapped.Data["secret_id"].(string)
	}
	if id == "" {
		return secret.String{}, fmt.Errorf("unwrap secret_id_file %s: the wrapped answer holds "+
			"no secret_id", file)
	}

	value := secret.New(id)
	r.remember(kindSecretID, value)
	return value, nil
}

// kubernetesAuth logs in with the pod's service-account JWT, read afresh
// at every login because Kubernetes rotates it.
type kubernetesAuth struct {
	cfg    config.VaultAuth
	mount  string
	redact *redactor
}

func (a *kubernetesAuth) method() string { return "kubernetes" }

func (a *kubernetesAuth) login(ctx context.Context, bare func() (*api.Client, error)) (
	*api.Secret, error,
) {
	file := a.cfg.JWTFile
	if file == "" {
		file = defaultJWTFile
	}

	jwt, err := readSecretFile(file, "jwt_file")
	if err != nil {
		return nil, err
	}
	a.redact.remember(kindJWT, jwt)

	auth, err := kubernetes.NewKubernetesAuth(a.cfg.Role,
		kubernetes.WithServiceAccountToken(jwt.Reveal()), kubernetes.WithMountPath(a.mount))
	if err != nil {
		return nil, fmt.Errorf("configure kubernetes login: %w", err)
	}
	return loginWith(ctx, bare, auth.Login, "auth/"+a.mount+"/login", a.redact)
}

// loginWith runs a login method of the library on a client without token
// and checks that the answer carries a token.
func loginWith(ctx context.Context, bare func() (*api.Client, error),
	login func(context.Context, *api.Client) (*api.Secret, error), path string, r *redactor,
) (*api.Secret, error) {
	client, err := bare()
	if err != nil {
		return nil, err
	}

	answer, err := login(ctx, client)
	if err != nil {
		return nil, newError("log in at", path, err, r)
	}
	if answer == nil || answer.Auth == nil || answer.Auth.ClientToken == "" {
		return nil, fmt.Errorf("log in at %s: vault's answer holds no token", path)
	}
	return answer, nil
}
