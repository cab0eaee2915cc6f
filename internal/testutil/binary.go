package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// mainPackage is the firstline-rotator command.
const mainPackage = "github.com/firstline-rotator/firstline-rotator"

// BuildBinary builds firstline-rotator into a new temporary directory and
// returns its path and a function removing the directory. Tests that drive
// the real binary call it from TestMain.
func BuildBinary() (string, func(), error) {
	dir, err := os.MkdirTemp("", "firstline-rotator-test-")
	if err != nil {
		return "", nil, fmt.Errorf("create build directory: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }

	binary := filepath.Join(dir, "firstline-rotator")
	build := exec.Command("go", "build", "-o", binary, mainPackage)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build firstline-rotator: %w", err)
	}
	return binary, cleanup, nil
}
