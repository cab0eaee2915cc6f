package atomicfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/atomicfile"
	"github.com/firstline-rotator/firstline-rotator/internal/testutil"
)

func ptr[T any](v T) *T { return &v }

func write(t *testing.T, path, data string, opts atomicfile.Options) {
	t.Helper()
	if err := atomicfile.Write(path, []byte(data), opts); err != nil {
		t.Fatalf("Write(%s): %v", path, err)
	}
}

func expectContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

func stat(t *testing.T, path string) (fs.FileMode, uint32, uint32) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	st := info.Sys().(*syscall.Stat_t)
	return info.Mode(), st.Uid, st.Gid
}

// expectNoTemp fails when a temporary file of Write is left in dir.
func expectNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir %s: %v", dir, err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

func TestWrite_NewFileDefaults(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	write(t, path, "s3cret\n", atomicfile.Options{})

	expectContent(t, path, "s3cret\n")
	mode, uid, gid := stat(t, path)
	if mode != atomicfile.DefaultMode {
		t.Errorf("mode %v, want %v", mode, atomicfile.DefaultMode)
	}
	if int(uid) != os.Geteuid() || int(gid) != os.Getegid() {
		t.Errorf("owner %d:%d, want the process's %d:%d", uid, gid, os.Geteuid(), os.Getegid())
	}
	expectNoTemp(t, dir)
}

// TestWrite_ModeIsExactUnderAnyUmask runs without t.Parallel: the umask
// belongs to the whole process.
func TestWrite_ModeIsExactUnderAnyUmask(t *testing.T) {
	for _, umask := range []int{0o000, 0o022, 0o077} {
		for _, mode := range []fs.FileMode{0o640, 0o600, 0o444, 0o755} {
			old := syscall.Umask(umask)
			path := filepath.Join(t.TempDir(), "secret")
			other := mode ^ 0o040
			errNew := atomicfile.Write(path, []byte("a"), atomicfile.Options{Mode: &mode})
			gotNew, _, _ := stat(t, path)
			errOld := atomicfile.Write(path, []byte("b"), atomicfile.Options{Mode: &other})
			gotOld, _, _ := stat(t, path)
			syscall.Umask(old)

			if errNew != nil || errOld != nil {
				t.Fatalf("umask %04o mode %v: %v, %v", umask, mode, errNew, errOld)
			}
			if gotNew != mode || gotOld != other {
				t.Errorf("umask %04o: new file %v (want %v), rewritten %v (want %v)",
					umask, gotNew, mode, gotOld, other)
			}
		}
	}
}

func TestWrite_ExistingFileKeepsModeAndOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	write(t, path, "old", atomicfile.Options{Mode: ptr(fs.FileMode(0o640))})
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(path, 4321, 4322); err != nil {
			t.Fatal(err)
		}
	}

	write(t, path, "new", atomicfile.Options{})

	expectContent(t, path, "new")
	mode, uid, gid := stat(t, path)
	if mode != 0o640 {
		t.Errorf("mode %v, want the existing 0640", mode)
	}
	if root && (uid != 4321 || gid != 4322) {
		t.Errorf("owner %d:%d, want the existing 4321:4322", uid, gid)
	}
}

func TestWrite_SetsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file another owner needs root")
	}
	tests := []struct {
		opts               atomicfile.Options
		wantUID, wantGroup uint32
	}{
		{atomicfile.Options{UID: ptr(4321), GID: ptr(4322)}, 4321, 4322},
		{atomicfile.Options{UID: ptr(4321)}, 4321, 0},
		{atomicfile.Options{GID: ptr(4322)}, 0, 4322},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "secret")
		write(t, path, "x", tt.opts)
		if _, uid, gid := stat(t, path); uid != tt.wantUID || gid != tt.wantGroup {
			t.Errorf("owner %d:%d, want %d:%d", uid, gid, tt.wantUID, tt.wantGroup)
		}
	}
}

// TestWrite_RefusedChownKeepsOldFile has the kernel refuse the chown (see
// withoutChown) and checks that nothing changed.
func TestWrite_RefusedChownKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	write(t, path, "old", atomicfile.Options{})

	var err error
	testutil.WithoutChown(t, func() {
		err = atomicfile.Write(path, []byte("new"), atomicfile.Options{UID: ptr(4242)})
	})

	if !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "set owner to uid 4242") {
		t.Errorf("got %v, want a refused chown to uid 4242", err)
	}
	expectContent(t, path, "old")
	expectNoTemp(t, dir)
}

