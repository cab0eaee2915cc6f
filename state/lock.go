package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockPoll is how often a busy lock is tried again.
const lockPoll = 50 * time.Millisecond

// FileLock is an exclusive flock on one account, held by one process of
// this host at a time. The kernel drops it when the process dies.
type FileLock struct {
	f *os.File
}

// LockAccount takes the account's lock file, waiting until it is free or
// ctx ends.
func (s *Store) LockAccount(ctx context.Context, account string) (*FileLock, error) {
	path := filepath.Join(s.dir, account+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}

	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &FileLock{f: f}, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}

		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: held by another process: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// Unlock releases the lock.
func (l *FileLock) Unlock() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}
