package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/firstline-rotator/firstline-rotator/internal/vaulttest"
)

// sinkRead is what one sink holds: a token, or nothing.
type sinkRead struct {
	token  string
	absent bool
}

// envLine is the whole content of the envfile sink.
var envLine = regexp.MustCompile(`^FIRSTLINE_TOKEN="([^"\n]*)"\n$`)

// readSinks reads every sink. A file that is missing or is a directory is
// absent; any other content must be complete, else the test fails.
func (w *faultWorld) readSinks() map[string]sinkRead {
	w.t.Helper()
	out := map[string]sinkRead{}
	for _, name := range w.sinkNames() {
		switch name {
		case "vault":
			out[name] = w.readVaultSink()
		case "envfile":
			out[name] = w.readFileSink(name, filepath.Join(w.dir, "out/app.env"), envLine)
		case "token":
			out[name] = w.readFileSink(name, filepath.Join(w.dir, "out/token"), nil)
		case "target":
			out[name] = w.readFileSink(name, w.opts.target, nil)
		}
	}
	return out
}

func (w *faultWorld) readFileSink(name, path string, line *regexp.Regexp) sinkRead {
	w.t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EISDIR) {
		return sinkRead{absent: true}
	}
	if err != nil {
		w.t.Fatalf("sink %s: read %s: %v", name, path, err)
	}

	if line != nil {
		m := line.FindSubmatch(data)
		if m == nil {
			w.t.Fatalf("sink %s: %s is not one complete FIRSTLINE_TOKEN line: %d bytes",
				name, path, len(data))
		}
		return sinkRead{token: string(m[1])}
	}
	token, complete := strings.CutSuffix(string(data), "\n")
	if !complete || strings.Contains(token, "\n") {
		w.t.Fatalf("sink %s: %s is not one token and a newline: %d bytes", name, path,
			len(data))
	}
	return sinkRead{token: token}
}

func (w *faultWorld) readVaultSink() sinkRead {
	w.t.Helper()
	data, _, err := w.vault.srv.KVGet(kvMount, sinkSecret)
	if errors.Is(err, vaulttest.ErrNotFound) {
		return sinkRead{absent: true}
	}
	if err != nil {
		w.t.Fatalf("sink vault: read %s/%s: %v", kvMount, sinkSecret, err)
	}
	token, ok := data["token"].(string)
	if !ok {
		w.t.Fatalf("sink vault: %s/%s has no token key: keys %v", kvMount, sinkSecret,
			keysOf(data))
	}
	return sinkRead{token: token}
}

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jwtShape is a compact JWS: three base64url parts.
var jwtShape = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

// tokenProblem says what is wrong with a token read from a sink, or "".
func (w *faultWorld) tokenProblem(token string) string {
	if !jwtShape.MatchString(token) {
		return fmt.Sprintf("not a three-part JWT (%d bytes)", len(token))
	}
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h struct{ Alg string }
	if err != nil || json.Unmarshal(header, &h) != nil || h.Alg != "HS256" {
		return "its header is not a JSON HS256 header"
	}
	if !slices.Contains(w.em.IssuedTokens(canaryName), token) {
		return "the emulator never issued it"
	}
	return ""
}

// checkSinks fails unless every sink holds a complete token the emulator
// issued that is either lastGood or one issued from index since on.
// Sinks named in mayBeAbsent may hold nothing. It records what it saw.
func (w *faultWorld) checkSinks(phase, lastGood string, since int,
	mayBeAbsent map[string]bool) map[string]sinkRead {
	w.t.Helper()
	issued := w.em.IssuedTokens(canaryName)
	fresh := issued[min(since, len(issued)):]
	reads := w.readSinks()
	for _, name := range w.sinkNames() {
		got := reads[name]
		switch {
		case got.absent && !mayBeAbsent[name]:
			w.t.Errorf("%s: sink %s holds nothing", phase, name)
		case got.absent:
		case w.tokenProblem(got.token) != "":
			w.t.Errorf("%s: sink %s: %s", phase, name, w.tokenProblem(got.token))
		case got.token != lastGood && !slices.Contains(fresh, got.token):
			w.t.Errorf("%s: sink %s holds a token that is neither the last good one "+
				"nor one issued since the fault", phase, name)
		default:
			w.see(got.token)
		}
	}
	return reads
}