func TestWrite_SymbolicLinks(t *testing.T) {
	base := t.TempDir()
	mkdir := func(p string) {
		if err := os.MkdirAll(filepath.Join(base, p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(base, p)); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("real/sub")
	link("real/sub", "alias")            // a directory reached through a link
	link("../out", "real/sub/up")        // relative, with ".." from the real directory
	link("b", "a")                       // a chain ending nowhere
	link(filepath.Join(base, "c"), "b")  // absolute
	link("real/existing", "to-existing") // an existing file
	write(t, filepath.Join(base, "real/existing"), "old",
		atomicfile.Options{Mode: ptr(fs.FileMode(0o640))})

	tests := []struct{ path, target string }{
		{"alias/up", "real/out"},
		{"a", "c"},
		{"to-existing", "real/existing"},
	}
	for _, tt := range tests {
		write(t, filepath.Join(base, tt.path), "via "+tt.path, atomicfile.Options{})
		expectContent(t, filepath.Join(base, tt.target), "via "+tt.path)
	}

	for _, l := range []string{"alias", "real/sub/up", "a", "b", "to-existing"} {
		if info, err := os.Lstat(filepath.Join(base, l)); err != nil ||
			info.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link (%v)", l, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "out")); err == nil {
		t.Error("the relative link was followed from the link's name, not its directory")
	}
	if mode, _, _ := stat(t, filepath.Join(base, "real/existing")); mode != 0o640 {
		t.Errorf("existing target has mode %v, want its 0640 kept", mode)
	}
	expectNoTemp(t, base)
	expectNoTemp(t, filepath.Join(base, "real"))
}

func TestWrite_RefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	if err := os.Mkdir(at("dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(at("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"dir", "to-dir"}, {"loop-b", "loop-a"}, {"loop-a", "loop-b"}} {
		if err := os.Symlink(l[0], at(l[1])); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		want error
		text string
	}{
		{"dir", syscall.EISDIR, "is a directory"},
		{"to-dir", syscall.EISDIR, at("dir") + ": is a directory"},
		{"fifo", nil, "not a regular file"},
		{"loop-a", syscall.ELOOP, "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		err := atomicfile.Write(at(tt.name), []byte("x"), atomicfile.Options{})
		switch {
		case err == nil:
			t.Errorf("%s: Write succeeded", tt.name)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: %v does not wrap %v", tt.name, err, tt.want)
		case !strings.HasPrefix(err.Error(), "write "+at(tt.name)+": ") ||
			!strings.Contains(err.Error(), tt.text):
			t.Errorf("%s: error %q, want it to name the path and say %q", tt.name, err, tt.text)
		}
	}

	if info, err := os.Lstat(at("fifo")); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced (%v)", err)
	}
	expectNoTemp(t, dir)
}

func TestWrite_MissingDirectory(t *testing.T) {
	dir := t.TempDir()
	err := atomicfile.Write(filepath.Join(dir, "no", "secret"), []byte("x"), atomicfile.Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
	expectNoTemp(t, dir)
}

func TestWrite_ReadOnlyFileSystem(t *testing.T) {
	dir := testutil.MountTmpfs(t, "size=64k")
	path := filepath.Join(dir, "secret")
	write(t, path, "old", atomicfile.Options{})
	testutil.RemountReadOnly(t, dir)

	err := atomicfile.Write(path, []byte("new"), atomicfile.Options{})
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("got %v, want EROFS", err)
	}
	expectContent(t, path, "old")
	expectNoTemp(t, dir)
}

func TestWrite_FullFileSystem(t *testing.T) {
	dir := testutil.MountTmpfs(t, "size=16k")
	path := filepath.Join(dir, "secret")
	write(t, path, "old", atomicfile.Options{})
	testutil.FillFileSystem(t, dir)

	err := atomicfile.Write(path, bytes.Repeat([]byte("n"), 4096), atomicfile.Options{})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("got %v, want ENOSPC", err)
	}
	expectContent(t, path, "old")
	expectNoTemp(t, dir)
}

// TestWrite_ReadersNeverSeeAMix writes large contents from several
// goroutines while a reader checks each read is one whole content.
func TestWrite_ReadersNeverSeeAMix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	contents := map[string]bool{}
	for _, c := range "abcdefgh" {
		contents[strings.Repeat(string(c), 256<<10)] = true
	}
	write(t, path, strings.Repeat("a", 256<<10), atomicfile.Options{})

	done := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for stop := false; !stop; {
			select {
			case <-done:
				stop = true
			default:
			}
			data, err := os.ReadFile(path)
			if err != nil || !contents[string(data)] {
				t.Errorf("a read gave %d bytes starting %.8q (%v)", len(data), data, err)
				return
			}
		}
	})

	var writers sync.WaitGroup
	for c := range contents {
		writers.Go(func() {
			for range 4 {
				if err := atomicfile.Write(path, []byte(c), atomicfile.Options{}); err != nil {
					t.Errorf("write: %v", err)
				}
			}
		})
	}
	writers.Wait()
	close(done)
	reader.Wait()
	expectNoTemp(t, dir)
}

func TestSyncDir(t *testing.T) {
	if err := atomicfile.SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir of a directory: %v", err)
	}
	if err := atomicfile.SyncDir(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("SyncDir of a missing directory succeeded")
	}
}
