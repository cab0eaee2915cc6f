// Package fileutil reads the small files the rotator is configured with
// (credentials, keys, its configuration) defensively: only regular files,
// and only up to a size, so that a FIFO, a device or a huge file gives a
// clear error instead of a hang or an exhausted memory.
package fileutil

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
)

// Limits for ReadRegular's callers.
const (
	// SecretLimit bounds a file holding one secret: a password, a key.
	SecretLimit = 64 << 10
	// ConfigLimit bounds the configuration file (10,000 accounts take a
	// few MiB).
	ConfigLimit = 64 << 20
)

// ReadRegular reads path, which must be a regular file (a symbolic link
// to one is fine) of at most limit bytes.
func ReadRegular(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file (%s)", path, kind(info.Mode()))
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("read %s: %d bytes, more than the %d this file may hold",
			path, info.Size(), limit)
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: more than the %d bytes this file may hold",
			path, limit)
	}
	return data, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// CertPool returns the system's trusted roots plus the PEM certificates in
// caFile, for clients configured with an extra CA bundle.
func CertPool(caFile string) (*x509.CertPool, error) {
	pem, err := ReadRegular(caFile, ConfigLimit)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}

	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}