func (w *faultWorld) see(token string) {
	if !w.seenTokens[token] {
		w.seenTokens[token] = true
		w.seenOrder = append(w.seenOrder, token)
	}
}

// accountState is the part of the state file the suite reads.
type accountState struct {
	Generation      uint64 `json:"generation"`
	HooksGeneration uint64 `json:"hooks_generation"`
	LastResult      string `json:"last_result"`
	Sinks           map[string]struct {
		Generation uint64
	} `json:"sinks"`
}

func (w *faultWorld) state() accountState {
	w.t.Helper()
	var st accountState
	data, err := os.ReadFile(filepath.Join(w.dir, "state", faultAccount+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		w.t.Fatalf("read state file: %v", err)
	}
	return st
}

// converged says whether the rotation is complete: every sink holds the
// emulator's live token, and the state records every sink and the hooks
// at the journal's generation. Else it says what is missing.
func (w *faultWorld) converged() (bool, string) {
	current := w.em.Current(canaryName)
	if current == "" || !w.em.Valid(current) {
		return false, "the account has no live token"
	}
	for name, got := range w.readSinks() {
		if got.token != current {
			return false, "sink " + name + " does not hold the live token"
		}
	}

	st := w.state()
	for _, name := range w.sinkNames() {
		if st.Sinks[name].Generation != st.Generation {
			return false, fmt.Sprintf("state: sink %s at generation %d of %d", name,
				st.Sinks[name].Generation, st.Generation)
		}
	}
	if st.HooksGeneration != st.Generation {
		return false, fmt.Sprintf("state: hooks at generation %d of %d",
			st.HooksGeneration, st.Generation)
	}
	return true, ""
}

// lostTokens counts tokens the emulator issued that are still live but
// that some sink does not hold: a token nobody can use.
func (w *faultWorld) lostTokens() int {
	lost := 0
	reads := w.readSinks()
	for _, token := range w.em.IssuedTokens(canaryName) {
		if !w.em.Valid(token) {
			continue // superseded (or expired): not lost
		}
		for _, got := range reads {
			if got.token != token {
				lost++
				break
			}
		}
	}
	return lost
}

// hookRuns counts the runs of the exec hook by generation.
func (w *faultWorld) hookRuns() map[uint64]int {
	w.t.Helper()
	data, err := os.ReadFile(w.hookLogPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.t.Fatal(err)
	}
	runs := map[uint64]int{}
	for _, field := range strings.Fields(string(data)) {
		var g uint64
		if _, err := fmt.Sscan(field, &g); err != nil {
			w.t.Fatalf("hooks.log holds %q, not a generation", field)
		}
		runs[g]++
	}
	return runs
}

// tempLeftovers lists temporary files of atomicfile left in dir.
func tempLeftovers(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	return names
}

// mountTmpfs mounts a tmpfs of size bytes at dir (created), unmounted when
// the test ends; it skips the test when mounting is not permitted.
func mountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("size=%d,mode=0755", size)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).
		CombinedOutput(); err != nil {
		t.Skipf("mounting a tmpfs is not permitted here (run as root to test this "+
			"fault): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// remount changes the flags of a mounted tmpfs, e.g. "ro" or "rw".
func remount(t *testing.T, dir, flag string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+flag, dir).
		CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, flag, err, out)
	}
}

// fillUp writes zeros to path until the file system is full.
func fillUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// Small writes may still fit in the last page; use it up too.
	for {
		if _, err := f.Write([]byte{0}); err != nil {
			return
		}
	}
}
