//go:build linux

package sinks_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

// TestFileSink_ChownRefusedKeepsOldFile makes the kernel refuse the chown
// (see withoutChown) and checks that the write is aborted cleanly.
func TestFileSink_ChownRefusedKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newFile(t, config.Sink{Path: path, Owner: "4242", Group: "4242"})

	var err error
	testutil.WithoutChown(t, func() { err = s.Write(context.Background(), token(testToken, 2)) })

	expectError(t, err, s.Name(), "set owner to uid 4242, gid 4242", "operation not permitted",
		"needs root or CAP_CHOWN")
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %v does not wrap fs.ErrPermission", err)
	}
	if got := readFile(t, path); got != "old\n" {
		t.Errorf("file holds %q after a refused chown, want the old content", got)
	}
	expectNoTemp(t, dir)
}

func TestFileSink_ReadOnlyDirectory(t *testing.T) {
	var dir string
	path := func() string { return filepath.Join(dir, "token") }
	if os.Geteuid() == 0 {
		// Root ignores directory permissions; a read-only mount stops it.
		dir = testutil.MountTmpfs(t, "size=64k")
	} else {
		dir = t.TempDir()
	}
	s := newFile(t, config.Sink{Path: path()})
	mustWrite(t, s, token("old-token", 1))

	want := "read-only"
	if os.Geteuid() == 0 {
		testutil.RemountReadOnly(t, dir)
	} else {
		want = "is the directory writable"
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	}

	err := s.Write(context.Background(), token(testToken, 2))
	expectError(t, err, s.Name(), path(), want)
	if got := readFile(t, path()); got != "old-token\n" {
		t.Errorf("file holds %q, want the old content", got)
	}
	expectNoTemp(t, dir)
}

func TestFileSink_FullFileSystem(t *testing.T) {
	dir := testutil.MountTmpfs(t, "size=16k")
	path := filepath.Join(dir, "token")
	s := newFile(t, config.Sink{Path: path})
	mustWrite(t, s, token("old-token", 1))
	testutil.FillFileSystem(t, dir)

	err := s.Write(context.Background(), token(testToken, 2))
	expectError(t, err, s.Name(), "no space left on device", "the file system is full")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %v does not wrap ENOSPC", err)
	}
	if got := readFile(t, path); got != "old-token\n" {
		t.Errorf("file holds %q, want the old content", got)
	}
	expectNoTemp(t, dir)
}

func TestFileSink_TargetIsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	s := newFile(t, config.Sink{Path: path})

	err := s.Write(context.Background(), token(testToken, 1))
	expectError(t, err, s.Name(), "is a directory", "point path at a file")
	if info, serr := os.Stat(path); serr != nil || !info.IsDir() {
		t.Errorf("the directory at %s is gone: %v", path, serr)
	}
	expectNoTemp(t, dir)
}

func TestFileSink_MissingDirectory(t *testing.T) {
	dir := t.TempDir()
	s := newFile(t, config.Sink{Path: filepath.Join(dir, "missing", "token")})

	err := s.Write(context.Background(), token(testToken, 1))
	expectError(t, err, s.Name(), "no such file or directory", "create it first")
	expectNoTemp(t, dir)
}

// TestFileSink_DanglingSymlink: the link stays a link and the file it
// points to is created, with the default mode.
func TestFileSink_DanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "token")
	if err := os.Symlink("real/token", link); err != nil {
		t.Fatal(err)
	}

	mustWrite(t, newFile(t, config.Sink{Path: link}), token(testToken, 1))

	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symbolic link: %v", link, err)
	}
	target := filepath.Join(real, "token")
	if got := readFile(t, target); got != testToken+"\n" {
		t.Errorf("link target holds %q", got)
	}
	if got := fileMode(t, target); got != 0o600 {
		t.Errorf("link target has mode %v, want 0600", got)
	}
	expectNoTemp(t, dir)
	expectNoTemp(t, real)
}
