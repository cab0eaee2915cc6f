package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes content to dir/name with mode 0600, creating the
// directories on the way with mode 0700, and fails the test on error.
func WriteFile(tb testing.TB, dir, name, content string) {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}
