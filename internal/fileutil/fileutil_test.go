package fileutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	fifo := filepath.Join(dir, "fifo")
	link := filepath.Join(dir, "zero")
	if err := os.WriteFile(small, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}

	if data, err := ReadRegular(small, 10); err != nil || string(data) != "pw\n" {
		t.Errorf("small file: %q, %v", data, err)
	}
	cases := map[string]string{
		big: "more than the 10", fifo: "named pipe", link: "device", dir: "directory",
		filepath.Join(dir, "absent"): "no such file",
	}
	for path, want := range cases {
		if _, err := ReadRegular(path, 10); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadRegular(%s): err %v, want %q", filepath.Base(path), err, want)
		}
	}
}
