// Package atomicfile replaces files so that a reader sees either the old
// content or the new, never a mix, and a crash leaves no partial file. It is
// how every secret reaches disk in this project.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
)

// tempMarker separates a temporary file's target name from its random
// suffix: ".<target>.tmp-<random>".
const tempMarker = ".tmp-"

// DefaultMode is the mode of a new file when none is asked for.
const DefaultMode fs.FileMode = 0o600

// Options says what the written file's mode and ownership should be. A nil
// field keeps what the existing file has, or the default for a new file
// (DefaultMode, the process's own user and group).
type Options struct {
	Mode *fs.FileMode
	UID  *int
	GID  *int
}

// Write replaces path with data. The data goes to a temporary file created
// exclusively in the same directory, which gets its mode and owner, is
// synced, renamed over path, and then the directory is synced. On any error
// the temporary file is removed and path is left as it was, except when only
// the final directory sync fails: the new content is then in place but may
// not survive a crash, and the error says so.
//
// A symbolic link at path stays a link: the file it points to is replaced,
// and is created when the link dangles. A directory at path is an error
// wrapping syscall.EISDIR.
func Write(path string, data []byte, opts Options) error {
	if err := replace(path, data, opts); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replace does Write's steps; its errors say which step failed.
func replace(path string, data []byte, opts Options) error {
	target, err := resolveTarget(path)
	if err != nil {
		return err
	}

	mode, uid, gid, err := wanted(target, opts)
	if err != nil {
		return err
	}

	dir := filepath.Dir(target)
	tmp, err := createTemp(dir, filepath.Base(target))
	if err != nil {
		return err
	}
	tmpName := tmp.Name()

	if err := fill(tmp, data, mode, uid, gid); err != nil {
		_ = os.Remove(tmpName)
		return err
	}

	failpoint.Hit(failpoint.BeforeRename + ":" + filepath.Base(target))
	if err := os.Rename(tmpName, target); err != nil {
		_ = os.Remove(tmpName)
		return err
	}

	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("sync directory (the new content is in place "+
			"but may not survive a crash): %w", err)
	}
	return nil
}

// maxLinks bounds the symbolic links resolveTarget follows, as the kernel
// bounds them.
const maxLinks = 40

// resolveTarget returns the file Write replaces: path itself or, when path
// is a symbolic link, the end of its chain, even a dangling one, so that the
// links stay and what they point to is written. A directory or another file
// that is not regular (a FIFO, a device, a socket) is an error.
func resolveTarget(path string) (string, error) {
	target := path
	for range maxLinks {
		info, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, nil
		}
		if err != nil {
			return "", err
		}

		switch {
		case info.Mode().IsRegular():
			return target, nil
		case info.IsDir():
			return "", linkedError(path, target, syscall.EISDIR)
		case info.Mode()&fs.ModeSymlink == 0:
			return "", linkedError(path, target,
				fmt.Errorf("not a regular file (%v)", info.Mode().Type()))
		}

		if target, err = followLink(target); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("follow links: %w", syscall.ELOOP)
}

// linkedError names target in err when a link led from path to it.
func linkedError(path, target string, err error) error {
	if target == path {
		return err
	}
	return fmt.Errorf("%s: %w", target, err)
}

// followLink returns where the symbolic link at path points. A relative
// link is taken from the link's real directory, so that ".." in it means
// what the kernel makes of it.
func followLink(path string) (string, error) {
	link, err := os.Readlink(path)
	if err != nil {
		return "", fmt.Errorf("read link %s: %w", path, err)
	}
	if filepath.IsAbs(link) {
		return link, nil
	}

	dir := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Join(dir, link), nil
}

// wanted works out the final mode and owner from the options and the
// existing file, if any.
func wanted(path string, opts Options) (fs.FileMode, int, int, error) {
	mode, uid, gid := DefaultMode, -1, -1

	info, err := os.Stat(path)
	switch {
	case err == nil:
		mode = info.Mode().Perm()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return 0, 0, 0, fmt.Errorf("inspect %s: %w", path, err)
	}

	if opts.Mode != nil {
		mode = *opts.Mode
	}
	if opts.UID != nil {
		uid = *opts.UID
	}
	if opts.GID != nil {
		gid = *opts.GID
	}
	return mode, uid, gid, nil
}

