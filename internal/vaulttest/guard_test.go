package vaulttest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// importPath is this package's import path.
const importPath = "github.com/firstline-rotator/firstline-rotator/internal/vaulttest"

// TestNotImportedByShippedCode fails when a non-test Go file of the module
// imports this package, which would put the KV engine and vault/sdk into
// the shipped binary.
func TestNotImportedByShippedCode(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatalf("find module root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s has no go.mod: %v", root, err)
	}

	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") ||
			strings.HasSuffix(path, "_test.go") || strings.HasPrefix(d.Name(), ".") {
			return err
		}

		// A file that does not parse fails the build anyway; skip it here so
		// that another package's work in progress cannot fail this test.
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Logf("skip %s: %v", path, err)
			return nil
		}
		checked++
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
				t.Errorf("%s imports %s; only _test.go files may", path, importPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	if checked == 0 {
		t.Fatalf("found no Go files under %s", root)
	}
}
