package vaultx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// maxCASRetries is how many times a conflicting KV v2 write is read and
// tried again before MergeKV gives up.
const maxCASRetries = 5

// KVState is a KV v2 secret as read for a check-and-set write.
type KVState struct {
	// Data is the current version's data; empty when the secret does not
	// exist or its current version is deleted or destroyed.
	Data map[string]any
	// Version is the current version from the metadata: 0 when the secret
	// does not exist, and the deleted version when that one is deleted.
	// It is the cas value for the next write.
	Version int
	// Custom is the secret's custom metadata.
	Custom map[string]string
}

// ReadKVState reads the metadata and current data of a KV v2 secret.
func (c *Client) ReadKVState(ctx context.Context, mount, path string) (KVState, error) {
	mount, path = cleanPath(mount), cleanPath(path)
	name := mount + "/" + path

	state, err := c.readMetadata(ctx, mount, path)
	if err != nil || state.Version == 0 {
		return state, err
	}

	query := map[string][]string{"version": {strconv.Itoa(state.Version)}}
	data, err := c.readData(ctx, mount+"/data/"+path, query, 2)
	if err != nil {
		return KVState{}, c.fail("read vault secret", name, err)
	}

	// A deleted or destroyed version has no data; the next write starts
	// afresh but still names that version as its cas.
	state.Data = data
	if state.Data == nil {
		state.Data = map[string]any{}
	}
	return state, nil
}

// readMetadata reads a KV v2 secret's current version and custom metadata.
func (c *Client) readMetadata(ctx context.Context, mount, path string) (KVState, error) {
	const op = "read metadata of vault secret"
	name := mount + "/" + path
	state := KVState{Data: map[string]any{}, Custom: map[string]string{}}

	client, err := c.loggedIn()
	if err != nil {
		return KVState{}, c.fail(op, name, err)
	}

	answer, err := client.Logical().ReadWithContext(ctx, mount+"/metadata/"+path)
	if err != nil {
		return KVState{}, c.fail(op, name, err)
	}
	if answer == nil {
		return state, nil
	}

	version, ok := asInt(answer.Data["current_version"])
	if !ok {
		return KVState{}, fmt.Errorf("%s %s: the answer has no current_version", op, name)
	}
	state.Version = version

	custom, _ := answer.Data["custom_metadata"].(map[string]any)
	for k, v := range custom {
		if s, ok := v.(string); ok {
			state.Custom[k] = s
		}
	}
	return state, nil
}

// WriteKVCAS writes data as the new version of a KV v2 secret if its
// current version is still cas (0: the secret must not exist yet), and
// returns the version written. A conflict matches ErrCASMismatch.
func (c *Client) WriteKVCAS(ctx context.Context, mount, path string, data map[string]any,
	cas int,
) (int, error) {
	mount, path = cleanPath(mount), cleanPath(path)
	const op = "write vault secret"
	name := mount + "/" + path

	client, err := c.loggedIn()
	if err != nil {
		return 0, c.fail(op, name, err)
	}

	body := map[string]any{"options": map[string]any{"cas": cas}, "data": data}
	answer, err := client.Logical().WriteWithContext(ctx, mount+"/data/"+path, body)
	if err != nil {
		return 0, c.fail(op, name, err)
	}

	var version int
	if answer != nil {
		version, _ = asInt(answer.Data["version"])
	}
	return version, nil
}

// mergeV2 is MergeKV on KV v2: read, merge, check-and-set write, and on a
// conflict read again, at most maxCASRetries more times.
func (c *Client) mergeV2(ctx context.Context, mount, path string, update map[string]any,
	custom map[string]string,
) (int, error) {
	name := mount + "/" + path

	var conflict error
	for attempt := 0; attempt <= maxCASRetries; attempt++ {
		if attempt > 0 && !pause(ctx, attempt) {
			return 0, fmt.Errorf("write vault secret %s: %w", name, ctx.Err())
		}

		state, err := c.ReadKVState(ctx, mount, path)
		if err != nil {
			return 0, err
		}

		merged := mergeMaps(state.Data, update)
		version, err := c.WriteKVCAS(ctx, mount, path, merged, state.Version)
		if errors.Is(err, ErrCASMismatch) {
			conflict = err
			c.log.Debug().Str("path", name).Int("cas", state.Version).Int("attempt", attempt+1).
				Msg("another writer changed the secret; reading it again")
			continue
		}
		if err != nil {
			return 0, err
		}

		c.log.Debug().Str("path", name).Int("version", version).Msg("wrote kv v2 secret")
		return version, c.writeCustomMetadata(ctx, mount, path, state.Custom, custom)
	}
	return 0, fmt.Errorf("give up after %d check-and-set conflicts in a row: %w",
		maxCASRetries+1, conflict)
}

// pause waits a short jittered time that grows with attempt, so that
// competing writers spread out; it returns false when ctx ends.
func pause(ctx context.Context, attempt int) bool {
	wait := time.Duration(rand.Int64N(int64(attempt) * int64(20*time.Millisecond)))
	timer := time.NewTimer(wait)
	defer timer.Stop()

	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// writeCustomMetadata merges update into a KV v2 secret's custom metadata,
// keeping the keys others set.
func (c *Client) writeCustomMetadata(ctx context.Context, mount, path string,
	current, update map[string]string,
) error {
	if len(update) == 0 {
		return nil
	}
	const op = "write custom metadata of vault secret"
	name := mount + "/" + path

	client, err := c.loggedIn()
	if err != nil {
		return c.fail(op, name, err)
	}

	body := map[string]any{"custom_metadata": mergeMaps(current, update)}
	_, err = client.Logical().WriteWithContext(ctx, mount+"/metadata/"+path, body)
	if err != nil {
		return c.fail(op, name, err)
	}
	return nil
}