// createTemp creates an empty file named ".<base>.tmp-<random>" in dir,
// failing rather than opening a file that already exists.
func createTemp(dir, base string) (*os.File, error) {
	for range 10 {
		var suffix [6]byte
		if _, err := rand.Read(suffix[:]); err != nil {
			return nil, fmt.Errorf("make temporary name: %w", err)
		}

		name := filepath.Join(dir, "."+base+tempMarker+hex.EncodeToString(suffix[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create temporary file: %w", err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create temporary file in %s: too many name collisions", dir)
}

// fill writes, sets ownership and mode, syncs and closes the temporary file.
// Ownership comes before mode because chown clears set-id bits.
func fill(f *os.File, data []byte, mode fs.FileMode, uid, gid int) error {
	_, err := f.Write(data)
	if err == nil && (uid >= 0 || gid >= 0) && needsChown(f, uid, gid) {
		if err = f.Chown(uid, gid); err != nil {
			err = fmt.Errorf("set %s: %w", ownerText(uid, gid), err)
		}
	}
	if err == nil {
		// Chmod on the descriptor is not subject to the umask.
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}

	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ownerText describes a chown request for an error message.
func ownerText(uid, gid int) string {
	switch {
	case gid < 0:
		return fmt.Sprintf("owner to uid %d", uid)
	case uid < 0:
		return fmt.Sprintf("group to gid %d", gid)
	}
	return fmt.Sprintf("owner to uid %d, gid %d", uid, gid)
}

// needsChown reports whether the file's owner differs from the wanted one,
// so that an unprivileged writer keeping its own ownership never calls
// chown.
func needsChown(f *os.File, uid, gid int) bool {
	info, err := f.Stat()
	if err != nil {
		return true
	}

	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	return (uid >= 0 && uint32(uid) != st.Uid) || (gid >= 0 && uint32(gid) != st.Gid)
}

// SyncDir flushes a directory's entries, making a rename in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()

	return d.Sync()
}

// leftovers indexes, per directory, the temporary files found there the
// first time RemoveTemps looked: they can only be left by an earlier
// process killed mid-write, since Write removes its own on every error. One
// scan per directory keeps RemoveTemps cheap for thousands of files that
// share a directory.
var leftovers = struct {
	sync.Mutex
	byDir map[string]map[string][]string // dir -> target base -> temp names
}{byDir: map[string]map[string][]string{}}

// RemoveTemps deletes the temporary files that a process killed between
// creating and renaming them left beside path. Call it only while no other
// Write to path can be in flight.
func RemoveTemps(path string) error {
	target, err := resolveTarget(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Dir(target), filepath.Base(target)

	leftovers.Lock()
	byBase, scanned := leftovers.byDir[dir]
	if !scanned {
		byBase = scanTemps(dir)
		leftovers.byDir[dir] = byBase
	}
	names := byBase[base]
	delete(byBase, base)
	leftovers.Unlock()

	for _, name := range names {
		err := os.Remove(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove temporary file: %w", err)
		}
	}
	return nil
}

// scanTemps lists dir's temporary files by the base name of their target.
func scanTemps(dir string) map[string][]string {
	byBase := map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return byBase
	}
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, tempMarker)
		if strings.HasPrefix(name, ".") && i > 1 {
			byBase[name[1:i]] = append(byBase[name[1:i]], name)
		}
	}
	return byBase
}

// CheckWritable reports, without writing anything, whether Write(path,
// ..., opts) can succeed as far as can be told in advance: the directory
// exists and this process may create files in it, and an unprivileged
// process can give the file the owner it must have.
func CheckWritable(path string, opts Options) error {
	target, err := resolveTarget(path)
	if err != nil {
		return err
	}

	dir := filepath.Dir(target)
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("write %s: directory %s: %w", target, dir, err)
	}

	_, uid, gid, err := wanted(target, opts)
	if err != nil || os.Geteuid() == 0 {
		return err
	}
	chownRefused := &fs.PathError{Op: "chown", Path: target, Err: syscall.EPERM}
	if uid >= 0 && uid != os.Geteuid() {
		return fmt.Errorf("write %s: set owner to uid %d: %w", target, uid, chownRefused)
	}
	if gid >= 0 && !inGroup(gid) {
		return fmt.Errorf("write %s: set group to gid %d: %w", target, gid, chownRefused)
	}
	return nil
}

func inGroup(gid int) bool {
	if gid == os.Getegid() {
		return true
	}
	groups, err := os.Getgroups()
	if err != nil {
		return false
	}
	return slices.Contains(groups, gid)
}
