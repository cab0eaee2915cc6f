package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// notifySocket stands in for systemd: a unixgram socket whose path a
// child gets in NOTIFY_SOCKET, on which the daemon reports READY=1.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

// listenNotify creates the socket in dir.
func listenNotify(dir string) (*notifySocket, error) {
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("listen for sd_notify: %w", err)
	}
	return &notifySocket{path: path, conn: conn}, nil
}

// env is the variable that points a child at the socket.
func (n *notifySocket) env() string {
	return "NOTIFY_SOCKET=" + n.path
}

// waitFor returns when a message holding line (e.g. "READY=1") arrives,
// with the time it arrived.
func (n *notifySocket) waitFor(line string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		if err := n.conn.SetReadDeadline(deadline); err != nil {
			return time.Time{}, err
		}
		size, err := n.conn.Read(buf)
		if err != nil {
			return time.Time{}, fmt.Errorf("wait for %s on NOTIFY_SOCKET: %w", line, err)
		}
		at := time.Now()
		for _, got := range strings.Split(string(buf[:size]), "\n") {
			if got == line {
				return at, nil
			}
		}
	}
}

func (n *notifySocket) close() {
	_ = n.conn.Close()
}
