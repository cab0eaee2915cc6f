// Package failpoint lets the fault-injection suite crash the real binary
// at a chosen step of a rotation. The step is named by the environment
// variable FIRSTLINE_ROTATOR_FAILPOINT; without it every Hit is a no-op
// costing one comparison.
package failpoint

import (
	"os"
	"sync"
	"syscall"
)

// EnvVar names the step at which the process kills itself with SIGKILL.
const EnvVar = "FIRSTLINE_ROTATOR_FAILPOINT"

// The steps that can be named.
const (
	// AfterAnswer is after FIRST LINE answered with a token, before the
	// journal write.
	AfterAnswer = "after-answer"
	// AfterJournal is after the journal write, before any sink.
	AfterJournal = "after-journal"
	// AfterFirstSink is after the first sink write completed.
	AfterFirstSink = "after-first-sink"
	// BeforeRename is after a temporary file was written and synced,
	// before it replaced its target; the step named is this, a colon and
	// the target's base name, e.g. "before-rename:token".
	BeforeRename = "before-rename"
	// DuringHook is after a hook started, before it finished.
	DuringHook = "during-hook"
)

var (
	once  sync.Once
	armed string
	mu    sync.Mutex
	fired bool
)

// Hit kills the process with SIGKILL when step is the armed one. Only the
// first hit fires, so a step reached by several goroutines dies once.
func Hit(step string) {
	once.Do(func() { armed = os.Getenv(EnvVar) })
	if armed == "" || armed != step {
		return
	}

	mu.Lock()
	defer mu.Unlock()
	if !fired {
		fired = true
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it.
	}
}
