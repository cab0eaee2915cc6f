package vaultx

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
)

// KVVersion says whether mount is a KV version 1 or 2 engine, asking
// Vault's sys/internal/ui/mounts endpoint as the vault kv command does. An
// answer of 404 (a Vault too old to have the endpoint) means version 1.
// Answers are cached per mount.
func (c *Client) KVVersion(ctx context.Context, mount string) (int, error) {
	mount = strings.Trim(mount, "/")

	c.mu.Lock()
	version, ok := c.kvVersions[mount]
	c.mu.Unlock()
	if ok {
		return version, nil
	}

	version, err := c.detectKVVersion(ctx, mount)
	if err != nil {
		return 0, err
	}

	c.mu.Lock()
	c.kvVersions[mount] = version
	c.mu.Unlock()

	c.log.Debug().Str("mount", mount).Int("kv_version", version).Msg("detected kv version")
	return version, nil
}

func (c *Client) detectKVVersion(ctx context.Context, mount string) (int, error) {
	const op = "detect the kv version of mount"
	client, err := c.loggedIn()
	if err != nil {
		return 0, c.fail(op, mount, err)
	}

	// A Vault too old for this endpoint answers 404, which reads as nil.
	answer, err := client.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+mount)
	if err != nil {
		verr := newError(op, mount, err, c.redact)
		if verr.Status == http.StatusForbidden {
			verr.Detail += " (grant a capability under the mount or set kv_version " +
				"to skip detection)"
		}
		return 0, verr
	}
	if answer == nil {
		return 1, nil
	}

	options, _ := answer.Data["options"].(map[string]any)
	if v, _ := options["version"].(string); v == "2" {
		return 2, nil
	}
	return 1, nil
}

// resolveVersion returns override when set, else the detected version.
func (c *Client) resolveVersion(ctx context.Context, mount string, override int) (int, error) {
	switch override {
	case 0:
		return c.KVVersion(ctx, mount)
	case 1, 2:
		return override, nil
	}
	return 0, fmt.Errorf("use kv mount %s: kv_version %d is not 1 or 2 (0 detects)", mount,
		override)
}

// ReadKV reads the data of the secret at path in the KV engine at mount.
// version 1 or 2 says the engine version; 0 detects it. A missing or
// deleted secret is an error matching ErrNotFound.
func (c *Client) ReadKV(ctx context.Context, mount, path string, version int) (
	map[string]any, error,
) {
	mount, path = cleanPath(mount), cleanPath(path)
	name := mount + "/" + path

	version, err := c.resolveVersion(ctx, mount, version)
	if err != nil {
		return nil, fmt.Errorf("read vault secret %s: %w", name, err)
	}

	apiPath := name
	if version == 2 {
		apiPath = mount + "/data/" + path
	}
	data, err := c.readData(ctx, apiPath, nil, version)
	if err != nil {
		return nil, c.fail("read vault secret", name, err)
	}
	if data == nil {
		return nil, notFound("read vault secret", name)
	}
	return data, nil
}

// readData reads one KV secret's data; nil data means there is none.
func (c *Client) readData(ctx context.Context, apiPath string, query map[string][]string,
	version int,
) (map[string]any, error) {
	client, err := c.loggedIn()
	if err != nil {
		return nil, err
	}

	answer, err := client.Logical().ReadWithDataWithContext(ctx, apiPath, query)
	if err != nil || answer == nil {
		return nil, err
	}
	if version == 1 {
		return answer.Data, nil
	}

	data, _ := answer.Data["data"].(map[string]any)
	return data, nil
}

// MergeKV sets the keys of update in the secret at path, keeping its other
// keys, and returns the version written (0 on KV v1). version 1 or 2 says
// the engine version; 0 detects it. On KV v2 every write is a
// check-and-set on the version read, retried on conflict; custom, when
// not empty, is merged into the secret's custom metadata afterwards. KV v1
// has no metadata and ignores custom.
func (c *Client) MergeKV(ctx context.Context, mount, path string, version int,
	update map[string]any, custom map[string]string,
) (int, error) {
	mount, path = cleanPath(mount), cleanPath(path)

	version, err := c.resolveVersion(ctx, mount, version)
	if err != nil {
		return 0, fmt.Errorf("write vault secret %s/%s: %w", mount, path, err)
	}
	if version == 2 {
		return c.mergeV2(ctx, mount, path, update, custom)
	}
	return 0, c.mergeV1(ctx, mount, path, update)
}

// mergeV1 reads, merges and writes a KV v1 secret. KV v1 has no
// check-and-set, so a concurrent writer can be overwritten.
func (c *Client) mergeV1(ctx context.Context, mount, path string, update map[string]any) error {
	name := mount + "/" + path
	current, err := c.readData(ctx, name, nil, 1)
	if err != nil {
		return c.fail("read vault secret", name, err)
	}

	merged := mergeMaps(current, update)
	client, err := c.loggedIn()
	if err == nil {
		_, err = client.Logical().WriteWithContext(ctx, name, merged)
	}
	if err != nil {
		return c.fail("write vault secret", name, err)
	}

	c.log.Debug().Str("path", name).Msg("wrote kv v1 secret")
	return nil
}

// mergeMaps returns a copy of base with the keys of update set.
func mergeMaps[V any](base, update map[string]V) map[string]V {
	merged := make(map[string]V, len(base)+len(update))
	maps.Copy(merged, base)
	maps.Copy(merged, update)
	return merged
}

// cleanPath removes leading and trailing slashes.
func cleanPath(p string) string {
	return strings.Trim(p, "/")
}

// notFound is the error for a secret that does not exist.
func notFound(op, name string) error {
	return &Error{Op: op, Path: name, Status: http.StatusNotFound,
		Detail: "no secret at this path", Err: ErrNotFound}
}

// asInt reads a JSON number of a Vault answer.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}
