package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
)

// staleProbeTimeout bounds the dial that tells a live socket from a stale
// one.
const staleProbeTimeout = time.Second

// listener is the proxy's listener, limited to a number of open
// connections, and for a unix socket the file it owns.
type listener struct {
	net.Listener
	address string

	// socketPath and socketFile identify the socket file to remove on
	// shutdown; empty for TCP.
	socketPath string
	socketFile fs.FileInfo
}

// listen opens "host:port" or "unix:/absolute/path".
func listen(address string, mode uint32, maxConns int) (*listener, error) {
	path, isUnix := strings.CutPrefix(address, "unix:")
	if !isUnix {
		ln, err := net.Listen("tcp", address)
		if err != nil {
			return nil, fmt.Errorf("listen on %s (proxy.listen): %w", address, err)
		}
		return &listener{Listener: netutil.LimitListener(ln, maxConns),
			address: ln.Addr().String()}, nil
	}

	ln, info, err := listenUnix(path, fs.FileMode(mode))
	if err != nil {
		return nil, fmt.Errorf("listen on %s (proxy.listen): %w", address, err)
	}
	return &listener{Listener: netutil.LimitListener(ln, maxConns), address: address,
		socketPath: path, socketFile: info}, nil
}

// listenUnix binds a socket under a temporary name in the same directory,
// gives it its mode, then renames it into place: no consumer ever sees the
// socket with other permissions, and a stale socket is replaced in one
// step. A live socket, or anything that is not a socket, is left alone.
func listenUnix(path string, mode fs.FileMode) (*net.UnixListener, fs.FileInfo, error) {
	if !filepath.IsAbs(path) {
		return nil, nil, fmt.Errorf("socket path %q is not absolute", path)
	}
	if err := checkReplaceable(path); err != nil {
		return nil, nil, err
	}

	temp, err := tempSocketName(path)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: temp, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	ln.SetUnlinkOnClose(false)

	info, err := placeSocket(temp, path, mode)
	if err != nil {
		_ = ln.Close()
		_ = os.Remove(temp)
		return nil, nil, err
	}
	return ln, info, nil
}

// placeSocket sets the socket's mode and renames it to path.
func placeSocket(temp, path string, mode fs.FileMode) (fs.FileInfo, error) {
	if err := os.Chmod(temp, mode); err != nil {
		return nil, fmt.Errorf("set socket mode: %w", err)
	}
	if err := os.Rename(temp, path); err != nil {
		return nil, fmt.Errorf("move socket into place: %w", err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("inspect socket: %w", err)
	}
	return info, nil
}

// checkReplaceable accepts a missing path or a socket nobody listens on.
func checkReplaceable(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	if info.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it or choose another path",
			path)
	}

	conn, err := net.DialTimeout("unix", path, staleProbeTimeout)
	if err == nil {
		_ = conn.Close()
		return fmt.Errorf("another process listens on %s; stop it or choose another path", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check whether %s is in use: %w", path, err)
	}
	return nil
}

// tempSocketName returns a short unused name next to path; socket paths
// are limited to about 100 bytes.
func tempSocketName(path string) (string, error) {
	random := make([]byte, 4)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("name temporary socket: %w", err)
	}
	return filepath.Join(filepath.Dir(path), "."+hex.EncodeToString(random)+".tmp"), nil
}

// removeSocket removes the socket file if it is still the one this
// listener created.
func (l *listener) removeSocket() {
	if l.socketPath == "" {
		return
	}
	info, err := os.Lstat(l.socketPath)
	if err == nil && os.SameFile(info, l.socketFile) {
		_ = os.Remove(l.socketPath)
	}
}
