package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fileWatch timestamps, with inotify, the moment each file in a directory
// is complete: closed after writing (a shell redirect) or renamed into
// place (an atomic replace). It sees the file system as a consumer does,
// without tracing the writer.
type fileWatch struct {
	f    *os.File
	done chan struct{}

	mu     sync.Mutex
	events map[string][]time.Time
}

// watchDir watches dir for IN_CLOSE_WRITE and IN_MOVED_TO.
func watchDir(dir string) (*fileWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("start inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}

	w := &fileWatch{f: os.NewFile(uintptr(fd), "inotify"), done: make(chan struct{}),
		events: map[string][]time.Time{}}
	go w.read()
	return w, nil
}

// read records events until the watch is closed. The non-blocking
// descriptor goes through Go's poller, so Close ends the read.
func (w *fileWatch) read() {
	defer close(w.done)
	buf := make([]byte, 64*1024)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				fmt.Fprintln(os.Stderr, "bench: read inotify:", err)
			}
			return
		}
		at := time.Now()
		w.record(buf[:n], at)
	}
}

// record parses a batch of inotify_event records.
func (w *fileWatch) record(buf []byte, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(buf) >= unix.SizeofInotifyEvent {
		nameLen := int(binary.NativeEndian.Uint32(buf[12:16]))
		end := unix.SizeofInotifyEvent + nameLen
		if end > len(buf) {
			return
		}
		name := string(bytes.TrimRight(buf[unix.SizeofInotifyEvent:end], "\x00"))
		w.events[name] = append(w.events[name], at)
		buf = buf[end:]
	}
}

// times returns when the file named name was completed, oldest first.
func (w *fileWatch) times(name string) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.events[name]...)
}

// close stops watching and waits for the reader to end.
func (w *fileWatch) close() {
	_ = w.f.Close()
	<-w.done
}
