// Package vaulttest runs a test-only HashiCorp Vault server: Vault's own KV
// secrets engine (vault-plugin-secrets-kv on vault/sdk in-memory storage)
// behind an HTTP layer that answers with Vault's envelopes and status codes,
// plus token auth with path ACLs, AppRole and Kubernetes logins, response
// wrapping of AppRole secret IDs, a sealed mode and fault injection.
//
// Only _test.go files may import it (TestNotImportedByShippedCode checks
// the module), so shipped binaries never contain the KV engine or vault/sdk.
//
// # Endpoints under /v1/
//
//   - sys/health (GET, HEAD; activecode and sealedcode parameters) and
//     sys/seal-status: no token, answered even when sealed.
//   - sys/internal/ui/mounts/<path>: a KV mount's type, path ("secret/") and
//     options.version ("1" or "2"), which `vault kv` reads to pick the API.
//   - sys/mounts (GET) and sys/mounts/<path> (GET; POST enables kv/kv-v2).
//   - auth/token/lookup-self, renew-self, revoke-self and create.
//   - auth/approle/login, auth/kubernetes/login (and MountAuth paths).
//   - sys/wrapping/unwrap, for tokens from WrapSecretID.
//   - every path under a KV mount, forwarded to the KV engine: data/,
//     metadata/, config, delete/, undelete/, destroy/, subkeys/ on KV v2;
//     plain paths on KV v1. Lists use the LIST method or GET ?list=true.
//
// # Behaviour as in Vault
//
// Answers carry request_id, lease_id, renewable, lease_duration, data,
// wrap_info, warnings, auth and mount_type; errors are {"errors":[...]}.
// A missing secret is 404 {"errors":[]} (api.Client's Read returns nil,
// nil); a CAS mismatch is 400 "check-and-set parameter did not match the
// current version"; a request without a token is 403 "permission denied";
// an unknown, expired or used-up token is 403 with "permission denied" and
// "invalid token"; an ACL refusal is 403 "1 error occurred: permission
// denied"; a sealed server answers 503 "Vault is sealed"; an unsupported
// method is 405. A write to a KV key that does not exist yet needs the
// "create" capability, to an existing one "update". KV v2 ACL paths are the
// API paths (secret/data/x, secret/metadata/x). Tokens are read from
// X-Vault-Token or "Authorization: Bearer".
//
// # Differences from Vault
//
//   - Token and wrapping TTLs use the server's own clock, which starts at
//     the wall-clock time of New and moves only with AdvanceClock; KV
//     version timestamps come from the engine and use the wall clock.
//   - X-Vault-Namespace is ignored, as by Vault Community Edition, unless
//     RequireNamespace is set. X-Vault-Request is accepted and ignored.
//     X-Vault-Wrap-TTL is refused with 400 (only WrapSecretID wraps).
//   - Only KV engines can be mounted; auth methods are AppRole and
//     Kubernetes with roles set by AddAppRole and AddKubernetesRole. The
//     Kubernetes JWT is compared as an opaque string.
//   - auth/token/create gives only policies the caller holds (or any, for
//     root); the default policy holds lookup-self, renew-self, revoke-self
//     and sys/wrapping/unwrap only.
//   - api.Client retries 5xx answers twice by default; set
//     api.Config.MaxRetries to 0 to see sealed or injected 5xx at once.
package vaulttest
