//go:build linux

package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// MountTmpfs mounts a fresh tmpfs with the given options on a new directory
// and unmounts it when the test ends. It skips the test when mounting is
// not permitted (not root, or no CAP_SYS_ADMIN in a container).
func MountTmpfs(t *testing.T, options string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, options); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// RemountReadOnly turns a tmpfs from MountTmpfs read-only.
func RemountReadOnly(t *testing.T, dir string) {
	t.Helper()
	flags := uintptr(syscall.MS_REMOUNT | syscall.MS_RDONLY)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
}

// FillFileSystem writes a file in dir until the file system is full.
func FillFileSystem(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatalf("create filler: %v", err)
	}
	defer f.Close()

	page := make([]byte, 4096)
	for range 1 << 16 {
		if _, err := f.Write(page); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return
		}
	}
	t.Fatalf("fill %s: still not full after 256 MiB", dir)
}

// Linux capability interface, as in <linux/capability.h>.
const (
	capVersion3 = 0x20080522
	capChown    = 0
)

type capHeader struct {
	version uint32
	pid     int32
}

type capData struct {
	effective, permitted, inheritable uint32
}

// WithoutChown runs fn where chown to another user fails as the kernel
// refuses it. As root, fn runs on a thread whose effective capabilities
// lack CAP_CHOWN (capabilities belong to a thread in Linux); the thread is
// thrown away afterwards, since its goroutine ends without unlocking it. An
// unprivileged user lacks CAP_CHOWN already. fn must not call t.Fatal.
func WithoutChown(t *testing.T, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		fn()
		return
	}

	failed := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := dropCapChown(); err != nil {
			failed <- err
			return
		}
		failed <- nil
		fn()
		failed <- nil
	}()
	if err := <-failed; err != nil {
		t.Skipf("cannot drop CAP_CHOWN from a thread: %v", err)
	}
	<-failed
}

func dropCapChown() error {
	hdr := capHeader{version: capVersion3}
	var data [2]capData
	_, _, errno := syscall.RawSyscall(syscall.SYS_CAPGET,
		uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if errno != 0 {
		return errno
	}

	data[0].effective &^= 1 << capChown
	_, _, errno = syscall.RawSyscall(syscall.SYS_CAPSET,
		uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if errno != 0 {
		return errno
	}

	// Check it took: chown of a scratch file to another user must fail.
	f, err := os.CreateTemp("", "chown-probe-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := f.Chown(4242, 4242); err == nil {
		return errors.New("chown still succeeds")
	}
	return nil
}
