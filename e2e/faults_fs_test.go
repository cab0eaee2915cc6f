package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/internal/failpoint"
)

// fileSystemCases break the directory of an extra file sink, "target",
// while the other sinks stay writable. A fault the rotator can see before
// logging in (read-only or missing directory, a directory in the way)
// stops the rotation and keeps the live token; one it cannot (a full file
// system, chown refused) must not hold the other sinks back, and the
// target is completed from the journal once the fault is gone. A target
// taken away by the fault is written again from the journal.
func fileSystemCases() []faultCase {
	return []faultCase{
		{name: "fs/read-only-directory", world: worldOptions{target: "%DIR%/ro/token"},
			setup: func(t *testing.T, w *faultWorld) { mountTmpfs(t, targetDir(w), 1<<20) },
			arm: func(t *testing.T, w *faultWorld) runOpts {
				remount(t, targetDir(w), "ro")
				return runOpts{}
			},
			heal:     func(t *testing.T, w *faultWorld) { remount(t, targetDir(w), "rw") },
			wantCode: 1, wantOutput: "read-only", refused: true},
		{name: "fs/full", world: worldOptions{target: "%DIR%/full/token"},
			setup: func(t *testing.T, w *faultWorld) { mountTmpfs(t, targetDir(w), 64<<10) },
			arm: func(t *testing.T, w *faultWorld) runOpts {
				fillUp(t, filepath.Join(targetDir(w), "filler"))
				return runOpts{}
			},
			heal: func(t *testing.T, w *faultWorld) {
				if err := os.Remove(filepath.Join(targetDir(w), "filler")); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: 1, wantOutput: "no space left", lagging: "target"},
		{name: "fs/chown-refused",
			world: worldOptions{target: "%DIR%/owned/token", owner: "65534"},
			setup: needChownDrop, arm: withoutChown,
			wantCode: 1, wantOutput: "CAP_CHOWN", lagging: "target",
			check: checkOwner(65534)},
		{name: "fs/dangling-symlink", world: worldOptions{target: "%DIR%/links/token"},
			setup: func(t *testing.T, w *faultWorld) { mkdir(t, targetDir(w)) },
			arm: func(t *testing.T, w *faultWorld) runOpts {
				replaceWith(t, w.opts.target, func() error {
					return os.Symlink("../gone/token", w.opts.target)
				})
				return runOpts{}
			},
			heal: func(t *testing.T, w *faultWorld) {
				mkdir(t, filepath.Join(w.dir, "gone"))
			},
			targetTaken: true, wantCode: 1, wantOutput: "does the directory exist",
			refused: true, check: checkStillLink},
		{name: "fs/target-is-directory", world: worldOptions{target: "%DIR%/out/dir-token"},
			arm: func(t *testing.T, w *faultWorld) runOpts {
				replaceWith(t, w.opts.target, func() error {
					if err := os.Mkdir(w.opts.target, 0o755); err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(w.opts.target, "x"), nil, 0o644)
				})
				return runOpts{}
			},
			heal: func(t *testing.T, w *faultWorld) {
				if err := os.RemoveAll(w.opts.target); err != nil {
					t.Fatal(err)
				}
			},
			targetTaken: true, wantCode: 1, wantOutput: "is a directory", refused: true},
	}
}

func targetDir(w *faultWorld) string {
	return filepath.Dir(w.opts.target)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// replaceWith removes path and makes something else there.
func replaceWith(t *testing.T, path string, create func() error) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
}

// needChownDrop skips unless the test runs as root with setpriv at hand:
// the first rotate must be able to chown, the faulty one must not.
func needChownDrop(t *testing.T, w *faultWorld) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chown refused: needs root, so that the first rotate can chown and " +
			"the faulty run can drop CAP_CHOWN")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("chown refused: setpriv (util-linux) is needed to drop CAP_CHOWN")
	}
	mkdir(t, targetDir(w))
}

// withoutChown runs the faulty run without CAP_CHOWN, as root.
func withoutChown(*testing.T, *faultWorld) runOpts {
	return runOpts{prefix: []string{"setpriv", "--inh-caps=-chown", "--bounding-set=-chown"}}
}

func checkOwner(uid uint32) func(*testing.T, *faultWorld) {
	return func(t *testing.T, w *faultWorld) {
		info, err := os.Stat(w.opts.target)
		if err != nil {
			t.Fatal(err)
		}
		if st := info.Sys().(*syscall.Stat_t); st.Uid != uid {
			t.Errorf("target owned by uid %d, want %d", st.Uid, uid)
		}
	}
}

// checkStillLink asserts the link stayed and its target was created.
func checkStillLink(t *testing.T, w *faultWorld) {
	info, err := os.Lstat(w.opts.target)
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the sink's symbolic link was replaced (err %v)", err)
	}
	data, err := os.ReadFile(filepath.Join(w.dir, "gone/token"))
	if err != nil || string(data) != w.em.Current(canaryName)+"\n" {
		t.Errorf("the link's target does not hold the live token (err %v)", err)
	}
}

// A kill -9 between writing a sink's temporary file and renaming it leaves
// that file, which holds the new token with the sink's mode, next to the
// sink. Once the restart has completed the rotation nothing may be left.
func TestFaultKillBeforeRename_NoTemporaryFileLeft(t *testing.T) {
	w := newFaultWorld(t, worldOptions{})
	if res := w.runFault(runOpts{}, "rotate"); res.code != 0 {
		t.Fatalf("first rotate: %s", res)
	}

	step := runOpts{failpoint: failpoint.BeforeRename + ":token"}
	if res := w.runFault(step, "rotate", "--force"); res.code != 128+int(syscall.SIGKILL) {
		t.Fatalf("faulty run: want it killed; %s", res)
	}
	out := filepath.Join(w.dir, "out")
	if len(tempLeftovers(out)) == 0 {
		t.Fatal("the kill left no temporary file: the failpoint did not fire where expected")
	}

	if res := w.runFault(runOpts{}, "rotate"); res.code != 0 {
		t.Fatalf("restart: %s", res)
	}
	if ok, why := w.converged(); !ok {
		t.Fatalf("restart did not converge: %s", why)
	}
	if left := tempLeftovers(out); len(left) > 0 {
		t.Errorf("after the restart completed the rotation, %d temporary file(s) "+
			"holding a token are left in %s: %v", len(left), out, left)
	}
}
